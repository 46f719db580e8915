/**
 * Configuration end to end, with the built binary: where the file is found
 * (--config before/after the subcommand, $RPR_CONFIG, $XDG_CONFIG_HOME,
 * ~/.config), errors (exit 2 naming file, line and key), precedence
 * flag > env > file > default shown by what rpr does (a timeout killing
 * `sleep`, --json fields, --verbose lines), named jobs with `rpr run NAME`,
 * and `rpr config check` / `rpr config show`. Every test uses temp dirs and
 * a HOME without a config file: the real one is never read.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, lines, run, STACK_LINE, tempDir, writeFile, type Finished } from './service-helpers.js';

// Every run() ends by itself (or is killed by its timeout), so tests may run
// concurrently; temp dirs go at the end.
afterAll(cleanup);

interface JsonRun {
  run: number;
  due: string;
  exit_code: number | null;
  timed_out: boolean;
  duration_ms: number;
  success: boolean;
}
const jsonRuns = (stdout: string): JsonRun[] => lines(stdout).map((l) => JSON.parse(l) as JsonRun);

/** A config file in a fresh temp dir. */
function config(text: string, name = 'rpr.toml'): { dir: string; file: string } {
  const dir = tempDir();
  return { dir, file: writeFile(dir, name, text) };
}

/** A config error: exit 2, one line on stderr, no stack trace, and the command (which would create `marker`) never ran. */
function expectConfigError(r: Finished, marker: string | null, mentions: (RegExp | string)[]): void {
  expect(r.code, r.stderr).toBe(2);
  expect(lines(r.stderr), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^rpr: /);
  expect(r.stderr).not.toMatch(STACK_LINE);
  for (const m of mentions) {
    if (m instanceof RegExp) expect(r.stderr).toMatch(m);
    else expect(r.stderr).toContain(m);
  }
  if (marker) expect(existsSync(marker), 'the command must not run').toBe(false);
}

describe.concurrent('where the config file is', () => {
  it('--config FILE before the subcommand and after it', async () => {
    const a = config('[defaults]\nprefix = "[before] "\n', 'a.toml');
    const b = config('[defaults]\nprefix = "[after] "\n', 'b.toml');
    const [before, after] = await Promise.all([run(['--config', a.file, 'count', '--times', '1', '--', 'echo', 'hi']), run(['count', '--times', '1', '--config', b.file, '--', 'echo', 'hi'])]);
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toBe('[before] hi\n');
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toBe('[after] hi\n');
  });

  it('$RPR_CONFIG, and --config beats it', async () => {
    const env = config('[defaults]\nprefix = "[env-file] "\n', 'env.toml');
    const flag = config('[defaults]\nprefix = "[flag-file] "\n', 'flag.toml');
    const [fromEnv, both] = await Promise.all([
      run(['count', '-t', '1', '--', 'echo', 'hi'], { env: { RPR_CONFIG: env.file } }),
      run(['--config', flag.file, 'count', '-t', '1', '--', 'echo', 'hi'], { env: { RPR_CONFIG: env.file } }),
    ]);
    expect(fromEnv.stdout, fromEnv.stderr).toBe('[env-file] hi\n');
    expect(both.stdout, both.stderr).toBe('[flag-file] hi\n');
  });

  it('$XDG_CONFIG_HOME/rpr/config.toml, else ~/.config/rpr/config.toml; an empty RPR_CONFIG counts as unset', async () => {
    const xdg = tempDir();
    const home = tempDir();
    writeFile(xdg, 'rpr/config.toml', '[defaults]\nprefix = "[xdg] "\n');
    writeFile(home, '.config/rpr/config.toml', '[defaults]\nprefix = "[home] "\n');
    const emptyXdg = tempDir();
    const args = ['count', '-t', '1', '--', 'echo', 'hi'];
    const [fromXdg, fromHome, relativeXdg, xdgWithoutFile, emptyEnv] = await Promise.all([
      run(args, { env: { XDG_CONFIG_HOME: xdg, HOME: home } }),
      run(args, { env: { XDG_CONFIG_HOME: undefined, HOME: home } }),
      // A relative XDG_CONFIG_HOME is ignored (XDG spec): ~/.config is used.
      run(args, { env: { XDG_CONFIG_HOME: 'relative/dir', HOME: home } }),
      // XDG_CONFIG_HOME set: ~/.config is not looked at, and a missing default file is fine.
      run(args, { env: { XDG_CONFIG_HOME: emptyXdg, HOME: home } }),
      run(args, { env: { XDG_CONFIG_HOME: xdg, HOME: home, RPR_CONFIG: '' } }),
    ]);
    expect(fromXdg.stdout, fromXdg.stderr).toBe('[xdg] hi\n');
    expect(fromHome.stdout, fromHome.stderr).toBe('[home] hi\n');
    expect(relativeXdg.stdout, relativeXdg.stderr).toBe('[home] hi\n');
    expect(xdgWithoutFile.code, xdgWithoutFile.stderr).toBe(0);
    expect(xdgWithoutFile.stdout).toBe('hi\n');
    expect(emptyEnv.stdout, emptyEnv.stderr).toBe('[xdg] hi\n');
  });

  it('a missing file named by --config or $RPR_CONFIG is an error (exit 2) before anything runs', async () => {
    const dir = tempDir();
    const marker = join(dir, 'ran');
    const missing = join(dir, 'nope.toml');
    const [flag, flagAfter, env] = await Promise.all([
      run(['--config', missing, 'count', '-t', '1', '--', 'touch', marker]),
      run(['count', '-t', '1', '--config', missing, '--', 'touch', marker]),
      run(['count', '-t', '1', '--', 'touch', marker], { env: { RPR_CONFIG: missing } }),
    ]);
    expectConfigError(flag, marker, [missing, 'no such file']);
    expectConfigError(flagAfter, marker, [missing, 'no such file']);
    expectConfigError(env, marker, ['RPR_CONFIG', missing, 'no such file']);
  });
});

