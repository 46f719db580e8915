/**
 * The command line as a user meets it: subcommands and aliases, help, version,
 * suggestions, and one clear line with exit 2 for every kind of bad input.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanup, lines, run, STACK_LINE, start, tempDir } from './core-helpers.js';

// Tests in the describe.concurrent blocks below share this file's process list: cleaning up after
// each of them would kill the others' rpr. Those blocks sit in one suite that cleans up after all of them.
const sequential = (): void => void afterEach(cleanup);

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const SUBCOMMANDS = [
  { name: 'interval', aliases: ['int', 'i'], args: ['-e', '50ms', '-t', '2'] },
  { name: 'count', aliases: ['cnt', 'c'], args: ['-t', '2'] },
  { name: 'duration', aliases: ['dur', 'd'], args: ['-f', '10s', '-t', '2'] },
];

describe('version and help', () => {
  sequential();
  it('--version prints the package version and exits 0', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(pkg.version);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toBe('');
  });

  it('--help lists the three subcommands and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const { name } of SUBCOMMANDS) expect(r.stdout).toMatch(new RegExp(`^\\s+${name}\\b`, 'm'));
    expect(r.stdout).toMatch(/Usage: rpr/);
  });

  it('no arguments at all: usage on the terminal and exit 2', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/Usage: rpr/);
  });

  for (const { name, aliases } of SUBCOMMANDS) {
    it(`${name} --help shows its usage, options and runnable examples; so do its aliases`, async () => {
      const r = await run([name, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Usage: rpr ${name}\\b`));
      expect(r.stdout).toContain('--times');
      expect(r.stdout).toContain('--every');
      expect(r.stdout).toContain('--on-overlap');
      const examples = r.stdout.split(/^Examples:$/m)[1];
      expect(examples, 'an Examples: section').toBeDefined();
      const commands = lines(examples!)
        .map((l) => l.trim().replace(/^\$ /, ''))
        .filter((l) => l.startsWith('rpr '));
      expect(commands.length).toBeGreaterThanOrEqual(2);
      for (const example of commands) {
        // Each example uses this subcommand (or an alias) and only flags its help lists.
        const words = example.split(/\s+/);
        expect([name, ...aliases]).toContain(words[1]);
        expect(example).toContain(' -- ');
        const head = example.slice(0, example.indexOf(' -- '));
        for (const flag of head.match(/(?<=\s)--?[a-z][a-z-]*/g) ?? []) {
          expect(r.stdout, `${example}: ${flag} is listed in the options`).toMatch(new RegExp(`(^|[ ,])${flag}\\b`, 'm'));
        }
      }
      for (const alias of aliases) {
        const viaAlias = await run([alias, '--help']);
        expect(viaAlias.code).toBe(0);
        expect(viaAlias.stdout, `rpr ${alias} --help`).toBe(r.stdout);
      }
    });
  }

  it('help <subcommand> works like <subcommand> --help', async () => {
    const r = await run(['help', 'count']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: rpr count/);
    expect(r.stdout).toMatch(/Examples:/);
  });

  it('the examples in a subcommand help actually run', async () => {
    // `rpr count --times 3 --every 1s -- date` made short: same flags, real command.
    const r = await run(['count', '--times', '3', '--every', '100ms', '--', 'date']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toHaveLength(3);
  });
});

describe('subcommands and aliases', () => {
  sequential();
  for (const { name, aliases, args } of SUBCOMMANDS) {
    for (const invoked of [name, ...aliases]) {
      it(`rpr ${invoked} runs the command (${name})`, async () => {
        const r = await run([invoked, ...args, '--', 'echo', `via-${invoked}`]);
        expect(r.code).toBe(0);
        expect(lines(r.stdout)).toEqual([`via-${invoked}`, `via-${invoked}`]);
        expect(r.stderr).toBe('');
      });
    }
  }

  it('count and duration without --every run back to back', async () => {
    for (const args of [
      ['count', '-t', '4'],
      // Long enough for a second run on a loaded machine (a CI run saw one run of `sleep 0.05` in
      // 400 ms), with runs long enough that there are few gaps to measure.
      ['duration', '-f', '1s'],
    ]) {
      const r = await run([...args, '--json', '--', 'sh', '-c', 'sleep 0.2']);
      expect(r.code).toBe(0);
      const recs = lines(r.stdout).map((l) => JSON.parse(l) as { start: string; end: string });
      expect(recs.length).toBeGreaterThanOrEqual(2);
      // Each run starts as the previous one ends: no interval in between.
      for (let i = 1; i < recs.length; i++) {
        const idle = Date.parse(recs[i]!.start) - Date.parse(recs[i - 1]!.end);
        expect(idle, `${args[0]}: idle between runs`).toBeLessThanOrEqual(30);
      }
    }
  });
});

