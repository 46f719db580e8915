// Property-based (issue 7): cron expressions and time zones. Random, near-valid and generated valid
// expressions, in real zones (DST, half-hour offsets, a zone that skipped a whole day), from random
// instants: either E_CRON (exit 2) or fire times that are strictly increasing, after `from`, and
// that match the expression on the zone's wall clock (a time in a spring-forward gap runs at the
// gap's end: the one allowed mismatch, exactly at an offset change).
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { anyText, holds, mutated, RUNS, Sandbox, type Answer } from '../helpers/property.js';

const box = new Sandbox();
afterAll(() => box.close());

const LIMIT_MS = 5000;
const testTimeout = Math.max(60_000, RUNS * 600);

type CronAnswer = Answer<{ timezone: string; hasSeconds: boolean; times: number[] }>;

function expectCronError(a: CronAnswer | Answer<string>, input: unknown): void {
  if (a.ok) return;
  expect(a.error.rpr, `${JSON.stringify(input)}: ${a.error.name}: ${a.error.message}\n${a.error.stack}`).toBe(true);
  expect(a.error.code, `${JSON.stringify(input)}: ${a.error.message}`).toBe('E_CRON');
  expect(a.error.exit).toBe(2);
  expect(a.error.line).not.toMatch(/[\u0000-\u001f\u007f]/);
  expect(a.error.message).toMatch(/^cron: /);
}

// ---------------------------------------------------------------------------
// Generated valid expressions, with a matcher for the plain ones

interface Field {
  text: string;
  /** The values it allows, when plain (numbers, ranges, steps, lists, names); null for L, W, #. */
  values: Set<number> | null;
  star: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function range(a: number, b: number, step = 1): number[] {
  const out: number[] = [];
  for (let i = a; i <= b; i += step) out.push(i);
  return out;
}

function plainItem(min: number, max: number, names?: string[]): fc.Arbitrary<{ text: string; values: number[] }> {
  const n = fc.integer({ min, max });
  const name = (v: number): string => (names && v - min < names.length ? names[v - min]! : String(v));
  return fc.oneof(
    n.map((v) => ({ text: String(v), values: [v] })),
    ...(names ? [fc.integer({ min, max: min + names.length - 1 }).map((v) => ({ text: name(v), values: [v] }))] : []),
    fc
      .tuple(n, n)
      .map(([a, b]) => [Math.min(a, b), Math.max(a, b)])
      .map(([a, b]) => ({ text: `${a}-${b}`, values: range(a!, b!) })),
    fc.tuple(n, n, fc.integer({ min: 1, max: max - min + 1 })).map(([a, b, s]) => {
      const [lo, hi] = [Math.min(a, b), Math.max(a, b)];
      return { text: `${lo}-${hi}/${s}`, values: range(lo, hi, s) };
    }),
    fc.integer({ min: 1, max: max - min + 1 }).map((s) => ({ text: `*/${s}`, values: range(min, max, s) })),
  );
}

function plainField(min: number, max: number, names?: string[]): fc.Arbitrary<Field> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant<Field>({ text: '*', values: new Set(range(min, max)), star: true }) },
    {
      weight: 3,
      arbitrary: fc
        .array(plainItem(min, max, names), { minLength: 1, maxLength: 3 })
        .map((items) => ({ text: items.map((i) => i.text).join(','), values: new Set(items.flatMap((i) => i.values)), star: false })),
    },
  );
}

const special = (texts: fc.Arbitrary<string>): fc.Arbitrary<Field> => texts.map((text) => ({ text, values: null, star: false }));
const domField = fc.oneof(
  { weight: 5, arbitrary: plainField(1, 31) },
  {
    weight: 1,
    arbitrary: special(
      fc.oneof(
        fc.constantFrom('L', 'LW', '?'),
        fc.integer({ min: 1, max: 31 }).map((d) => `${d}W`),
      ),
    ),
  },
);
const dowField = fc.oneof(
  { weight: 5, arbitrary: plainField(0, 7, DAYS) },
  {
    weight: 1,
    arbitrary: special(
      fc.oneof(
        fc.integer({ min: 0, max: 7 }).map((d) => `${d}L`),
        fc.tuple(fc.constantFrom(...DAYS), fc.integer({ min: 1, max: 5 })).map(([d, n]) => `${d}#${n}`),
        fc.constant('?'),
      ),
    ),
  },
);

