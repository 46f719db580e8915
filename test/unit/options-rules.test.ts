/**
 * The catalog's rules between options (options/catalog.ts `conflicts` and `needs`), checked by
 * options/rules.ts. The tables below are the rules rpr promises; a rule missing from the catalog
 * (or one added without a test) fails here.
 */
import { describe, expect, it } from 'vitest';
import { exitCodeFor, formatError } from '../../src/errors/exit-codes.js';
import { OPTIONS } from '../../src/options/catalog.js';
import { EXPLICIT, resolveOptions, withExplicit, type OptionValues } from '../../src/options/resolve.js';
import { checkOptionRules } from '../../src/options/rules.js';

/** Values as a job gets them; `explicit`: the keys someone set (default: all of them). */
const jobOf = (v: Record<string, unknown>, explicit: string[] = Object.keys(v)): OptionValues => Object.defineProperty({ ...v }, EXPLICIT, { value: new Set(explicit), enumerable: false });

/** The line rpr prints and its exit status, or null when the values pass. */
function outcome(values: OptionValues): { line: string; status: number } | null {
  try {
    checkOptionRules(values);
    return null;
  } catch (error) {
    return { line: formatError(error), status: exitCodeFor(error) };
  }
}

/** A value that turns each option on. */
const on: Record<string, unknown> = { prefix: 'x ', outputPrefix: 'y', delayFirst: 1000, startAt: Date.now() + 60_000 };
const onValue = (key: string): unknown => on[key] ?? true;

/** [option, option, hint]: "--a and --b cannot be used together (hint: ...)". */
const CONFLICTS: [string, string, string][] = [
  ['statsOnly', 'quiet', '--stats-only already hides the output'],
  ['statsOnly', 'verbose', 'choose one output mode'],
  ['statsOnly', 'json', 'choose one output mode'],
  ['statsOnly', 'prefix', '--stats-only prints no command output to prefix'],
  ['json', 'prefix', '--json prints no command output to prefix'],
  ['quiet', 'prefix', '--quiet prints no command output to prefix'],
  ['untilSuccess', 'untilFailure', 'together they stop after the first run; use --times 1'],
  ['delayFirst', 'startAt', 'choose one way to delay the first run'],
  ['httpParseJson', 'httpNoParseJson', 'choose one'],
  ['httpParseHeaders', 'httpNoParseHeaders', 'choose one'],
  ['prefix', 'outputPrefix', 'choose one prefix option'],
  ['stream', 'quiet', '--quiet hides the output --stream would show'],
  ['stream', 'statsOnly', '--stats-only hides the output --stream would show'],
  ['stream', 'json', '--json replaces the output --stream would show'],
];

const flag = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

describe('conflicts: options that cannot go together', () => {
  it('the catalog declares exactly these pairs', () => {
    const declared = OPTIONS.flatMap((def) => (def.conflicts ?? []).map((c) => `${def.key} ${c.key}`)).sort();
    expect(declared).toEqual(CONFLICTS.map(([a, b]) => `${a} ${b}`).sort());
  });

  for (const [a, b, hint] of CONFLICTS) {
    it(`${flag(a)} with ${flag(b)}: one line, exit 2; each alone passes`, () => {
      // (--http-aware: what the --http-no-parse-* options need, so that only the conflict is tested.)
      const job = (v: Record<string, unknown>): OptionValues => jobOf({ httpAware: true, ...v });
      expect(outcome(job({ [a]: onValue(a), [b]: onValue(b) }))).toEqual({ line: `rpr: ${flag(a)} and ${flag(b)} cannot be used together (hint: ${hint})`, status: 2 });
      // Given the other way round, the message still names them in the catalog's order.
      expect(outcome(job({ [b]: onValue(b), [a]: onValue(a) }))?.line).toContain(`${flag(a)} and ${flag(b)} cannot`);
      expect(outcome(job({ [a]: onValue(a) }))).toBeNull();
      expect(outcome(job({ [b]: onValue(b) }))).toBeNull();
      // Off is not set: --no-progress style false values, and a zero delay, conflict with nothing.
      expect(outcome(job({ [a]: onValue(a), [b]: false }))).toBeNull();
    });
  }
});

