// --coordinate without Redis: the URL, the [coordination] section and its precedence, the rate of a
// plugin job, and the combinations refused before a job starts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { coordinateJob } from '../../src/app/coordination.js';
import { loadConfigFile } from '../../src/config/load.js';
import { parseRate, parseRedisUrl, redact } from '../../src/coordinate/index.js';
import type { RprError } from '../../src/errors/index.js';
import { parseManifest } from '../../src/plugins/manifest/parse.js';
import { EXPLICIT, resolveOptions, type OptionValues } from '../../src/options/resolve.js';
import { checkOptionRules } from '../../src/options/rules.js';
import { backToBackSchedule, intervalSchedule, startingAt } from '../../src/schedule/interval.js';
import type { Schedule } from '../../src/schedule/types.js';
import type { PluginHandle } from '../../src/plugins/index.js';

const root = mkdtempSync(join(tmpdir(), 'rpr-coordinate-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function file(...lines: string[]): string {
  const path = join(root, `c${n++}.toml`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe('the Redis URL', () => {
  it('takes host, port, database, user and password', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6380/2', {})).toEqual({ host: '127.0.0.1', port: 6380, db: 2, tls: false, shown: 'redis://127.0.0.1:6380/2' });
    expect(parseRedisUrl('redis://app:s%40cret@redis.internal', {})).toEqual({
      host: 'redis.internal',
      port: 6379,
      db: 0,
      tls: false,
      username: 'app',
      password: 's@cret',
      shown: 'redis://redis.internal:6379',
    });
    expect(parseRedisUrl('rediss://[::1]:7000', {})).toMatchObject({ host: '::1', port: 7000, tls: true });
  });

  it('takes the password from RPR_REDIS_PASSWORD when the URL has none', () => {
    expect(parseRedisUrl('redis://h:1', { RPR_REDIS_PASSWORD: 'env' }).password).toBe('env');
    expect(parseRedisUrl('redis://:url@h:1', { RPR_REDIS_PASSWORD: 'env' }).password).toBe('url');
    expect(parseRedisUrl('redis://h:1', { RPR_REDIS_PASSWORD: '' }).password).toBeUndefined();
  });

  it.each([
    ['http://h:1', /"http:" URLs are not Redis/],
    ['127.0.0.1:6379', /not a Redis URL|URLs are not Redis/],
    ['redis://h:1/x', /"x" is not a database number/],
    ['redis://h:1/0?timeout=1', /options after \? or # are not supported/],
    ['nonsense', /is not a Redis URL/],
  ])('refuses %s', (url, message) => {
    expect(() => parseRedisUrl(url, {})).toThrow(message);
  });

  it("redis+sentinel://: the sentinels (26379 by default), the primary's name, the database, the servers' password", () => {
    expect(parseRedisUrl('redis+sentinel://s1:26380,s2,[::1]:7/mymaster/3', {})).toEqual({
      host: 's1',
      port: 26380,
      db: 3,
      tls: false,
      sentinels: [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
        { host: '::1', port: 7 },
      ],
      master: 'mymaster',
      shown: 'redis+sentinel://s1:26380,s2:26379,[::1]:7/mymaster/3',
    });
    expect(parseRedisUrl('redis+sentinel://:pw@s1/m', {})).toMatchObject({ password: 'pw', master: 'm', db: 0, shown: 'redis+sentinel://s1:26379/m' });
    expect(parseRedisUrl('redis+sentinel://s1/m', { RPR_REDIS_PASSWORD: 'env' }).password).toBe('env');
  });

  it.each([
    ['redis+sentinel://s1:26379', /is not a Sentinel URL/],
    ['redis+sentinel://s1:26379,/m', /"" is not a sentinel host\[:port\]/],
    ['redis+sentinel://s1:99999/m', /"s1:99999" is not a sentinel host/],
    ['redis+sentinel://s1/m/x', /"x" is not a database number/],
    ['redis+sentinel://:secret@s1/m?x=1', /options after \? or # are not supported/],
  ])('refuses %s', (url, message) => {
    expect(() => parseRedisUrl(url, {})).toThrow(message);
    expect(() => parseRedisUrl(url, {})).not.toThrow(/secret/);
  });

  it('never shows the password', () => {
    expect(redact('redis://u:secret@h:1/0')).toBe('redis://u:***@h:1/0');
    expect(redact('redis+sentinel://:secret@s1:26379,s2/m')).toBe('redis+sentinel://:***@s1:26379,s2/m');
    expect(parseRedisUrl('redis+sentinel://:secret@s1:26379,s2/m', {}).shown).not.toMatch(/secret/);
    expect(() => parseRedisUrl('redis://u:secret@h:1/x', {})).not.toThrow(/secret/);
  });
});

describe('rates of the plugin schedulers', () => {
  it('reads N/WINDOW as the plugins do', () => {
    expect(parseRate('3/400ms', 'rate-limit')).toEqual({ limit: 3, windowMs: 400 });
    expect(parseRate('10/s', 'token-bucket')).toEqual({ limit: 10, windowMs: 1000 });
    expect(parseRate('2.5/1m', 'token-bucket')).toEqual({ limit: 2.5, windowMs: 60_000 });
    expect(() => parseRate('0/1s', 'rate-limit')).toThrow(/expected N\/WINDOW/);
  });
});

describe('[coordination] in the config file', () => {
  it('holds url and on_coordination_loss; flag > env > job > [coordination]', () => {
    const path = file(
      '[coordination]',
      'url = "redis://127.0.0.1:6379/1"',
      'on_coordination_loss = "run-local"',
      '',
      '[jobs.web]',
      'schedule = "interval"',
      'every = "1m"',
      'command = "true"',
      'coordinate = "redis://job:1"',
    );
    const config = loadConfigFile(path);
    expect(config.coordination).toEqual({ coordinate: 'redis://127.0.0.1:6379/1', onCoordinationLoss: 'run-local' });
    const fromFile = resolveOptions({ command: 'interval', config });
    expect(fromFile.values).toMatchObject({ coordinate: 'redis://127.0.0.1:6379/1', onCoordinationLoss: 'run-local' });
    expect(fromFile.where.coordinate).toBe(`${path}:2`);
    expect(resolveOptions({ command: 'interval', config, job: 'web' }).values.coordinate).toBe('redis://job:1');
    expect(resolveOptions({ command: 'interval', config, env: { RPR_COORDINATE: 'redis://env:1' } }).values.coordinate).toBe('redis://env:1');
    expect(resolveOptions({ command: 'interval', config, flags: { coordinate: 'redis://flag:1' }, env: { RPR_COORDINATE: 'redis://env:1' } }).values.coordinate).toBe('redis://flag:1');
  });

  it('reports keys that belong elsewhere', () => {
    const problems = (text: string[]) => {
      try {
        loadConfigFile(file(...text));
      } catch (error) {
        return `${(error as RprError).message} (${(error as RprError).hint})`;
      }
      return 'ok';
    };
    expect(problems(['[coordination]', 'coordinate = "redis://h:1"'])).toMatch(/coordination\.coordinate: not allowed in \[coordination\] \(write it as url = /);
    expect(problems(['[defaults]', 'coordinate = "redis://h:1"'])).toMatch(/coordination settings go in \[coordination\]/);
    expect(problems(['[coordination]', 'on_coordination_loss = "maybe"'])).toMatch(/"maybe" is not one of skip, run-local/);
    expect(problems(['[coordination]', 'urls = "redis://h:1"'])).toMatch(/did you mean url\? known keys: url, on_coordination_loss/);
  });
});

describe('what --coordinate refuses before the job starts', () => {
  const values = (v: Record<string, unknown>): OptionValues => Object.defineProperty({ ...v }, EXPLICIT, { value: new Set(Object.keys(v)), enumerable: false });
  const run = (v: Record<string, unknown>, started: PluginHandle[] = [], schedule: Schedule = intervalSchedule(100)) => coordinateJob(schedule, values(v), started, () => undefined);
  /** A scheduler plugin's schedule declares no slots; its manifest may. */
  const pluginJob: Schedule = { describe: 'plugin', first: () => null, after: () => null };
  const plugin = (name: string, config: Record<string, unknown>, coordination?: unknown) => ({ name, config, manifest: { coordination } }) as unknown as PluginHandle;

  it('needs --name (a rule of the option catalog)', () => {
    expect(() => checkOptionRules(values({ coordinate: 'redis://h:1', every: 100 }))).toThrow(/--coordinate needs --name JOB/);
  });

  it('needs a schedule that declares its slots (not a plugin name)', async () => {
    await expect(run({ coordinate: 'redis://h:1', name: 'j', times: 3 }, [], backToBackSchedule())).rejects.toThrow(/works with interval .*not back-to-back runs/);
    await expect(run({ coordinate: 'redis://h:1', name: 'j' }, [plugin('exponential', {})], pluginJob)).rejects.toThrow(/not exponential/);
    // Named rate-limit but declaring nothing: refused; any name declaring [coordination]: accepted.
    await expect(run({ coordinate: 'redis://h:1', name: 'j' }, [plugin('rate-limit', { rate: '3/1s' })], pluginJob)).rejects.toThrow(/not rate-limit/);
    const window = await run({ coordinate: 'redis://h:1', name: 'j' }, [plugin('my-window', { r: '3/500ms', s: true }, { slots: 'sliding-window', rate: 'r', spread: 's' })], pluginJob);
    expect(window?.schedule.describe).toMatch(/^plugin, limit shared across instances/);
    await window?.close();
    const bucket = await run({ coordinate: 'redis://h:1', name: 'j' }, [plugin('my-bucket', { r: 'x' }, { slots: 'token-bucket', rate: 'r' })], pluginJob).catch((e: Error) => e);
    expect(bucket).toMatchObject({ message: expect.stringMatching(/my-bucket --rate "x": expected N\/WINDOW/) });
    // An interval schedule declares a grid, a cron one its fire times.
    for (const schedule of [intervalSchedule(100), startingAt(Date.now() + 1000, intervalSchedule(100))]) {
      const c = await run({ coordinate: 'redis://h:1', name: 'j' }, [], schedule);
      expect(c?.schedule.describe).toMatch(/one run per slot across instances/);
      await c?.close();
    }
  });

  it('--on-coordination-loss needs --coordinate (a rule of the option catalog)', async () => {
    expect(() => checkOptionRules(values({ onCoordinationLoss: 'run-local', every: 100 }))).toThrow(/only applies with --coordinate/);
    expect(await run({ every: 100 })).toBeUndefined();
  });

  it('a bad URL is a usage error', async () => {
    await expect(run({ coordinate: 'http://h:1', name: 'j', every: 100 })).rejects.toMatchObject({ code: 'E_USAGE' });
  });
});

describe("[coordination] in a scheduler plugin's manifest", () => {
  const manifest = (
    kind: string,
    coordination: string[],
    config = ['[config.rate]', 'type = "string"', 'help = "N/W"', '[config.spread]', 'type = "boolean"', 'help = "s"', '[config.burst]', 'type = "integer"', 'help = "b"'],
  ) =>
    parseManifest(
      ['[plugin]', 'name = "p"', 'version = "1.0.0"', `kind = "${kind}"`, '[runtime]', 'wasm = "p.wasm"', `sha256 = "${'0'.repeat(64)}"`, ...config, ...coordination].join('\n'),
      '/x/plugin.toml',
    );

  it('names the settings that hold the rate (and spread, or burst)', () => {
    expect(manifest('scheduler', ['[coordination]', 'slots = "sliding-window"', 'rate = "rate"', 'spread = "spread"']).coordination).toEqual({
      slots: 'sliding-window',
      rate: 'rate',
      spread: 'spread',
    });
    expect(manifest('scheduler', ['[coordination]', 'slots = "token-bucket"', 'rate = "rate"']).coordination).toEqual({ slots: 'token-bucket', rate: 'rate' });
    expect(manifest('scheduler', []).coordination).toBeUndefined();
    expect('coordination' in manifest('scheduler', [])).toBe(false);
  });

  it.each([
    [['[coordination]', 'slots = "grid"', 'rate = "rate"'], /coordination\.slots "grid" must be sliding-window or token-bucket/],
    [['[coordination]', 'slots = "token-bucket"', 'rate = "nope"'], /coordination\.rate "nope" must name a string setting in \[config\]/],
    [['[coordination]', 'slots = "token-bucket"', 'rate = "rate"', 'burst = "spread"'], /coordination\.burst "spread" must name an integer setting/],
    [['[coordination]', 'slots = "sliding-window"', 'rate = "rate"', 'burst = "burst"'], /coordination\.burst is for token-bucket slots/],
    [['[coordination]', 'slots = "sliding-window"', 'rates = "rate"'], /unknown key coordination\.rates/],
    [['[coordination]', 'rate = "rate"'], /coordination\.slots must be a string \(missing\)/],
  ])('refuses %j', (lines, message) => {
    expect(() => manifest('scheduler', lines)).toThrow(message);
  });

  it('is for scheduler plugins only', () => {
    expect(() => manifest('output', ['[coordination]', 'slots = "token-bucket"', 'rate = "rate"'])).toThrow(/\[coordination\] is for scheduler plugins/);
  });

  it('the bundled rate-limit and token-bucket declare theirs', async () => {
    const { readManifest } = await import('../../src/plugins/manifest/parse.js');
    expect((await readManifest('plugins-dist/rate-limit/plugin.toml')).coordination).toEqual({ slots: 'sliding-window', rate: 'rate', spread: 'spread' });
    expect((await readManifest('plugins-dist/token-bucket/plugin.toml')).coordination).toEqual({ slots: 'token-bucket', rate: 'rate', burst: 'burst' });
  });
});
