/**
 * Exactly one run per slot across instances, for interval and cron schedules. A slot has the same
 * identity on every instance - its due time on Redis's clock: for an interval job a point of a grid
 * anchored at an origin kept in Redis (the first instance sets it), for a cron job the fire time
 * itself - and when it is reached each instance tries to claim it (claim.ts); the one that wins runs
 * it, the others pass it and wait for the next one. An instance that reaches a slot late offers the
 * later slots already due in the same claim (catch-up.ts says which slot comes next).
 */
import type { Due } from '../clock/clock.js';
import { RprError } from '../errors/index.js';
import type { AfterContext, Schedule, Slot } from '../schedule/types.js';
import { catchUp } from './catch-up.js';
import { claimSlot, LATE_MS, MAX_CLAIM_WAIT_MS, MAX_OFFERED, type Claimer } from './claim.js';
import { formatDuration } from '../units/duration.js';
import { Lease } from './lease.js';
import { iso, mismatch, noteSkew, type Shared } from './shared.js';

/** Joins the job in Redis at the start: its shape, or ours when it has none. */
async function join(shared: Shared, mine: string, ttlMs: number): Promise<string | undefined> {
  await shared.link.connect();
  if (!shared.link.usable) return undefined;
  shared.status.connected();
  noteSkew(shared);
  try {
    const [theirs] = await shared.link.call('rprJoin', [shared.keys.shape], [mine, ttlMs], MAX_CLAIM_WAIT_MS);
    return theirs;
  } catch (error) {
    if (error instanceof RprError) throw error;
    return undefined;
  }
}

export interface SlotOptions {
  jitterMs: number;
  /** --on-overlap skip across instances: a run holds the job's lease (lease.ts). */
  lease: boolean;
}

/** What a coordinated interval or cron schedule adds to the claim: catching up, the lease, closing. */
function claiming(shared: Shared, claimer: Claimer, options: SlotOptions, close: () => Promise<void>) {
  const lease = options.lease ? new Lease(shared, 2 * claimer.maxLateMs) : undefined;
  const claim = claimSlot(shared, claimer, lease);
  const late = catchUp();
  return {
    late,
    claim: async (due: Due) => late.note(await claim(due)),
    runEnded: (run: { endWall: number }) => void lease?.release(run.endWall),
    async close(): Promise<void> {
      // A lease still held (the job stopped between a claim and its run) is given back.
      await lease?.release(shared.wallNow());
      await close();
    },
  };
}

/**
 * An interval job's slots: origin + k x every on Redis's clock, origin shared through Redis, so
 * that instances started at different times agree on slot k. The grid replaces the local
 * interval schedule (whose slots count from each instance's own start).
 */
