import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { RprError } from '../../src/errors/index.js';
import { BUILT_IN_DEFAULTS, envVarName, resolveOptions } from '../../src/options/resolve.js';
import { OPTIONS } from '../../src/options/catalog.js';

const root = mkdtempSync(join(tmpdir(), 'rpr-resolve-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const path = join(root, 'c.toml');
writeFileSync(
  path,
  [
    '[defaults]', //                 1
    'timeout = "10s"', //            2
    'kill_after = "3s"', //          3
    'on_overlap = "queue"', //       4
    'timezone = "Asia/Tokyo"', //    5
    'quiet = true', //               6
    '', //                           7
    '[observability]', //            8
    'health_port = 8080', //         9
    'metrics_addr = "0.0.0.0"', //  10
    '', //                          11
    '[jobs.web]', //                12
    'schedule = "interval"', //     13
    'every = "1m"', //              14
    'timeout = "20s"', //           15
    'health_port = 8181', //        16
    'command = ["curl", "-f", "http://x"]', // 17
    '', //                          18
    '[jobs.nightly]', //            19
    'schedule = "cron"', //         20
    'cron = "0 3 * * *"', //        21
    'command = "backup | gzip"', // 22
    '', //                          23
    '[jobs.fib]', //                24
    'schedule = "fibonacci"', //    25
    'command = ["true"]', //        26
    'initial = "1s"', //            27
  ].join('\n'),
);
const config = loadConfigFile(path);

describe('precedence: flag > env > file > built-in default', () => {
  it('uses the built-in defaults when nothing else is set', () => {
    const r = resolveOptions({ command: 'count', env: {}, config: null });
    expect(r.values).toEqual({ onOverlap: 'skip', maxParallel: 4, killAfter: 5000, healthAddr: '127.0.0.1', metricsAddr: '127.0.0.1', progress: true });
    expect(Object.values(r.sources).every((s) => s === 'default')).toBe(true);
    expect(r.where.killAfter).toBe('built-in');
  });

  it('file beats built-in default', () => {
    const r = resolveOptions({ command: 'count', env: {}, config });
    expect(r.values.killAfter).toBe(3000);
    expect(r.sources.killAfter).toBe('file');
    expect(r.where.killAfter).toBe(`${path}:3`);
    expect(r.values.metricsAddr).toBe('0.0.0.0');
    expect(r.where.metricsAddr).toBe(`${path}:10`);
  });

  it('env beats file', () => {
    const r = resolveOptions({ command: 'count', env: { RPR_TIMEOUT: '30s', RPR_HEALTH_PORT: '9000' }, config });
    expect(r.values.timeout).toBe(30_000);
    expect(r.sources.timeout).toBe('env');
    expect(r.where.timeout).toBe('RPR_TIMEOUT');
    expect(r.values.healthPort).toBe(9000);
    expect(r.sources.healthPort).toBe('env');
  });

  it('flag beats env', () => {
    const r = resolveOptions({ command: 'count', flags: { timeout: 1000 }, env: { RPR_TIMEOUT: '30s' }, config });
    expect(r.values.timeout).toBe(1000);
    expect(r.sources.timeout).toBe('flag');
    expect(r.where.timeout).toBe('--timeout');
  });

  it('each layer only where set: one resolution mixes all four', () => {
    const r = resolveOptions({ command: 'count', flags: { quiet: false }, env: { RPR_ON_OVERLAP: 'kill' }, config });
    expect(r.sources).toMatchObject({ quiet: 'flag', onOverlap: 'env', timeout: 'file', maxParallel: 'default' });
    expect(r.values).toMatchObject({ quiet: false, onOverlap: 'kill', timeout: 10_000, maxParallel: 4 });
  });
});

describe('environment variables', () => {
  it('are named RPR_<SNAKE_UPPER>', () => {
    const byKey = Object.fromEntries(OPTIONS.map((d) => [d.key, envVarName(d)]));
    expect(byKey).toMatchObject({ timeout: 'RPR_TIMEOUT', onOverlap: 'RPR_ON_OVERLAP', killAfter: 'RPR_KILL_AFTER', healthPort: 'RPR_HEALTH_PORT', progress: 'RPR_PROGRESS' });
  });

  it('are parsed by the shared parser', () => {
    const env = { RPR_JITTER: '1h30m', RPR_ON_OVERLAP: 'kill', RPR_QUIET: 'yes', RPR_PROGRESS: '0', RPR_MAX_PARALLEL: '2', RPR_PREFIX: '[{run}] ' };
    expect(resolveOptions({ command: 'count', env }).values).toMatchObject({ jitter: 5_400_000, onOverlap: 'kill', quiet: true, progress: false, maxParallel: 2, prefix: '[{run}] ' });
  });

  it('name the variable when the value is bad', () => {
    const bad = (env: Record<string, string>) => () => resolveOptions({ command: 'count', env });
    expect(bad({ RPR_TIMEOUT: 'soon' })).toThrow(/^RPR_TIMEOUT: "soon" is not a duration$/);
    expect(bad({ RPR_ON_OVERLAP: 'nope' })).toThrow(/^RPR_ON_OVERLAP: "nope" is not one of skip, queue, kill, allow$/);
    expect(bad({ RPR_QUIET: 'maybe' })).toThrow(/^RPR_QUIET: expected true or false/);
    try {
      resolveOptions({ command: 'count', env: { RPR_TIMEOUT: 'soon' } });
    } catch (error) {
      expect(error).toBeInstanceOf(RprError);
    }
  });

  it('are ignored when empty', () => {
    const r = resolveOptions({ command: 'count', env: { RPR_TIMEOUT: '' }, config });
    expect(r.sources.timeout).toBe('file');
  });

  it('exist only for defaultable options: RPR_EVERY and RPR_TIMES are ignored', () => {
    const r = resolveOptions({ command: 'interval', env: { RPR_EVERY: '1s', RPR_TIMES: '3', RPR_UNTIL_MATCH: 'x' } });
    expect(r.values.every).toBeUndefined();
    expect(r.values.times).toBeUndefined();
    expect(r.values.untilMatch).toBeUndefined();
  });
});

describe('scope: only the options of the subcommand', () => {
  it('drops cron-only defaults for other subcommands, keeps them for cron', () => {
    expect(resolveOptions({ command: 'interval', env: { RPR_CATCH_UP: '1' }, config }).values).not.toHaveProperty('timezone');
    expect(resolveOptions({ command: 'interval', env: { RPR_CATCH_UP: '1' }, config }).values).not.toHaveProperty('catchUp');
    const cron = resolveOptions({ command: 'cron', env: { RPR_CATCH_UP: '1' }, config });
    expect(cron.values).toMatchObject({ timezone: 'Asia/Tokyo', catchUp: true });
  });

  it("gives plugin schedulers the 'all'-scope options only", () => {
    const r = resolveOptions({ command: 'fibonacci', env: {}, config });
    expect(r.values.timeout).toBe(10_000);
    expect(r.values).not.toHaveProperty('timezone');
  });

  it('rejects a flag that does not apply, as a usage error', () => {
    expect(() => resolveOptions({ command: 'interval', flags: { cron: '* * * * *' } })).toThrow('--cron does not apply to interval');
  });

  it('keeps every option with command null (config show)', () => {
    expect(resolveOptions({ command: null, env: {}, config }).values).toMatchObject({ timezone: 'Asia/Tokyo', timeout: 10_000 });
  });
});

describe("commander's values", () => {
  it('parses raw strings and keeps values already typed by an argParser', () => {
    const r = resolveOptions({ command: 'count', flags: { timeout: '2s', jitter: 500, onOverlap: 'allow', untilMatch: 'ok' } });
    expect(r.values).toMatchObject({ timeout: 2000, jitter: 500, onOverlap: 'allow', untilMatch: { source: 'ok', flags: '' } });
  });

  it("counts only source 'cli' (and 'implied') as a flag; a commander default is beaten by the file", () => {
    const sources: Record<string, string> = { quiet: 'cli', killAfter: 'default', progress: 'default', json: 'implied' };
    const r = resolveOptions({
      command: 'count',
      flags: { quiet: true, killAfter: 7000, progress: true, json: true },
      flagSource: (key) => sources[key],
      env: {},
      config,
    });
    expect(r.sources).toMatchObject({ quiet: 'flag', killAfter: 'file', progress: 'default', json: 'flag' });
    expect(r.values.killAfter).toBe(3000);
  });

  it("prefers commander's own default over the built-in table", () => {
    const r = resolveOptions({ command: 'count', flags: { maxParallel: 9 }, flagSource: () => 'default' });
    expect(r.values.maxParallel).toBe(9);
    expect(r.sources.maxParallel).toBe('default');
  });

  it('passes flags that are not core options through', () => {
    const r = resolveOptions({ command: 'cron', flags: { next: 3, config: '/x.toml' }, flagSource: (k) => (k === 'next' ? 'cli' : undefined) });
    expect(r.others).toEqual({ next: 3, config: '/x.toml' });
    expect(r.values).not.toHaveProperty('next');
    expect(r.sources).toMatchObject({ next: 'flag', config: 'default' });
  });

  it('takes a custom built-in table and does not touch its inputs', () => {
    const flags = Object.freeze({ timeout: '1s' });
    const env = Object.freeze({ RPR_JITTER: '1s' });
    const r = resolveOptions({ command: 'count', flags, env, config, builtIns: { maxFailures: 5 } });
    expect(r.values).toMatchObject({ timeout: 1000, jitter: 1000, maxFailures: 5 });
    expect(r.values).not.toHaveProperty('maxParallel');
    expect(flags).toEqual({ timeout: '1s' });
    expect(BUILT_IN_DEFAULTS.maxParallel).toBe(4);
  });
});

describe('rpr run NAME: the job between env and [defaults]', () => {
  it("the job's options beat [defaults] and [observability]", () => {
    const r = resolveOptions({ command: 'run', job: 'web', env: {}, config });
    expect(r.values).toMatchObject({ every: 60_000, timeout: 20_000, healthPort: 8181, killAfter: 3000 });
    expect(r.where).toMatchObject({ timeout: `${path}:15`, healthPort: `${path}:16`, killAfter: `${path}:3` });
  });

  it('env beats the job, flags beat both', () => {
    const env = { RPR_TIMEOUT: '30s' };
    expect(resolveOptions({ command: 'run', job: 'web', env, config }).values.timeout).toBe(30_000);
    const r = resolveOptions({ command: 'run', job: 'web', flags: { timeout: 5, every: 10 }, env, config });
    expect(r.values).toMatchObject({ timeout: 5, every: 10 });
  });

  it("scopes options by the job's schedule", () => {
    expect(resolveOptions({ command: 'run', job: 'nightly', env: {}, config }).values).toMatchObject({ cron: '0 3 * * *', timezone: 'Asia/Tokyo' });
    expect(() => resolveOptions({ command: 'run', job: 'nightly', flags: { every: 1000 }, config })).toThrow('--every does not apply to job nightly (cron)');
  });

  it('names metrics after the job unless --name says otherwise', () => {
    expect(resolveOptions({ command: 'run', job: 'web', config }).values.name).toBe('web');
    expect(resolveOptions({ command: 'run', job: 'web', flags: { name: 'x' }, config }).values.name).toBe('x');
  });

  it('a string command forces shell, whatever env says', () => {
    const r = resolveOptions({ command: 'run', job: 'nightly', env: { RPR_SHELL: 'false' }, config });
    expect(r.values.shell).toBe(true);
    expect(r.where.shell).toBe(`${path}:22`);
    expect(resolveOptions({ command: 'run', job: 'web', env: { RPR_SHELL: 'false' }, config }).values.shell).toBe(false);
  });

  it('plugin jobs get the all-scope options', () => {
    const r = resolveOptions({ command: 'run', job: 'fib', env: {}, config });
    expect(r.values.timeout).toBe(10_000);
    expect(r.values).not.toHaveProperty('initial'); // that is the plugin's: job.pluginConfig
  });

  it('an unknown job, or no config file, is an E_CONFIG error', () => {
    const err = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error as RprError;
      }
      throw new Error('expected an error');
    };
    const unknown = err(() => resolveOptions({ command: 'run', job: 'nope', config }));
    expect(unknown.code).toBe('E_CONFIG');
    expect(unknown.message).toBe(`${path}: no job named "nope"`);
    expect(unknown.hint).toBe('jobs in this file: web, nightly, fib');
    expect(err(() => resolveOptions({ command: 'run', job: 'web', config: null })).code).toBe('E_CONFIG');
  });
});
