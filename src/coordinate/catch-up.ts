/**
 * Which slot a coordinated instance tries after one it claimed. Every instance may reach a slot
 * late alike (a loaded machine, a slow Redis), or be busy running one when the next falls due;
 * skipping every slot already past - as a local interval job does - could then leave a slot to
 * nobody. So after a slot it won or found taken, an instance goes on with the next slot however late
 * it is, up to CATCH_UP_MS: its claim offers that slot and the later ones already due, and takes the
 * first nobody holds (slots.ts), so a slot is run late rather than not at all, and never twice.
 * After Redis was away, or with --http-aware holding the next run back, slots already past are
 * skipped as usual.
 */
import type { Due } from '../clock/clock.js';
import type { ClaimAnswer, Schedule, SlotAnswer } from '../schedule/types.js';

/** Catching up ends here: older slots are skipped. */
const CATCH_UP_MS = 2000;

/** A claim's outcome: the loop's answer, and what it tells about the slots reached. */
export interface Verdict {
  answer: ClaimAnswer;
  /** Slots from `from` through `through` are held by other instances. */
  taken?: { from: number; through: number };
  /** The slot won here. */
  won?: number;
}

type After = Schedule['after'];

export function catchUp() {
  let taken: Verdict['taken'];
  let won: number | undefined;
  return {
    /** Remembers the verdict on a reached slot; the loop gets its answer. */
    note(verdict: Verdict): ClaimAnswer {
      taken = verdict.taken;
      won = verdict.won;
      return verdict.answer;
    },
    /** The slot after `prev`, by the schedule's own `after`, with "now" moved back to catch up. */
    after(prev: Due, ctx: Parameters<After>[1], after: After): SlotAnswer | Promise<SlotAnswer> {
      const wall = 'wall' in prev ? prev.wall : undefined;
      // --http-aware making the next run wait: obeyed.
      if (!ctx.notBefore || wall === undefined || ctx.held) return after(prev, ctx);
      const back = { ...ctx, nowAt: ctx.nowAt - CATCH_UP_MS, nowWall: ctx.nowWall - CATCH_UP_MS };
      if (wall === taken?.from) return after({ wall: taken.through }, back);
      return wall === won ? after(prev, back) : after(prev, ctx);
    },
  };
}