interface Expr {
  text: string;
  fields: Field[]; // second minute hour dom month dow
  hasSeconds: boolean;
}

const validExpr: fc.Arbitrary<Expr> = fc
  .tuple(fc.boolean(), plainField(0, 59), plainField(0, 59), plainField(0, 23), domField, plainField(1, 12, MONTHS), dowField)
  .map(([hasSeconds, s, m, h, dom, mon, dow]) => {
    const five = [m, h, dom, mon, dow].map((f) => f.text).join(' ');
    const second = hasSeconds ? s : { text: '0', values: new Set([0]), star: false };
    return { text: hasSeconds ? `${s.text} ${five}` : five, fields: [second, m, h, dom, mon, dow], hasSeconds };
  });

const SHORTCUTS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly', '@DAILY', '@reboot', '@every'];

/** Real zones with awkward rules, and a sample of all of them. */
const ZONES = Intl.supportedValuesOf('timeZone');
const AWKWARD = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Asia/Kathmandu',
  'Europe/Dublin',
  'Africa/Casablanca',
  'Antarctica/Troll',
  'America/Sao_Paulo',
  'Asia/Tehran',
  'America/Havana',
  'America/Santiago',
  'Pacific/Apia',
  'Pacific/Kiritimati',
];
const zone = fc.oneof(fc.constantFrom(...AWKWARD), fc.constantFrom(...ZONES));
/** 1970 to 2100, and instants within a day of a DST change in the northern and southern spring and autumn. */
const from = fc.oneof(
  fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) }),
  fc
    .tuple(fc.integer({ min: 1995, max: 2040 }), fc.constantFrom(2, 3, 9, 10, 11), fc.integer({ min: 1, max: 31 }), fc.integer({ min: 0, max: 86_400_000 }))
    .map(([y, m, d, ms]) => Date.UTC(y, m, Math.min(d, 28)) + ms),
  fc.constantFrom(Date.UTC(2011, 11, 29, 0, 0), Date.UTC(2011, 11, 30, 10, 0) - 1, Date.UTC(2024, 2, 10, 6, 59, 59, 999), Date.UTC(2024, 10, 3, 5, 30)),
);

const WALL = new Map<string, Intl.DateTimeFormat>();
function wall(ms: number, tz: string) {
  let f = WALL.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    WALL.set(tz, f);
  }
  const parts = Object.fromEntries(f.formatToParts(ms).map((p) => [p.type, p.value]));
  return { year: +parts.year!, second: +parts.second!, minute: +parts.minute!, hour: +parts.hour!, day: +parts.day!, month: +parts.month!, weekday: DAYS.indexOf(parts.weekday!.toUpperCase()) };
}

/** Whether the wall time of `ms` in `tz` matches the plain fields (null: cannot tell, L/W/# involved). */
function matches(expr: Expr, ms: number, tz: string): boolean | null {
  const [s, m, h, dom, mon, dow] = expr.fields as [Field, Field, Field, Field, Field, Field];
  const w = wall(ms, tz);
  if (!s.values!.has(w.second) || !m.values!.has(w.minute) || !h.values!.has(w.hour) || !mon.values!.has(w.month)) return false;
  if (dom.values === null || dow.values === null) return null;
  // Steps such as */2 are a star to some crons (Vixie) and not to others: do not judge the days then.
  if ((dom.text.startsWith('*') && !dom.star) || (dow.text.startsWith('*') && !dow.star)) return null;
  const domOk = dom.values.has(w.day);
  const dowOk = dow.values.has(w.weekday) || (w.weekday === 0 && dow.values.has(7));
  if (dom.star || dow.star || dom.text === '?' || dow.text === '?') return domOk && dowOk;
  return domOk || dowOk;
}

