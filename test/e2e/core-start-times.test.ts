/**
 * When the schedule says runs start: --delay-first, --start-at, --jitter and delays too long for one
 * Node timer. What these check is the schedule's arithmetic, the same whichever way a run is started,
 * so unlike core-timing.test.ts they run once, through the default path.
 * Start times are measured by the child itself with `date +%s%N`.
 * Tolerances are for a loaded 2-core machine.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, median, onGrid, run, sleep, STAMP_AND_DUE, stampsMs, start } from './core-helpers.js';

afterEach(cleanup);

/** Systematic lateness (medians). */
const TOL = 40;
/** One run's start measured alone: a single sample on a loaded machine is noisier. */
const ONE = 80;
/** The first run's start: it also pays for cold caches and code paths. */
const FIRST = 100;

describe('first run, delayed or at a set time', () => {
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
