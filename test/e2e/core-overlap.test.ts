/**
 * A run that outlasts its interval: --on-overlap skip (default), queue, kill,
 * allow with --max-parallel. Each run prints when it started and when it was
 * due, and (where it matters) when it ended; skipped slots are counted with
 * --summary. The checks are invariants of each policy (on the grid or not,
 * overlapping or not, how many at once), so that a slow machine that misses
 * an extra slot does not fail them, while a wrong policy does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, lines, median, onGrid, run, STAMP_AND_DUE, uniqueSleep, type GridRun } from './core-helpers.js';

afterEach(cleanup);

const skippedOf = (stderr: string): number => Number(/skipped\D{0,10}(\d+)/.exec(stderr)?.[1] ?? NaN);
/** End times printed by `echo "end $(date +%s%N)"`, in run order. */
const endsOf = (stdout: string): number[] =>
  lines(stdout)
    .filter((l) => /^end \d+$/.test(l))
    .map((l) => Number(BigInt(l.slice(4)) / 1000n) / 1000);
const END = 'echo "end $(date +%s%N)"';

/** Most runs going at once, from start and end times (ends[i] belongs to the i-th run to end). */
function mostAtOnce(starts: number[], ends: number[]): number {
  const events = [...starts.map((t) => [t, 1] as const), ...ends.map((t) => [t, -1] as const)].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of events) most = Math.max(most, (now += d));
  return most;
}

/**
 * Every run is due on a slot of the grid and starts then (lenient about
 * single starts on a loaded machine; the due times are exact).
 */
function expectOnGrid(runs: GridRun[], everyMs: number): void {
  for (const x of runs) {
    expect(Math.abs(x.due - runs[0]!.due - x.slot * everyMs), 'due time on the grid').toBeLessThanOrEqual(2);
  }
  // The first start pays for cold caches; the later ones show whether runs start on their slots
  // (typically; one start can be hit by a load spike).
  const late = runs.slice(1).map((x) => x.late);
  expect(median(late), 'median lateness').toBeLessThanOrEqual(60);
  expect(Math.max(...late), 'latest start').toBeLessThanOrEqual(250);
}

