/**
 * When runs start: fixed-rate and drift-free, first run at once unless
 * delayed, jitter within its bound, and exit right after the last run.
 * Start times are measured by the child itself with `date +%s%N`.
 * Tolerances are for a loaded 2-core machine.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, median, onGrid, run, sleep, STAMP_AND_DUE, stampsMs, start } from './core-helpers.js';

afterEach(cleanup);

/** Spacing between runs, and systematic lateness (medians). */
const TOL = 40;
/** One run's start measured alone: a single sample on a loaded machine is noisier. */
const ONE = 80;
/** The first run's start: it also pays for cold caches and code paths. */
const FIRST = 100;

describe('drift-free fixed rate', () => {
  it('100 runs at 100 ms: due times on the grid, the last runs within 40 ms of their ideal time', async () => {
    const r = await run(['interval', '--every', '100ms', '--times', '100', '--', 'sh', '-c', STAMP_AND_DUE], { timeoutMs: 25_000 });
    expect(r.code).toBe(0);
    const runs = onGrid(r.stdout, 100);
    expect(runs).toHaveLength(100);
    // Run k is due at start + k x every (slots skipped on a slow machine aside), never "now + every".
    for (const [i, x] of runs.entries()) {
      expect(Math.abs(x.due - runs[0]!.due - x.slot * 100), `due time of run ${i + 1} off the grid`).toBeLessThanOrEqual(2);
      if (i > 0) expect(x.slot).toBeGreaterThan(runs[i - 1]!.slot);
    }
    // And it really starts then: no drift over 100 runs.
    // The last run within 40 ms of its ideal time. One start can be hit by a load spike on a busy
    // machine, so the best of the last three counts; drift would make all of them late.
    expect(Math.min(...runs.slice(-3).map((x) => x.late)), 'last runs vs their ideal times').toBeLessThanOrEqual(TOL);
    expect(median(runs.slice(-10).map((x) => x.late)), 'median lateness of the last ten runs').toBeLessThanOrEqual(TOL);
    expect(median(runs.map((x) => x.late)), 'median lateness').toBeLessThanOrEqual(20);
  }, 30_000);

  it('runs that take a while do not push the grid (start to start)', async () => {
    const r = await run(['interval', '--every', '150ms', '--times', '6', '--', 'sh', '-c', `${STAMP_AND_DUE}; sleep 0.08`]);
    expect(r.code).toBe(0);
    const runs = onGrid(r.stdout, 150);
    expect(runs).toHaveLength(6);
    for (const x of runs) expect(Math.abs(x.due - runs[0]!.due - x.slot * 150)).toBeLessThanOrEqual(2);
    expect(Math.min(runs[4]!.late, runs[5]!.late)).toBeLessThanOrEqual(TOL);
  });
});

