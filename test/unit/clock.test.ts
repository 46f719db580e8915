import { describe, expect, it } from 'vitest';
import { createSystemClock, MAX_TIMER_MS, monotonicMs, readBoth, waitForFirst, type Clock } from '../../src/clock/clock.js';
import { FakeClock } from '../helpers/fake-clock.js';

describe('system clock timeline', () => {
  it('follows the monotonic clock while awake', () => {
    let mono = 1000;
    let wall = 5_000_000;
    const clock = createSystemClock({ mono: () => mono, wall: () => wall });
    mono += 250;
    wall += 250;
    expect(clock.now()).toBe(1250);
  });

  it('adds time spent in suspend (wall moved, monotonic did not) so due runs start on wake', () => {
    let mono = 0;
    let wall = 0;
    const clock = createSystemClock({ mono: () => mono, wall: () => wall });
    clock.now();
    wall += 3_600_000; // an hour asleep: CLOCK_MONOTONIC stood still
    mono += 5;
    expect(clock.now()).toBe(3_600_000);
  });

  it('tells a suspend from a clock step by the boot clock, which counts suspend and is never set', () => {
    let mono = 0;
    let wall = 0;
    let boot = 50_000;
    const clock = createSystemClock({ mono: () => mono, wall: () => wall, boot: () => boot });
    clock.now();
    // Someone sets the clock an hour ahead: no time passed, so an interval job's timeline does not move.
    wall += 3_600_000;
    mono += 5;
    boot += 5;
    expect(clock.now()).toBe(5);
    // Then a real suspend of ten minutes: the boot clock went on, monotonic did not.
    wall += 600_005;
    boot += 600_005;
    mono += 5;
    expect(clock.now()).toBe(600_010);
    // Awake again: monotonic time only.
    wall += 100;
    boot += 100;
    mono += 100;
    expect(clock.now()).toBe(600_110);
  });

  it('without a boot clock, a forward jump counts as a suspend', () => {
    const mono = 0;
    let wall = 0;
    const clock = createSystemClock({ mono: () => mono, wall: () => wall, boot: () => undefined });
    clock.now();
    wall += 3_600_000;
    expect(clock.now()).toBe(3_600_000);
  });

  it('ignores a wall clock stepped backwards (NTP) and small wobble', () => {
    let mono = 0;
    let wall = 10_000;
    const clock = createSystemClock({ mono: () => mono, wall: () => wall });
    wall -= 5000;
    mono += 100;
    expect(clock.now()).toBe(100);
    wall += 900;
    mono += 100;
    expect(clock.now()).toBe(200);
  });
});

describe('monotonicMs', () => {
  it('advances as performance.now() does, in milliseconds', async () => {
    const [mono0, perf0] = [monotonicMs(), performance.now()];
    await new Promise((resolve) => setTimeout(resolve, 120));
    const [mono1, perf1] = [monotonicMs(), performance.now()];
    expect(mono1 - mono0).toBeGreaterThanOrEqual(100);
    // Two readings a few microseconds apart, on a loaded machine perhaps a few milliseconds.
    expect(Math.abs(mono1 - mono0 - (perf1 - perf0))).toBeLessThan(5);
  });

  it('never goes back, and reads below a millisecond', () => {
    const readings = Array.from({ length: 1000 }, () => monotonicMs());
    for (let i = 1; i < readings.length; i++) expect(readings[i]).toBeGreaterThanOrEqual(readings[i - 1]!);
    expect(readings.some((r) => !Number.isInteger(r))).toBe(true);
  });
});

describe('waitForFirst', () => {
  it('never sleeps longer than MAX_TIMER_MS in one timer, so a 30-day wait re-reads the clock', async () => {
    const clock = new FakeClock();
    const asked: number[] = [];
    const sleep = clock.sleep.bind(clock);
    clock.sleep = (ms, signal) => {
      asked.push(ms);
      return sleep(ms, signal);
    };
    const month = 30 * 86_400_000; // far beyond setTimeout's 2^31 ms limit
    const abort = new AbortController();
    const reached = waitForFirst(clock, [{ at: month }], abort.signal);
    await clock.advance(5 * MAX_TIMER_MS);
    expect(asked.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...asked)).toBeLessThanOrEqual(MAX_TIMER_MS);
    abort.abort();
    await expect(reached).resolves.toBe(-1);
  });

  it('follows a wall-clock due when the wall clock jumps (cron after suspend)', async () => {
    const clock = new FakeClock();
    const due = { wall: clock.wallNow() + 3_600_000 };
    let reached: number | undefined;
    void waitForFirst(clock, [due]).then((i) => (reached = i));
    await clock.advance(2000);
    expect(reached).toBeUndefined();
    clock.jumpWall(3_600_000);
    await clock.advance(MAX_TIMER_MS);
    expect(reached).toBe(0);
  });

  it('returns the earliest of several points and -1 when aborted', async () => {
    const clock = new FakeClock();
    const first = waitForFirst(clock, [{ at: 500 }, undefined, { at: 200 }]);
    await clock.advance(300);
    await expect(first).resolves.toBe(2);
    const abort = new AbortController();
    const aborted = waitForFirst(clock, [{ at: 10_000 }], abort.signal);
    abort.abort();
    await expect(aborted).resolves.toBe(-1);
  });
});

describe('readBoth: the timeline and the wall clock as one instant', () => {
  /** True time advances 0.01 ms per read; `stalls` lists the reads that come 4 ms late (the process was preempted just before). */
  function preempted(stalls: number[]): { clock: Clock; reads: () => number } {
    let t = 1_000;
    let reads = 0;
    const tick = (): number => {
      reads++;
      t += stalls.includes(reads) ? 4 : 0.01;
      return t;
    };
    const offset = 1_700_000_000_000;
    return { clock: { now: () => tick(), wallNow: () => tick() + offset, sleep: async () => undefined }, reads: () => reads };
  }
  const offset = 1_700_000_000_000;

  it('a preemption between two reads is read again: the pair maps the timeline to the wall clock within the slack', () => {
    // Preempted between the first timeline read and the wall read: a plain pair would be 4 ms apart.
    const { clock, reads } = preempted([2]);
    const { at, wall } = readBoth(clock);
    expect(Math.abs(wall - offset - at)).toBeLessThan(0.5);
    expect(reads()).toBe(5);
  });

  it('no preemption: one try, three reads', () => {
    const { clock, reads } = preempted([]);
    const { at, wall } = readBoth(clock);
    expect(Math.abs(wall - offset - at)).toBeLessThan(0.05);
    expect(reads()).toBe(3);
  });

  it('stalled at every try: gives up after three and still answers', () => {
    const { clock, reads } = preempted([2, 4, 6]);
    const { wall } = readBoth(clock);
    expect(Number.isFinite(wall)).toBe(true);
    expect(reads()).toBe(7);
  });
});
