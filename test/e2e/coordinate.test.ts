// --coordinate end to end: real rpr instances (the built CLI) on one job through a real redis-server
// (started by the test on a free loopback port, in a temp folder). Each run appends its scheduled
// time ($RPR_SCHEDULED_AT: the slot) and its instance to a shared file; the union of the runs must
// have exactly one run per slot and none lost, through an instance killed mid-job and Redis stopped
// and started again. A slot may be skipped only while a run went on (--on-overlap skip, the default,
// holds across instances: a loaded machine can stretch a run past the next slot), and only when an
// instance said so. Tolerances are for a loaded 2-core machine.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HAVE_REDIS, freePort } from '../helpers/redis-server.js';
import { slowLink } from '../helpers/slow-link.js';
import { RPR, sleep, start, tempDir, type Running } from './core-helpers.js';
import { doubles, EVERY, instance as make, joined, lost, readRuns, useRedis } from './coordinate-helpers.js';

const redis = useRedis();
let jobs = 0;

/** One instance of the job (--verbose), through the test's Redis unless told otherwise. */
const instance = (name: string, file: string, label: string, extra: string[] = [], forMs = 5000, url = redis().url): Running => make(name, file, label, { url, extra, forMs });

/** Stops Redis for `ms`, then starts it again: when it went down and when it came back. */
async function redisDown(ms: number): Promise<{ downWall: number; upWall: number }> {
  await redis().stop();
  const downWall = Date.now();
  await sleep(ms);
  const upWall = Date.now();
  await redis().start();
  return { downWall, upWall };
}

const getText = (port: number, path: string): Promise<string> =>
  new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });

describe.skipIf(!HAVE_REDIS || !existsSync(RPR))('--coordinate: one job across instances through Redis', () => {
  it('three instances at --every 200ms for 5 s: exactly one run per slot, none lost; health, metrics and --verbose say who ran what', async () => {
    const dir = tempDir();
    const file = join(dir, 'runs');
    const name = `job${jobs++}`;
    const [hp, mp] = [await freePort(), await freePort()];
    const a = instance(name, file, 'a', ['--health-port', String(hp), '--metrics-port', String(mp)]);
    await sleep(300);
    const b = instance(name, file, 'b');
    await sleep(400);
    const c = instance(name, file, 'c');
    // (A loaded machine may take seconds to start them.)
    await joined([a, b, c]);
    await sleep(1000);
    const health = JSON.parse(await getText(hp, '/health')) as { coordination: Record<string, unknown> };
    const metrics = await getText(mp, '/metrics');
    const results = await Promise.all([a.done, b.done, c.done]);
    for (const r of results) expect(r.code, r.stderr).toBe(0);

    const runs = readRuns(file);
    const said = results.map((r) => r.stderr);
    expect(doubles(runs)).toEqual([]);
    expect(lost(runs, said)).toEqual([]);
    // a ran alone for its first 0.3 s, then three instances until about 5.7 s: some 28 slots (more
    // when a loaded machine starts the later instances late: they end late too); a few may have
    // been skipped while a run went on.
    expect((runs.at(-1)!.at - runs[0]!.at) / EVERY + 1).toBeGreaterThanOrEqual(24);
    expect(runs.length).toBeGreaterThanOrEqual(12);
    expect(runs.length).toBeLessThanOrEqual(Math.floor((Math.max(...results.map((r) => r.exitWall)) - a.spawnWall) / EVERY) + 1);
    expect(new Set(runs.map((r) => r.instance)).size).toBeGreaterThanOrEqual(2);

    expect(health.coordination).toMatchObject({ backend: 'redis', connected: true, on_loss: 'skip', slots_unavailable: 0, runs_local: 0 });
    // (a loaded machine may have started a late: some slots, not a number of them.)
    expect((health.coordination.slots_claimed as number) + (health.coordination.slots_lost as number)).toBeGreaterThanOrEqual(3);
    expect(metrics).toMatch(/^rpr_coordination_connected\{job="job\d+"\} 1$/m);
    expect(metrics).toMatch(/^rpr_coordination_slots_claimed_total\{job="job\d+"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^rpr_coordination_slots_lost_total\{job="job\d+"\} \d+$/m);

    // --verbose: each slot a saw, and whether it ran it or which instance did.
    const aRuns = runs.filter((r) => r.instance === 'a').length;
    const here = results[0].stderr.match(/^rpr: coordination: slot \d+ \(\S+\) runs here \(\S+:\d+\)$/gm) ?? [];
    const there = results[0].stderr.match(/^rpr: coordination: slot \d+ \(\S+\) (runs on \S+:\d+|skipped: due while the run of .* went on \(--on-overlap skip\))$/gm) ?? [];
    expect(here).toHaveLength(aRuns);
    // (b and c go on for up to 0.7 s after a has ended; a machine so loaded that a's loop wakes
    // more than 2 s late passes a few slots without a claim, as a late local job would.)
    expect(here.length + there.length).toBeGreaterThanOrEqual(runs.filter((r) => r.at < results[0].exitWall - EVERY).length - 5);
  }, 40_000);

  it('every instance late alike (Redis answers 300 ms after each claim, longer than the interval): still one run per slot, no gaps (--on-overlap queue)', async () => {
    const link = await slowLink(redis().port, 150);
    try {
      const dir = tempDir();
      const file = join(dir, 'runs');
      const name = `job${jobs++}`;
      const url = `redis://127.0.0.1:${link.port}`;
      // With skip, the lease a run holds lasts the run plus a Redis round trip - here longer than the
      // interval - and the next slot would be skipped (coordinate-lease.test.ts): queue runs them all.
      const all = ['a', 'b', 'c'].map((label) => instance(name, file, label, ['--on-overlap', 'queue'], 4000, url));
      const results = await Promise.all(all.map((i) => i.done));
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      for (const r of results) expect(r.stderr).not.toMatch(/lost Redis|cannot reach|skipped: due while/);
      const runs = readRuns(file);
      expect(doubles(runs)).toEqual([]);
      expect(lost(runs, []), results.map((r) => r.stderr).join('\n---\n')).toEqual([]);
      expect(runs.length).toBeGreaterThanOrEqual(12);
    } finally {
      await link.close();
    }
  }, 40_000);

  it('an instance killed (SIGKILL) mid-job: no slot after the kill is lost or run twice', async () => {
    const dir = tempDir();
    const file = join(dir, 'runs');
    const name = `job${jobs++}`;
    const all = ['a', 'b', 'c'].map((label) => ({ label, job: instance(name, file, label, [], 7000) }));
    await joined(all.map((i) => i.job));
    await sleep(1000);
    // Kill the instance that ran the latest slot, halfway between two slots, once its run is over (it
    // no longer holds the job's lease: a dead lease holder is coordinate-lease.test.ts's).
    let runs = readRuns(file);
    const victim = all.find((i) => i.label === runs.at(-1)!.instance)!;
    const last = runs.at(-1)!.at;
    const lease = (): string => spawnSync('redis-cli', ['-p', String(redis().port), 'get', `rpr:{${name}}:lease`], { encoding: 'utf8' }).stdout;
    for (let k = Math.ceil((Date.now() - last) / EVERY); ; k++) {
      await sleep(last + k * EVERY + EVERY / 2 - Date.now());
      if (!lease().includes(`:${victim.job.child.pid} `)) break;
    }
    victim.job.child.kill('SIGKILL');
    const killWall = Date.now();
    const results = await Promise.all(all.filter((i) => i !== victim).map((i) => i.job.done));
    for (const r of results) expect(r.code, r.stderr).toBe(0);

    runs = readRuns(file);
    expect(doubles(runs)).toEqual([]);
    // Lost: none, but for a slot the victim had just won when it died (a loaded machine may have it
    // claim that late): Redis names it as the holder.
    const holder = (t: string): string => spawnSync('redis-cli', ['-p', String(redis().port), 'get', `rpr:{${name}}:slot:${Date.parse(t)}`], { encoding: 'utf8' }).stdout.trim();
    const missing = lost(runs, [...results.map((r) => r.stderr), victim.job.stderr()]);
    const why =
      missing.map((t) => `${t} held by ${holder(t) || 'nobody'}; killed ${new Date(killWall).toISOString()} (pid ${victim.job.child.pid})`).join('\n') + results.map((r) => r.stderr).join('\n---\n');
    expect(
      missing.filter((t) => !holder(t).endsWith(`:${victim.job.child.pid}`) || Math.abs(Date.parse(t) - killWall) > 1000),
      why,
    ).toEqual([]);
    expect(missing.length).toBeLessThanOrEqual(1);
    const after = runs.filter((r) => r.at > killWall);
    expect(after.length).toBeGreaterThanOrEqual(12);
    expect(after.filter((r) => r.instance === victim.label)).toEqual([]);
  }, 40_000);

  it('Redis stopped and started again (skip): no runs while it is down, none twice, one message each way, and the job goes on', async () => {
    const dir = tempDir();
    const file = join(dir, 'runs');
    const name = `job${jobs++}`;
    const all = ['a', 'b', 'c'].map((label) => instance(name, file, label, [], 8000));
    await joined(all);
    await sleep(1500);
    const { downWall, upWall } = await redisDown(1500);
    const results = await Promise.all(all.map((i) => i.done));
    for (const r of results) {
      expect(r.code, r.stderr).toBe(0);
      // One line when Redis goes, one when it is back (the rest is --verbose).
      const said = r.stderr.split('\n').filter((l) => /^rpr: coordination: .*((lost|cannot reach) Redis|is back after)/.test(l));
      expect(said, r.stderr).toEqual([
        expect.stringMatching(/^rpr: coordination: lost Redis at redis:\/\/127\.0\.0\.1:\d+ \(.+\); no slot runs here until it is back \(--on-coordination-loss skip\)$/),
        expect.stringMatching(/^rpr: coordination: Redis at redis:\/\/127\.0\.0\.1:\d+ is back after [\d.]+m?s \(\d+ slots? not run here meanwhile\)$/),
      ]);
    }

    const runs = readRuns(file);
    expect(doubles(runs)).toEqual([]);
    // Nothing was due-and-run while Redis was away (a slot due just before the stop may still have been claimed).
    expect(runs.filter((r) => r.at > downWall + 20 && r.at < upWall).map((r) => new Date(r.at).toISOString())).toEqual([]);
    const before = runs.filter((r) => r.at < downWall);
    const resumed = runs.filter((r) => r.at > upWall + 1000);
    expect(before.length).toBeGreaterThanOrEqual(6);
    expect(
      lost(
        before,
        results.map((r) => r.stderr),
      ),
    ).toEqual([]);
    // ioredis reconnects within its backoff (at most 0.5 s); from then on every slot runs once.
    expect(resumed.length).toBeGreaterThanOrEqual(6);
    expect(
      lost(
        resumed,
        results.map((r) => r.stderr),
      ),
    ).toEqual([]);
    // The grid is the same as before the restart (Redis forgot it; the instances put it back).
    expect((resumed[0]!.at - before[0]!.at) % EVERY).toBe(0);
  }, 40_000);

  it('Redis frozen (connection open, no answers): a claim times out after 2 s, later slots are not held up, no slot runs twice, one message each way', async () => {
    const dir = tempDir();
    const file = join(dir, 'runs');
    const name = `job${jobs++}`;
    const all = ['a', 'b'].map((label) => instance(name, file, label, [], 9000));
    await joined(all);
    await sleep(1000);
    redis().freeze(true);
    const frozeWall = Date.now();
    await sleep(3500);
    redis().freeze(false);
    const thawWall = Date.now();
    const results = await Promise.all(all.map((i) => i.done));
    for (const r of results) {
      expect(r.code, r.stderr).toBe(0);
      const said = r.stderr.split('\n').filter((l) => /^rpr: coordination: .*((lost|cannot reach) Redis|is back after)/.test(l));
      expect(said, r.stderr).toEqual([expect.stringMatching(/lost Redis at .* \(no answer within 2000ms\); no slot runs here until it is back/), expect.stringMatching(/is back after/)]);
      // After the one claim that waited, the slots due while frozen are passed on time, not 2 s apart.
      expect((r.stderr.match(/not run: Redis is unavailable$/gm) ?? []).length, r.stderr).toBeGreaterThanOrEqual(4);
    }
    const runs = readRuns(file);
    expect(doubles(runs)).toEqual([]);
    // The first claim after the freeze waits its 2 s; after that no claim goes to Redis until a PING
    // answers again: no slot due while Redis was frozen runs.
    expect(runs.filter((r) => r.at > frozeWall + 20 && r.at < thawWall)).toEqual([]);
    const resumed = runs.filter((r) => r.at > thawWall + 1200);
    expect(resumed.length).toBeGreaterThanOrEqual(4);
    expect(
      lost(
        resumed,
        results.map((r) => r.stderr),
      ),
    ).toEqual([]);
  }, 40_000);

  it('--on-coordination-loss run-local: every instance runs every slot while Redis is down, one run per slot again after', async () => {
    const dir = tempDir();
    const file = join(dir, 'runs');
    const name = `job${jobs++}`;
    const all = ['a', 'b'].map((label) => instance(name, file, label, ['--on-coordination-loss', 'run-local'], 7000));
    await joined(all);
    await sleep(800);
    const { downWall, upWall } = await redisDown(1500);
    const results = await Promise.all(all.map((i) => i.done));
    for (const r of results) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/lost Redis at .*; every slot runs here until it is back \(--on-coordination-loss run-local\)/);
      expect(r.stderr).toMatch(/is back after [\d.]+m?s \(\d+ runs? started without it\)/);
    }
    const runs = readRuns(file);
    const down = runs.filter((r) => r.at > downWall + 50 && r.at < upWall - 50);
    // Both ran (nearly) every slot while Redis was down.
    expect(down.filter((r) => r.instance === 'a').length).toBeGreaterThanOrEqual(5);
    expect(down.filter((r) => r.instance === 'b').length).toBeGreaterThanOrEqual(5);
    const resumed = runs.filter((r) => r.at > upWall + 1000);
    expect(resumed.length).toBeGreaterThanOrEqual(4);
    expect(doubles(resumed)).toEqual([]);
    expect(
      lost(
        resumed,
        results.map((r) => r.stderr),
      ),
    ).toEqual([]);
  }, 40_000);

  it('a shared rate limit over three instances: never more than N starts in any window, counted over all of them', async () => {
    const name = `job${jobs++}`;
    const limit = 3;
    const windowMs = 500;
    const all = ['a', 'b', 'c'].map(() =>
      start(['rate-limit', '--rate', `${limit}/${windowMs}ms`, '--for', '4s', '--json', '--coordinate', redis().url, '--name', name, '--', 'true'], { timeoutMs: 30_000 }),
    );
    const results = await Promise.all(all.map((i) => i.done));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    // rpr's own reading of each start (--json), from all three.
    const starts = results
      .flatMap((r) => r.stdout.trim().split('\n'))
      .map((line) => Date.parse((JSON.parse(line) as { start: string }).start))
      .sort((x, y) => x - y);
    const shown = starts.map((t) => t - starts[0]!).join(' ');
    // Alone, each instance would start 3 runs per 0.5 s: together they must not exceed that either.
    // The limit holds for the moments the starts were committed in Redis; rpr reads the start a
    // Redis round trip later, which a busy machine stretches (by 150 ms at a load of 10 on 2 cores),
    // each instance on its own reading of Redis's clock; the committed starts, below, keep the limit
    // exactly.
    for (let i = 0; i + limit < starts.length; i++) expect(starts[i + limit]! - starts[i]!, shown).toBeGreaterThanOrEqual(windowMs - 150);
    // ...and the limit is used: about 3 per 0.5 s over 4 s (the last instance to start ends last).
    expect(starts.length, shown).toBeGreaterThanOrEqual(20);
    // (The window check above bounds the count over the span the starts cover, however late a loaded machine started an instance.)
    expect(starts.length, shown).toBeLessThanOrEqual(limit * (Math.floor((starts.at(-1)! - starts[0]!) / windowMs) + 1));
    // Reservations spread the starts over the instances rather than letting one win every race.
    for (const r of results) expect(r.stdout.trim().split('\n').length, shown).toBeGreaterThanOrEqual(2);
    // The starts as committed in Redis: the limit holds exactly, and every run was committed.
    const committed = spawnSync('redis-cli', ['-p', String(redis().port), 'zrange', `rpr:{${name}}:starts`, '0', '-1', 'withscores'], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .filter((_line, i) => i % 2 === 1)
      .map(Number)
      .sort((x, y) => x - y);
    expect(committed).toHaveLength(starts.length);
    for (let i = 0; i + limit < committed.length; i++) expect(committed[i + limit]! - committed[i]!).toBeGreaterThanOrEqual(windowMs);
  }, 40_000);

  it('token-bucket over three instances: burst at once, then one token every WINDOW/N across all of them', async () => {
    const name = `job${jobs++}`;
    const all = ['a', 'b', 'c'].map(() =>
      start(['token-bucket', '--rate', '10/1s', '--burst', '2', '--for', '3s', '--json', '--coordinate', redis().url, '--name', name, '--', 'true'], { timeoutMs: 30_000 }),
    );
    const results = await Promise.all(all.map((i) => i.done));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const starts = results
      .flatMap((r) => r.stdout.trim().split('\n'))
      .map((line) => Date.parse((JSON.parse(line) as { start: string }).start))
      .sort((x, y) => x - y);
    const shown = starts.map((t) => t - starts[0]!).join(' ');
    // Over any stretch L at most burst + L x 10/s starts (150 ms for reading the start late, each
    // instance on its own reading of Redis's clock, as for the rate limit above).
    for (let i = 0; i < starts.length; i++) {
      for (let j = i; j < starts.length; j++) expect(j - i + 1, shown).toBeLessThanOrEqual(2 + ((starts[j]! - starts[i]! + 150) * 10) / 1000);
    }
    expect(starts.length, shown).toBeGreaterThanOrEqual(25);
  }, 40_000);
});