describe.concurrent('errors name the file, the line and the key; exit 2; nothing runs', () => {
  const cases: [string, string, (file: string) => (string | RegExp)[]][] = [
    ['an unknown key', '[defaults]\ntimeout = "5s"\nno_such_key = 1\n', (f) => [`${f}:3: defaults.no_such_key`, 'unknown key']],
    ['a misspelt key gets a suggestion', '# comment\n[defaults]\nkill_afterr = "1s"\n', (f) => [`${f}:3: defaults.kill_afterr`, 'kill_after']],
    ['a duration that is not a string', '[defaults]\n\ntimeout = 30\n', (f) => [`${f}:3: defaults.timeout`, /duration/]],
    ['a bad value', '[defaults]\non_overlap = "sometimes"\n', (f) => [`${f}:2: defaults.on_overlap`, 'sometimes']],
    ['a port that is not a number', '[observability]\nmetrics_port = "x"\n', (f) => [`${f}:2: observability.metrics_port`]],
    ['a wrong type in a job', '[jobs.tick]\nschedule = "count"\ntimes = "3"\ncommand = ["true"]\n', (f) => [`${f}:3: jobs.tick.times`]],
    ['an option of another schedule in a job', '[jobs.tick]\nschedule = "interval"\nevery = "1s"\ncron = "* * * * *"\ncommand = ["true"]\n', (f) => [`${f}:4: jobs.tick.cron`]],
    ['an unknown section', '[default]\ntimeout = "1s"\n', (f) => [`${f}:1: default`, 'unknown section']],
    ['invalid TOML', '[defaults]\ntimeout = \n', (f) => [`${f}:2`, 'invalid TOML']],
    ['a bad time zone', '[defaults]\ntimezone = "Mars/Olympus"\n', (f) => [`${f}:2: defaults.timezone`, 'Mars/Olympus']],
  ];
  it.each(cases)('%s', async (_name, text, mentions) => {
    const { dir, file } = config(text);
    const marker = join(dir, 'ran');
    const r = await run(['--config', file, 'count', '-t', '1', '--', 'touch', marker]);
    expectConfigError(r, marker, mentions(file));
  });

  it('a bad cron expression in a job: rpr run and rpr config check name file, line and key', async () => {
    const { dir, file } = config('[jobs.nightly]\nschedule = "cron"\ncron = "0 25 * * *"\ncommand = ["touch", "ran"]\n');
    const [runIt, check] = await Promise.all([run(['--config', file, 'run', 'nightly'], { cwd: dir }), run(['config', 'check', file])]);
    expectConfigError(runIt, join(dir, 'ran'), [/hour "25" is out of range 0-23/, `${file}:3: jobs.nightly.cron`]);
    expect(check.code, check.stdout).toBe(2);
    expect(check.stderr).toContain(`${file}:3: jobs.nightly.cron`);
  });

  it('a bad RPR_<KEY> value names the variable', async () => {
    const dir = tempDir();
    const marker = join(dir, 'ran');
    const r = await run(['count', '-t', '1', '--', 'touch', marker], { env: { RPR_TIMEOUT: 'soon' } });
    expectConfigError(r, marker, ['RPR_TIMEOUT', 'soon']);
  });
});

