/**
 * Exactly one run per slot across instances, for interval and cron schedules. A slot has the same
 * identity on every instance - its due time on the wall clock: for an interval job a point of a
 * grid anchored at an origin kept in Redis (the first instance sets it), for a cron job the fire
 * time itself - and when it is reached each instance tries to claim it (SET NX PX); the one that
 * wins runs it, the others pass it and wait for the next one. An instance that reaches a slot late
 * offers the later slots already due in the same claim (catch-up.ts says which slot comes next).
 */
import type { Due } from '../clock/clock.js';
import { RprError } from '../errors/index.js';
import type { AfterContext, Schedule, Slot } from '../schedule/types.js';
import { catchUp, type Verdict } from './catch-up.js';
import { formatDuration } from '../units/duration.js';
import { iso, mismatch, type Shared } from './shared.js';

/**
 * Claims not answered by then are given up (the slot is treated as Redis being away). Generous: a
 * claim given up may still have been won in Redis, and then nobody runs that slot.
 */
const MAX_CLAIM_WAIT_MS = 2000;
/** Slots are claimed at most this late (plus the interval, plus --jitter); claims live twice that. */
const LATE_MS = 30_000;
/** A late claim offers at most this many slots after the one reached. */
const MAX_OFFERED = 20;

interface Claimer {
  /** The job's shape as this instance sees it (grid origin included). */
  shape(): string;
  /** Takes the shape Redis has when it differs; false when this instance cannot follow it. */
  adopt(theirs: string): boolean;
  label(dueWall: number): string;
  maxLateMs: number;
  shapeTtlMs: number;
  /** The slots after `dueWall` already due at `nowWall` that a late claim offers too. */
  following(dueWall: number, nowWall: number): number[];
}

/** The claim at a reached slot: run, pass (another instance has it), or Redis-away behaviour. */
function claimSlot(shared: Shared, claimer: Claimer) {
  const { link, status, keys, instance } = shared;
  const offline = (label: string): Verdict => {
    if (shared.onLoss === 'skip') {
      status.count('unavailable');
      status.say(`${label} not run: Redis is unavailable`);
      return { answer: 'pass' };
    }
    status.count('local');
    status.say(`${label} runs here without Redis (run-local)`);
    return { answer: 'run' };
  };
  return async (due: Due): Promise<Verdict> => {
    const now = shared.wallNow();
    const dueWall = 'wall' in due ? due.wall : now;
    const label = claimer.label(dueWall);
    if (now - dueWall > claimer.maxLateMs) {
      // Its claim may have expired already: running it now could run it twice.
      status.say(`${label} reached ${formatDuration(now - dueWall)} late: left alone`);
      return { answer: 'pass' };
    }
    if (!link.mayAsk()) return offline(label);
    // Reached late, the slots after it already due are offered too: the first one free is taken.
    const slots = [dueWall, ...claimer.following(dueWall, now)];
    let answer: string[];
    try {
      answer = await link.call('rprClaim', [keys.shape, ...slots.map(keys.slot)], [claimer.shape(), claimer.shapeTtlMs, instance, 2 * claimer.maxLateMs], MAX_CLAIM_WAIT_MS);
    } catch {
      return offline(label);
    }
    const [verdict, ...rest] = answer;
    if (verdict === 'moved') {
      const theirs = rest[0] ?? '?';
      const mine = claimer.shape();
      if (!claimer.adopt(theirs)) throw mismatch(shared, theirs, mine);
      status.say(`the job's grid in Redis is now ${theirs} (it was lost, or started anew): ${label} is not on it`);
      return { answer: 'pass' };
    }
    const holders = verdict === 'won' ? rest.slice(1) : rest;
    holders.forEach((who, i) => {
      status.count('lost');
      status.say(`${claimer.label(slots[i]!)} runs on ${who}`);
    });
    if (verdict !== 'won') return { answer: 'pass', taken: { from: dueWall, through: slots[holders.length - 1] ?? dueWall } };
    const wonWall = slots[holders.length]!;
    status.count('claimed');
    status.say(`${claimer.label(wonWall)} runs here (${instance})`);
    return { answer: wonWall === dueWall ? 'run' : { runAs: { wall: wonWall } }, won: wonWall };
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
    following(dueWall, nowWall) {
      const k = Math.round((dueWall - origin) / every);
      const last = Math.min(indexFrom(nowWall + 1) - 1, k + MAX_OFFERED);
      return Array.from({ length: Math.max(0, last - k) }, (_, i) => at(k + 1 + i));
    },
  };
  const claim = claimSlot(shared, claimer);
  const late = catchUp();
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
      const proposal = grid.startWall ?? now + grid.firstDelayMs;
      origin = proposal;
      const theirs = await join(shared, shapeOf(proposal), claimer.shapeTtlMs);
      if (theirs !== undefined && !adopt(theirs)) throw mismatch(shared, theirs, shapeOf(proposal));
      shared.status.say(`job "${shared.name}": slots every ${formatDuration(every)} from ${iso(origin)}${theirs === undefined ? ' (this instance\'s own until Redis answers)' : ''}; this instance is ${shared.instance}`);
      // From when this instance started, not when Redis answered: the first instance's first slot is the origin.
      return { due: { wall: at(indexFrom(Math.max(now, proposal))) }, skipped: 0 };
    },
    after: (prev, ctx) => late.after(prev, ctx, gridAfter),
    claim: async (due) => late.note(await claim(due)),
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
    // Fire times are a second apart at least: a late claim offers only the one reached.
    following: () => [],
  };
  const claim = claimSlot(shared, claimer);
  const late = catchUp();
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
    claim: async (due) => late.note(await claim(due)),
    async close() {
      await Promise.all([inner.close?.(), close()]);
    },
  };
}