describe('--on-overlap', () => {
  it('skip (the default): wait for the next due slot, count the skipped ones', async () => {
    // Every 200 ms, each run takes ~250 ms: the slot during each run is skipped.
    const r = await run(['interval', '-e', '200ms', '-t', '3', '--summary', '--', 'sh', '-c', `${STAMP_AND_DUE}; sleep 0.25`]);
    expect(r.code).toBe(0);
    const runs = onGrid(r.stdout, 200);
    expect(runs).toHaveLength(3);
    expectOnGrid(runs, 200);
    const steps = runs.slice(1).map((x, i) => x.slot - runs[i]!.slot);
    // At least one slot skipped after every run (a 250 ms run never fits in 200 ms) ...
    for (const step of steps) expect(step).toBeGreaterThanOrEqual(2);
    // ... and every skipped slot counted, no more.
    expect(skippedOf(r.stderr)).toBe(steps.reduce((a, b) => a + b - 1, 0));
  });

  it('--on-overlap skip is the same', async () => {
    const r = await run(['interval', '-e', '200ms', '-t', '2', '--on-overlap', 'skip', '--summary', '--', 'sh', '-c', `${STAMP_AND_DUE}; sleep 0.25`]);
    expect(r.code).toBe(0);
    const runs = onGrid(r.stdout, 200);
    expect(runs).toHaveLength(2);
    expectOnGrid(runs, 200);
    expect(runs[1]!.slot).toBeGreaterThanOrEqual(2);
    expect(skippedOf(r.stderr)).toBe(runs[1]!.slot - 1);
  });

  it('--json due times show the skipped slots as gaps on the grid', async () => {
    const r = await run(['interval', '-e', '200ms', '-t', '3', '--json', '--', 'sleep', '0.25']);
    expect(r.code).toBe(0);
    const due = lines(r.stdout).map((l) => Date.parse((JSON.parse(l) as { due: string }).due));
    expect(due).toHaveLength(3);
    for (const [i, d] of due.slice(1).entries()) {
      const gap = d - due[i]!;
      const slots = Math.round(gap / 200);
      expect(slots).toBeGreaterThanOrEqual(2);
      expect(Math.abs(gap - slots * 200)).toBeLessThanOrEqual(2);
    }
  });

  it('queue: the missed run starts as soon as the previous one ends, never overlapping', async () => {
    const r = await run(['interval', '-e', '200ms', '-t', '3', '--on-overlap', 'queue', '--', 'sh', '-c', `date +%s%N; sleep 0.25; ${END}`]);
    expect(r.code).toBe(0);
    const starts = lines(r.stdout)
      .filter((l) => /^\d{15,}$/.test(l))
      .map((l) => Number(BigInt(l) / 1000n) / 1000);
    const ends = endsOf(r.stdout);
    expect(starts).toHaveLength(3);
    expect(ends).toHaveLength(3);
    for (let i = 1; i < 3; i++) {
      // Not on the next free slot (skip) and not while the previous one runs (allow): right after it.
      expect(starts[i]! - ends[i - 1]!).toBeGreaterThanOrEqual(-2);
      expect(starts[i]! - ends[i - 1]!).toBeLessThanOrEqual(60);
    }
  });

  it('queue: a quick run after a slow one goes back on the grid', async () => {
    // Run 1 takes 700 ms (slots 300, 600 missed); the queued run 2 starts at once; run 3 is due on the grid.
    const r = await run(['interval', '-e', '300ms', '-t', '3', '--on-overlap', 'queue', '--', 'sh', '-c', `${STAMP_AND_DUE}; [ $RPR_RUN -eq 1 ] && sleep 0.7; true`]);
    expect(r.code).toBe(0);
    const runs = onGrid(r.stdout, 300);
    expect(runs).toHaveLength(3);
    // Run 2 right after run 1 (not on the grid); run 3 exactly on a slot of the original grid.
    expect(runs[1]!.start - runs[0]!.start).toBeGreaterThanOrEqual(700);
    expect(runs[1]!.start - runs[0]!.start).toBeLessThan(800 + 60);
    expect(Math.abs(runs[2]!.due - runs[0]!.due - runs[2]!.slot * 300)).toBeLessThanOrEqual(2);
    expect(runs[2]!.slot).toBeGreaterThanOrEqual(3);
  });

  it('kill: the running one is stopped and the next starts on its slot', async () => {
    const { secs, marker } = uniqueSleep();
    const r = await run(['interval', '-e', '200ms', '-t', '3', '--on-overlap', 'kill', '--', 'sh', '-c', `${STAMP_AND_DUE}; [ $RPR_RUN -eq 3 ] || sleep ${secs}; echo finished $RPR_RUN`], {
      watch: [marker],
    });
    const runs = onGrid(r.stdout, 200);
    expect(runs).toHaveLength(3);
    expectOnGrid(runs, 200);
    // No slot is skipped: the run in the way is killed instead.
    expect(runs.map((x) => x.slot)).toEqual([0, 1, 2]);
    // Runs 1 and 2 were killed before they could finish; run 3 finished.
    expect(lines(r.stdout).filter((l) => l.startsWith('finished'))).toEqual(['finished 3']);
    expect(r.code).toBe(1);
    expect(r.leftAtExit[marker]).toEqual([]);
  });

  it('allow: runs overlap, each on its own slot', async () => {
    const r = await run(['interval', '-e', '100ms', '-t', '4', '--on-overlap', 'allow', '--', 'sh', '-c', `${STAMP_AND_DUE}; sleep 0.35; ${END}`]);
    expect(r.code).toBe(0);
    const runs = onGrid(r.stdout, 100);
    expect(runs).toHaveLength(4);
    expectOnGrid(runs, 100);
    expect(runs.map((x) => x.slot)).toEqual([0, 1, 2, 3]);
    expect(
      mostAtOnce(
        runs.map((x) => x.start),
        endsOf(r.stdout),
      ),
    ).toBeGreaterThanOrEqual(2);
    // The job waits for the runs still going.
    expect(endsOf(r.stdout)).toHaveLength(4);
  });

  it('allow --max-parallel 2: at most two at once, the slots with no room are skipped and counted', async () => {
    const r = await run(['interval', '-e', '200ms', '-t', '4', '--on-overlap', 'allow', '--max-parallel', '2', '--summary', '--', 'sh', '-c', `${STAMP_AND_DUE}; sleep 0.65; ${END}`]);
    expect(r.code).toBe(0);
    const runs = onGrid(r.stdout, 200);
    expect(runs).toHaveLength(4);
    expectOnGrid(runs, 200);
    expect(
      mostAtOnce(
        runs.map((x) => x.start),
        endsOf(r.stdout),
      ),
    ).toBe(2);
    // Runs 1 and 2 on slots 0 and 1; runs of 650 ms leave no room on slot 2 and 3.
    expect(runs[1]!.slot).toBe(1);
    expect(runs[2]!.slot).toBeGreaterThanOrEqual(4);
    expect(skippedOf(r.stderr)).toBe(runs[3]!.slot - 3);
  });

  it('allow without --max-parallel: at most 4 at once (the default)', async () => {
    const r = await run(['interval', '-e', '100ms', '-t', '6', '--on-overlap', 'allow', '--', 'sh', '-c', `${STAMP_AND_DUE}; sleep 0.55; ${END}`]);
    expect(r.code).toBe(0);
    const runs = onGrid(r.stdout, 100);
    expect(runs).toHaveLength(6);
    expect(
      mostAtOnce(
        runs.map((x) => x.start),
        endsOf(r.stdout),
      ),
    ).toBe(4);
    expect(runs[4]!.slot).toBeGreaterThanOrEqual(5);
  });

  it('allow --max-parallel 1 behaves like skip', async () => {
    const r = await run(['interval', '-e', '200ms', '-t', '3', '--on-overlap', 'allow', '--max-parallel', '1', '--summary', '--', 'sh', '-c', `${STAMP_AND_DUE}; sleep 0.25; ${END}`]);
    expect(r.code).toBe(0);
    const runs = onGrid(r.stdout, 200);
    expect(runs).toHaveLength(3);
    expectOnGrid(runs, 200);
    expect(
      mostAtOnce(
        runs.map((x) => x.start),
        endsOf(r.stdout),
      ),
    ).toBe(1);
    for (let i = 1; i < 3; i++) expect(runs[i]!.slot - runs[i - 1]!.slot).toBeGreaterThanOrEqual(2);
    expect(skippedOf(r.stderr)).toBe(runs[2]!.slot - 2);
  });
});