describe.concurrent('precedence: flag > environment > file > built-in default', () => {
  // Each run sleeps 0.8 s; a timeout of 250 ms cuts it short, 10 s lets it finish.
  const SLEEP = ['--', 'sleep', '0.8'];
  const timedOut = (r: Finished): boolean => {
    expect(r.code, r.stderr).not.toBe(2);
    const [x] = jsonRuns(r.stdout);
    if (x!.timed_out) expect(x!.duration_ms).toBeLessThan(750);
    else expect(x!.duration_ms).toBeGreaterThanOrEqual(790);
    return x!.timed_out;
  };

  it('timeout: default none; file; env beats file; flag beats env (both ways round)', async () => {
    const short = config('[defaults]\ntimeout = "250ms"\n', 'short.toml');
    const long = config('[defaults]\ntimeout = "10s"\n', 'long.toml');
    const args = ['count', '-t', '1', '--json', ...SLEEP];
    const [none, file, envOverFile, flagOverEnv, envShort, flagLong] = await Promise.all([
      run(args),
      run(['--config', short.file, ...args]),
      run(['--config', short.file, ...args], { env: { RPR_TIMEOUT: '10s' } }),
      run(['--config', long.file, 'count', '-t', '1', '--json', '--timeout', '250ms', ...SLEEP], { env: { RPR_TIMEOUT: '10s' } }),
      run(['--config', long.file, ...args], { env: { RPR_TIMEOUT: '250ms' } }),
      run(['--config', short.file, 'count', '-t', '1', '--json', '--timeout', '10s', ...SLEEP], { env: { RPR_TIMEOUT: '250ms' } }),
    ]);
    expect(timedOut(none), 'built-in default: no timeout').toBe(false);
    expect(timedOut(file), 'file timeout 250ms').toBe(true);
    expect(timedOut(envOverFile), 'RPR_TIMEOUT=10s beats the file').toBe(false);
    expect(timedOut(flagOverEnv), '--timeout 250ms beats RPR_TIMEOUT=10s').toBe(true);
    expect(timedOut(envShort), 'RPR_TIMEOUT=250ms beats the file 10s').toBe(true);
    expect(timedOut(flagLong), '--timeout 10s beats RPR_TIMEOUT=250ms and the file').toBe(false);
  });

  it('verbose and json: file turns them on, env turns them off again, a flag turns them back on', async () => {
    const { file } = config('[defaults]\nverbose = true\njson = true\n');
    const args = ['count', '-t', '1', '--', 'echo', 'out'];
    const [fromFile, envOff, flagOn, none] = await Promise.all([
      run(['--config', file, ...args]),
      run(['--config', file, ...args], { env: { RPR_VERBOSE: '0', RPR_JSON: 'false' } }),
      run(['--config', file, 'count', '-t', '1', '--verbose', '--json', '--', 'echo', 'out'], { env: { RPR_VERBOSE: 'no', RPR_JSON: 'off' } }),
      run(args),
    ]);
    for (const r of [fromFile, envOff, flagOn, none]) expect(r.code, r.stderr).toBe(0);
    expect(fromFile.stderr).toMatch(/^rpr: run 1 started/m);
    expect(jsonRuns(fromFile.stdout)).toMatchObject([{ run: 1, exit_code: 0, success: true }]);
    expect(envOff.stderr).toBe('');
    expect(envOff.stdout).toBe('out\n');
    expect(flagOn.stderr).toMatch(/^rpr: run 1 started/m);
    expect(jsonRuns(flagOn.stdout)).toMatchObject([{ run: 1, exit_code: 0 }]);
    expect(none.stderr).toBe('');
    expect(none.stdout).toBe('out\n');
  });

  it('rpr run NAME: [defaults] applies to a job, the job beats [defaults], env beats the job, a flag beats env', async () => {
    const { file } = config(
      [
        '[defaults]',
        'timeout = "250ms"',
        'json = true',
        '',
        '[jobs.plain]',
        'schedule = "count"',
        'times = 1',
        'command = ["sleep", "0.8"]',
        '',
        '[jobs.patient]',
        'schedule = "count"',
        'times = 1',
        'timeout = "10s"',
        'command = ["sleep", "0.8"]',
        '',
      ].join('\n'),
    );
    const [plain, patient, envOverJob, flagOverEnv] = await Promise.all([
      run(['--config', file, 'run', 'plain']),
      run(['--config', file, 'run', 'patient']),
      run(['--config', file, 'run', 'patient'], { env: { RPR_TIMEOUT: '250ms' } }),
      run(['--config', file, 'run', 'patient', '--timeout', '10s'], { env: { RPR_TIMEOUT: '250ms' } }),
    ]);
    expect(timedOut(plain), '[defaults] timeout applies to the job').toBe(true);
    expect(timedOut(patient), 'the job timeout beats [defaults]').toBe(false);
    expect(timedOut(envOverJob), 'RPR_TIMEOUT beats the job').toBe(true);
    expect(timedOut(flagOverEnv), '--timeout beats RPR_TIMEOUT').toBe(false);
  });
});

