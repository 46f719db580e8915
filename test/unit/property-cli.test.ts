// Property-based (issue 7): the command line, through main() (src/cli/program.ts, built) in a
// worker thread with stdout and stderr captured. Subcommands (core, plugin schedulers, config,
// plugins, help), every catalog flag with valid, near-valid, boundary and random values, stray
// tokens: rpr ends with 0 (help, --version, --next ...) or 2 and `rpr: ...` lines on stderr - never
// a stack trace, an internal error, a hang or an unhandled rejection. Nothing runs: the command
// after -- does not exist (rpr checks that before starting anything), and flags that would run it
// anyway (--shell, --executor) or reach out (--coordinate) are left out. Then a few rate specs
// (parsed by the rate-limit plugin) through the built binary.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { OPTIONS, type OptionDef } from '../../src/options/catalog.js';
import { rpr } from '../helpers/cli.js';
import { anyText, boundaryNumbers, holds, LONG, mutated, RUNS, Sandbox, STACK_LINE } from '../helpers/property.js';

const box = new Sandbox();
afterAll(() => box.close());

const NO_SUCH = 'rpr-property-no-such-command';
const LIMIT_MS = 15_000;
const CASES = LONG ? RUNS : 60;
/** Flags that would start the command without checking it, or connect to something. */
const LEFT_OUT = new Set(['shell', 'executor', 'coordinate', 'onCoordinationLoss']);
const FLAGS = OPTIONS.filter((d) => !LEFT_OUT.has(d.key));

const long = (def: OptionDef): string => /--[a-z-]+/.exec(def.flags)![0];
const short = (def: OptionDef): string | undefined => /(^|\s)(-[a-zA-Z]),/.exec(def.flags)?.[2];

function valueFor(def: OptionDef): fc.Arbitrary<string> {
  const valid: Record<string, fc.Arbitrary<string>> = {
    duration: fc.constantFrom('1s', '500ms', '1h30m', '0', '2.5s', '30d', '1w'),
    int: fc.constantFrom('1', '3', '65535', '0'),
    number: fc.constantFrom('1', '2.5', '0'),
    time: fc.constantFrom('09:30', '23:59:59', '2030-01-31T09:00:00Z', '2020-01-01'),
    regex: fc.constantFrom('ok', '(?i)done', '^x$', '(?P<n>a)'),
    string: fc.constantFrom('job', '[{run}] ', 'webhook', 'a,b', 'Europe/Berlin', '*/5 * * * *'),
    enum: fc.constantFrom(...(def.choices ?? ['x'])),
    boolean: fc.constantFrom('true', 'false'),
  };
  const v = valid[def.type]!;
  return fc.oneof(
    { weight: 3, arbitrary: v },
    { weight: 2, arbitrary: mutated(v) },
    { weight: 1, arbitrary: fc.constantFrom(...boundaryNumbers, '', ' ', '-1', '--', '-e') },
    { weight: 1, arbitrary: anyText(12) },
  );
}

/** One flag as users write it: --flag value, --flag=value, -f value; booleans alone or with a value. */
const flag: fc.Arbitrary<string[]> = fc.constantFrom(...FLAGS).chain((def) => {
  const names = [long(def), ...(short(def) ? [short(def)!] : [])];
  if (def.type === 'boolean')
    return fc.oneof(
      fc.constantFrom(...names).map((n) => [n]),
      fc.tuple(fc.constantFrom(...names), valueFor(def)).map(([n, v]) => [`${n}=${v}`]),
    );
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...names), valueFor(def)).map(([n, v]) => [n, v]) },
    { weight: 1, arbitrary: valueFor(def).map((v) => [`${long(def)}=${v}`]) },
    { weight: 1, arbitrary: fc.constantFrom(...names).map((n) => [n]) }, // value missing
  );
});

