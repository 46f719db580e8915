// Property-based (issue 7): durations, times, patterns and every option value, as flags, RPR_*
// variables and TOML values give them. Random, near-valid and boundary inputs either parse to a
// sane value or throw an RprError with a stable code (exit 2) - never another exception or a hang.
// RPR_PROPERTY_RUNS=10000 for a long run; a failure prints its seed and how to replay it.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { OPTIONS } from '../../src/options/catalog.js';
import { anyText, boundaryNumbers, holds, mutated, RUNS, Sandbox, type Answer } from '../helpers/property.js';

const box = new Sandbox();
afterAll(() => box.close());

const LIMIT_MS = 2000;
/** Slow but finished is still a finding: no parser may take this long on a short input. */
const SLOW_MS = 500;
const testTimeout = Math.max(30_000, RUNS * 300);

/** An error that the CLI turns into one `rpr: ...` line and exit 2. */
function expectUsageError(answer: Answer, codes: string[], input: unknown): void {
  if (answer.ok) return;
  const { error } = answer;
  expect(error.rpr, `${JSON.stringify(input)} threw ${error.name}: ${error.message}\n${error.stack}`).toBe(true);
  expect(codes, `${JSON.stringify(input)}: code ${error.code} (${error.message})`).toContain(error.code);
  expect(error.exit, `${error.code} must exit 2`).toBe(2);
  // One printable line: a newline or an escape sequence in the input must not reach the terminal raw.
  expect(error.line, 'one printable line').not.toMatch(/[\u0000-\u001f\u007f]/);
}

const UNITS = ['ms', 's', 'm', 'h', 'd', 'w'] as const;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const amount = fc.oneof(
  fc.nat({ max: 100_000 }).map(String),
  fc.tuple(fc.nat({ max: 999 }), fc.nat({ max: 999 })).map(([a, b]) => `${a}.${b}`),
  fc.nat({ max: 999 }).map((b) => `.${b}`),
);
/** Valid durations as users write them, with the value they mean. */
const validDuration = fc.array(fc.tuple(amount, fc.constantFrom(...UNITS)), { minLength: 1, maxLength: 4 }).map((parts) => ({
  text: parts.map(([n, u]) => `${n}${u}`).join(''),
  ms: Math.round(parts.reduce((sum, [n, u]) => sum + Number(n) * UNIT_MS[u]!, 0)),
}));
const durationInput = fc.oneof(
  anyText(),
  mutated(validDuration.map((d) => d.text)),
  fc.constantFrom(
    ...boundaryNumbers,
    ...boundaryNumbers.map((n) => `${n}ms`),
    ...boundaryNumbers.map((n) => `${n}w`),
    '1e3s',
    '-1s',
    '+1s',
    '1 s',
    '1s ',
    ' 1s',
    '1S',
    '1sec',
    's',
    'ms1',
    '0s0',
    '0.0',
    '00',
    '1..5s',
    '1.s',
  ),
);

