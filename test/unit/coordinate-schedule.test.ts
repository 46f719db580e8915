// The coordinated schedules in one process against a real redis-server, on a made-up wall clock:
// instances agree on an interval grid whatever their start times, claim each slot once, leave a
// slot reached too late alone, follow a grid Redis lost and got back from another instance, refuse
// a different schedule, and behave as --on-coordination-loss says without Redis.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coordinate, type Coordination, type JobShape } from '../../src/coordinate/index.js';
import type { JobEvent } from '../../src/job/events.js';
import { intervalSchedule } from '../../src/schedule/interval.js';
import type { Slot } from '../../src/schedule/types.js';
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

function make(name: string, instance: string, clock: { now: number }, shape: JobShape, url = redis.url, onLoss: 'skip' | 'run-local' = 'skip') {
  const lines: string[] = [];
  const events: JobEvent[] = [];
  // A loaded machine may take a while to connect to the test's Redis; the offline cases stay quick.
  const c = coordinate(intervalSchedule(100), { url, name, onLoss, shape, instance, wallNow: () => clock.now, warn: (l) => lines.push(l), verbose: (l) => lines.push(l), link: { connectTimeoutMs: url === redis.url ? 3000 : 300 } });
  open.push(c);
  c.schedule.bind?.((e) => events.push(e));
  return { c, s: c.schedule, lines, events };
}

const grid = (everyMs: number): JobShape => ({ kind: 'interval', everyMs, firstDelayMs: 0, jitterMs: 0 });
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
      const c = coordinate({ ...inner, describe }, { url: redis.url, name, onLoss: 'skip', shape: { kind: 'cron', jitterMs: 0 }, instance, wallNow: () => clock.now, warn: () => undefined });
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