const stray = fc
  .oneof(
    fc.constantFrom(
      '-',
      '---',
      '--no-such-flag',
      '-Z',
      '--set',
      'x=y',
      '--set=webhook.url=http://127.0.0.1:9/',
      'fibonacci.initial=1s',
      '--config',
      '/nonexistent/rpr.toml',
      '--config=/dev/null',
      '--help',
      '-h',
      '--version',
      '-v',
      '--next',
      '5',
      '--from',
      'now',
      '--tz',
      'UTC',
      '--initial',
      '--rate',
      '5/1s',
      'extra',
    ),
    anyText(10),
  )
  .map((t) => [t]);

const CORE = new Set(['interval', 'i', 'int', 'count', 'c', 'duration', 'd']);
const SUBCOMMANDS = [
  'interval',
  'i',
  'int',
  'count',
  'c',
  'duration',
  'd',
  'cron',
  'cr',
  'run',
  'examples',
  'help',
  'fibonacci',
  'exponential',
  'linear',
  'rate-limit',
  'rl',
  'token-bucket',
  'adaptive',
  'load-adaptive',
  'decorrelated-jitter',
  'plugin',
  'webhook',
  'http-aware',
  'nosuch',
  'INTERVAL',
];
const head = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...SUBCOMMANDS).map((s) => [s]) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      ['config', 'check'],
      ['config', 'check', '/dev/null'],
      ['config', 'check', '/nonexistent'],
      ['config', 'show'],
      ['plugins', 'list'],
      ['plugins', 'info', 'fibonacci'],
      ['plugins', 'info', 'nope'],
      ['plugins', 'validate', '/nonexistent'],
      ['plugin', 'fibonacci'],
      ['help', 'cron'],
      ['--config', '/dev/null', 'count'],
    ),
  },
  { weight: 1, arbitrary: anyText(10).map((s) => [s]) },
  { weight: 1, arbitrary: fc.constant([] as string[]) },
);
const tail = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.oneof(fc.constantFrom('a', '-x', '--', ''), anyText(6)), { maxLength: 2 }).map((args) => ['--', NO_SUCH, ...args]) },
  { weight: 1, arbitrary: fc.constant(['--']) },
  { weight: 1, arbitrary: fc.constant(['--', '']) },
  { weight: 2, arbitrary: fc.constant([] as string[]) },
);
/** Everything before the command may be anything but `--` (the command position stays ours). */
const argv = fc
  .tuple(head, fc.array(fc.oneof({ weight: 4, arbitrary: flag }, { weight: 1, arbitrary: stray }), { maxLength: 5 }), tail)
  .map(([h, parts, t]) => [...h, ...parts.flat().filter((a) => a !== '--'), ...t]);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the command line, in-process', () => {
  it(
    'exit 0 or 2 with `rpr: ...` lines, never a stack, an internal error, a hang or a leaked rejection',
    async () => {
      const codes: Record<number, number> = {};
      await holds(
        fc.asyncProperty(argv, async (args) => {
          const a = await box.call<Run>('main', [args], LIMIT_MS);
          const what = JSON.stringify(args);
          expect(a.ok, `${what}: main() threw ${!a.ok && `${a.error.name}: ${a.error.message}\n${a.error.stack}`}`).toBe(true);
          if (!a.ok) return;
          const { code, stdout, stderr } = a.value;
          codes[code] = (codes[code] ?? 0) + 1;
          const out = `${what} -> exit ${code}\nstdout: ${stdout.slice(0, 400)}\nstderr: ${stderr}`;
          expect(stderr, out).not.toMatch(STACK_LINE);
          expect(stdout, out).not.toMatch(STACK_LINE);
          expect(stderr, out).not.toMatch(/internal error/);
          // --log-format json: rpr's lines are JSON objects instead.
          const jsonLog = args.some((a, i) => a === '--log-format=json' || (a === '--log-format' && args[i + 1] === 'json'));
          for (const line of stderr.split('\n').slice(0, -1)) {
            if (jsonLog && line.startsWith('{')) expect(typeof (JSON.parse(line) as { message?: unknown }).message, out).toBe('string');
            else expect(line, out).toMatch(/^rpr: /);
            expect(line, out).not.toMatch(/[\u0000-\u001f\u007f]/);
          }
          // plugins validate/verify report what they checked: exit 1 is their "problems found".
          if (code === 1 && args[0] === 'plugins' && ['validate', 'verify'].includes(args[1]!)) return;
          expect([0, 2], out).toContain(code);
          // Exit 2 says why: one `rpr:` line, or the usage (nothing before --).
          if (code === 2) expect(/^rpr: /.test(stderr) || (jsonLog && /^\{"time":/.test(stderr)) || /^Usage: rpr /.test(stdout), out).toBe(true);
          // A core job whose command does not exist never succeeds (only its help may be shown).
          if (code === 0 && CORE.has(args[0]!) && args.includes(NO_SUCH))
            expect(
              args.some((x) => x === '-h' || x.startsWith('--help')),
              out,
            ).toBe(true);
        }),
        { numRuns: CASES },
      );
      if (LONG) console.log(`exit statuses: ${JSON.stringify(codes)}`);
    },
    Math.max(120_000, CASES * 2000),
  );

  it('boundary command lines: nothing, only --, empty words, a huge word, many flags', async () => {
    const cases: string[][] = [
      [],
      ['--'],
      ['--', ''],
      [''],
      ['count'],
      ['count', '--'],
      ['count', '--', ''],
      ['count', '-t', '1', '--', 'x'.repeat(100_000)],
      ['interval', ...Array.from({ length: 500 }, () => ['-e', '1s']).flat(), '--', NO_SUCH],
      ['cron', '--cron', '* * * * *', '--next', '0'],
      ['cron', '--cron', '0 0 29 2 *', '--next', '3', '--from', '9999-01-01T00:00:00Z'],
      ['--config'],
      ['--config', '--', NO_SUCH],
    ];
    for (const args of cases) {
      const a = await box.call<Run>('main', [args], LIMIT_MS).catch((e: Error) => ({ ok: false as const, error: { name: 'hang', message: e.message } }));
      const what = JSON.stringify(args).slice(0, 120);
      expect(a.ok, `${what}: ${!a.ok && a.error.message}`).toBe(true);
      if (!a.ok) continue;
      expect([0, 2], `${what}: ${a.value.stderr}`).toContain(a.value.code);
      expect(a.value.stderr).not.toMatch(STACK_LINE);
    }
  }, 120_000);
});