export function gridSchedule(shared: Shared, grid: { everyMs: number; firstDelayMs: number; startWall?: number }, options: SlotOptions, close: () => Promise<void>): Schedule {
  const every = grid.everyMs;
  let origin = 0;
  const shapeOf = (o: number): string => `interval ${every}ms from ${o}`;
  const at = (k: number): number => origin + k * every;
  /** The first k whose slot is at or after `t`. */
  const indexFrom = (t: number): number => Math.ceil((t - origin) / every);
  const adopt = (theirs: string): boolean => {
    const match = /^interval (\S+)ms from (-?\d+(?:\.\d+)?)$/.exec(theirs);
    if (!match || Number(match[1]) !== every) return false;
    origin = Number(match[2]);
    return true;
  };
  const claimer: Claimer = {
    shape: () => shapeOf(origin),
    adopt,
    label: (dueWall) => `slot ${Math.round((dueWall - origin) / every)} (${iso(dueWall)})`,
    maxLateMs: Math.max(every, LATE_MS) + options.jitterMs,
    // Kept while any instance claims; gone after a long quiet spell, so the job may then change.
    shapeTtlMs: Math.max(10 * every, 3_600_000),
    following(dueWall, nowWall) {
      const k = Math.round((dueWall - origin) / every);
      const last = Math.min(indexFrom(nowWall + 1) - 1, k + MAX_OFFERED);
      return Array.from({ length: Math.max(0, last - k) }, (_, i) => at(k + 1 + i));
    },
  };
  const { late, ...claiming_ } = claiming(shared, claimer, options, close);
  /** The next slot on the grid; with notBefore, the first not already past. */
  const gridAfter = (prev: Due, ctx: AfterContext): Slot => {
    const prevWall = 'wall' in prev ? prev.wall : shared.wallNow();
    let k = indexFrom(prevWall);
    if (at(k) <= prevWall) k++;
    let skipped = 0;
    if (ctx.notBefore) {
      // ctx's now, not the clock's: --http-aware moves it forward to make the next run wait.
      const now = indexFrom(ctx.nowWall);
      if (now > k) {
        skipped = now - k;
        k = now;
      }
    }
    return skipped > 0 ? { due: { wall: at(k) }, skipped, lastSkipped: { wall: at(k - 1) } } : { due: { wall: at(k) }, skipped: 0 };
  };
  return {
    describe: `every ${formatDuration(every)}, one run per slot across instances`,
    // A slot found long past due (the machine slept) is another instance's by then.
    missed: 'skip',
    bind: (emit) => shared.status.bind(emit),
    async first(): Promise<Slot> {
      // Slots that fell due while waiting for Redis at the start are not run late.
      await shared.link.connect();
      const now = shared.wallNow();
      // Whole milliseconds: the origin names every slot's key, and $RPR_SCHEDULED_AT shows ms.
      const proposal = Math.round(grid.startWall ?? now + grid.firstDelayMs);
      origin = proposal;
      const theirs = await join(shared, shapeOf(proposal), claimer.shapeTtlMs);
      if (theirs !== undefined && !adopt(theirs)) throw mismatch(shared, theirs, shapeOf(proposal));
      shared.status.say(
        `job "${shared.name}": slots every ${formatDuration(every)} from ${iso(origin)}${theirs === undefined ? " (this instance's own until Redis answers)" : ''}; this instance is ${shared.instance}`,
      );
      // From when this instance started, not when Redis answered: the first instance's first slot is the origin.
      return { due: { wall: at(indexFrom(Math.max(now, proposal))) }, skipped: 0 };
    },
    after: (prev, ctx) => late.after(prev, ctx, gridAfter),
    ...claiming_,
  };
}

/** A cron job's slots are its fire times: the same instants on every instance. */
export function cronCoordinated(shared: Shared, inner: Schedule, key: string, options: SlotOptions, close: () => Promise<void>): Schedule {
  const claimer: Claimer = {
    shape: () => key,
    adopt: (theirs) => theirs === key,
    label: (dueWall) => `fire time ${iso(dueWall)}`,
    maxLateMs: LATE_MS + options.jitterMs,
    shapeTtlMs: 7 * 86_400_000,
    async following(dueWall, nowWall) {
      // The schedule's own fire times after the one reached, up to now.
      const times: number[] = [];
      let t = dueWall;
      while (times.length < MAX_OFFERED) {
        const next = await inner.after({ wall: t }, { nowAt: 0, nowWall });
        if (!next || 'end' in next || !('wall' in next.due) || next.due.wall > nowWall) break;
        t = next.due.wall;
        times.push(t);
      }
      return times;
    },
  };
  const { late, ...claiming_ } = claiming(shared, claimer, options, async () => {
    await Promise.all([inner.close?.(), close()]);
  });
  return {
    describe: `${inner.describe}, one run per fire time across instances`,
    ...(inner.missed ? { missed: inner.missed } : {}),
    ...(inner.wantsOutput ? { wantsOutput: true } : {}),
    bind(emit) {
      shared.status.bind(emit);
      inner.bind?.(emit);
    },
    async first(ctx) {
      const theirs = await join(shared, key, claimer.shapeTtlMs);
      if (theirs !== undefined && theirs !== key) throw mismatch(shared, theirs, key);
      shared.status.say(`job "${shared.name}": ${key}; this instance is ${shared.instance}`);
      // Joining may have taken a while (Redis away), and the job's clock is Redis's from now on:
      // the first fire time is after Redis's now.
      const nowWall = shared.wallNow();
      return inner.first({ ...ctx, nowAt: ctx.nowAt + (nowWall - ctx.nowWall), nowWall });
    },
    after: (prev, ctx) => late.after(prev, ctx, (p, c) => inner.after(p, c)),
    ...claiming_,
  };
}