describe.concurrent('rpr run NAME', () => {
  const JOBS = [
    '[jobs.argv-interval]',
    'schedule = "interval"',
    'every = "300ms"',
    'times = 2',
    'command = ["echo", "$NOT_EXPANDED", "two  spaces"]',
    '',
    '[jobs.shell-interval]',
    'schedule = "i"',
    'every = "300ms"',
    'times = 2',
    'command = "echo $((40 + 2)) | tr 4 X; echo run=$RPR_RUN"',
    '',
    '[jobs.shell-cron]',
    'schedule = "cron"',
    'cron = "* * * * * *"',
    'timezone = "UTC"',
    'times = 2',
    'command = "echo \\"$RPR_SCHEDULED_AT\\" | tr T _"',
    '',
    '[jobs.argv-cron]',
    'schedule = "cr"',
    'cron = "*/1 * * * * *"',
    'times = 1',
    'command = ["printf", "%s|%s\\n", "$RPR_RUN", "a;b"]',
    '',
  ].join('\n');

  it('an interval job, command as an array (no shell) and as a string (sh -c)', async () => {
    const { file } = config(JOBS);
    const [argv, shell] = await Promise.all([run(['--config', file, 'run', 'argv-interval', '--json']), run(['--config', file, 'run', 'shell-interval', '--verbose'])]);
    expect(argv.code, argv.stderr).toBe(0);
    const runs = jsonRuns(argv.stdout);
    expect(runs.map((r) => r.run)).toEqual([1, 2]);
    // On the job's 300 ms grid.
    expect(Math.abs(Date.parse(runs[1]!.due) - Date.parse(runs[0]!.due) - 300)).toBeLessThanOrEqual(2);
    const plain = await run(['--config', file, 'run', 'argv-interval']);
    expect(plain.stdout).toBe('$NOT_EXPANDED two  spaces\n$NOT_EXPANDED two  spaces\n');

    expect(shell.code, shell.stderr).toBe(0);
    expect(shell.stdout).toBe('X2\nrun=1\nX2\nrun=2\n');
    // The job's name names the job.
    expect(shell.stderr).toMatch(/^rpr: job shell-interval started$/m);
  });

  it('a cron job, command as a string (sh -c) and as an array (no shell)', async () => {
    const { file } = config(JOBS);
    const [shell, argv] = await Promise.all([run(['--config', file, 'run', 'shell-cron']), run(['run', 'argv-cron', '--config', file])]);
    expect(shell.code, shell.stderr).toBe(0);
    const due = lines(shell.stdout);
    expect(due).toHaveLength(2);
    for (const d of due) expect(d).toMatch(/^\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d\.000Z$/);
    expect(Date.parse(due[1]!.replace('_', 'T')) - Date.parse(due[0]!.replace('_', 'T'))).toBe(1000);
    expect(argv.code, argv.stderr).toBe(0);
    expect(argv.stdout).toBe('$RPR_RUN|a;b\n');
  });

  it('an unknown job is exit 2 listing the jobs; no config file; a command after --; a flag the job cannot take', async () => {
    const { dir, file } = config(JOBS);
    const marker = join(dir, 'ran');
    const [unknown, noFile, withCommand, wrongFlag] = await Promise.all([
      run(['--config', file, 'run', 'nope']),
      run(['run', 'argv-interval']),
      run(['--config', file, 'run', 'argv-interval', '--', 'touch', marker]),
      run(['--config', file, 'run', 'argv-cron', '--every', '1s']),
    ]);
    expectConfigError(unknown, null, ['"nope"', file]);
    for (const name of ['argv-interval', 'shell-interval', 'shell-cron', 'argv-cron']) expect(unknown.stderr).toContain(name);
    expectConfigError(noFile, null, ['argv-interval']);
    expectConfigError(withCommand, marker, ['--']);
    expectConfigError(wrongFlag, null, ['--every']);
    expect(wrongFlag.stdout).toBe('');
  });
});

