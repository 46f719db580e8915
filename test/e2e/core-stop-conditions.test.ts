/**
 * Stop conditions, whichever comes first, and the exit status each leaves:
 * 0 all runs passed or an until-condition was met, 1 some run failed.
 * Each command prints $RPR_RUN so the runs that happened can be counted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, lines, onGrid, run, STAMP_AND_DUE, uniqueSleep } from './core-helpers.js';

afterEach(cleanup);

const runsOf = (stdout: string): number[] =>
  lines(stdout)
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('--times', () => {
  it('runs exactly N times, then exits 0', async () => {
    const r = await run(['interval', '-e', '30ms', '--times', '7', '--', 'sh', '-c', 'echo $RPR_RUN']);
    expect(r.code).toBe(0);
    expect(runsOf(r.stdout)).toEqual(upTo(7));
  });

  it('-t 1 runs once', async () => {
    const r = await run(['count', '-t', '1', '--', 'sh', '-c', 'echo $RPR_RUN']);
    expect(runsOf(r.stdout)).toEqual([1]);
    expect(r.code).toBe(0);
  });
});

describe('--for', () => {
  it('stops starting runs after the duration', async () => {
    const r = await run(['duration', '--for', '550ms', '--every', '100ms', '--', 'sh', '-c', STAMP_AND_DUE]);
    expect(r.code).toBe(0);
    const runs = onGrid(r.stdout, 100);
    // Runs due at 0, 100, ..., 500 ms (fewer if a loaded machine skips a slot); none due at 550 or later.
    expect(runs.length).toBeGreaterThanOrEqual(4);
    expect(runs.length).toBeLessThanOrEqual(6);
    expect(Math.max(...runs.map((x) => x.slot))).toBeLessThanOrEqual(5);
    // The job ends at the deadline, not an interval later.
    expect(r.exitWall - runs[0]!.due).toBeLessThan(550 + 250);
  });

  it('a running command is allowed to finish', async () => {
    const r = await run(['duration', '--for', '200ms', '--', 'sh', '-c', 'echo $RPR_RUN; sleep 0.7; echo finished']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(['1', 'finished']);
    expect(r.ms).toBeGreaterThanOrEqual(700);
  });

  it('--for-kill stops the running command when --for ends', async () => {
    const { secs, marker } = uniqueSleep();
    const r = await run(['duration', '--for', '300ms', '--for-kill', '--', 'sh', '-c', `echo $RPR_RUN; sleep ${secs}; echo finished`], {
      watch: [marker],
    });
    expect(lines(r.stdout)).toEqual(['1']);
    expect(r.ms).toBeLessThan(3000);
    expect(r.leftAtExit[marker]).toEqual([]);
    // Whether a run cut short by --for-kill counts as failed is not specified: 0 or 1, never a crash.
    expect([0, 1]).toContain(r.code);
  });

  it('--for with --times: whichever comes first (--times)', async () => {
    const r = await run(['duration', '--for', '10s', '--times', '3', '--', 'sh', '-c', 'echo $RPR_RUN']);
    expect(runsOf(r.stdout)).toEqual(upTo(3));
    expect(r.ms).toBeLessThan(5000);
    expect(r.code).toBe(0);
  });

  it('--for with --times: whichever comes first (--for)', async () => {
    const r = await run(['interval', '-e', '100ms', '--for', '250ms', '--times', '50', '--', 'sh', '-c', STAMP_AND_DUE]);
    const runs = onGrid(r.stdout, 100);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...runs.map((x) => x.slot))).toBeLessThanOrEqual(2);
    expect(r.code).toBe(0);
  });
});

describe('until conditions', () => {
  it('--until-success stops after the first successful run, exit 0', async () => {
    const r = await run(['interval', '-e', '30ms', '-t', '10', '--until-success', '--', 'sh', '-c', 'echo $RPR_RUN; [ $RPR_RUN -ge 3 ]']);
    expect(runsOf(r.stdout)).toEqual(upTo(3));
    expect(r.code).toBe(0);
  });

  it('--until-success that is never met: all runs fail, exit 1', async () => {
    const r = await run(['count', '-t', '3', '--until-success', '--', 'sh', '-c', 'echo $RPR_RUN; exit 1']);
    expect(runsOf(r.stdout)).toEqual(upTo(3));
    expect(r.code).toBe(1);
  });

  it('--until-failure stops after the first failed run, exit 0 (the condition was met)', async () => {
    const r = await run(['interval', '-e', '30ms', '-t', '10', '--until-failure', '--', 'sh', '-c', 'echo $RPR_RUN; [ $RPR_RUN -lt 4 ]']);
    expect(runsOf(r.stdout)).toEqual(upTo(4));
    expect(r.code).toBe(0);
  });

  it('--until-match stops when the output matches', async () => {
    const r = await run(['count', '-t', '10', '--until-match', 'rea+dy', '--', 'sh', '-c', 'echo $RPR_RUN; [ $RPR_RUN -ge 2 ] && echo "server is reaaady"; true']);
    expect(runsOf(r.stdout)).toEqual(upTo(2));
    expect(r.stdout).toContain('server is reaaady');
    expect(r.code).toBe(0);
  });

  it('--until-match sees a match in the middle of a large output', async () => {
    const r = await run(['count', '-t', '5', '--until-match', '^needle$', '--', 'sh', '-c', 'seq 1 100000; [ $RPR_RUN -eq 2 ] && echo needle; seq 1 1000']);
    expect(lines(r.stdout).filter((l) => l === 'needle')).toHaveLength(1);
    // Two runs of 101000 lines, plus the needle.
    expect(lines(r.stdout)).toHaveLength(2 * 101_000 + 1);
    expect(r.code).toBe(0);
  });

  it('--until-match on stderr output too', async () => {
    const r = await run(['count', '-t', '5', '--until-match', 'bingo', '--', 'sh', '-c', 'echo $RPR_RUN; [ $RPR_RUN -eq 3 ] && echo bingo >&2; true']);
    expect(runsOf(r.stdout)).toEqual(upTo(3));
  });

  it('--until-changes stops when the output differs from the previous run', async () => {
    const r = await run(['count', '-t', '10', '--until-changes', '--', 'sh', '-c', 'if [ $RPR_RUN -ge 4 ]; then echo new; else echo old; fi']);
    expect(lines(r.stdout)).toEqual(['old', 'old', 'old', 'new']);
    expect(r.code).toBe(0);
  });

  it('--until-changes does not stop while the output stays the same', async () => {
    const r = await run(['count', '-t', '4', '--until-changes', '--', 'echo', 'same']);
    expect(lines(r.stdout)).toEqual(['same', 'same', 'same', 'same']);
    expect(r.code).toBe(0);
  });

  it('--max-failures N stops after N failed runs, exit 1', async () => {
    const r = await run(['count', '-t', '20', '--max-failures', '2', '--', 'sh', '-c', 'echo $RPR_RUN; [ $((RPR_RUN % 2)) -eq 1 ]']);
    // Runs 2 and 4 fail.
    expect(runsOf(r.stdout)).toEqual(upTo(4));
    expect(r.code).toBe(1);
  });

  it('--until-time stops starting runs at that time', async () => {
    // Far enough ahead for Node's start-up on a loaded machine, then a few runs.
    const until = new Date(Date.now() + 3000);
    const r = await run(['interval', '-e', '100ms', '--until-time', until.toISOString(), '--', 'date', '+%s%N']);
    expect(r.code).toBe(0);
    const stamps = lines(r.stdout).map((l) => Number(BigInt(l) / 1_000_000n));
    expect(stamps.length).toBeGreaterThanOrEqual(2);
    // No run starts after the time, and the job does not go on much past it.
    expect(Math.max(...stamps)).toBeLessThanOrEqual(until.getTime() + 5);
    expect(r.exitWall).toBeLessThan(until.getTime() + 500);
    expect(r.exitWall).toBeGreaterThanOrEqual(until.getTime() - 150);
  });

  it('--until-time in HH:MM:SS form is accepted and the job starts', async () => {
    // A time of day an hour ahead: the first run happens, then --times ends it.
    const t = new Date(Date.now() + 3600_000);
    const hms = [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
    const r = await run(['count', '-t', '2', '--until-time', hms, '--', 'sh', '-c', 'echo $RPR_RUN']);
    expect(r.code).toBe(0);
    expect(runsOf(r.stdout)).toEqual(upTo(2));
  });
});

describe('exit status', () => {
  it('0 when every run succeeded', async () => {
    expect((await run(['count', '-t', '3', '--', 'true'])).code).toBe(0);
  });

  it('1 when some run failed, even if later ones passed', async () => {
    const r = await run(['count', '-t', '3', '--', 'sh', '-c', '[ $RPR_RUN -ne 1 ]']);
    expect(r.code).toBe(1);
  });

  it('1 when the command exits 127 under --shell (not found by the shell)', async () => {
    const r = await run(['count', '-t', '1', '--shell', '--', 'rpr-no-such-command-xyz']);
    expect(r.code).toBe(1);
  });

  it('a timed-out run is a failure: exit 1', async () => {
    const { secs, marker } = uniqueSleep();
    const r = await run(['count', '-t', '1', '--timeout', '200ms', '--', 'sleep', secs], { watch: [marker] });
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(3000);
    expect(r.leftAtExit[marker]).toEqual([]);
  });
});

describe('patterns decide success', () => {
  it('--success-pattern passes a run whatever its exit code', async () => {
    const r = await run(['count', '-t', '2', '--success-pattern', 'all good', '--', 'sh', '-c', 'echo all good; exit 3']);
    expect(r.code).toBe(0);
  });

  it('no --success-pattern match: the exit code decides', async () => {
    const r = await run(['count', '-t', '2', '--success-pattern', 'all good', '--', 'sh', '-c', 'echo meh; exit 3']);
    expect(r.code).toBe(1);
    const ok = await run(['count', '-t', '2', '--success-pattern', 'all good', '--', 'sh', '-c', 'echo meh; exit 0']);
    expect(ok.code).toBe(0);
  });

  it('--failure-pattern fails a run that exits 0', async () => {
    const r = await run(['count', '-t', '2', '--failure-pattern', 'ERROR', '--', 'sh', '-c', 'echo "1 ERROR found"; exit 0']);
    expect(r.code).toBe(1);
  });

  it('--failure-pattern is checked before --success-pattern', async () => {
    const r = await run(['count', '-t', '1', '--success-pattern', 'done', '--failure-pattern', 'ERROR', '--', 'sh', '-c', 'echo done; echo ERROR']);
    expect(r.code).toBe(1);
  });

  it('patterns see stderr as well', async () => {
    const r = await run(['count', '-t', '1', '--failure-pattern', 'fatal', '--', 'sh', '-c', 'echo fatal >&2']);
    expect(r.code).toBe(1);
  });

  it('patterns are case-sensitive by default', async () => {
    const r = await run(['count', '-t', '1', '--failure-pattern', 'error', '--', 'echo', 'ERROR']);
    expect(r.code).toBe(0);
  });

  it('--case-insensitive makes them ignore case', async () => {
    const r = await run(['count', '-t', '1', '--case-insensitive', '--failure-pattern', 'error', '--', 'echo', 'ERROR']);
    expect(r.code).toBe(1);
    const s = await run(['count', '-t', '1', '--case-insensitive', '--success-pattern', 'READY', '--', 'sh', '-c', 'echo ready; exit 1']);
    expect(s.code).toBe(0);
  });

  it('a (?i) prefix makes one pattern ignore case', async () => {
    const r = await run(['count', '-t', '1', '--failure-pattern', '(?i)error', '--', 'echo', 'Error!']);
    expect(r.code).toBe(1);
    const m = await run(['count', '-t', '5', '--until-match', '(?i)^ready$', '--', 'sh', '-c', 'echo $RPR_RUN; [ $RPR_RUN -eq 2 ] && echo READY; true']);
    expect(runsOf(m.stdout)).toEqual(upTo(2));
  });

  it('--until-match uses --case-insensitive too', async () => {
    const r = await run(['count', '-t', '5', '--case-insensitive', '--until-match', 'ready', '--', 'sh', '-c', 'echo $RPR_RUN; [ $RPR_RUN -eq 3 ] && echo READY; true']);
    expect(runsOf(r.stdout)).toEqual(upTo(3));
  });
});
