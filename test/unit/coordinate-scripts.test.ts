// The Lua scripts of --coordinate against a real redis-server, with simulated time (the scripts take
// their times as arguments): a slot is claimed once; the shared sliding window and token bucket hold
// their limits over the committed start times of many instances that reserve, wake late and commit
// in any order; reservations are the earliest allowed times.
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisLink } from '../../src/coordinate/redis.js';
import { parseRedisUrl } from '../../src/coordinate/url.js';
import { HAVE_REDIS, startRedis, type RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
let link: RedisLink;
/** A plain client, to read what the scripts left. */
let plain: Redis;
const get = (key: string): Promise<string | null> => plain.get(key);
let job = 0;

beforeAll(async () => {
  if (!HAVE_REDIS) return;
  server = await startRedis();
  link = new RedisLink(parseRedisUrl(server.url), { down: () => undefined, up: () => undefined });
  await link.connect();
  plain = new Redis(server.port, '127.0.0.1');
});
afterAll(async () => {
  plain?.disconnect();
  link?.close();
  await server?.dispose();
});

const keysOf = (name: string) => ({
  shape: `t:{${name}}:job`,
  lease: `t:{${name}}:lease`,
  ran: `t:{${name}}:ran`,
  starts: `t:{${name}}:starts`,
  reserved: `t:{${name}}:reserved`,
  bucket: `t:{${name}}:bucket`,
});

/** CLAIM of `slots` (due times) for `who`; with leaseTtl > 0 the lease rules apply. */
const claimer =
  (k: ReturnType<typeof keysOf>, shape = 'interval 100ms from 0', claimTtl = 60_000) =>
  (who: string, slots: number[], leaseTtl = 0, checkEarly = 0) =>
    link.call('rprClaim', [k.shape, k.lease, k.ran, ...slots.map((t) => `${k.shape}:slot:${t}`)], [shape, 60_000, who, claimTtl, leaseTtl, checkEarly, ...slots], 1000);

describe.skipIf(!HAVE_REDIS)('CLAIM', () => {
  it('the first claim of a slot wins, every later one loses and names the winner', async () => {
    const claim = claimer(keysOf(`claim${job++}`), 'interval 200ms from 0');
    expect(await claim('a:1', [1000])).toEqual(['won', 'a:1']);
    expect(await claim('b:2', [1000])).toEqual(['lost', 'a:1']);
    expect(await claim('a:1', [1000])).toEqual(['lost', 'a:1']);
  });

  it('offered several slots (a late instance), takes the first nobody holds and names the holders of those before it', async () => {
    const claim = claimer(keysOf(`claim${job++}`));
    expect(await claim('a:1', [100])).toEqual(['won', 'a:1']);
    expect(await claim('b:2', [100, 200, 300])).toEqual(['won', 'b:2', 'a:1']);
    expect(await claim('c:3', [100, 200, 300])).toEqual(['won', 'c:3', 'a:1', 'b:2']);
    expect(await claim('a:1', [100, 200, 300])).toEqual(['lost', 'a:1', 'b:2', 'c:3']);
  });

  it('answers moved with the job shape Redis has when it differs, and sets it when there is none', async () => {
    const k = keysOf(`claim${job++}`);
    expect(await link.call('rprJoin', [k.shape], ['interval 200ms from 5', 60_000], 1000)).toEqual(['interval 200ms from 5']);
    expect(await link.call('rprJoin', [k.shape], ['interval 200ms from 9', 60_000], 1000)).toEqual(['interval 200ms from 5']);
    expect(await claimer(k, 'interval 200ms from 9')('x', [9])).toEqual(['moved', 'interval 200ms from 5']);
  });

  it("checking early: a slot not yet due by Redis's clock is not claimed, and the answer says Redis's time", async () => {
    const claim = claimer(keysOf(`claim${job++}`));
    const soon = Date.now() + 60_000;
    const [verdict, time] = await claim('a:1', [soon], 0, 1);
    expect(verdict).toBe('early');
    expect(Math.abs(Number(time) - Date.now())).toBeLessThan(1000);
    expect(await claim('a:1', [soon])).toEqual(['won', 'a:1']);
    expect((await claim('b:2', [Date.now() - 5], 0, 1))[0]).toBe('won');
  });

  it('a claim expires after its TTL', async () => {
    const claim = claimer(keysOf(`claim${job++}`), 's', 50);
    expect((await claim('a', [1]))[0]).toBe('won');
    await new Promise((r) => setTimeout(r, 120));
    expect((await claim('b', [1]))[0]).toBe('won');
  });
});

describe.skipIf(!HAVE_REDIS)('the lease (--on-overlap skip across instances)', () => {
  const renew = (k: ReturnType<typeof keysOf>, lease: string, ttl = 5000) => link.call('rprRenew', [k.lease], [lease, ttl], 1000);
  const release = (k: ReturnType<typeof keysOf>, lease: string, end: number) => link.call('rprRelease', [k.lease, k.ran], [lease, end, 60_000], 1000);

  it('winning a slot takes the lease; while it is held every slot offered is skipped for good, and named after the run', async () => {
    const k = keysOf(`lease${job++}`);
    const claim = claimer(k);
    expect(await claim('a:1', [100], 5000)).toEqual(['won', 'a:1']);
    expect(await get(k.lease)).toBe('a:1 100');
    // (100 is the run's own slot.)
    expect(await claim('b:2', [100, 200, 300], 5000)).toEqual(['busy', 'a:1 100', 'a:1', '!a:1 100', '!a:1 100']);
    // Given back at 350: 200 and 300 stay skipped (a late instance does not run them after the run).
    await release(k, 'a:1 100', 350);
    expect(await claim('c:3', [200, 300, 400], 5000)).toEqual(['won', 'c:3', '!a:1 100', '!a:1 100']);
  });

  it('slots due before the last run ended that nobody claimed are skipped; the first due after it is taken', async () => {
    const k = keysOf(`lease${job++}`);
    const claim = claimer(k);
    expect((await claim('a:1', [100], 5000))[0]).toBe('won');
    await release(k, 'a:1 100', 430);
    expect(await claim('b:2', [200, 300, 400, 500], 5000)).toEqual(['won', 'b:2', '!a:1 100', '!a:1 100', '!a:1 100']);
    expect(await get(k.lease)).toBe('b:2 500');
  });

  it("an instance's own lease (its release lost) does not hold up its next claim", async () => {
    const k = keysOf(`lease${job++}`);
    const claim = claimer(k);
    expect((await claim('a:1', [100], 5000))[0]).toBe('won');
    expect(await claim('a:1', [200], 5000)).toEqual(['won', 'a:1']);
    expect(await claim('a:10', [300], 5000)).toEqual(['busy', 'a:1 200', '!a:1 200']);
  });

  it('renewed while held; taken again when it had expired; lost when another took it; expires when not renewed', async () => {
    const k = keysOf(`lease${job++}`);
    const claim = claimer(k);
    expect((await claim('a:1', [100], 80))[0]).toBe('won');
    expect(await renew(k, 'a:1 100', 80)).toEqual(['held']);
    await new Promise((r) => setTimeout(r, 150));
    // Expired: a claim now is free to take the next slot (and the lease with it).
    expect(await claim('b:2', [200], 5000)).toEqual(['won', 'b:2']);
    expect(await renew(k, 'a:1 100')).toEqual(['lost', 'b:2 200']);
    await release(k, 'b:2 200', 250);
    expect(await renew(k, 'a:1 100')).toEqual(['again']);
  });

  it('a release names the latest end only, and gives back only its own lease', async () => {
    const k = keysOf(`lease${job++}`);
    const claim = claimer(k);
    expect((await claim('a:1', [100], 5000))[0]).toBe('won');
    await release(k, 'x:9 50', 999);
    expect(await get(k.lease)).toBe('a:1 100');
    await release(k, 'a:1 100', 150);
    expect(await get(k.ran)).toBe('999 x:9 50');
  });

  it('without a lease (leaseTtl 0) claims ignore it', async () => {
    const k = keysOf(`lease${job++}`);
    const claim = claimer(k);
    expect((await claim('a:1', [100], 5000))[0]).toBe('won');
    await release(k, 'a:1 100', 10_000);
    expect(await claim('b:2', [200])).toEqual(['won', 'b:2']);
    expect(await get(k.lease)).toBeNull();
    // (With the lease, the same slot would have been skipped: due before the last run ended.)
    expect(await claim('c:3', [300], 5000)).toEqual(['lost', '!a:1 100']);
  });
});

/** The earliest t >= from that adds no (limit+1)-th start to any window, by trying every candidate. */
function bruteEarliest(from: number, entries: number[], limit: number, w: number, spread: boolean): number {
  const gap = w / limit;
  const allowed = (t: number): boolean => {
    const all = [...entries, t].sort((a, b) => a - b);
    // (1e-3: epoch ms near 1.7e12 carry only about 2e-4 ms of precision.)
    for (let i = 0; i + limit < all.length; i++) if (all[i + limit]! - all[i]! < w - 1e-3) return false;
    if (spread) for (const e of entries) if (Math.abs(t - e) < gap - 1e-3) return false;
    return true;
  };
  const candidates = [from, ...entries.map((e) => e + w), ...(spread ? entries.map((e) => e + gap) : [])].filter((c) => c >= from).sort((a, b) => a - b);
  return candidates.find(allowed)!;
}

interface Sim {
  limit: number;
  window: number;
  spread: boolean;
  instances: number;
  /** Per start: how late the instance wakes after its reserved time, and how long until it wants the next. */
  plan: { late: number; think: number }[];
}

/** Instances reserving, waking late and committing against one Redis, in time order. Returns the committed starts. */
async function simulateWindow(sim: Sim): Promise<number[]> {
  const k = keysOf(`win${job++}`);
  const mine = `rate-limit ${sim.limit}/${sim.window}ms${sim.spread ? ' spread' : ''}`;
  const call = (op: string, t: number, id: string, now: number) =>
    link.call('rprWindow', [k.shape, k.starts, k.reserved], [op, mine, 3_600_000, t, id, sim.limit, sim.window, sim.spread ? 1 : 0, now], 1000);
  const t0 = 1_700_000_000_000;
  type Instance = { id: string; seq: number; next: number; phase: 'reserve' | 'commit' };
  const instances: Instance[] = Array.from({ length: sim.instances }, (_, i) => ({ id: `i${i}`, seq: 0, next: t0 + i, phase: 'reserve' }));
  const starts: number[] = [];
  let step = 0;
  while (step < sim.plan.length) {
    const inst = instances.reduce((a, b) => (b.next < a.next ? b : a));
    const now = inst.next;
    const { late, think } = sim.plan[step % sim.plan.length]!;
    if (inst.phase === 'reserve') {
      inst.seq++;
      const [verdict, at] = await call('reserve', now, `${inst.id}:${inst.seq}`, now);
      expect(verdict).toBe('at');
      expect(Number(at)).toBeGreaterThanOrEqual(now);
      inst.next = Number(at) + late;
      inst.phase = 'commit';
    } else {
      const [verdict, detail] = await call('commit', now, `${inst.id}:${inst.seq}`, now);
      if (verdict === 'run') {
        starts.push(now);
        step++;
        inst.next = now + think;
        inst.phase = 'reserve';
      } else {
        expect(verdict).toBe('wait');
        expect(Number(detail)).toBeGreaterThan(now);
        inst.next = Number(detail);
      }
    }
  }
  return starts.sort((a, b) => a - b);
}

describe.skipIf(!HAVE_REDIS)('WINDOW: a sliding window shared by instances', () => {
  it('reserve answers the earliest allowed time (checked against every candidate)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 50, max: 1000 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 12 }),
        fc.integer({ min: 0, max: 3000 }),
        async (limit, window, spread, offsets, fromOffset) => {
          const k = keysOf(`win${job++}`);
          const t0 = 1_700_000_000_000;
          const mine = `rate-limit ${limit}/${window}ms${spread ? ' spread' : ''}`;
          const call = (op: string, t: number, id: string) => link.call('rprWindow', [k.shape, k.starts, k.reserved], [op, mine, 3_600_000, t, id, limit, window, spread ? 1 : 0, t0], 1000);
          // Starts reserved and committed one by one; each reservation is the earliest allowed time.
          const entries: number[] = [];
          for (const [i, offset] of [...offsets, fromOffset].entries()) {
            const from = t0 + offset;
            const [, at] = await call('reserve', from, `c${i}`);
            expect(Number(at)).toBeCloseTo(bruteEarliest(from, entries, limit, window, spread), 2);
            expect(await call('commit', Number(at), `c${i}`)).toEqual(['run', expect.any(String)]);
            entries.push(Number(at));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it.each([
    { limit: 1, window: 100, spread: false },
    { limit: 3, window: 400, spread: false },
    { limit: 5, window: 1000, spread: false },
    { limit: 4, window: 400, spread: true },
  ])('limit %o: never more than N committed starts in any window, whatever the lateness', async ({ limit, window, spread }) => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 4 }),
        fc.array(fc.record({ late: fc.integer({ min: 0, max: 40 }), think: fc.integer({ min: 0, max: 150 }) }), { minLength: 20, maxLength: 40 }),
        async (instances, plan) => {
          const starts = await simulateWindow({ limit, window, spread, instances, plan });
          expect(starts).toHaveLength(plan.length);
          for (let i = 0; i + limit < starts.length; i++) expect(starts[i + limit]! - starts[i]!).toBeGreaterThanOrEqual(window - 1e-3);
          if (spread) for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(window / limit - 1e-3);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('uses the limit: busy instances start about N per window, not fewer', async () => {
    const plan = Array.from({ length: 60 }, () => ({ late: 2, think: 0 }));
    const starts = await simulateWindow({ limit: 3, window: 300, spread: false, instances: 3, plan });
    // 60 starts at 3 per 300 ms take about 19 windows; lateness and re-queueing cost a little.
    expect(starts.at(-1)! - starts[0]!).toBeLessThan(19 * 300 * 1.25);
  });
});

describe.skipIf(!HAVE_REDIS)('BUCKET: a token bucket shared by instances', () => {
  it.each([
    { rate: 10, window: 1000, burst: 1 },
    { rate: 10, window: 1000, burst: 3 },
    { rate: 2.5, window: 1000, burst: 2 },
  ])('%o: over any stretch L at most burst + L x rate starts, whatever the lateness', async ({ rate, window, burst }) => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 4 }),
        fc.array(fc.record({ late: fc.integer({ min: 0, max: 40 }), think: fc.integer({ min: 0, max: 300 }) }), { minLength: 15, maxLength: 35 }),
        async (count, plan) => {
          const k = keysOf(`bucket${job++}`);
          const every = window / rate;
          const mine = `token-bucket ${rate}/${window}ms burst ${burst}`;
          const call = (op: string, t: number, now: number) => link.call('rprBucket', [k.shape, k.bucket], [op, mine, 3_600_000, t, every, (burst - 1) * every, now], 1000);
          const t0 = 1_700_000_000_000;
          const instances = Array.from({ length: count }, (_, i) => ({ next: t0 + i, phase: 'reserve' as 'reserve' | 'commit' }));
          const starts: number[] = [];
          let step = 0;
          while (step < plan.length) {
            const inst = instances.reduce((a, b) => (b.next < a.next ? b : a));
            const now = inst.next;
            const { late, think } = plan[step]!;
            if (inst.phase === 'reserve') {
              const [, at] = await call('reserve', now, now);
              inst.next = Number(at) + late;
              inst.phase = 'commit';
            } else {
              const [verdict, detail] = await call('commit', now, now);
              if (verdict === 'run') {
                starts.push(now);
                step++;
                inst.next = now + think;
                inst.phase = 'reserve';
              } else inst.next = Math.max(now + 0.001, Number(detail));
            }
          }
          starts.sort((a, b) => a - b);
          for (let i = 0; i < starts.length; i++) {
            for (let j = i; j < starts.length; j++) {
              expect(j - i + 1, `starts ${i}..${j}`).toBeLessThanOrEqual(burst + ((starts[j]! - starts[i]!) * rate) / window + 1e-9);
            }
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('a full bucket lets burst runs start at once, then one every WINDOW/N', async () => {
    const k = keysOf(`bucket${job++}`);
    const mine = 'token-bucket 10/1000ms burst 3';
    const t0 = 1_700_000_000_000;
    const at: number[] = [];
    for (let i = 0; i < 5; i++) at.push(Number((await link.call('rprBucket', [k.shape, k.bucket], ['reserve', mine, 3_600_000, t0, 100, 200, t0], 1000))[1]));
    expect(at.map((t) => t - t0)).toEqual([0, 0, 0, 100, 200]);
  });
});
