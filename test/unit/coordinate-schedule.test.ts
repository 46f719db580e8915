// The coordinated schedules in one process against a real redis-server, on a made-up wall clock:
// instances agree on an interval grid whatever their start times, claim each slot once, leave a
// slot reached too late alone, follow a grid Redis lost and got back from another instance, refuse
// a different schedule, and behave as --on-coordination-loss says without Redis.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coordinate, parseRedisUrl, type Coordination } from '../../src/coordinate/index.js';
import { RedisLink } from '../../src/coordinate/redis.js';
import type { JobEvent } from '../../src/job/events.js';
import { intervalSchedule } from '../../src/schedule/interval.js';
import type { Slot, SlotShape } from '../../src/schedule/types.js';
import { freePort, HAVE_REDIS, startRedis, type RedisServer } from '../helpers/redis-server.js';

let redis: RedisServer;
const open: Coordination[] = [];
beforeAll(async () => {
  if (HAVE_REDIS) redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await redis?.dispose();
});

const T = 1_800_000_000_000;
let jobs = 0;

/** One instance; without skipOverlap (--on-overlap queue, kill, allow), runs of instances may overlap. */
function make(name: string, instance: string, clock: { now: number }, slots: SlotShape, url = redis.url, onLoss: 'skip' | 'run-local' = 'skip', skipOverlap = false) {
  const lines: string[] = [];
  const events: JobEvent[] = [];
  // A loaded machine may take a while to connect to the test's Redis; the offline cases stay quick.
  const c = coordinate(intervalSchedule(100), {
    url,
    name,
    onLoss,
    slots,
    jitterMs: 0,
    skipOverlap,
    instance,
    wallNow: () => clock.now,
    warn: (l) => lines.push(l),
    verbose: (l) => lines.push(l),
    link: { connectTimeoutMs: url === redis.url ? 3000 : 300 },
  });
  open.push(c);
  c.schedule.bind?.((e) => events.push(e));
  return { c, s: c.schedule, lines, events };
}

const grid = (everyMs: number): SlotShape => ({ kind: 'grid', everyMs, firstDelayMs: 0 });
const ctx = (now: number) => ({ nowAt: 0, nowWall: now, notBefore: true });
const wallOf = (slot: unknown): number => ((slot as Slot).due as { wall: number }).wall;

