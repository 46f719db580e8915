/**
 * The claim of a reached slot (an interval job's grid point, a cron job's fire time): one Lua script
 * (scripts.ts CLAIM) that takes the slot for this instance unless another holds it. Reached late,
 * the slots after it already due are offered too and the first free one is taken. A claim won on a
 * primary with replicas stands once a replica has it (WAIT), so that a failover cannot forget it.
 * With a lease (--on-overlap skip across instances) the claim also takes the job's lease, and is
 * answered "busy" while another instance's run holds it.
 */
import type { Due } from '../clock/clock.js';
import { formatDuration } from '../units/duration.js';
import type { Verdict } from './catch-up.js';
import { LEASE_TTL_MS, type Lease } from './lease.js';
import { mismatch, type Shared } from './shared.js';

/**
 * Claims not answered by then are given up (the slot is treated as Redis being away). Generous: a
 * claim given up may still have been won in Redis, and then nobody runs that slot.
 */
export const MAX_CLAIM_WAIT_MS = 2000;
/** Slots are claimed at most this late (plus the interval, plus --jitter); claims live twice that. */
export const LATE_MS = 30_000;
/** A late claim offers at most this many slots after the one reached. */
export const MAX_OFFERED = 20;
/** A claim answered "early" (not due yet by Redis's clock) is made again at most this often. */
const MAX_EARLY = 3;

export interface Claimer {
  /** The job's shape as this instance sees it (grid origin included). */
  shape(): string;
  /** Takes the shape Redis has when it differs; false when this instance cannot follow it. */
  adopt(theirs: string): boolean;
  label(dueWall: number): string;
  maxLateMs: number;
  shapeTtlMs: number;
  /** The slots after `dueWall` already due at `nowWall` (at most MAX_OFFERED) that a late claim offers too. */
  following(dueWall: number, nowWall: number): number[] | Promise<number[]>;
}

/** The claim at a reached slot: run, pass (another instance has it), or Redis-away behaviour. */
export function claimSlot(shared: Shared, claimer: Claimer, lease?: Lease) {
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
  /** A lease ("instance due") in words: the run of which slot, where. */
  const runOf = (held: string): string => {
    const cut = held.lastIndexOf(' ');
    return cut === -1 ? `a run on ${held}` : `the run of ${claimer.label(Number(held.slice(cut + 1)))} on ${held.slice(0, cut)}`;
  };
  /** Another instance's slot, or one skipped because a run went on ("!" and that run's lease). */
  const passed = (dueWall: number, holder: string): void => {
    if (holder.startsWith('!')) {
      status.skipped(1);
      status.say(`${claimer.label(dueWall)} skipped: due while ${runOf(holder.slice(1))} went on (--on-overlap skip)`);
      return;
    }
    status.count('lost');
    status.say(`${claimer.label(dueWall)} runs on ${holder}`);
  };

  // With Redis's clock (not one a test gives), Redis refuses a claim made before the slot is due.
  const checkEarly = shared.wallNow === shared.clockNow ? 1 : 0;
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
    const slots = [dueWall, ...(await claimer.following(dueWall, now))];
    let answer: string[];
    let replicated: string;
    try {
      for (let attempt = 1; ; attempt++) {
        ({ answer, replicated } = await link.callReplicated(
          'rprClaim',
          [keys.shape, keys.lease, keys.ran, ...slots.map(keys.slot)],
          [claimer.shape(), claimer.shapeTtlMs, instance, 2 * claimer.maxLateMs, lease ? LEASE_TTL_MS : 0, checkEarly, ...slots],
          MAX_CLAIM_WAIT_MS,
        ));
        if (answer[0] !== 'early' || attempt === MAX_EARLY) break;
        // Not due yet by Redis's clock: this host's reading of it is ahead (a loaded machine reads
        // round trips long). Read it again, and ask again when the slot is due.
        const early = Math.ceil(dueWall - Number(answer[1]));
        status.say(`${label} reached ${formatDuration(early)} before it was due by Redis's clock: waiting`);
        link.resync();
        await new Promise((resolve) => setTimeout(resolve, Math.min(early, 1000)));
      }
    } catch {
      return offline(label);
    }
    const [verdict, ...rest] = answer;
    if (verdict === 'early') {
      status.say(`${label} not run: still not due by Redis's clock`);
      return { answer: 'pass' };
    }
    if (replicated === 'unconfirmed') {
      // A failover now could hand the job to a replica that never saw this claim: another instance
      // could then run the slot too. Not running it loses it instead (Redis counts as away).
      if (verdict === 'won' && lease) await lease.abandon(slots[rest.length - 1]!);
      status.count('unavailable');
      status.say(`${label} not run: no replica acknowledged its claim in time`);
      return { answer: 'pass' };
    }
    if (verdict === 'moved') {
      const theirs = rest[0] ?? '?';
      const mine = claimer.shape();
      if (!claimer.adopt(theirs)) throw mismatch(shared, theirs, mine);
      status.say(`the job's grid in Redis is now ${theirs} (it was lost, or started anew): ${label} is not on it`);
      return { answer: 'pass' };
    }
    if (verdict === 'busy') {
      // Another instance's run goes on: every slot offered is due during it - that run's own slot,
      // or one now marked skipped.
      rest.slice(1).forEach((holder, i) => passed(slots[i]!, holder));
      return { answer: 'pass', taken: { from: dueWall, through: slots.at(-1)! } };
    }
    const holders = verdict === 'won' ? rest.slice(1) : rest;
    holders.forEach((holder, i) => passed(slots[i]!, holder));
    if (verdict !== 'won') return { answer: 'pass', taken: { from: dueWall, through: slots[holders.length - 1] ?? dueWall } };
    const wonWall = slots[holders.length]!;
    lease?.hold(wonWall, claimer.label(wonWall));
    status.count('claimed');
    status.say(`${claimer.label(wonWall)} runs here (${instance})`);
    return { answer: wonWall === dueWall ? 'run' : { runAs: { wall: wonWall } }, won: wonWall };
  };
}