/** UTC offset of `tz` at `ms`, from the wall clock Intl shows. */
function offsetAt(ms: number, tz: string): number {
  const w = wall(ms, tz);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000;
}
const offsetChangesAt = (ms: number, tz: string): boolean => offsetAt(ms - 1, tz) !== offsetAt(ms, tz);

function expectSaneTimes(a: CronAnswer, fromMs: number, n: number, input: unknown): void {
  if (!a.ok) return;
  const { times } = a.value;
  expect(times.length, `${JSON.stringify(input)}: ${times.length} times`).toBeLessThanOrEqual(n);
  let prev = fromMs;
  for (const t of times) {
    expect(Number.isFinite(t), `${JSON.stringify(input)}: ${t}`).toBe(true);
    expect(t, `${JSON.stringify(input)}: not strictly after ${new Date(prev).toISOString()}: ${times.map((x) => new Date(x).toISOString())}`).toBeGreaterThan(prev);
    prev = t;
  }
}

describe('cron expressions', () => {
  const cronInput = fc.oneof(
    anyText(60),
    mutated(
      validExpr.map((e) => e.text),
      '0123456789 */,-?#LWJANFEBMONSUN@',
    ),
    fc.constantFrom(...SHORTCUTS),
    fc.constantFrom(
      '* * * * *',
      '*/0 * * * *',
      '60 * * * *',
      '* 24 * * *',
      '* * 0 * *',
      '* * 32 * *',
      '* * * 13 *',
      '* * * * 8',
      '0 0 30 2 *',
      '0 0 31 4,6,9,11 *',
      '0 0 29 2 *',
      '0 0 L 2 *',
      '0 0 LW * *',
      '0 0 31W * *',
      '0 0 * * 5#5',
      '0 0 * * 5#6',
      '0 0 * * FRIL',
      '1-60/0 * * * *',
      '22-2 * * * *',
      '* * * * * * *',
      '0 0 1 1 * 2030',
      '9999999999999999999 * * * *',
      '*/100000 * * * *',
      ' 0  0  *  *  * ',
    ),
  );

  it(
    'random, near-valid and boundary text, in UTC: E_CRON, or fire times strictly increasing after from',
    async () => {
      await holds(
        fc.asyncProperty(cronInput, from, async (expr, fromMs) => {
          const a = await box.call<{ timezone: string; hasSeconds: boolean; times: number[] }>('cron', [expr, 'UTC', 5, fromMs], LIMIT_MS);
          expectCronError(a, expr);
          expectSaneTimes(a, fromMs, 5, [expr, fromMs]);
        }),
      );
    },
    testTimeout,
  );

  it(
    'generated valid expressions in awkward zones: strictly increasing times that match on the wall clock',
    async () => {
      await holds(
        fc.asyncProperty(validExpr, zone, from, async (expr, tz, fromMs) => {
          const input = { expr: expr.text, tz, from: new Date(fromMs).toISOString() };
          const a = await box.call<{ timezone: string; hasSeconds: boolean; times: number[] }>('cron', [expr.text, tz, 4, fromMs], LIMIT_MS);
          if (!a.ok) {
            // The one refusal of a well-formed expression: a day-of-month no allowed month has.
            expectCronError(a, input);
            expect(a.error.message, JSON.stringify(input)).toMatch(/never occurs in month/);
            return;
          }
          // ICU's canonical name may be the older spelling (Asia/Kathmandu -> Asia/Katmandu): the same zone.
          expect(offsetAt(fromMs, a.value.timezone)).toBe(offsetAt(fromMs, tz));
          expect(a.value.hasSeconds).toBe(expr.hasSeconds);
          expectSaneTimes(a, fromMs, 4, input);
          for (const t of a.value.times) {
            const ok = matches(expr, t, tz);
            if (ok === false) {
              // Allowed only at the end of a spring-forward gap (a wall time that did not exist).
              expect(offsetChangesAt(t, tz), `${JSON.stringify(input)}: ${new Date(t).toISOString()} = ${JSON.stringify(wall(t, tz))} does not match`).toBe(true);
            }
          }
        }),
      );
    },
    testTimeout,
  );
});