describe('first run', () => {
  it('starts immediately, not one interval later', async () => {
    const job = start(['interval', '--every', '5s', '--', 'date', '+%s%N']);
    await job.waitFor('stdout', /\n/);
    job.child.kill('SIGTERM');
    const r = await job.done;
    const [first] = stampsMs(r.stdout);
    // Node start-up and the first spawn only: far less than the 5 s interval.
    expect(first! - job.spawnWall).toBeLessThan(3000);
  });

  it('--delay-first waits before the first run, then keeps the interval', async () => {
    const r = await run(['interval', '--delay-first', '800ms', '--every', '200ms', '--times', '3', '--', 'sh', '-c', STAMP_AND_DUE]);
    expect(r.code).toBe(0);
    const runs = onGrid(r.stdout, 200);
    expect(runs).toHaveLength(3);
    // From the moment rpr was started: at least the delay, plus start-up at most.
    const delayed = runs[0]!.start - (r.exitWall - r.ms);
    expect(delayed).toBeGreaterThanOrEqual(800);
    expect(delayed).toBeLessThanOrEqual(800 + 3000);
    // The grid starts at the first run.
    expect(runs.map((x) => x.slot)).toEqual([0, 1, 2]);
    expect(runs[2]!.late).toBeLessThanOrEqual(ONE);
  });

  it('--start-at ISO time: the first run starts at that time, the grid from there', async () => {
    // Far enough ahead for Node's start-up on a loaded machine (a time already past runs at once).
    const at = Date.now() + 3000;
    const r = await run(['interval', '--start-at', new Date(at).toISOString(), '--every', '200ms', '--times', '2', '--', 'sh', '-c', STAMP_AND_DUE]);
    expect(r.code).toBe(0);
    const runs = onGrid(r.stdout, 200);
    expect(runs).toHaveLength(2);
    expect(runs[0]!.due).toBeGreaterThanOrEqual(at - 2);
    expect(runs[0]!.due).toBeLessThanOrEqual(at + 2);
    expect(runs[0]!.start).toBeGreaterThanOrEqual(at - 5);
    expect(runs[0]!.start).toBeLessThanOrEqual(at + FIRST);
    expect(runs[1]!.slot).toBe(1);
    expect(runs[1]!.late).toBeLessThanOrEqual(ONE);
  });

  it('--start-at HH:MM:SS (local): the first run starts when the clock shows it', async () => {
    // The next whole second at least 3 s away (Node's start-up on a loaded machine must not pass it).
    const target = new Date(Math.ceil((Date.now() + 3000) / 1000) * 1000);
    const hms = [target.getHours(), target.getMinutes(), target.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
    const r = await run(['count', '--start-at', hms, '--times', '1', '--', 'date', '+%s%N'], { timeoutMs: 10_000 });
    expect(r.code).toBe(0);
    const [t] = stampsMs(r.stdout);
    expect(t).toBeGreaterThanOrEqual(target.getTime() - 5);
    expect(t).toBeLessThanOrEqual(target.getTime() + FIRST);
  });

  it('--start-at a time already past today is tomorrow: nothing runs now', async () => {
    const past = new Date(Date.now() - 60_000);
    const hm = [past.getHours(), past.getMinutes()].map((n) => String(n).padStart(2, '0')).join(':');
    const job = start(['count', '--start-at', hm, '--times', '1', '--verbose', '--', 'echo', 'ran']);
    // --verbose: rpr says when the job has started (its signal handlers are in place by then).
    await job.waitFor('stderr', /job .* started/);
    await sleep(1200);
    expect(job.child.exitCode).toBeNull();
    expect(job.stdout()).toBe('');
    job.child.kill('SIGTERM');
    expect((await job.done).code).toBe(143);
  });
});

describe('after the last run, exit at once', () => {
  it('-e 1s -t 3 takes about 2 s, not 3', async () => {
    const r = await run(['interval', '-e', '1s', '-t', '3', '--', 'date', '+%s%N']);
    expect(r.code).toBe(0);
    const t = stampsMs(r.stdout);
    expect(t).toHaveLength(3);
    expect(t[2]! - t[0]!).toBeGreaterThanOrEqual(2000 - ONE);
    expect(t[2]! - t[0]!).toBeLessThanOrEqual(2000 + ONE);
    // The process is gone within a moment of the last run (not a whole interval later).
    expect(r.exitWall - t[2]!).toBeLessThan(300);
  });

  it('exits within ~100 ms of its last child exiting', async () => {
    const r = await run(['count', '-t', '1', '--', 'sh', '-c', 'sleep 0.3; date +%s%N']);
    expect(r.code).toBe(0);
    const [childEnd] = stampsMs(r.stdout);
    expect(r.exitWall - childEnd!).toBeLessThan(100 + 50);
  });
});

describe('--jitter', () => {
  it('delays each run by 0..jitter around a grid that does not move', async () => {
    const r = await run(['interval', '-e', '200ms', '-t', '10', '--jitter', '80ms', '--', 'sh', '-c', STAMP_AND_DUE]);
    expect(r.code).toBe(0);
    const runs = onGrid(r.stdout, 200);
    expect(runs).toHaveLength(10);
    // The first start also pays for cold caches: look at the others.
    const late = runs.slice(1).map((x) => x.late);
    // Each run somewhere in [slot, slot + 80 ms] (+ start-up noise), the last ones included: jitter
    // added to the interval instead would push later runs further and further (~40 ms a run).
    expect(median(late)).toBeLessThanOrEqual(80 + TOL);
    expect(median(late.slice(-4))).toBeLessThanOrEqual(80 + TOL);
    expect(Math.max(...late)).toBeLessThanOrEqual(80 + 2 * ONE);
    // The jitter is real: the runs are not all on the grid.
    expect(Math.max(...late) - Math.min(...late)).toBeGreaterThan(8);
    // The run starts at its (jittered) due time: never before it, and typically right at it.
    for (const x of runs) expect(x.start - x.due).toBeGreaterThanOrEqual(-5);
    expect(median(runs.map((x) => x.start - x.due))).toBeLessThanOrEqual(TOL);
  });
});

describe('long delays', () => {
  // Node turns a timer over 2^31 - 1 ms (24.8 days) into 1 ms: rpr must not run early because of it.
  it('--every 30d: after the first run, nothing runs early and no timer warning', async () => {
    const job = start(['interval', '--every', '30d', '--', 'echo', 'ran']);
    await job.waitFor('stdout', /ran\n/);
    await sleep(1500);
    job.child.kill('SIGTERM');
    const r = await job.done;
    expect(r.stdout).toBe('ran\n');
    expect(r.stderr).not.toMatch(/TimeoutOverflowWarning|Warning/);
    expect(r.code).toBe(143);
  });

  it('--delay-first 4w: the first run does not happen now', async () => {
    const job = start(['count', '--times', '1', '--delay-first', '4w', '--verbose', '--', 'echo', 'ran']);
    await job.waitFor('stderr', /job .* started/);
    await sleep(1500);
    expect(job.child.exitCode).toBeNull();
    job.child.kill('SIGTERM');
    const r = await job.done;
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(/run 1 started/);
    expect(r.stderr).not.toMatch(/Warning/);
    expect(r.code).toBe(143);
  });
});
