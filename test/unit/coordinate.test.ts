// --coordinate without Redis: the URL, the [coordination] section and its precedence, the rate of a
// plugin job, and the combinations refused before a job starts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXPLICIT, type OptionValues } from '../../src/app/build-job.js';
import { coordinateJob } from '../../src/app/coordination.js';
import { loadConfigFile } from '../../src/config/load.js';
import { parseRate, parseRedisUrl, redact } from '../../src/coordinate/index.js';
import { RprError } from '../../src/errors/index.js';
import { resolveOptions } from '../../src/options/resolve.js';
import { intervalSchedule } from '../../src/schedule/interval.js';
import type { PluginHandle } from '../../src/plugins/index.js';

const root = mkdtempSync(join(tmpdir(), 'rpr-coordinate-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function file(...lines: string[]): string {
  const path = join(root, `c${n++}.toml`);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

describe('the Redis URL', () => {
  it('takes host, port, database, user and password', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6380/2', {})).toEqual({ host: '127.0.0.1', port: 6380, db: 2, tls: false, shown: 'redis://127.0.0.1:6380/2' });
    expect(parseRedisUrl('redis://app:s%40cret@redis.internal', {})).toEqual({
      host: 'redis.internal', port: 6379, db: 0, tls: false, username: 'app', password: 's@cret', shown: 'redis://redis.internal:6379',
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

  it('never shows the password', () => {
    expect(redact('redis://u:secret@h:1/0')).toBe('redis://u:***@h:1/0');
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
    const path = file('[coordination]', 'url = "redis://127.0.0.1:6379/1"', 'on_coordination_loss = "run-local"', '', '[jobs.web]', 'schedule = "interval"', 'every = "1m"', 'command = "true"', 'coordinate = "redis://job:1"');
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
  const run = (v: Record<string, unknown>, started: PluginHandle[] = []) => coordinateJob(intervalSchedule(100), values(v), started, () => undefined);

  it('needs --name', async () => {
    await expect(run({ coordinate: 'redis://h:1', every: 100 })).rejects.toThrow(/--coordinate needs --name JOB/);
  });

  it('needs a schedule whose slots can be shared', async () => {
    await expect(run({ coordinate: 'redis://h:1', name: 'j', times: 3 })).rejects.toThrow(/works with interval .*not back-to-back runs/);
    await expect(run({ coordinate: 'redis://h:1', name: 'j' }, [{ name: 'exponential', config: {} } as unknown as PluginHandle])).rejects.toThrow(/not exponential/);
  });

  it('--on-coordination-loss needs --coordinate', async () => {
    await expect(run({ onCoordinationLoss: 'run-local', every: 100 })).rejects.toThrow(/only applies with --coordinate/);
    expect(await run({ every: 100 })).toBeUndefined();
  });

  it('a bad URL is a usage error', async () => {
    await expect(run({ coordinate: 'http://h:1', name: 'j', every: 100 })).rejects.toMatchObject({ code: 'E_USAGE' });
  });
});
