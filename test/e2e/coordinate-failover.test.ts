// Redis failover: real redis-server x3 (a primary, two replicas) and redis-sentinel x3 started by the
// test on loopback ports (.ci/run installs both). Three rpr instances follow the sentinels
// (redis+sentinel://); the primary is killed (SIGKILL) mid-job: no slot runs twice, the slots not run
// fall within the failover, and each instance says so in one line each way. A claim stands only once
// a replica has it (WAIT): with the replicas frozen, no slot runs.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_REDIS, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { HAVE_SENTINEL, startSentinels, type SentinelSetup } from '../helpers/redis-sentinel.js';
import { cleanup, RPR, sleep, tempDir } from './core-helpers.js';
import { doubles, EVERY, instance, joined, lost, readRuns } from './coordinate-helpers.js';

if (HAVE_REDIS && !HAVE_SENTINEL) console.warn('coordinate-failover.test.ts: Sentinel tests skipped: redis-sentinel is not installed (Debian package redis-sentinel)');

let setup: SentinelSetup | undefined;
let jobs = 0;

beforeAll(async () => {
  if (HAVE_REDIS && HAVE_SENTINEL) setup = await startSentinels();
}, 30_000);
afterAll(async () => {
  await cleanup();
  await setup?.dispose();
});
afterEach(cleanup);

const keysOn = (server: RedisServer, pattern: string): string[] =>
  spawnSync('redis-cli', ['-p', String(server.port), '--scan', '--pattern', pattern], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean);

describe.skipIf(!HAVE_REDIS || !HAVE_SENTINEL || !existsSync(RPR))('--coordinate redis+sentinel://: failover', () => {
  it('the primary killed mid-job (three instances, --every 200ms): no slot runs twice, the slots not run fall within the failover, one line each way', async () => {
    const s = setup!;
    await s.ready();
    const dir = tempDir();
    const file = join(dir, 'runs');
    const name = `fo${jobs++}`;
    const all = ['a', 'b', 'c'].map((label) => instance(name, file, label, { url: s.url, forMs: 11_000 }));
    await joined(all);
    await sleep(2000);
    const old = await s.primary();
    await old.kill();
    const killWall = Date.now();
    const now = await s.failedOver(old);
    const failedOverWall = Date.now();
    const results = await Promise.all(all.map((i) => i.done));
    const said = results.map((r) => r.stderr);
    const runs = readRuns(file);
    const shown = `killed ${new Date(killWall).toISOString()}, failed over ${new Date(failedOverWall).toISOString()}\n${said.join('\n----\n')}`;
    for (const r of results) expect(r.code, r.stderr).toBe(0);

    expect(doubles(runs), shown).toEqual([]);
    // The slots nobody ran (and nobody said were skipped during a run) fell due between the kill and
    // the instances' reconnection to the new primary: the failover, plus ioredis' retry (0.5 s at
    // most) and a loaded machine's delay.
    const missing = lost(runs, said);
    for (const slot of missing) {
      expect(Date.parse(slot), shown).toBeGreaterThanOrEqual(killWall - EVERY);
      expect(Date.parse(slot), shown).toBeLessThanOrEqual(failedOverWall + 2000);
    }
    const before = runs.filter((r) => r.at < killWall - EVERY);
    const after = runs.filter((r) => r.at > failedOverWall + 2000);
    expect(before.length, shown).toBeGreaterThanOrEqual(5);
    expect(after.length, shown).toBeGreaterThanOrEqual(6);
    // Every instance said it lost Redis and that it was back, once each, naming the sentinels.
    for (const text of said) {
      const lines = text.split('\n').filter((l) => /^rpr: coordination: .*((lost|cannot reach) Redis|is back after)/.test(l));
      expect(lines, text).toEqual([
        expect.stringMatching(
          /^rpr: coordination: lost Redis at redis\+sentinel:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\/rprjobs \(.+\); no slot runs here until it is back \(--on-coordination-loss skip\)$/,
        ),
        expect.stringMatching(/^rpr: coordination: Redis at redis\+sentinel:\/\/\S+ is back after [\d.]+m?s \(\d+ slots? not run here meanwhile\)$/),
      ]);
    }
    // The claims went on on the new primary; those made before the kill had reached a replica
    // (WAIT): the new primary has the key of every slot run before the kill.
    const onNew = new Set(keysOn(now, `rpr:{${name}}:slot:*`).map((k) => Number(k.split(':').pop())));
    expect(
      after.every((r) => onNew.has(r.at)),
      shown,
    ).toBe(true);
    expect(
      before.filter((r) => !onNew.has(r.at)).map((r) => new Date(r.at).toISOString()),
      shown,
    ).toEqual([]);
  }, 60_000);
});

