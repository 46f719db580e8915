/**
 * When runs start: fixed-rate and drift-free, the first run at once, and exit right after the last
 * run. These depend on how runs are started, so they run once more through execa (vitest.config.ts);
 * delayed and jittered starts are in core-start-times.test.ts.
 * Start times are measured by the child itself with `date +%s%N`.
 * Tolerances are for a loaded 2-core machine.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, median, onGrid, run, STAMP_AND_DUE, stampsMs, start } from './core-helpers.js';

afterEach(cleanup);

/** Spacing between runs, and systematic lateness (medians). */
const TOL = 40;
/** One run's start measured alone: a single sample on a loaded machine is noisier. */
const ONE = 80;

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
