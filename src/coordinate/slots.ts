/**
 * Exactly one run per slot across instances, for interval and cron schedules. A slot has the same
 * identity on every instance - its due time on the wall clock: for an interval job a point of a
 * grid anchored at an origin kept in Redis (the first instance sets it), for a cron job the fire
 * time itself - and when it is reached each instance tries to claim it (SET NX PX); the one that
 * wins runs it, the others pass it and wait for the next one.
 */
import type { Due } from '../clock/clock.js';
import { RprError } from '../errors/index.js';
import type { ClaimAnswer, Schedule, Slot, SlotAnswer, SlotContext } from '../schedule/types.js';
import { formatDuration } from '../units/duration.js';
import { iso, mismatch, type Shared } from './shared.js';

/**
 * Claims not answered by then are given up (the slot is treated as Redis being away). Generous: a
 * claim given up may still have been won in Redis, and then nobody runs that slot.
 */
const MAX_CLAIM_WAIT_MS = 2000;
/** How late a slot after one taken elsewhere is still tried (see catchUp). */
const CATCH_UP_MS = MAX_CLAIM_WAIT_MS;
/** Slots are claimed at most this late (plus the interval, plus --jitter); claims live twice that. */
const LATE_MS = 30_000;

interface Claimer {
  /** The job's shape as this instance sees it (grid origin included). */
  shape(): string;
  /** Takes the shape Redis has when it differs; false when this instance cannot follow it. */
  adopt(theirs: string): boolean;
  label(dueWall: number): string;
  maxLateMs: number;
  shapeTtlMs: number;
}

/** A claim's answer, where 'taken' is a pass because another instance holds the slot. */
type Verdict = ClaimAnswer | 'taken';

type After = Schedule['after'];

/**
 * Which slot an instance tries after one it claimed. Every instance may reach a slot late alike (a
 * loaded machine, a slow claim), so skipping every slot already past - as a late interval job does
 * - could leave a slot to nobody. Instead an instance tries every slot up to CATCH_UP_MS past due,
 * except those that fell due while it was running one (--overlap skip: it could not have run them;
 * another instance may have): after a slot taken elsewhere, the next slot however late; after a
 * slot run here, the next one if it fell due before that run started, else the first not yet due.
 * Redis being away, or --http-aware holding the next run back, skip slots as usual.
 */
function catchUp(wallNow: () => number) {
  let takenWall: number | undefined;
  let won: { wall: number; runFrom: number } | undefined;
  return {
    note(due: Due, verdict: Verdict): ClaimAnswer {
      const wall = 'wall' in due ? due.wall : undefined;
      takenWall = verdict === 'taken' ? wall : undefined;
      won = verdict === 'run' && wall !== undefined ? { wall, runFrom: wallNow() } : undefined;
      return verdict === 'taken' ? 'pass' : verdict;
    },
    async after(prev: Due, ctx: Parameters<After>[1], after: After): Promise<SlotAnswer> {
      const wall = 'wall' in prev ? prev.wall : undefined;
      const held = ctx.nowWall > wallNow();
      if (!ctx.notBefore || wall === undefined || held || (wall !== takenWall && wall !== won?.wall)) return after(prev, ctx);
      const early = await after(prev, { ...ctx, nowAt: ctx.nowAt - CATCH_UP_MS, nowWall: ctx.nowWall - CATCH_UP_MS });
      if (wall === takenWall || !early || 'end' in early) return early;
      return 'wall' in early.due && early.due.wall < won!.runFrom ? early : after(prev, ctx);
    },
  };
}

/** The claim at a reached slot: run, pass (another instance has it), or Redis-away behaviour. */
function claimSlot(shared: Shared, claimer: Claimer) {
  const { link, status, keys, instance } = shared;
  const offline = (label: string): ClaimAnswer => {
    if (shared.onLoss === 'skip') {
      status.count('unavailable');
      status.say(`${label} not run: Redis is unavailable`);
      return 'pass';
    }
    status.count('local');
    status.say(`${label} runs here without Redis (run-local)`);
    return 'run';
  };
  return async (due: Due): Promise<Verdict> => {
    const dueWall = 'wall' in due ? due.wall : shared.wallNow();
    const label = claimer.label(dueWall);
    const late = shared.wallNow() - dueWall;
    if (late > claimer.maxLateMs) {
      // Its claim may have expired already: running it now could run it twice.
      status.say(`${label} reached ${formatDuration(late)} late: left alone`);
      return 'pass';
    }
    if (!link.mayAsk()) return offline(label);
    let answer: string[];
    try {
      answer = await link.call('rprClaim', [keys.shape, keys.slot(dueWall)], [claimer.shape(), claimer.shapeTtlMs, instance, 2 * claimer.maxLateMs], MAX_CLAIM_WAIT_MS);
    } catch {
      return offline(label);
    }
    const [verdict, who = '?'] = answer;
    if (verdict === 'won') {
      status.count('claimed');
      status.say(`${label} runs here (${instance})`);
      return 'run';
    }
    if (verdict === 'lost') {
      status.count('lost');
      status.say(`${label} runs on ${who}`);
      return 'taken';
    }
    const mine = claimer.shape();
    if (!claimer.adopt(who)) throw mismatch(shared, who, mine);
    status.say(`the job's grid in Redis is now ${who} (it was lost, or started anew): ${label} is not on it`);
    return 'pass';
  };
}