describe.skipIf(!HAVE_REDIS)('coordinated interval and cron schedules', () => {
  it('instances started at different times share one grid and claim each slot once', async () => {
    const name = `g${jobs++}`;
    const clock = { now: T };
    const a = make(name, 'a:1', clock, grid(100));
    expect(wallOf(await a.s.first(ctx(T)))).toBe(T);
    clock.now = T + 250;
    const b = make(name, 'b:2', clock, grid(100));
    expect(wallOf(await b.s.first(ctx(T + 250)))).toBe(T + 300);
    expect(wallOf(await a.s.after({ wall: T }, ctx(T + 250)))).toBe(T + 300);
    clock.now = T + 301;
    expect(await a.s.claim!({ wall: T + 300 }, ctx(T + 301))).toBe('run');
    expect(await b.s.claim!({ wall: T + 300 }, ctx(T + 301))).toBe('pass');
    expect(b.lines.at(-1)).toBe(`rpr: coordination: slot 3 (${new Date(T + 300).toISOString()}) runs on a:1`);
    const last = b.events.at(-1);
    expect(last?.type === 'coordination' && last.state).toMatchObject({ connected: true, claimed: 0, lost: 1 });
  });

  it('every instance late alike, or busy: a late claim takes the first free slot already due, up to 2 s back', async () => {
    const name = `g${jobs++}`;
    const clock = { now: T };
    const a = make(name, 'a:1', clock, grid(100));
    const b = make(name, 'b:2', clock, grid(100));
    await a.s.first(ctx(T));
    await b.s.first(ctx(T));
    // Both reach slot 3 (T+300) 250 ms late: slots 4 and 5 are due by then, and nobody has run them.
    clock.now = T + 550;
    expect(await a.s.claim!({ wall: T + 300 }, ctx(clock.now))).toBe('run');
    // b finds slot 3 taken and takes slot 4 in the same round trip.
    expect(await b.s.claim!({ wall: T + 300 }, ctx(clock.now))).toEqual({ runAs: { wall: T + 400 } });
    expect(b.lines.slice(-2)).toEqual([`rpr: coordination: slot 3 (${new Date(T + 300).toISOString()}) runs on a:1`, `rpr: coordination: slot 4 (${new Date(T + 400).toISOString()}) runs here (b:2)`]);
    // a ran slot 3 from T+550 on: slot 4 fell due before that run, so it is a's to try again; taken, a gets slot 5.
    clock.now = T + 560;
    expect(wallOf(await a.s.after({ wall: T + 300 }, ctx(clock.now)))).toBe(T + 400);
    expect(await a.s.claim!({ wall: T + 400 }, ctx(clock.now))).toEqual({ runAs: { wall: T + 500 } });
    // a's run of slot 5 went on from T+560 to T+950: slots 6 to 9 fell due meanwhile. Every instance
    // may have been busy then, so a goes on with slot 6, late, rather than leave it to nobody.
    clock.now = T + 950;
    expect(wallOf(await a.s.after({ wall: T + 500 }, ctx(clock.now)))).toBe(T + 600);
    // b's run of slot 4 ended at T+570: slot 5 next (due before b's run started), taken by a: b takes slot 6.
    expect(wallOf(await b.s.after({ wall: T + 400 }, ctx(clock.now)))).toBe(T + 500);
    expect(await b.s.claim!({ wall: T + 500 }, ctx(clock.now))).toEqual({ runAs: { wall: T + 600 } });
    // Every slot offered taken: the next one tried is the one after the last offered.
    clock.now = T + 960;
    expect(await a.s.claim!({ wall: T + 600 }, ctx(clock.now))).toEqual({ runAs: { wall: T + 700 } });
    spawnSync('redis-cli', ['-p', String(redis.port), 'mset', `rpr:{${name}}:slot:${T + 800}`, 'c:3', `rpr:{${name}}:slot:${T + 900}`, 'c:3']);
    expect(await b.s.claim!({ wall: T + 700 }, ctx(clock.now))).toBe('pass');
    expect(b.lines.slice(-3).map((l) => l.replace(/ \(.*\)/, ''))).toEqual(['rpr: coordination: slot 7 runs on a:1', 'rpr: coordination: slot 8 runs on c:3', 'rpr: coordination: slot 9 runs on c:3']);
    expect(await b.s.after({ wall: T + 700 }, ctx(clock.now))).toEqual({ due: { wall: T + 1_000 }, skipped: 0 });
    // Catching up goes back 2 s at most: slots older than that are skipped.
    clock.now = T + 3_500;
    expect(await b.s.claim!({ wall: T + 1_000 }, ctx(clock.now))).toBe('run');
    expect(await a.s.claim!({ wall: T + 1_000 }, ctx(clock.now))).toEqual({ runAs: { wall: T + 1_100 } });
    clock.now = T + 3_600;
    expect(await a.s.after({ wall: T + 1_100 }, ctx(clock.now))).toEqual({ due: { wall: T + 1_600 }, skipped: 4, lastSkipped: { wall: T + 1_500 } });
    // --http-aware holding the next run back (now moved forward, held): no catching up.
    expect(wallOf(await b.s.after({ wall: T + 1_000 }, { nowAt: 0, nowWall: T + 4_000, notBefore: true, held: true }))).toBe(T + 4_000);
  });

  it('cron: reached late, the fire times already due are offered too, as interval slots are; a taken one is followed by the next even when past', async () => {
    const name = `c${jobs++}`;
    const clock = { now: T };
    const fires = (from: number, now: number, notBefore: boolean) => {
      let next = Math.floor(from / 1000) * 1000 + 1000;
      while (notBefore && next < now) next += 1000;
      return { due: { wall: next }, skipped: 0 };
    };
    const inner = {
      describe: 'cron "* * * * * *" in UTC',
      first: (c: { nowWall: number }) => fires(c.nowWall, c.nowWall, false),
      after: (prev: { wall: number } | { at: number }, c: { nowWall: number; notBefore?: boolean }) => fires((prev as { wall: number }).wall, c.nowWall, c.notBefore === true),
    };
    const c = coordinate(inner, {
      url: redis.url,
      name,
      onLoss: 'skip',
      slots: { kind: 'instants', key: inner.describe },
      jitterMs: 0,
      skipOverlap: false,
      instance: 'b:2',
      wallNow: () => clock.now,
      warn: () => undefined,
    });
    open.push(c);
    await c.schedule.first(ctx(T));
    spawnSync('redis-cli', ['-p', String(redis.port), 'set', `rpr:{${name}}:slot:${T + 1000}`, 'a:1']);
    // Reached 1.1 s late: T+1000 is a's, T+2000 (already due) is free and taken in the same claim.
    clock.now = T + 2_100;
    expect(await c.schedule.claim!({ wall: T + 1000 }, ctx(clock.now))).toEqual({ runAs: { wall: T + 2000 } });
    expect(wallOf(await c.schedule.after({ wall: T + 2000 }, ctx(clock.now)))).toBe(T + 3000);
    // Every fire time offered taken: the next one tried is the one after them, however late (2 s at most).
    spawnSync('redis-cli', ['-p', String(redis.port), 'mset', `rpr:{${name}}:slot:${T + 3000}`, 'a:1', `rpr:{${name}}:slot:${T + 4000}`, 'a:1']);
    clock.now = T + 4_500;
    expect(await c.schedule.claim!({ wall: T + 3000 }, ctx(clock.now))).toBe('pass');
    expect(wallOf(await c.schedule.after({ wall: T + 3000 }, ctx(clock.now)))).toBe(T + 5000);
    clock.now = T + 5_050;
    expect(await c.schedule.claim!({ wall: T + 5000 }, ctx(clock.now))).toBe('run');
  });

  it('a slot reached long after it was due is left alone (its claim may be gone)', async () => {
    const clock = { now: T };
    const a = make(`g${jobs++}`, 'a:1', clock, grid(100));
    await a.s.first(ctx(T));
    clock.now = T + 31_000;
    expect(await a.s.claim!({ wall: T }, ctx(clock.now))).toBe('pass');
    expect(a.lines.at(-1)).toMatch(/slot 0 .* reached 31s late: left alone/);
  });

  it('an instance with another interval is refused; one with the same interval follows a grid restarted elsewhere', async () => {
    const name = `g${jobs++}`;
    const clock = { now: T };
    const a = make(name, 'a:1', clock, grid(100));
    await a.s.first(ctx(T));
    const other = make(name, 'c:3', clock, grid(150));
    await expect(other.s.first(ctx(T))).rejects.toMatchObject({ code: 'E_COORDINATION', message: expect.stringMatching(/is "interval 100ms", this instance's is "interval 150ms"/) });
    // Redis forgets the job (a restart without persistence); a newcomer starts a grid 30 ms off.
    spawnSync('redis-cli', ['-p', String(redis.port), 'del', `rpr:{${name}}:job`]);
    clock.now = T + 1030;
    const d = make(name, 'd:4', clock, grid(100));
    expect(wallOf(await d.s.first(ctx(clock.now)))).toBe(T + 1030);
    clock.now = T + 1100;
    expect(await a.s.claim!({ wall: T + 1100 }, ctx(clock.now))).toBe('pass');
    expect(wallOf(await a.s.after({ wall: T + 1100 }, ctx(clock.now)))).toBe(T + 1130);
  });

  it('cron: each fire time once; instances must have the same expression', async () => {
    const name = `c${jobs++}`;
    const clock = { now: T };
    const inner = { describe: 'cron "* * * * * *" in UTC', first: () => ({ due: { wall: T + 1000 }, skipped: 0 }), after: () => null };
    const mk = (instance: string, describe = inner.describe) => {
      const c = coordinate(
        { ...inner, describe },
        { url: redis.url, name, onLoss: 'skip', slots: { kind: 'instants', key: describe }, jitterMs: 0, skipOverlap: false, instance, wallNow: () => clock.now, warn: () => undefined },
      );
      open.push(c);
      return c.schedule;
    };
    const a = mk('a:1');
    const b = mk('b:2');
    await a.first(ctx(T));
    await b.first(ctx(T));
    clock.now = T + 1001;
    expect([await b.claim!({ wall: T + 1000 }, ctx(clock.now)), await a.claim!({ wall: T + 1000 }, ctx(clock.now))]).toEqual(['run', 'pass']);
    await expect(mk('c:3', 'cron "*/2 * * * * *" in UTC').first(ctx(T))).rejects.toMatchObject({ code: 'E_COORDINATION' });
  });

  it('without Redis: skip passes every slot, run-local runs it; one line says so', async () => {
    const port = await freePort();
    const clock = { now: T };
    const skip = make(`o${jobs++}`, 'a:1', clock, grid(100), `redis://127.0.0.1:${port}`, 'skip');
    const local = make(`o${jobs++}`, 'b:2', clock, grid(100), `redis://127.0.0.1:${port}`, 'run-local');
    expect(wallOf(await skip.s.first(ctx(T)))).toBe(T);
    await local.s.first(ctx(T));
    expect(await skip.s.claim!({ wall: T }, ctx(T))).toBe('pass');
    expect(await local.s.claim!({ wall: T }, ctx(T))).toBe('run');
    expect(skip.lines.filter((l) => l.includes('Redis at'))).toEqual([
      expect.stringMatching(/^rpr: coordination: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(connect ECONNREFUSED .*\); no slot runs here until it is back \(--on-coordination-loss skip\)$/),
    ]);
    expect(local.lines.filter((l) => l.includes('Redis at'))).toEqual([expect.stringMatching(/every slot runs here until it is back \(--on-coordination-loss run-local\)$/)]);
    const state = (events: JobEvent[]) => events.filter((e) => e.type === 'coordination').at(-1);
    expect(state(skip.events)).toMatchObject({ state: { connected: false, unavailable: 1, local: 0 } });
    expect(state(local.events)).toMatchObject({ state: { connected: false, unavailable: 0, local: 1 } });
  });
});

describe.skipIf(!HAVE_REDIS)('--on-overlap skip across instances: the lease', () => {
  const lease = (name: string) => spawnSync('redis-cli', ['-p', String(redis.port), 'get', `rpr:{${name}}:lease`], { encoding: 'utf8' }).stdout.trim();
  const pttl = (name: string) => Number(spawnSync('redis-cli', ['-p', String(redis.port), 'pttl', `rpr:{${name}}:lease`], { encoding: 'utf8' }).stdout.trim());

  it("a slot due while another instance runs is skipped and said so; the run's end frees the next slot, not those due during it", async () => {
    const name = `l${jobs++}`;
    const clock = { now: T };
    const a = make(name, 'a:1', clock, grid(100), redis.url, 'skip', true);
    const b = make(name, 'b:2', clock, grid(100), redis.url, 'skip', true);
    await a.s.first(ctx(T));
    await b.s.first(ctx(T));
    expect(await a.s.claim!({ wall: T }, ctx(T))).toBe('run');
    expect(lease(name)).toBe(`a:1 ${T}`);
    // a's run of slot 0 goes on: b passes slot 1, and says why.
    clock.now = T + 101;
    expect(await b.s.claim!({ wall: T + 100 }, ctx(clock.now))).toBe('pass');
    expect(b.lines.at(-1)).toBe(
      `rpr: coordination: slot 1 (${new Date(T + 100).toISOString()}) skipped: due while the run of slot 0 (${new Date(T).toISOString()}) on a:1 went on (--on-overlap skip)`,
    );
    expect(b.events.filter((e) => e.type === 'skipped')).toEqual([{ type: 'skipped', count: 1 }]);
    // a's run ends at T+250: slot 2 was due during it too; b, catching up, skips it and takes slot 3.
    a.s.runEnded!({ dueWall: T, endWall: T + 250 });
    // (Sent at once on a's connection; b's is another.)
    for (let i = 0; i < 50 && lease(name) !== ''; i++) await new Promise((r) => setTimeout(r, 20));
    clock.now = T + 301;
    expect(wallOf(await b.s.after({ wall: T + 100 }, ctx(clock.now)))).toBe(T + 200);
    expect(await b.s.claim!({ wall: T + 200 }, ctx(clock.now))).toEqual({ runAs: { wall: T + 300 } });
    expect(b.lines.slice(-2).map((l) => l.replace(/ \(.*?\)/, ''))).toEqual([
      `rpr: coordination: slot 2 skipped: due while the run of slot 0 (${new Date(T).toISOString()}) on a:1 went on (--on-overlap skip)`,
      'rpr: coordination: slot 3 runs here (b:2)',
    ]);
    // a, after its run: the slots due during it are skipped (it says so too), the next one is b's.
    expect(await a.s.claim!({ wall: T + 300 }, ctx(clock.now))).toBe('pass');
    expect(lease(name)).toBe(`b:2 ${T + 300}`);
  });

  it('renewed while the run goes on; given back when the job closes before the run', async () => {
    const name = `l${jobs++}`;
    const clock = { now: T };
    const a = make(name, 'a:1', clock, grid(100), redis.url, 'skip', true);
    await a.s.first(ctx(T));
    expect(await a.s.claim!({ wall: T }, ctx(T))).toBe('run');
    await new Promise((r) => setTimeout(r, 1600));
    // Renewed once a second: 5 s again, less at most a second.
    expect(pttl(name)).toBeGreaterThan(3900);
    await a.s.close!();
    expect(lease(name)).toBe('');
  });

  it('without --on-overlap skip there is no lease: runs of instances may overlap', async () => {
    const name = `l${jobs++}`;
    const clock = { now: T };
    const a = make(name, 'a:1', clock, grid(100));
    const b = make(name, 'b:2', clock, grid(100));
    await a.s.first(ctx(T));
    await b.s.first(ctx(T));
    expect(await a.s.claim!({ wall: T }, ctx(T))).toBe('run');
    clock.now = T + 101;
    expect(await b.s.claim!({ wall: T + 100 }, ctx(clock.now))).toBe('run');
    expect(lease(name)).toBe('');
  });
});

describe.skipIf(!HAVE_REDIS)('the Redis link', () => {
  it('a Redis that stops answering: the call times out, later claims are not held up, a background PING finds it back', async () => {
    const frozen = await startRedis();
    const downs: string[] = [];
    let ups = 0;
    const link = new RedisLink(parseRedisUrl(frozen.url), { down: (reason) => downs.push(reason), up: () => ups++ }, { connectTimeoutMs: 3000 });
    try {
      await link.connect();
      expect(link.mayAsk()).toBe(true);
      frozen.freeze(true);
      await expect(link.call('rprJoin', ['k'], ['x', 1000], 300)).rejects.toThrow(/no answer within 300ms/);
      expect(downs).toEqual(['no answer within 300ms']);
      // Asking again does not wait on it: the answer is "not now", at once, while a PING probes.
      const asked = Date.now();
      expect(link.mayAsk()).toBe(false);
      expect(link.mayAsk()).toBe(false);
      expect(Date.now() - asked).toBeLessThan(50);
      frozen.freeze(false);
      const until = Date.now() + 5000;
      while (!link.mayAsk() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(link.usable).toBe(true);
      expect(ups).toBe(1);
    } finally {
      link.close();
      await frozen.dispose();
    }
  });

  it('a script that fails with an error reply (READONLY, NOPERM, WRONGTYPE...): Redis stays down, the next call is the probe, once a second', async () => {
    const server = await startRedis();
    const downs: string[] = [];
    let ups = 0;
    const link = new RedisLink(parseRedisUrl(server.url), { down: (reason) => downs.push(reason), up: () => ups++ }, { connectTimeoutMs: 3000 });
    try {
      await link.connect();
      spawnSync('redis-cli', ['-p', String(server.port), 'set', 'w:{x}:starts', 'not a sorted set']);
      const window = () => link.call('rprWindow', ['w:{x}:job', 'w:{x}:starts', 'w:{x}:reserved'], ['reserve', 'rate-limit 1/1000ms', 60_000, Date.now(), 'a', 1, 1000, 0, Date.now()], 1000);
      await expect(window()).rejects.toThrow(/WRONGTYPE/);
      expect(downs).toHaveLength(1);
      // No PING says it is back (PING would answer while the script keeps failing)...
      await new Promise((r) => setTimeout(r, 1300));
      expect(ups).toBe(0);
      // ...the next call probes, at most once a second; it still fails: no new "lost" line.
      expect(link.mayAsk()).toBe(true);
      expect(link.mayAsk()).toBe(false);
      await expect(window()).rejects.toThrow(/WRONGTYPE/);
      expect(downs).toHaveLength(1);
      spawnSync('redis-cli', ['-p', String(server.port), 'del', 'w:{x}:starts']);
      await new Promise((r) => setTimeout(r, 1000));
      expect(link.mayAsk()).toBe(true);
      await window();
      expect(ups).toBe(1);
      expect(link.usable).toBe(true);
    } finally {
      link.close();
      await server.dispose();
    }
  });
});
