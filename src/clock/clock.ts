import os from 'node:os';

/**
 * Time as the scheduler sees it. `now()` is a monotonic timeline in ms that
 * also advances across machine suspend; `wallNow()` is epoch ms. Injected so
 * that scheduling logic is tested without real time passing.
 */
export interface Clock {
  now(): number;
  wallNow(): number;
  /** Resolves after about `ms`, or early when `signal` aborts. Never longer than asked. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** A point the job waits for: on the monotonic timeline, or a wall-clock instant (cron). */
export type Due = { at: number } | { wall: number };

/**
 * Longest single timer. Re-reading the clocks at least this often is what
 * survives suspend, wall-clock changes and Node's 2^31 ms timer limit.
 */
export const MAX_TIMER_MS = 1000;

/**
 * The timeline and the wall clock read as one instant. Two plain reads can straddle a preemption on
 * a loaded machine, and a due time mapped from timeline to wall clock through them came out 4 ms off
 * its grid (CI with `npm run bench` beside it): the wall clock is read between two readings of the
 * timeline that are close enough, up to three tries.
 */
export function readBoth(clock: Clock): { at: number; wall: number } {
  let before = clock.now();
  let wall = clock.wallNow();
  let after = clock.now();
  for (let tries = 1; tries < 3 && after - before > PAIR_SLACK_MS; tries++) {
    before = after;
    wall = clock.wallNow();
    after = clock.now();
  }
  return { at: (before + after) / 2, wall };
}
const PAIR_SLACK_MS = 0.5;

/** Milliseconds from now until `due`, re-evaluated on every call. */
export function remainingMs(clock: Clock, due: Due): number {
  return 'at' in due ? due.at - clock.now() : due.wall - clock.wallNow();
}

/**
 * Sleeps until the earliest of several points (undefined ones ignored) in
 * capped steps, re-reading the clocks each step. Returns the index of the
 * point reached, or -1 when aborted first.
 */
export async function waitForFirst(clock: Clock, points: (Due | undefined)[], signal?: AbortSignal): Promise<number> {
  for (;;) {
    if (signal?.aborted) return -1;
    let soonest = Infinity;
    for (const [i, point] of points.entries()) {
      if (!point) continue;
      const left = remainingMs(clock, point);
      if (left <= 0) return i;
      soonest = Math.min(soonest, left);
    }
    await clock.sleep(Math.min(soonest, MAX_TIMER_MS), signal);
  }
}

/**
 * The real clock. CLOCK_MONOTONIC stops during suspend, so each reading compares wall and
 * monotonic progress. A wall jump forward of more than SUSPEND_SLACK_MS beyond monotonic progress
 * is either time asleep or someone setting the clock; the boot clock (CLOCK_BOOTTIME, which counts
 * suspend and is never set) tells them apart:
 * - asleep: the time is added to the timeline, so a run due during the suspend starts on wake and
 *   an interval job's grid keeps its place in real elapsed time;
 * - a clock step: nothing happens. An interval job's runs are so much time apart, start to start,
 *   and no time passed (before, a +1 h step moved the grid by an hour: 3,600,010 ms measured). Jobs
 *   whose times are wall-clock instants (cron, --until-time) follow the wall clock by themselves.
 * Without a boot clock (not Linux), every forward jump counts as a suspend.
 */
const SUSPEND_SLACK_MS = 1000;

export interface TimeSources {
  mono: () => number;
  wall: () => number;
  /** Milliseconds since boot, suspend included; undefined where there is no such clock. */
  boot?: () => number | undefined;
}

/**
 * CLOCK_MONOTONIC in ms, as performance.now() reads it, from another origin. Not performance.now()
 * itself: its first use loads perf_hooks and ten more of Node's own modules, some 1.5 ms of every
 * job's start.
 */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** CLOCK_BOOTTIME through libuv (os.uptime, 10 ms resolution on Linux); read only when the wall clock jumps. */
const bootMs = (): number | undefined => (process.platform === 'linux' ? os.uptime() * 1000 : undefined);

export function createSystemClock(sources: TimeSources = { mono: monotonicMs, wall: () => Date.now(), boot: bootMs }): Clock {
  let lastMono = sources.mono();
  let lastWall = sources.wall();
  let lastBoot = sources.boot?.();
  let lastBootMono = lastMono;
  let asleep = 0;
  const now = (): number => {
    const mono = sources.mono();
    const wall = sources.wall();
    const gap = wall - lastWall - (mono - lastMono);
    if (gap > SUSPEND_SLACK_MS) {
      const boot = sources.boot?.();
      if (boot === undefined || lastBoot === undefined) asleep += gap;
      else {
        // Boot time that went by beyond monotonic time since the boot clock was last read: sleep.
        const slept = boot - lastBoot - (mono - lastBootMono);
        if (slept > SUSPEND_SLACK_MS) asleep += slept;
        lastBoot = boot;
        lastBootMono = mono;
      }
    }
    lastMono = mono;
    lastWall = wall;
    return mono + asleep;
  };
  return {
    now,
    wallNow: sources.wall,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const done = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, ms));
        signal?.addEventListener('abort', done, { once: true });
      }),
  };
}