describe('time zones', () => {
  const zoneInput = fc.oneof(
    anyText(30),
    mutated(fc.constantFrom(...AWKWARD), 'abcxyz/_-+0123456789 '),
    zone.map((z) => z.toLowerCase()),
    zone.map((z) => z.toUpperCase()),
    fc.constantFrom(
      '',
      ' ',
      'utc',
      'Etc/GMT+14',
      'Etc/GMT-14',
      'Etc/GMT+15',
      'GMT+2',
      '+02:00',
      'Z',
      'Local',
      'EST',
      'US/Pacific',
      'Europe/../Berlin',
      '/etc/localtime',
      'Europe//Berlin',
      'Europe/Berlin/Mitte',
      'x'.repeat(5000),
    ),
  );

  it(
    'random, near-valid and boundary names: a canonical IANA zone that resolves to itself, or E_CRON',
    async () => {
      await holds(
        fc.asyncProperty(zoneInput, async (tz) => {
          const a = await box.call<string>('zone', [tz], LIMIT_MS);
          expectCronError(a, tz);
          if (!a.ok) {
            expect(a.error.message).toMatch(/^cron: unknown time zone/);
            return;
          }
          expect(typeof a.value).toBe('string');
          const again = await box.call<string>('zone', [a.value], LIMIT_MS);
          expect(again, `${JSON.stringify(tz)} -> ${a.value}`).toMatchObject({ ok: true, value: a.value });
        }),
      );
    },
    testTimeout,
  );

  it(
    'any accepted zone with a random expression: fire times strictly increasing (or E_CRON)',
    async () => {
      await holds(
        fc.asyncProperty(
          zoneInput,
          fc.oneof(
            validExpr.map((e) => e.text),
            fc.constantFrom(...SHORTCUTS),
          ),
          from,
          async (tz, expr, fromMs) => {
            const a = await box.call<{ timezone: string; hasSeconds: boolean; times: number[] }>('cron', [expr, tz, 3, fromMs], LIMIT_MS);
            expectCronError(a, { tz, expr });
            expectSaneTimes(a, fromMs, 3, { tz, expr, fromMs });
          },
        ),
      );
    },
    testTimeout,
  );
});

describe('found by these properties', () => {
  // cron-parser refuses duplicate values; cron does not: overlapping list items are one set.
  it.each([
    ['1,1 0 * * *', ['2027-01-01T00:01:00.000Z', '2027-01-02T00:01:00.000Z']],
    ['0 0 * * 0,7', ['2027-01-03T00:00:00.000Z', '2027-01-10T00:00:00.000Z']],
    ['0 0 * * MON-FRI,WED', ['2027-01-04T00:00:00.000Z', '2027-01-05T00:00:00.000Z']],
    ['*/20,10-30/10 * * * *', ['2027-01-01T00:10:00.000Z', '2027-01-01T00:20:00.000Z', '2027-01-01T00:30:00.000Z', '2027-01-01T00:40:00.000Z']],
  ])('overlapping list items "%s" are accepted and each time fires once', async (expr, expected) => {
    const a = await box.call<{ times: number[] }>('cron', [expr, 'UTC', expected.length, Date.UTC(2027, 0, 1)], LIMIT_MS);
    expect(a.ok, JSON.stringify(a)).toBe(true);
    if (a.ok) expect(a.value.times.map((t) => new Date(t).toISOString())).toEqual(expected);
  });
});
