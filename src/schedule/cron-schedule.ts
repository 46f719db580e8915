import type { CronSchedule } from './cron/parse.js';
import type { Schedule, Slot } from './types.js';

/** Counting missed fire times stops here: a machine asleep for years need not be replayed. */
const MAX_COUNTED = 100_000;

/**
 * Cron fire times as slots on the wall clock: the loop re-reads the wall clock
 * while waiting, so a clock change or a suspend moves the wait with it.
 */
export function cronSchedule(cron: CronSchedule, options: { catchUp: boolean }): Schedule {
  const slotAfter = (wall: number, nowWall: number, notBefore: boolean): Slot | null => {
    let next = cron.nextAfter(wall);
    let skipped = 0;
    let lastSkipped: number | undefined;
    while (notBefore && next !== null && next < nowWall && skipped < MAX_COUNTED) {
      skipped++;
      lastSkipped = next;
      next = cron.nextAfter(next);
    }
    if (next === null) return null;
    return lastSkipped === undefined ? { due: { wall: next }, skipped } : { due: { wall: next }, skipped, lastSkipped: { wall: lastSkipped } };
  };
  const describe = `cron "${cron.expression}" in ${cron.timezone}`;
  return {
    describe,
    // The same expression and zone give the same fire times on every host.
    slots: { kind: 'instants', key: describe },
    // A fire time that passed while the machine slept is skipped and counted, unless --catch-up.
    missed: options.catchUp ? 'run-once' : 'skip',
    first: (ctx) => slotAfter(ctx.nowWall, ctx.nowWall, false),
    after: (prev, ctx) => slotAfter('wall' in prev ? prev.wall : ctx.nowWall, ctx.nowWall, ctx.notBefore === true),
  };
}