/** [option, a value of it, what it needs, values that meet the need, values that do not]. */
const NEEDS: [string, unknown, string, Record<string, unknown>[], Record<string, unknown>[]][] = [
  ['httpMinDelay', 1000, '--http-aware', [{ httpAware: true }], [{ httpAware: false }]],
  ['httpMaxDelay', 1000, '--http-aware', [{ httpAware: true }], [{}]],
  ['httpNoParseJson', true, '--http-aware', [{ httpAware: true }], [{}]],
  ['httpNoParseHeaders', true, '--http-aware', [{ httpAware: true }], [{}]],
  ['httpTrustClient', true, '--http-aware', [{ httpAware: true }], [{}]],
  ['httpCustomFields', 'a.b', '--http-aware', [{ httpAware: true }], [{}]],
  ['maxParallel', 2, '--on-overlap allow', [{ onOverlap: 'allow' }], [{ onOverlap: 'skip' }, {}]],
  ['forKill', true, '--for', [{ for: 1000 }, { for: 0 }], [{}]],
  ['caseInsensitive', true, 'a pattern option', [{ successPattern: { source: 'a', flags: '' } }, { failurePattern: { source: 'a', flags: '' } }, { untilMatch: { source: 'a', flags: '' } }], [{}]],
  ['onCoordinationLoss', 'run-local', '--coordinate', [{ coordinate: 'redis://h:1', name: 'j' }], [{}, { coordinate: '' }]],
];

describe('needs: an option that only applies with another', () => {
  const job = jobOf;
  it('the catalog declares exactly these (and --coordinate needs --name)', () => {
    expect(
      OPTIONS.filter((def) => def.needs)
        .map((def) => def.key)
        .sort(),
    ).toEqual([...NEEDS.map(([key]) => key), 'coordinate'].sort());
  });

  for (const [key, value, what, meets, fails] of NEEDS) {
    it(`${flag(key)} needs ${what}`, () => {
      const hint = key === 'onCoordinationLoss' ? 'add --coordinate redis://HOST:PORT or drop --on-coordination-loss' : `add ${what} or drop ${flag(key)}`;
      for (const others of fails) expect(outcome(job({ [key]: value, ...others }))).toEqual({ line: `rpr: ${flag(key)} only applies with ${what} (hint: ${hint})`, status: 2 });
      for (const others of meets) expect(outcome(job({ [key]: value, ...others }))).toBeNull();
      // A value nobody set (a built-in default) needs nothing; an option turned off needs nothing.
      expect(outcome(job({ [key]: value }, []))).toBeNull();
      if (value === true) expect(outcome(job({ [key]: false }))).toBeNull();
    });
  }

  it('--coordinate needs --name, in its own words', () => {
    expect(outcome(job({ coordinate: 'redis://h:1' }))).toEqual({
      line: 'rpr: --coordinate needs --name JOB: instances with the same Redis and job name are one job (hint: e.g. --coordinate redis://127.0.0.1:6379 --name nightly-report)',
      status: 2,
    });
    expect(outcome(job({ coordinate: 'redis://h:1', name: 'j' }))).toBeNull();
    expect(outcome(job({ coordinate: '' }))).toBeNull();
  });
});

describe('whatever set the values', () => {
  const resolved = (input: Parameters<typeof resolveOptions>[0]): OptionValues => withExplicit(resolveOptions(input));

  it('a flag and an environment variable conflict like two flags', () => {
    const values = resolved({ command: 'count', flags: { prefix: 'x ' }, env: { RPR_QUIET: '1' } });
    expect(outcome(values)?.line).toBe('rpr: --quiet and --prefix cannot be used together (hint: --quiet prints no command output to prefix)');
  });

  it('the built-in --max-parallel 4 needs nothing; RPR_MAX_PARALLEL does', () => {
    expect(outcome(resolved({ command: 'interval', flags: {} }))).toBeNull();
    expect(outcome(resolved({ command: 'interval', env: { RPR_MAX_PARALLEL: '2' } }))?.line).toMatch(/^rpr: --max-parallel only applies with --on-overlap allow/);
    expect(outcome(resolved({ command: 'interval', env: { RPR_MAX_PARALLEL: '2', RPR_ON_OVERLAP: 'allow' } }))).toBeNull();
  });
});