describe.skipIf(!HAVE_REDIS || !existsSync(RPR))('--coordinate with replicas: a claim stands once a replica has it', () => {
  it('replicas frozen (SIGSTOP): no slot runs, one line each way; thawed, slots run again', async () => {
    const primary = await startRedis();
    const replica = await startRedis(['--replicaof', '127.0.0.1', String(primary.port)]);
    try {
      // The replica has synced (it lists the primary's link as up).
      for (let i = 0; i < 100 && !/master_link_status:up/.test(spawnSync('redis-cli', ['-p', String(replica.port), 'info', 'replication'], { encoding: 'utf8' }).stdout); i++) await sleep(100);
      const dir = tempDir();
      const file = join(dir, 'runs');
      const name = `wait${jobs++}`;
      const all = ['a', 'b'].map((label) => instance(name, file, label, { url: primary.url, forMs: 9000 }));
      await joined(all);
      await sleep(1500);
      replica.freeze(true);
      const frozeWall = Date.now();
      await sleep(3000);
      replica.freeze(false);
      const thawWall = Date.now();
      const results = await Promise.all(all.map((i) => i.done));
      const said = results.map((r) => r.stderr);
      for (const r of results) {
        expect(r.code, r.stderr).toBe(0);
        const lines = r.stderr.split('\n').filter((l) => /^rpr: coordination: .*((lost|cannot reach) Redis|is back after)/.test(l));
        expect(lines, r.stderr).toEqual([
          expect.stringMatching(/^rpr: coordination: lost Redis at redis:\/\/127\.0\.0\.1:\d+ \(no replica acknowledged a claim within 1000ms\); no slot runs here until it is back/),
          expect.stringMatching(/is back after [\d.]+m?s \(\d+ slots? not run here meanwhile\)$/),
        ]);
      }
      const runs = readRuns(file);
      expect(doubles(runs)).toEqual([]);
      // A slot ran only once a replica had its claim: the replica has the claim of every slot run...
      const onReplica = new Set(keysOn(replica, `rpr:{${name}}:slot:*`).map((k) => Number(k.split(':').pop())));
      expect(runs.filter((r) => !onReplica.has(r.at)).map((r) => new Date(r.at).toISOString())).toEqual([]);
      // ...so none of those due while it was frozen ran (but for one claimed just before the freeze,
      // or one whose claim waited, up to 1 s, for the replica as it thawed).
      expect(runs.filter((r) => r.at > frozeWall + 20 && r.at < thawWall - 1200).map((r) => new Date(r.at).toISOString())).toEqual([]);
      const before = runs.filter((r) => r.at < frozeWall);
      const resumed = runs.filter((r) => r.at > thawWall + 1500);
      expect(before.length).toBeGreaterThanOrEqual(4);
      expect(resumed.length).toBeGreaterThanOrEqual(4);
      expect(lost(before, said)).toEqual([]);
      expect(lost(resumed, said)).toEqual([]);
    } finally {
      await Promise.all([primary.dispose(), replica.dispose()]);
    }
  }, 40_000);
});