describe('durations', () => {
  it(
    'random, near-valid and boundary text: a whole number of ms >= 0, or E_DURATION naming the text',
    async () => {
      await holds(
        fc.asyncProperty(durationInput, async (text) => {
          const a = await box.call<number>('duration', [text], LIMIT_MS);
          expect(a.ms, `${JSON.stringify(text)} took ${a.ms} ms`).toBeLessThan(SLOW_MS);
          expectUsageError(a, ['E_DURATION'], text);
          if (a.ok) {
            expect(Number.isInteger(a.value) && a.value >= 0, `${JSON.stringify(text)} -> ${a.value}`).toBe(true);
          } else {
            expect(a.error.message).toContain(`"${text}"`);
            expect(a.error.hint).toMatch(/500ms, 30s/);
          }
        }),
      );
    },
    testTimeout,
  );

  it(
    'valid durations mean the sum of their parts, rounded to the ms',
    async () => {
      await holds(
        fc.asyncProperty(validDuration, fc.constantFrom('', ' ', '\t'), async ({ text, ms }, pad) => {
          const a = await box.call<number>('duration', [`${pad}${text}${pad}`], LIMIT_MS);
          expect(a).toMatchObject({ ok: true, value: ms });
        }),
      );
    },
    testTimeout,
  );

  it(
    'a duration rpr prints reads back as the same duration (to the second above a minute)',
    async () => {
      await holds(
        fc.asyncProperty(fc.oneof(fc.nat({ max: 100_000 }), fc.nat({ max: 10 * 365 * 86_400_000 })), async (ms) => {
          const a = await box.call<{ text: string; ms: number }>('durationRoundTrip', [ms], LIMIT_MS);
          expect(a.ok, JSON.stringify(a)).toBe(true);
          if (!a.ok) return;
          const expected = ms < 60_000 ? ms : Math.round(ms / 1000) * 1000;
          expect(a.value.ms, `${ms} ms printed as ${a.value.text}`).toBe(expected);
        }),
      );
    },
    testTimeout,
  );
});