/** Joins the job in Redis at the start: its shape, or ours when it has none. */
async function join(shared: Shared, mine: string, ttlMs: number): Promise<string | undefined> {
  await shared.link.connect();
  if (!shared.link.usable) return undefined;
  shared.status.connected();
  try {
    const [theirs] = await shared.link.call('rprJoin', [shared.keys.shape], [mine, ttlMs], MAX_CLAIM_WAIT_MS);
    return theirs;
  } catch (error) {
    if (error instanceof RprError) throw error;
    return undefined;
  }
}

export interface GridOptions {
  everyMs: number;
  /** --delay-first: the first instance's first slot is this much after it starts. */
  firstDelayMs: number;
  /** --start-at: the first instance's first slot (epoch ms). */
  startWall?: number;
  jitterMs: number;
}

/**
 * An interval job's slots: origin + k x every on the wall clock, origin shared through Redis, so
 * that instances started at different times agree on slot k. The grid replaces the local
 * interval schedule (whose slots count from each instance's own start).
 */
export function gridSchedule(shared: Shared, grid: GridOptions, close: () => Promise<void>): Schedule {
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
  const maxLateMs = Math.max(every, LATE_MS) + grid.jitterMs;
  const claimer: Claimer = {
    shape: () => shapeOf(origin),
    adopt,
    label: (dueWall) => `slot ${Math.round((dueWall - origin) / every)} (${iso(dueWall)})`,
    maxLateMs,
    // Kept while any instance claims; gone after a long quiet spell, so the job may then change.
    shapeTtlMs: Math.max(10 * every, 3_600_000),
  };
  const claim = claimSlot(shared, claimer);
  const late = catchUp(shared.wallNow);
  /** The next slot on the grid; with notBefore, the first not already past. */
  const gridAfter = (prev: Due, ctx: SlotContext & { notBefore?: boolean }): Slot => {
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
      const proposal = grid.startWall ?? now + grid.firstDelayMs;
      origin = proposal;
      const theirs = await join(shared, shapeOf(proposal), claimer.shapeTtlMs);
      if (theirs !== undefined && !adopt(theirs)) throw mismatch(shared, theirs, shapeOf(proposal));
      shared.status.say(`job "${shared.name}": slots every ${formatDuration(every)} from ${iso(origin)}${theirs === undefined ? ' (this instance\'s own until Redis answers)' : ''}; this instance is ${shared.instance}`);
      // From when this instance started, not when Redis answered: the first instance's first slot is the origin.
      return { due: { wall: at(indexFrom(Math.max(now, proposal))) }, skipped: 0 };
    },
    after: (prev, ctx) => late.after(prev, ctx, gridAfter),
    claim: async (due) => late.note(due, await claim(due)),
    close,
  };
}

/** A cron job's slots are its fire times: the same instants on every instance. */
export function cronCoordinated(shared: Shared, inner: Schedule, jitterMs: number, close: () => Promise<void>): Schedule {
  const mine = inner.describe;
  const claimer: Claimer = {
    shape: () => mine,
    adopt: (theirs) => theirs === mine,
    label: (dueWall) => `fire time ${iso(dueWall)}`,
    maxLateMs: LATE_MS + jitterMs,
    shapeTtlMs: 7 * 86_400_000,
  };
  const claim = claimSlot(shared, claimer);
  const late = catchUp(shared.wallNow);
  return {
    describe: `${inner.describe}, one run per fire time across instances`,
    ...(inner.missed ? { missed: inner.missed } : {}),
    ...(inner.wantsOutput ? { wantsOutput: true } : {}),
    bind(emit) {
      shared.status.bind(emit);
      inner.bind?.(emit);
    },
    async first(ctx) {
      const theirs = await join(shared, mine, claimer.shapeTtlMs);
      if (theirs !== undefined && theirs !== mine) throw mismatch(shared, theirs, mine);
      shared.status.say(`job "${shared.name}": ${mine}; this instance is ${shared.instance}`);
      // Joining may have taken a while (Redis away): the first fire time is after now, not after then.
      const waited = Math.max(0, shared.wallNow() - ctx.nowWall);
      return inner.first({ ...ctx, nowAt: ctx.nowAt + waited, nowWall: ctx.nowWall + waited });
    },
    after: (prev, ctx) => late.after(prev, ctx, (p, c) => inner.after(p, c)),
    claim: async (due) => late.note(due, await claim(due)),
    async close() {
      await Promise.all([inner.close?.(), close()]);
    },
  };
}