/** [title, argv, words the one-line message must contain]. */
const BAD_INPUT: [string, string[], (string | RegExp)[]][] = [
  ['unknown flag', ['interval', '--every', '1s', '--no-such-flag', '--', 'true'], ['--no-such-flag']],
  ['unknown global flag', ['--bogus', 'count', '-t', '1', '--', 'true'], ['--bogus']],
  ['bad duration', ['interval', '--every', 'soon', '--', 'true'], ['--every', 'soon']],
  ['duration without a unit', ['count', '-t', '1', '--timeout', '5', '--', 'true'], ['--timeout', '5']],
  ['duration with a bad unit', ['interval', '-e', '3x', '--', 'true'], ['--every', '3x']],
  ['malformed compound duration', ['count', '-t', '1', '--kill-after', '1.5.5s', '--', 'true'], ['--kill-after']],
  ['a command after -- for a subcommand that runs none', ['config', 'check', '--', 'touch', '/tmp/rpr-never'], ['config runs no command', 'touch /tmp/rpr-never']],
  ['plugins with a command after --', ['plugins', 'list', '--', 'true'], ['plugins runs no command']],
  ['missing --', ['interval', '--every', '1s', 'echo', 'hi'], [/--|argument/]],
  ['missing command', ['interval', '--every', '1s'], ['--']],
  ['empty command after --', ['count', '-t', '1', '--'], ['empty']],
  ['empty string as command', ['count', '-t', '1', '--', ''], ['empty']],
  ['--stats-only with --json', ['count', '-t', '1', '--stats-only', '--json', '--', 'true'], ['--stats-only', '--json']],
  ['--quiet with --prefix', ['count', '-t', '1', '--quiet', '--prefix', 'x ', '--', 'true'], ['--quiet', '--prefix']],
  ['--json with --prefix', ['count', '-t', '1', '--json', '--prefix', 'x ', '--', 'true'], ['--json', '--prefix']],
  ['--until-success with --until-failure', ['count', '-t', '3', '--until-success', '--until-failure', '--', 'true'], ['--until-success', '--until-failure']],
  ['--delay-first with --start-at', ['count', '-t', '1', '--delay-first', '1s', '--start-at', '23:59', '--', 'true'], ['--delay-first', '--start-at']],
  ['negative --times', ['count', '-t', '-3', '--', 'true'], ['--times', '-3']],
  ['negative --max-failures', ['count', '-t', '1', '--max-failures', '-1', '--', 'true'], ['--max-failures']],
  ['negative --max-parallel', ['interval', '-e', '1s', '--on-overlap', 'allow', '--max-parallel', '-2', '--', 'true'], ['--max-parallel']],
  ['fractional --times', ['count', '-t', '1.5', '--', 'true'], ['--times', '1.5']],
  ['--times 0', ['count', '-t', '0', '--', 'true'], ['--times']],
  ['--every 0', ['interval', '-e', '0', '--', 'true'], ['--every']],
  ['--every 0m0s', ['count', '-t', '2', '-e', '0m0s', '--', 'true'], ['--every']],
  ['--every 0.4ms (rounds to 0)', ['interval', '-e', '0.4ms', '--', 'true'], ['--every']],
  ['interval without --every', ['interval', '-t', '2', '--', 'true'], ['--every']],
  ['count without --times', ['count', '--', 'true'], ['--times']],
  ['duration without --for', ['duration', '-e', '1s', '--', 'true'], ['--for']],
  ['bad --on-overlap policy', ['interval', '-e', '1s', '--on-overlap', 'sometimes', '--', 'true'], ['--on-overlap', 'sometimes']],
  ['bad --until-time', ['interval', '-e', '1s', '--until-time', '25:00', '--', 'true'], ['--until-time', '25:00']],
  ['bad --start-at', ['interval', '-e', '1s', '--start-at', 'tomorrowish', '--', 'true'], ['--start-at', 'tomorrowish']],
  ['--until-match that does not compile', ['count', '-t', '1', '--until-match', '(', '--', 'true'], ['--until-match']],
  ['--success-pattern that does not compile', ['count', '-t', '1', '--success-pattern', '[a', '--', 'true'], ['--success-pattern']],
  ['--failure-pattern that does not compile', ['count', '-t', '1', '--failure-pattern', '*x', '--', 'true'], ['--failure-pattern']],
  ['--for-kill without --for', ['interval', '-e', '1s', '--for-kill', '--', 'true'], ['--for-kill', '--for']],
  ['--max-parallel without --on-overlap allow', ['interval', '-e', '1s', '--max-parallel', '2', '--', 'true'], ['--max-parallel']],
  ['--case-insensitive without a pattern', ['count', '-t', '1', '--case-insensitive', '--', 'true'], ['--case-insensitive']],
  ['command not found', ['count', '-t', '3', '--', 'rpr-no-such-command-xyz'], ['rpr-no-such-command-xyz']],
  ['command path not found', ['count', '-t', '3', '--', './rpr/no/such/file'], ['./rpr/no/such/file']],
  ['stray argument before --', ['count', '-t', '1', 'extra', '--', 'true'], [/unexpected argument/]],
];

