// --coordinate's refusals end to end (the built CLI, a real redis-server on a free loopback port):
// what cannot work stops with exit 2 and one line before any run. Nothing here measures time, so
// this file runs with the other end-to-end files, not in the timing group (coordinate.test.ts).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HAVE_REDIS, freePort, startRedis } from '../helpers/redis-server.js';
import { RPR, start } from './core-helpers.js';
import { joined, useRedis } from './coordinate-helpers.js';

const redis = useRedis();
let jobs = 0;

describe.skipIf(!HAVE_REDIS || !existsSync(RPR))('--coordinate refuses what cannot work', () => {
  it('instances of one job with different intervals: the newcomer stops with exit 2 and says why', async () => {
    const name = `job${jobs++}`;
    const first = start(['interval', '--every', '200ms', '--for', '3s', '--coordinate', redis().url, '--name', name, '--verbose', '--', 'true']);
    await joined([first]);
    const other = await start(['interval', '--every', '300ms', '--for', '2s', '--coordinate', redis().url, '--name', name, '--', 'true']).done;
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /^rpr: coordination: job "job\d+" in Redis at redis:\/\/127\.0\.0\.1:\d+ is "interval 200ms", this instance's is "interval 300ms" \(hint: every instance of one job needs the same schedule/m,
    );
    expect(other.stderr).not.toMatch(/\n\s+at /);
    expect((await first.done).code).toBe(0);
  }, 20_000);

  it('a Redis that refuses the password: exit 2 before any run; the password is never shown', async () => {
    const locked = await startRedis(['--requirepass', 'sekret']);
    try {
      const url = locked.url.replace('redis://', 'redis://:wrong@');
      const r = await start(['interval', '--every', '200ms', '--for', '2s', '--coordinate', url, '--name', 'x', '--', 'echo', 'ran']).done;
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/refused this instance: WRONGPASS/);
      expect(r.stderr).not.toMatch(/wrong/);
      // The password from RPR_REDIS_PASSWORD works.
      const ok = await start(['interval', '--every', '200ms', '--times', '2', '--coordinate', locked.url, '--name', 'x', '--', 'echo', 'ran'], { env: { RPR_REDIS_PASSWORD: 'sekret' } }).done;
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toBe('ran\nran\n');
    } finally {
      await locked.dispose();
    }
  }, 20_000);

  it('Redis unreachable from the start (skip): one message, no runs, the job still ends on time', async () => {
    const port = await freePort();
    const r = await start(['interval', '--every', '100ms', '--for', '2s', '--coordinate', `redis://127.0.0.1:${port}`, '--name', 'x', '--', 'echo', 'ran']).done;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^rpr: coordination: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(connect ECONNREFUSED .*\); no slot runs here until it is back \(--on-coordination-loss skip\)$/),
    ]);
    expect(r.ms).toBeLessThan(6000);
  }, 20_000);

  it('usage errors: no --name, back-to-back runs, a bad URL', async () => {
    const noName = await start(['interval', '--every', '1s', '--coordinate', redis().url, '--', 'true']).done;
    expect(noName.code).toBe(2);
    expect(noName.stderr).toMatch(/--coordinate needs --name JOB/);
    const backToBack = await start(['count', '--times', '3', '--coordinate', redis().url, '--name', 'x', '--', 'true']).done;
    expect(backToBack.code).toBe(2);
    expect(backToBack.stderr).toMatch(/not back-to-back runs/);
    const badUrl = await start(['interval', '--every', '1s', '--coordinate', 'http://x', '--name', 'x', '--', 'true']).done;
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/"http:" URLs are not Redis/);
  }, 20_000);
});
