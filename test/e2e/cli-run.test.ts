/**
 * `rpr run` (issue 15): without a name it lists the config's jobs; `rpr run NAME` is stopped only
 * by problems in that job and the [plugins.*] tables it uses, never by another job's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, run } from './core-helpers.js';
import { configFile, errLines } from './plugins-helpers.js';

afterEach(cleanup);

const CONFIG = [
  '[plugins.fibonacci]',
  'initail = "2s"',
  '',
  '[plugins.webhok]',
  'url = "http://127.0.0.1:9/"',
  '',
  '[jobs.good]',
  'schedule = "count"',
  'times = 2',
  'command = ["echo", "good"]',
  '',
  '[jobs.bad]',
  'schedule = "interval"',
  'every = "soon"',
  'command = ["true"]',
  '',
  '[jobs.retry]',
  'schedule = "fibonacci"',
  'command = ["true"]',
  '',
  '[jobs.nightly]',
  'schedule = "cron"',
  'cron = "0 3 * * *"',
  'timezone = "Europe/Berlin"',
  'command = "./backup.sh --all"',
  '',
].join('\n');

describe('rpr run', () => {
  it('without a name lists every job: name, schedule in brief, command', async () => {
    const file = configFile(CONFIG);
    const r = await run(['--config', file, 'run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(
      r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s{2,}/)),
    ).toEqual([
      ['good', 'count --times 2', 'echo good'],
      ['bad', 'interval', 'true'],
      ['retry', 'fibonacci', 'true'],
      ['nightly', "cron --cron '0 3 * * *' --tz Europe/Berlin", './backup.sh --all'],
    ]);
  });

  it('without a config file says there are no jobs, exit 2', async () => {
    const r = await run(['run']);
    expect(r.code).toBe(2);
    expect(errLines(r.stderr)).toEqual([expect.stringMatching(/^rpr: no config file, so no jobs to run \(hint: /)]);
  });

  it('NAME runs when only other jobs and unused plugin tables have problems', async () => {
    const file = configFile(CONFIG);
    const r = await run(['--config', file, 'run', 'good']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('good\ngood\n');
  });

  it('NAME fails on its own problem, named with file:line', async () => {
    const file = configFile(CONFIG);
    const bad = await run(['--config', file, 'run', 'bad']);
    expect(bad.code).toBe(2);
    expect(errLines(bad.stderr)).toEqual([expect.stringMatching(/:14: jobs\.bad\.every: "soon" is not a duration/)]);
  });

  it('NAME fails on a problem in the [plugins.*] table of a plugin it uses, as config check says it', async () => {
    const file = configFile(CONFIG);
    const retry = await run(['--config', file, 'run', 'retry']);
    expect(retry.code).toBe(2);
    expect(errLines(retry.stderr)).toEqual([expect.stringMatching(/:2: plugins\.fibonacci\.initail: plugin "fibonacci" has no setting "initail" \(hint: did you mean initial\?/)]);
  });

  it("rpr config check lists every problem of the same file at once: the job's and the plugins'", async () => {
    const file = configFile(CONFIG);
    const r = await run(['config', 'check', file]);
    expect(r.code).toBe(2);
    const err = r.stderr.split('\n').filter(Boolean);
    expect(err).toEqual([
      expect.stringMatching(/:2: plugins\.fibonacci\.initail: plugin "fibonacci" has no setting "initail"/),
      expect.stringMatching(/:4: plugins\.webhok: no plugin "webhok": this table would be ignored/),
      expect.stringMatching(/:14: jobs\.bad\.every: "soon" is not a duration/),
      `rpr: 3 problems in ${file}`,
    ]);
  });
});