describe('times (--start-at, --until-time)', () => {
  const NOW = Date.UTC(2027, 4, 1, 12, 0, 0);
  const validTime = fc.oneof(
    fc.tuple(fc.nat({ max: 23 }), fc.nat({ max: 59 }), fc.option(fc.nat({ max: 59 }))).map(([h, m, s]) => `${h}:${String(m).padStart(2, '0')}${s === null ? '' : `:${String(s).padStart(2, '0')}`}`),
    fc.date({ min: new Date(Date.UTC(1970, 0, 1)), max: new Date(Date.UTC(2200, 0, 1)), noInvalidDate: true }).map((d) => d.toISOString()),
    fc.date({ min: new Date(Date.UTC(1970, 0, 1)), max: new Date(Date.UTC(2200, 0, 1)), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 19)),
    fc.date({ min: new Date(Date.UTC(1970, 0, 1)), max: new Date(Date.UTC(2200, 0, 1)), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  );
  const timeInput = fc.oneof(
    anyText(),
    mutated(validTime, '0123456789:-+TZ .'),
    fc.constantFrom(
      '24:00',
      '23:60',
      '23:59:60',
      '9:5',
      '09:30',
      '00:00',
      '0:00:00',
      '2027-02-30',
      '2027-13-01',
      '2027-02-29T00:00:00Z',
      '9999-12-31T23:59:59Z',
      '0000-01-01',
      '2027-01-01T25:00',
      '2027-01-01T00:00+99:99',
      '+275760-09-13',
    ),
  );

  it(
    'random, near-valid and boundary text: an instant, or E_DURATION naming the text',
    async () => {
      await holds(
        fc.asyncProperty(timeInput, async (text) => {
          const a = await box.call<number>('time', [text, NOW], LIMIT_MS);
          expect(a.ms).toBeLessThan(SLOW_MS);
          expectUsageError(a, ['E_DURATION'], text);
          if (a.ok) expect(Number.isFinite(a.value), `${JSON.stringify(text)} -> ${a.value}`).toBe(true);
          else expect(a.error.message).toContain(`"${text}"`);
        }),
      );
    },
    testTimeout,
  );

  it(
    'HH:MM[:SS] is the next time the local clock shows it: within 24 hours after now',
    async () => {
      await holds(
        fc.asyncProperty(fc.nat({ max: 23 }), fc.nat({ max: 59 }), fc.nat({ max: 59 }), async (h, m, s) => {
          const text = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
          const a = await box.call<number>('time', [text, NOW], LIMIT_MS);
          expect(a.ok).toBe(true);
          if (!a.ok) return;
          expect(a.value).toBeGreaterThan(NOW);
          // 25 hours: a DST change in the local zone may lengthen the day.
          expect(a.value - NOW).toBeLessThanOrEqual(25 * 3_600_000);
          const local = new Date(a.value);
          expect([local.getHours(), local.getMinutes(), local.getSeconds()]).toEqual([h, m, s]);
        }),
      );
    },
    testTimeout,
  );
});

describe('patterns (--until-match, --success-pattern, --failure-pattern)', () => {
  const regexish = fc.string({ unit: fc.constantFrom(...'ab.*+?()[]{}|^$\\-:=!<>PQEAzdwsSx0123,iU#'.split('')), maxLength: 24 });
  const patternInput = fc.oneof(
    anyText(),
    regexish,
    fc.tuple(fc.constantFrom('(?i)', '(?m)', '(?s)', '(?U)', '(?is)', '(?P<n>', '\\Q', '[[:alpha:]]', '[[:^digit:]]', '\\A', '\\z', '(?i:', '\\p{L}', '\\x{41}'), regexish).map(([a, b]) => a + b),
  );

  it(
    'random and regex-like text: a JavaScript pattern that compiles, or E_PATTERN',
    async () => {
      await holds(
        fc.asyncProperty(patternInput, async (text) => {
          const a = await box.call<{ source: string; flags: string }>('pattern', [text], LIMIT_MS);
          expect(a.ms).toBeLessThan(SLOW_MS);
          expectUsageError(a, ['E_PATTERN'], text);
          if (a.ok) expect(() => new RegExp(a.value.source, a.value.flags), JSON.stringify(a.value)).not.toThrow();
          else expect(a.error.message).toMatch(/^--until-match: /);
        }),
      );
    },
    testTimeout,
  );
});

describe('every option, from a flag, an RPR_ variable or a TOML value', () => {
  // What TOML and the environment can hand the value parser: strings, numbers, booleans, dates, arrays, tables.
  const raw = fc.oneof(
    anyText(),
    fc.constantFrom(...boundaryNumbers, '30s', '1h30m', 'true', 'off', 'skip', 'KILL', '(?i)ok', '09:30', '2027-01-31T09:00:00Z'),
    fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -0, -1, 2 ** 31, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, 1e308, 0.5)),
    fc.boolean(),
    fc.date({ noInvalidDate: true }),
    fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
    fc.constant(null),
  );
  const keys = OPTIONS.map((d) => d.key);

  it(
    'a typed value or a usage error (E_USAGE, E_DURATION, E_PATTERN) naming the flag',
    async () => {
      await holds(
        fc.asyncProperty(fc.constantFrom(...keys), raw, async (key, value) => {
          const a = await box.call('option', [key, value, Date.UTC(2027, 4, 1)], LIMIT_MS);
          expect(a.ms).toBeLessThan(SLOW_MS);
          expectUsageError(a, ['E_USAGE', 'E_DURATION', 'E_PATTERN'], { key, value });
          const def = OPTIONS.find((d) => d.key === key)!;
          if (!a.ok) {
            expect(a.error.message.startsWith(`${/--[a-z-]+/.exec(def.flags)![0]}: `), a.error.message).toBe(true);
            return;
          }
          const v = a.value;
          switch (def.type) {
            case 'int':
              expect(Number.isSafeInteger(v) && (v as number) >= (def.min ?? 0) && (v as number) <= (def.max ?? Infinity), `${key}=${JSON.stringify(value)} -> ${v}`).toBe(true);
              break;
            case 'duration':
              expect(Number.isInteger(v) && (v as number) >= 0, `${key} -> ${v}`).toBe(true);
              break;
            case 'number':
            case 'time':
              expect(Number.isFinite(v), `${key} -> ${v}`).toBe(true);
              break;
            case 'boolean':
              expect(typeof v).toBe('boolean');
              break;
            case 'enum':
              expect(def.choices).toContain(v);
              break;
            case 'string':
              expect(typeof v).toBe('string');
              break;
            case 'regex':
              expect(v).toMatchObject({ source: expect.any(String), flags: expect.any(String) });
              break;
          }
        }),
      );
    },
    testTimeout,
  );
});
