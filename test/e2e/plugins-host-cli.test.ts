/**
 * Scheduler plugins on the command line, through the built CLI: every scheduler plugin is a
 * subcommand whose flags come from its config schema (help, defaults, types, aliases, unknown
 * flags), `rpr plugin NAME` is the generic form, and the core flags (stop conditions, output
 * modes, timeout, verbose) work with a plugin's schedule. Plugins come from a temporary
 * RPR_PLUGIN_DIR holding copies of the test fixtures.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, lines, run, STACK_LINE } from './core-helpers.js';
import { announcedDelays, configFile, errLines, gapsMs, jsonRuns, pluginDir, withPlugins } from './plugins-helpers.js';

afterEach(cleanup);

let env: Record<string, string>;
/** A plugin directory for this test (cleanup() removes temp dirs after each test). */
const fresh = (): Record<string, string> => {
  env = withPlugins(pluginDir('good-scheduler', 'hostile'));
  return env;
};

describe('a scheduler plugin is a subcommand with flags from its schema', () => {
  it('--help lists the schema flags with their type, help text and default (durations as written)', async () => {
    const r = await run(['good-scheduler', '--help'], { env: fresh() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: rpr good-scheduler \[options\] -- <command>/);
    expect(r.stdout).toContain('linear backoff until success (plugin, user)');
    expect(r.stdout).toMatch(/--delay <duration>\s+delay after the first failure \(default 100ms\)/);
    expect(r.stdout).toMatch(/--attempts <integer>\s+stop after this many runs \(default 3\)/);
    // core flags are there too
    expect(r.stdout).toMatch(/-t, --times <n>/);
    expect(r.stdout).toMatch(/--until-success/);
    expect(r.stderr).toBe('');
  });

  it('a bundled scheduler: help shows its aliases and defaults; rpr --help lists the plugin subcommands', async () => {
    const fib = await run(['fibonacci', '--help'], { env: fresh() });
    expect(fib.code).toBe(0);
    expect(fib.stdout).toMatch(/Usage: rpr fibonacci\|fib /);
    expect(fib.stdout).toMatch(/--initial <duration>\s+unit of the sequence[\s\S]*?\(default 1s\)/);
    expect(fib.stdout.replace(/\s+/g, ' ')).toMatch(/--max <duration> longest wait between runs \(default 1m, also --max-delay\)/);
    expect(fib.stdout).toMatch(/--continuous\s+keep going after a success/);
    const top = await run(['--help'], { env });
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^\s+good-scheduler \[options\]\s+linear backoff until success \(plugin, user\)$/m);
    expect(top.stdout).toMatch(/^\s+fibonacci\|fib \[options\]/m);
  });

  it('a bad duration is exit 2 with one line naming the setting and the value; nothing runs', async () => {
    const r = await run(['good-scheduler', '--delay', '5x', '--', 'echo', 'ran'], { env: fresh() });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(errLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^rpr: plugin "good-scheduler": setting "delay": .*"5x" is not a duration/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('a bad integer, and a boolean flag given a value, are usage errors too', async () => {
    const n = await run(['good-scheduler', '--attempts', '1.5', '--', 'echo', 'ran'], { env: fresh() });
    expect(n.code).toBe(2);
    expect(n.stdout).toBe('');
    expect(errLines(n.stderr)).toHaveLength(1);
    expect(n.stderr).toMatch(/setting "attempts": expected integer, got "1\.5"/);
    const b = await run(['fibonacci', '--continuous', 'yes', '--', 'echo', 'ran'], { env });
    expect(b.code).toBe(2);
    expect(b.stdout).toBe('');
    expect(errLines(b.stderr)).toHaveLength(1);
    expect(b.stderr).toContain('"yes"');
  });

  it('an unknown flag is rejected: exit 2, one line naming it, no stack trace, nothing runs', async () => {
    const r = await run(['good-scheduler', '--bogus', '1', '--', 'echo', 'ran'], { env: fresh() });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(errLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^rpr: unknown option --bogus for good-scheduler/);
    expect(r.stderr).not.toMatch(STACK_LINE);
    // Another plugin's flag is unknown too: flags are per plugin.
    const other = await run(['good-scheduler', '--initial', '1s', '--', 'echo', 'ran'], { env });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/unknown option --initial/);
  });

  it('the flags change the decisions: --delay and --attempts of good-scheduler', async () => {
    const r = await run(['good-scheduler', '--delay', '300ms', '--attempts', '3', '-v', '--', 'false'], { env: fresh() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('job ended (attempts exhausted), exit 1');
    const delays = announcedDelays(r.stderr);
    // linear: 300 ms after one failure, 600 ms after two (the default 100ms would give 100, 200);
    // announced less the time the decision took
    expect(delays.get(2)).toBeGreaterThan(150);
    expect(delays.get(2)).toBeLessThanOrEqual(300);
    expect(delays.get(3)).toBeGreaterThan(350);
    expect(delays.get(3)).toBeLessThanOrEqual(600);
    expect(r.stderr).not.toMatch(/next run 4/);
  });
});

describe('rpr plugin NAME is the generic form', () => {
  it('runs the scheduler with its flags; the plugin decides the exit status', async () => {
    const r = await run(['plugin', 'good-scheduler', '--delay', '10ms', '--attempts', '2', '--', 'sh', '-c', 'echo x; exit 3'], { env: fresh() });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('x\nx\n');
    expect(r.stderr).toBe('rpr: job ended (attempts exhausted): 2 of 2 runs failed; exit 3\n');
  });

  it('works after --config FILE, and with a scheduler alias', async () => {
    const config = configFile('');
    const r = await run(['--config', config, 'plugin', 'fib', '--base-delay', '10ms', '-a', '2', '--json', '--', 'false'], { env: fresh() });
    expect(r.code).toBe(1);
    expect(jsonRuns(r.stdout)).toHaveLength(2);
  });

  it('refuses what is not a scheduler plugin, saying why (exit 2, one line)', async () => {
    fresh();
    const cases: [string, RegExp][] = [
      ['nope', /^rpr: no scheduler plugin "nope" \(hint: scheduler plugins: .*good-scheduler/],
      ['webhook', /^rpr: plugin "webhook" is an output plugin, not a scheduler \(hint: use it with --output webhook\)/],
      ['count', /^rpr: no scheduler plugin "count"/],
    ];
    for (const [name, re] of cases) {
      const r = await run(['plugin', name, '--', 'echo', 'ran'], { env });
      expect(r.code, name).toBe(2);
      expect(r.stdout, name).toBe('');
      expect(errLines(r.stderr), name).toHaveLength(1);
      expect(r.stderr, name).toMatch(re);
    }
    const bare = await run(['plugin'], { env });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^rpr: plugin: name the scheduler plugin to run/);
  });
});

describe('aliases of a plugin flag (fibonacci: --base-delay / --initial-delay for --initial, -a for --attempts)', () => {
  // With the default --initial 1s every wait is >= 1 s; the aliases must bring it down to 10 ms.
  const quick = (stdout: string): void => {
    for (const gap of gapsMs(stdout)) expect(gap).toBeLessThan(600);
  };

  it('--base-delay, -a and the fib alias', async () => {
    const r = await run(['fib', '--base-delay', '10ms', '-a', '3', '--json', '--', 'false'], { env: fresh() });
    expect(r.code).toBe(1);
    expect(jsonRuns(r.stdout)).toHaveLength(3);
    quick(r.stdout);
  });

  it('--initial-delay=VALUE and the Go spelling -base-delay', async () => {
    fresh();
    const a = await run(['fibonacci', '--initial-delay=10ms', '--attempts', '3', '--json', '--', 'false'], { env });
    expect(a.code).toBe(1);
    expect(jsonRuns(a.stdout)).toHaveLength(3);
    quick(a.stdout);
    const b = await run(['fibonacci', '-base-delay', '10ms', '-a', '2', '--json', '--', 'false'], { env });
    expect(b.code).toBe(1);
    expect(jsonRuns(b.stdout)).toHaveLength(2);
    quick(b.stdout);
  });

  it('after rpr --config FILE too', async () => {
    const config = configFile('');
    const r = await run(['--config', config, 'fibonacci', '--base-delay', '10ms', '-a', '2', '--json', '--', 'false'], { env: fresh() });
    expect(r.stderr).toBe('rpr: job ended (failed 2 times (--attempts 2)): 2 of 2 runs failed; exit 1\n');
    expect(r.code).toBe(1);
    expect(jsonRuns(r.stdout)).toHaveLength(2);
  });
});

describe('plugin settings from the config file and --set', () => {
  it('[plugins.NAME] sets a scheduler plugin; --set NAME.key=value beats it', async () => {
    const config = configFile('[plugins.good-scheduler]\nattempts = 2\ndelay = "10ms"\n');
    const fromFile = await run(['good-scheduler', '--config', config, '--json', '--', 'false'], { env: fresh() });
    expect(fromFile.code).toBe(1);
    expect(jsonRuns(fromFile.stdout)).toHaveLength(2);
    const fromSet = await run(['good-scheduler', '--config', config, '--set', 'good-scheduler.attempts=4', '--json', '--', 'false'], { env });
    expect(fromSet.code).toBe(1);
    expect(jsonRuns(fromSet.stdout)).toHaveLength(4);
  });
});

describe('core flags work with a plugin scheduler', () => {
  it('--times ends a scheduler that would go on (fibonacci --continuous): exit 0', async () => {
    const r = await run(['fibonacci', '--continuous', '--initial', '10ms', '--times', '3', '--', 'sh', '-c', 'echo run $RPR_RUN'], { env: fresh() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('run 1\nrun 2\nrun 3\n');
  });

  it('--until-match and --until-failure stop it', async () => {
    fresh();
    const match = await run(['fibonacci', '--continuous', '--initial', '10ms', '--until-match', 'three', '--', 'sh', '-c', 'echo $RPR_RUN; [ $RPR_RUN = 3 ] && echo three; true'], { env });
    expect(match.code).toBe(0);
    expect(lines(match.stdout)).toEqual(['1', '2', '3', 'three']);
    const failure = await run(['fibonacci', '--continuous', '--initial', '10ms', '--until-failure', '--', 'sh', '-c', 'echo $RPR_RUN; [ $RPR_RUN -lt 2 ]'], { env });
    expect(failure.code).toBe(0);
    expect(failure.stdout).toBe('1\n2\n');
  });

  it('--for ends it in time', async () => {
    const r = await run(['fibonacci', '--continuous', '--initial', '100ms', '--for', '700ms', '--', 'true'], { env: fresh() });
    expect(r.code).toBe(0);
    // started ~0.7 s of runs 100 ms apart, plus Node and plugin start-up on a busy machine
    expect(r.ms).toBeLessThan(6000);
    expect(r.stdout).toBe('');
  });

  it('--timeout fails runs that take too long; the plugin sees the failures (--json records)', async () => {
    const r = await run(['fibonacci', '--initial', '10ms', '-a', '2', '--timeout', '200ms', '--json', '--', 'sleep', '5'], { env: fresh() });
    expect(r.code).toBe(1);
    const runs = jsonRuns(r.stdout);
    expect(runs).toHaveLength(2);
    for (const x of runs) {
      expect(x.timed_out).toBe(true);
      expect(x.success).toBe(false);
    }
    expect(r.ms).toBeLessThan(8000);
  });

  it("--verbose shows each decision and the plugin's reason for ending", async () => {
    const r = await run(['good-scheduler', '--delay', '10ms', '-v', '--', 'sh', '-c', '[ $RPR_RUN = 2 ]'], { env: fresh() });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/run 1 failed \(exit 1\)/);
    expect(r.stderr).toMatch(/next run 2 at /);
    expect(r.stderr).toMatch(/run 2 ok \(exit 0\)/);
    expect(r.stderr).toMatch(/job ended \(succeeded\), exit 0/);
  });
});
