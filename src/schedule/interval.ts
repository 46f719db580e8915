import type { Due } from '../clock/clock.js';
import { formatDuration } from '../units/duration.js';
import type { Schedule, Slot, SlotContext } from './types.js';

/**
 * Fixed-rate slots: run k is due at origin + k x every on the monotonic
 * timeline, never "end of previous + every", so nothing accumulates.
 */
export function intervalSchedule(everyMs: number, firstDelayMs = 0): Schedule {
  let origin = 0;
  return {
    describe: `every ${formatDuration(everyMs)}`,
    slots: { kind: 'grid', everyMs, firstDelayMs },
    first(ctx: SlotContext): Slot {
      origin = ctx.nowAt + firstDelayMs;
      return { due: { at: origin }, skipped: 0 };
    },
    after(prev: Due, ctx): Slot {
      const prevAt = 'at' in prev ? prev.at : origin;
      let next = prevAt + everyMs;
      let skipped = 0;
      if (ctx.notBefore && next < ctx.nowAt) {
        // Slots are on a grid, so the first one not in the past is found by arithmetic.
        const behind = Math.ceil((ctx.nowAt - next) / everyMs);
        skipped = behind;
        next += behind * everyMs;
      }
      return skipped > 0 ? { due: { at: next }, skipped, lastSkipped: { at: next - everyMs } } : { due: { at: next }, skipped };
    },
  };
}

/** count/duration without --every: each run starts when the previous one ends. */
export function backToBackSchedule(firstDelayMs = 0): Schedule {
  return {
    describe: 'back to back',
    first: (ctx) => ({ due: { at: ctx.nowAt + firstDelayMs }, skipped: 0 }),
    after: (_prev, ctx) => ({ due: { at: ctx.nowAt }, skipped: 0 }),
  };
}

/** Wall-clock start (--start-at), then fixed-rate from there. */
export function startingAt(wall: number, inner: Schedule): Schedule {
  return {
    describe: `${inner.describe}, from ${new Date(wall).toISOString()}`,
    ...(inner.slots?.kind === 'grid' ? { slots: { ...inner.slots, startWall: wall } } : {}),
    first: (ctx) => inner.first({ ...ctx, nowAt: ctx.nowAt + Math.max(0, wall - ctx.nowWall) }),
    after: (prev, ctx) => inner.after(prev, ctx),
  };
}