describe.concurrent('rpr config check and rpr config show', () => {
  it('check: a good file is "FILE: ok" (exit 0); a bad one lists every problem in line order, then a count (exit 2)', async () => {
    const good = config('[defaults]\ntimeout = "5s"\n\n[jobs.a]\nschedule = "interval"\nevery = "1s"\ncommand = "true"\n', 'good.toml');
    const bad = config(
      [
        '[defaults]',
        'nope = 1', // 2
        'timeout = "x"', // 3
        '',
        '[observability]',
        'health_port = 70000', // 6
        '',
        '[jobs.a]', // 8: interval without every
        'schedule = "interval"',
        'command = ["x"]',
        '',
        '[jobs.b]',
        'schedule = "count"',
        'times = 2',
        'cron = "* * * * *"', // 15
        'command = ["x"]',
        '',
      ].join('\n'),
      'bad.toml',
    );
    const [ok, problems, viaEnv, viaFlag, missing] = await Promise.all([
      run(['config', 'check', good.file]),
      run(['config', 'check', bad.file]),
      run(['config', 'check'], { env: { RPR_CONFIG: bad.file } }),
      run(['--config', good.file, 'config', 'check']),
      run(['config', 'check', join(good.dir, 'missing.toml')]),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe(`${good.file}: ok\n`);
    expect(ok.stderr).toBe('');

    expect(problems.code).toBe(2);
    expect(problems.stdout).toBe('');
    const found = lines(problems.stderr);
    expect(found, problems.stderr).toHaveLength(6);
    expect(found[0]).toContain(`${bad.file}:2: defaults.nope`);
    expect(found[1]).toContain(`${bad.file}:3: defaults.timeout`);
    expect(found[2]).toContain(`${bad.file}:6: observability.health_port`);
    expect(found[3]).toContain(`${bad.file}:8: jobs.a`);
    expect(found[3]).toContain('every');
    expect(found[4]).toContain(`${bad.file}:15: jobs.b.cron`);
    expect(found[5]).toBe(`rpr: 5 problems in ${bad.file}`);
    expect(problems.stderr).not.toMatch(STACK_LINE);

    expect(viaEnv.code).toBe(2);
    expect(viaEnv.stderr).toBe(problems.stderr);
    expect(viaFlag.code, viaFlag.stderr).toBe(0);
    expect(viaFlag.stdout).toBe(`${good.file}: ok\n`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing.toml');
  });

  it('show: each setting with its source (env, file:line, default, not set) and the jobs', async () => {
    const { file } = config(
      [
        '[defaults]',
        'timeout = "5s"',
        'on_overlap = "kill"',
        '',
        '[observability]',
        'metrics_port = 9100',
        '',
        '[jobs.backup]',
        'schedule = "interval"',
        'every = "1h"',
        'command = ["true"]',
        '',
      ].join('\n'),
    );
    const env = { RPR_TIMEOUT: '1m30s', RPR_JITTER: '2s' };
    const [before, after, none] = await Promise.all([run(['--config', file, 'config', 'show'], { env }), run(['config', 'show', '--config', file], { env }), run(['config', 'show'])]);
    expect(before.code, before.stderr).toBe(0);
    expect(after.stdout).toBe(before.stdout);
    const show = lines(before.stdout);
    const setting = (key: string): string | undefined => show.find((l) => l.startsWith(`${key} = `) || l.startsWith(`# ${key}:`));
    expect(show[0]).toBe(`# config file: ${file}`);
    expect(setting('timeout')).toMatch(/^timeout = "1m30s"\s+# env RPR_TIMEOUT$/);
    expect(setting('jitter')).toMatch(/^jitter = "2s"\s+# env RPR_JITTER$/);
    expect(setting('on_overlap')).toMatch(new RegExp(`^on_overlap = "kill"\\s+# file ${file}:3$`));
    expect(setting('metrics_port')).toMatch(new RegExp(`^metrics_port = 9100\\s+# file ${file}:6$`));
    expect(setting('kill_after')).toMatch(/^kill_after = "5s"\s+# default$/);
    expect(setting('max_parallel')).toMatch(/^max_parallel = 4\s+# default$/);
    expect(setting('health_addr')).toMatch(/^health_addr = "127.0.0.1"\s+# default$/);
    expect(setting('catch_up')).toBe('# catch_up: not set');
    expect(setting('health_port')).toBe('# health_port: not set');
    expect(show).toContain('[defaults]');
    expect(show).toContain('[observability]');
    expect(show.at(-1)).toMatch(/^# jobs \(rpr run NAME\): backup \(interval, line 8\)$/);

    expect(none.code, none.stderr).toBe(0);
    expect(lines(none.stdout)[0]).toMatch(/^# no config file/);
    expect(none.stdout).toMatch(/^timeout|^# timeout: not set$/m);
    expect(none.stdout).not.toContain('# file');
  });
});