describe('usage errors', () => {
  afterAll(cleanup);

  describe.concurrent('unknown subcommands suggest the closest', () => {
    for (const [typo, meant] of [
      ['intervl', 'interval'],
      ['cuont', 'count'],
      ['duraton', 'duration'],
    ] as const) {
      it(`${typo} -> did you mean ${meant}?`, async () => {
        const r = await run([typo, '-t', '1', '--', 'true']);
        expect(r.code).toBe(2);
        expect(lines(r.stderr)).toHaveLength(1);
        expect(r.stderr).toContain(typo);
        expect(r.stderr).toMatch(new RegExp(`did you mean[^\\n]*\\b${meant}\\b`));
        expect(r.stderr).not.toMatch(STACK_LINE);
        expect(r.stdout).toBe('');
      });
    }
  });

  describe.concurrent('flags that do not apply to the subcommand are errors', () => {
    for (const [sub, flag, value] of [
      ['interval', '--cron', '* * * * *'],
      ['count', '--tz', 'UTC'],
      ['duration', '--catch-up', undefined],
    ] as const) {
      it(`${sub} ${flag}`, async () => {
        const base = sub === 'interval' ? ['-e', '1s', '-t', '1'] : sub === 'count' ? ['-t', '1'] : ['-f', '1s'];
        const r = await run([sub, ...base, flag, ...(value ? [value] : []), '--', 'echo', 'ran']);
        expect(r.code).toBe(2);
        expect(r.stdout).toBe('');
        expect(lines(r.stderr)).toHaveLength(1);
        // The flag as typed, or its long form (--tz is --timezone).
        expect(r.stderr).toMatch(flag === '--tz' ? /--tz\b|--timezone\b/ : new RegExp(`${flag}\\b`));
        expect(r.stderr).toMatch(new RegExp(`not apply to ${sub}`));
      });
    }
  });

  describe.concurrent('bad input: one line naming the problem and a hint, exit 2, no stack trace', () => {
    for (const [title, argv, words] of BAD_INPUT) {
      it(title, async () => {
        const r = await run(argv);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stdout).toBe('');
        const errLines = lines(r.stderr);
        expect(errLines, r.stderr).toHaveLength(1);
        expect(errLines[0]).toMatch(/^rpr: /);
        for (const word of words) {
          if (typeof word === 'string') expect(errLines[0]).toContain(word);
          else expect(errLines[0]).toMatch(word);
        }
        expect(errLines[0], 'a hint telling what to do').toMatch(/hint/i);
        expect(r.stderr).not.toMatch(STACK_LINE);
      });
    }

    it('a command that exists but is not executable: exit 2, one line', async () => {
      const dir = tempDir();
      const file = join(dir, 'script.sh');
      writeFileSync(file, '#!/bin/sh\necho hi\n');
      chmodSync(file, 0o644);
      const r = await run(['count', '-t', '2', '--', file]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toContain(file);
      expect(r.stderr).toMatch(/executable/);
    });

    it('command not found is reported before any run, at once', async () => {
      const r = await run(['interval', '-e', '10s', '--', 'rpr-no-such-command-xyz']);
      expect(r.code).toBe(2);
      expect(r.ms).toBeLessThan(5000);
    });

    it('RPR_DEBUG=1 adds the stack trace', async () => {
      const bad = await run(['interval', '--every', 'soon', '--', 'true'], { env: { RPR_DEBUG: '1' } });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('soon');
      expect(bad.stderr).toMatch(STACK_LINE);
      const missing = await run(['count', '-t', '1', '--', 'rpr-no-such-command-xyz'], { env: { RPR_DEBUG: '1' } });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(STACK_LINE);
    });
  });
});