// Found by this file: --next N had no upper bound (N = 1e23 listed fire times until killed).
it('cron --next with an absurd N is refused (exit 2) at once', async () => {
  const a = await box.call<Run>('main', [['cron', '--cron', '* * * * * *', '--next', '99999999999999999999999']], 3000);
  expect(a).toMatchObject({ ok: true, value: { code: 2, stdout: '' } });
  if (a.ok) expect(a.value.stderr).toMatch(/^rpr: --next: at most \d+/);
}, 20_000);

describe('rate specs (N/WINDOW, parsed by the rate-limit plugin), through the built binary', () => {
  const CASES_RATE = [
    ['5/1s', 0],
    ['10/s', 0],
    ['2/100ms', 0],
    ['1/1h', 0],
    ['0/1s', null],
    ['-1/1s', null],
    ['5.5/1s', null],
    ['1e3/1s', null],
    ['99999999999999999999/1s', null],
    ['5/0s', null],
    ['5/', null],
    ['/1s', null],
    ['5/1s/2', null],
    ['five/1s', null],
    ['', null],
    ['5/1x', null],
  ] as const;

  it.concurrent.each(CASES_RATE)('--rate %j: a job, or one `rpr: plugin "rate-limit" init: rate ...` line', async (rate, expected) => {
    const r = await rpr(['rate-limit', '--rate', rate, '--times', '1', '--', 'true'], { timeoutMs: 20_000 });
    expect(r.stderr).not.toMatch(STACK_LINE);
    if (expected === 0) {
      expect(r.code, r.stderr).toBe(0);
      return;
    }
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/^rpr: plugin "rate-limit" init: rate/);
    // A plugin refusing its settings is a usage error, like a bad core flag (it was exit 1).
    expect(r.code).toBe(2);
  });
});
