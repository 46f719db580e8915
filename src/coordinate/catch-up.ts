/**
 * Which slot a coordinated instance tries after one it claimed. Every instance may reach a slot
 * late alike (a loaded machine, a slow Redis), so skipping every slot already past - as a late
 * interval job does - could leave a slot to nobody. Instead an instance tries every slot up to
 * CATCH_UP_MS past due, except those that fell due while it was running one (--on-overlap skip: it
 * could not have run them; another instance may have):
 *   - after slots taken elsewhere, the next one however late (up to CATCH_UP_MS);
 *   - after a slot run here, the next one if it fell due before that run started, else the first
 *     not yet due;
 *   - after Redis being away, or with --http-aware holding the next run back, the first not yet due.
 * A claim offers Redis the reached slot and the ones after it already due (slots.ts), so catching
 * up costs one round trip, not one per slot.
 */
import type { Due } from '../clock/clock.js';
import type { ClaimAnswer, Schedule, SlotAnswer } from '../schedule/types.js';

/** Catching up ends here: older slots are skipped. */
export const CATCH_UP_MS = 2000;

/** A claim's outcome: the loop's answer, and what it tells about the slots reached. */
export interface Verdict {
  answer: ClaimAnswer;
  /** Slots from `from` through `through` are held by other instances. */
  taken?: { from: number; through: number };
  /** The slot won here. */
  won?: number;
}

type After = Schedule['after'];

export function catchUp(wallNow: () => number) {
  let taken: Verdict['taken'];
  let won: { wall: number; runFrom: number } | undefined;
  return {
    /** Remembers the verdict on a reached slot; the loop gets its answer. */
    note(verdict: Verdict): ClaimAnswer {
      taken = verdict.taken;
      won = verdict.won === undefined ? undefined : { wall: verdict.won, runFrom: wallNow() };
      return verdict.answer;
    },
    /** The slot after `prev`, by the schedule's own `after`, with "now" moved back to catch up. */
    async after(prev: Due, ctx: Parameters<After>[1], after: After): Promise<SlotAnswer> {
      const wall = 'wall' in prev ? prev.wall : undefined;
      // --http-aware making the next run wait: obeyed.
      if (!ctx.notBefore || wall === undefined || ctx.held) return after(prev, ctx);
      const back = { ...ctx, nowAt: ctx.nowAt - CATCH_UP_MS, nowWall: ctx.nowWall - CATCH_UP_MS };
      if (wall === taken?.from) return after({ wall: taken.through }, back);
      if (wall !== won?.wall) return after(prev, ctx);
      const early = await after(prev, back);
      if (early && 'due' in early && 'wall' in early.due && early.due.wall < won.runFrom) return early;
      return after(prev, ctx);
    },
  };
}
