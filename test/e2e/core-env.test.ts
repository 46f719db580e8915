/**
 * What each run's environment tells the command: RPR_RUN, RPR_SCHEDULED_AT,
 * RPR_LAST_EXIT_CODE, RPR_LAST_DURATION_MS, on top of rpr's own environment.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, lines, run } from './core-helpers.js';

afterEach(cleanup);

/** Each run prints "name=[value]" lines; returns one record per run. */
function records(stdout: string): Record<string, string>[] {
  const runs: Record<string, string>[] = [];
  for (const line of lines(stdout)) {
    const m = /^(\w+)=\[(.*)\]$/.exec(line);
    if (!m) continue;
    if (m[1] === 'RPR_RUN') runs.push({});
    runs.at(-1)![m[1]!] = m[2]!;
  }
  return runs;
}

const PRINT = 'for v in RPR_RUN RPR_SCHEDULED_AT RPR_LAST_EXIT_CODE RPR_LAST_DURATION_MS; do eval "echo $v=[\\$$v]"; done';

describe('run environment', () => {
  it('RPR_RUN counts runs from 1', async () => {
    const r = await run(['count', '--times', '3', '--', 'sh', '-c', 'echo $RPR_RUN']);
    expect(r.stdout).toBe('1\n2\n3\n');
  });

  it('RPR_LAST_EXIT_CODE and RPR_LAST_DURATION_MS are empty (but set) on the first run', async () => {
    const r = await run(['count', '--times', '1', '--', 'sh', '-c', 'echo "${RPR_LAST_EXIT_CODE-unset}|${RPR_LAST_DURATION_MS-unset}"']);
    expect(r.stdout).toBe('|\n');
  });

  it("RPR_LAST_EXIT_CODE is the previous run's exit code", async () => {
    const r = await run(['count', '--times', '4', '--', 'sh', '-c', `${PRINT}; exit $((RPR_RUN + 4))`]);
    expect(r.code).toBe(1);
    expect(records(r.stdout).map((x) => x.RPR_LAST_EXIT_CODE)).toEqual(['', '5', '6', '7']);
  });

  it("RPR_LAST_DURATION_MS is the previous run's duration in whole ms", async () => {
    const r = await run(['count', '--times', '3', '--', 'sh', '-c', `${PRINT}; [ $RPR_RUN -eq 1 ] && sleep 0.6; true`]);
    expect(r.code).toBe(0);
    const recs = records(r.stdout);
    expect(recs[0]!.RPR_LAST_DURATION_MS).toBe('');
    expect(recs[1]!.RPR_LAST_DURATION_MS).toMatch(/^\d+$/);
    const afterSlow = Number(recs[1]!.RPR_LAST_DURATION_MS);
    const afterQuick = Number(recs[2]!.RPR_LAST_DURATION_MS);
    expect(afterSlow).toBeGreaterThanOrEqual(600);
    expect(afterSlow).toBeLessThan(3000);
    // Run 2 did not sleep.
    expect(afterQuick).toBeLessThan(afterSlow - 300);
  });

  it('RPR_SCHEDULED_AT is the ISO time the run was due, on the interval grid', async () => {
    const r = await run(['interval', '-e', '150ms', '--times', '4', '--', 'sh', '-c', `${PRINT}; echo now=[$(date +%s%N)]`]);
    expect(r.code).toBe(0);
    const recs = records(r.stdout);
    expect(recs).toHaveLength(4);
    const due = recs.map((x) => {
      expect(x.RPR_SCHEDULED_AT).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/);
      return Date.parse(x.RPR_SCHEDULED_AT!);
    });
    due.slice(1).forEach((d, i) => {
      // 150 ms apart (or a multiple, if a slow machine made rpr skip a slot), exactly on the grid.
      const slots = Math.round((d - due[i]!) / 150);
      expect(slots).toBeGreaterThanOrEqual(1);
      expect(Math.abs(d - due[i]! - slots * 150)).toBeLessThanOrEqual(2);
    });
    // Each run starts at (not before, and not long after) its due time.
    const now = lines(r.stdout)
      .filter((l) => l.startsWith('now='))
      .map((l) => Number(BigInt(/\[(\d+)\]/.exec(l)![1]!) / 1_000_000n));
    now.forEach((n, i) => {
      expect(n).toBeGreaterThanOrEqual(due[i]! - 5);
      // (Start-time precision is the benchmark's business: a loaded 2-core CI machine has started
      // this shell 150 ms late. This rules out a run stamped with a slot long before it started.)
      expect(n).toBeLessThan(due[i]! + 300);
    });
  });

  it('RPR_SCHEDULED_AT with skipped slots names the slot the run actually has', async () => {
    const r = await run(['interval', '-e', '100ms', '--times', '2', '--', 'sh', '-c', `${PRINT}; sleep 0.15`]);
    const recs = records(r.stdout);
    const gap = Date.parse(recs[1]!.RPR_SCHEDULED_AT!) - Date.parse(recs[0]!.RPR_SCHEDULED_AT!);
    // A later slot of the grid (the one at 100 ms was skipped), not "when the previous run ended".
    const slots = Math.round(gap / 100);
    expect(slots).toBeGreaterThanOrEqual(2);
    expect(Math.abs(gap - slots * 100)).toBeLessThanOrEqual(2);
  });

  it("the command inherits rpr's environment", async () => {
    const r = await run(['count', '--times', '1', '--', 'sh', '-c', 'echo "$RPR_E2E_FOO"'], { env: { RPR_E2E_FOO: 'bar baz' } });
    expect(r.stdout).toBe('bar baz\n');
  });

  it('the variables reach a --shell command line', async () => {
    const r = await run(['count', '--times', '2', '--shell', '--', 'echo run=$RPR_RUN last=$RPR_LAST_EXIT_CODE']);
    expect(r.stdout).toBe('run=1 last=\nrun=2 last=0\n');
  });

  it("stdin is not rpr's: a command reading stdin sees end of file at once", async () => {
    // rpr's own stdin is an open pipe that never ends: a run reading it would hang.
    const r = await run(['count', '--times', '2', '--', 'sh', '-c', 'cat; echo eof'], { stdin: 'pipe', timeoutMs: 8000 });
    expect(r.stdout).toBe('eof\neof\n');
    expect(r.ms).toBeLessThan(5000);
  });
});