describe('--shell and argv', () => {
  sequential();
  it('without --shell the argv is passed as given, no shell expansion', async () => {
    const r = await run(['count', '-t', '1', '--', 'echo', 'a && echo b', '$HOME', '*']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('a && echo b $HOME *\n');
  });

  it('--shell runs the command line through sh -c', async () => {
    const r = await run(['count', '-t', '2', '--shell', '--', 'echo "run $RPR_RUN" && echo second | tr a-z A-Z']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(['run 1', 'SECOND', 'run 2', 'SECOND']);
  });

  it('--shell joins several words into one command line', async () => {
    const r = await run(['count', '-t', '1', '--shell', '--', 'echo', 'one;', 'echo', 'two']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(['one', 'two']);
  });

  it('--shell with a shell builtin and an exit status', async () => {
    const r = await run(['count', '-t', '1', '--shell', '--', 'exit 3']);
    expect(r.code).toBe(1);
  });
});

describe('durations', () => {
  sequential();
  // Long ones: the verbose "next run" line shows the wait; the job is stopped after the first run.
  for (const [text, shown] of [
    ['1h30m', /in 1h(30m|29m59s)\)/],
    ['2d', /in (2d|1d23h59m59s)\)/],
    ['1w', /in (7d|6d23h59m59s)\)/],
    ['1d12h', /in (1d12h|1d11h59m59s)\)/],
  ] as const) {
    it(`--every ${text}`, async () => {
      const job = start(['interval', '--every', text, '--verbose', '--', 'true']);
      await job.waitFor('stderr', /next run 2 at [^\n]*\n/);
      job.child.kill('SIGTERM');
      const r = await job.done;
      expect(r.stderr).toMatch(shown);
      expect(r.code).toBe(143);
    });
  }

  // Short ones: the due times rpr gives two runs are exactly that far apart.
  for (const [text, ms] of [
    ['1.5s', 1500],
    ['0.25s', 250],
    ['.3s', 300],
    ['1s200ms', 1200],
  ] as const) {
    it(`--every ${text} is ${ms} ms`, async () => {
      const r = await run(['interval', '--every', text, '--times', '2', '--json', '--', 'true']);
      expect(r.code).toBe(0);
      const due = lines(r.stdout).map((l) => Date.parse((JSON.parse(l) as { due: string }).due));
      expect(due).toHaveLength(2);
      expect(Math.abs(due[1]! - due[0]! - ms)).toBeLessThanOrEqual(2);
    });
  }

  it('--delay-first 0.3s waits', async () => {
    const r = await run(['count', '-t', '1', '--delay-first', '0.3s', '--', 'true']);
    expect(r.code).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(300);
  });

  it('--for 1m1s1ms is accepted (compound with ms)', async () => {
    const r = await run(['duration', '--for', '1m1s1ms', '--times', '1', '--', 'true']);
    expect(r.code).toBe(0);
  });
});
