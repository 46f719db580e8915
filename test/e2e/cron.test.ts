/**
 * `rpr cron` end to end, with the built binary: real runs on a seconds-field
 * schedule (exact count, about 1 s apart, never doubled), `--next` listings
 * (exact lines, also across DST), usage errors, and cron with the core's
 * output modes, overlap policy and stop conditions. The date math itself is
 * covered by test/unit/cron.test.ts; here we check what a user sees.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, lines, run, STACK_LINE, tempDir } from './service-helpers.js';

// Every run() ends by itself (or is killed by its timeout), so tests may run
// concurrently; temp dirs go at the end.
afterAll(cleanup);

/** Per run: "START_NANOS DUE_ISO RUN", as the child saw it. */
const STAMP = 'echo "$(date +%s%N) $RPR_SCHEDULED_AT $RPR_RUN"';

interface Stamp {
  start: number;
  due: number;
  run: number;
}

function stamps(stdout: string): Stamp[] {
  return lines(stdout).map((line) => {
    const m = /^(\d{15,}) (\S+) (\d+)$/.exec(line);
    if (!m) throw new Error(`unexpected output line ${JSON.stringify(line)}`);
    return { start: Number(BigInt(m[1]!) / 1000n) / 1000, due: Date.parse(m[2]!), run: Number(m[3]) };
  });
}

interface JsonRun {
  run: number;
  due: string;
  start: string;
  end: string;
  exit_code: number | null;
  success: boolean;
  duration_ms: number;
}

const jsonRuns = (stdout: string): JsonRun[] => lines(stdout).map((l) => JSON.parse(l) as JsonRun);
const skippedIn = (summary: string): number => Number(/skipped (\d+)/.exec(summary)?.[1] ?? NaN);

/** Runs `rpr ...args` that must fail as a usage error before running the command (which would create a marker file). */
async function expectUsageError(args: string[], mentions: RegExp[]): Promise<string> {
  const dir = tempDir();
  const marker = join(dir, 'ran');
  const r = await run([...args.map((a) => a.replace('MARKER', marker))]);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(lines(r.stderr), 'exactly one line on stderr').toHaveLength(1);
  expect(r.stderr).toMatch(/^rpr: /);
  expect(r.stderr).not.toMatch(STACK_LINE);
  expect(r.stderr).not.toMatch(/Error:|node:internal|\bat \S+:\d+/);
  for (const re of mentions) expect(r.stderr).toMatch(re);
  expect(existsSync(marker), 'the command must not run').toBe(false);
  return r.stderr;
}

describe('a seconds-field cron really runs', () => {
  it('*/1 * * * * * with --times 3: exactly 3 runs on consecutive seconds, ~1 s apart, then exits 0', async () => {
    const r = await run(['cron', '--cron', '*/1 * * * * *', '--times', '3', '--', 'sh', '-c', STAMP]);
    expect(r.code, r.stderr).toBe(0);
    const s = stamps(r.stdout);
    // Never doubled: three runs, numbered 1..3, three different due times.
    expect(s.map((x) => x.run)).toEqual([1, 2, 3]);
    expect(new Set(s.map((x) => x.due)).size).toBe(3);
    for (const x of s) {
      // Due on whole seconds; started at (not before) that second, promptly.
      expect(x.due % 1000).toBe(0);
      expect(x.start - x.due, `run ${x.run} start vs due`).toBeGreaterThanOrEqual(-5);
      expect(x.start - x.due, `run ${x.run} start vs due`).toBeLessThan(700);
    }
    for (let i = 1; i < s.length; i++) {
      expect(s[i]!.due - s[i - 1]!.due, 'due times one second apart').toBe(1000);
      const gap = s[i]!.start - s[i - 1]!.start;
      expect(gap, 'start-to-start gap').toBeGreaterThan(600);
      expect(gap, 'start-to-start gap').toBeLessThan(1400);
    }
    // It ends once the third run is done, without waiting for another slot.
    expect(r.exitWall - s[2]!.start).toBeLessThan(2000);
  });
});

describe.concurrent('rpr cron --next', () => {
  it('prints the docs example exactly: 02:30 New York across the spring gap runs at 03:00', async () => {
    const r = await run(['cron', '--cron', '30 2 * * *', '--tz', 'America/New_York', '--from', '2027-03-13T12:00:00Z', '--next', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('2027-03-14T03:00:00-04:00\n2027-03-15T02:30:00-04:00\n2027-03-16T02:30:00-04:00\n');
  });

  it('the repeated autumn hour in New York: 01:30 runs once, the 1st pass; every 30 min follows real time', async () => {
    const [once, every] = await Promise.all([
      run(['cron', '--cron', '30 1 * * *', '--timezone', 'America/New_York', '--from', '2027-11-06T12:00:00Z', '--next', '3']),
      run(['cron', '--cron', '*/30 * * * *', '--tz', 'America/New_York', '--from', '2027-11-07T04:45:00Z', '--next', '5']),
    ]);
    expect(once.code, once.stderr).toBe(0);
    expect(once.stdout).toBe('2027-11-07T01:30:00-04:00\n2027-11-08T01:30:00-05:00\n2027-11-09T01:30:00-05:00\n');
    expect(every.code, every.stderr).toBe(0);
    expect(lines(every.stdout)).toEqual(['2027-11-07T01:00:00-04:00', '2027-11-07T01:30:00-04:00', '2027-11-07T01:00:00-05:00', '2027-11-07T01:30:00-05:00', '2027-11-07T02:00:00-05:00']);
    // Each line is a real instant 30 minutes after the previous: no burst, no double run.
    const ms = lines(every.stdout).map((l) => Date.parse(l));
    for (let i = 1; i < ms.length; i++) expect(ms[i]! - ms[i - 1]!).toBe(30 * 60_000);
  });

  it('UTC as +00:00 and only times strictly after --from; seconds field; Berlin spring gap; cr alias; names of days', async () => {
    const [utc, secs, berlin, tokyo] = await Promise.all([
      run(['cron', '--cron', '0 */6 * * *', '--tz', 'UTC', '--from', '2027-05-01T06:00:00Z', '--next', '3']),
      run(['cr', '--cron', '*/15 * * * * *', '--tz', 'UTC', '--from', '2027-05-01T06:00:00Z', '--next', '4']),
      run(['cron', '--cron', '30 2 * * *', '--tz', 'Europe/Berlin', '--from', '2027-03-27T12:00:00Z', '--next', '2']),
      run(['cr', '--cron', '0 9 * * MON-FRI', '--tz', 'Asia/Tokyo', '--from', '2027-05-01T00:00:00Z', '--next', '3']),
    ]);
    for (const r of [utc, secs, berlin, tokyo]) expect(r.code, r.stderr).toBe(0);
    // 06:00 itself is --from: not listed.
    expect(utc.stdout).toBe('2027-05-01T12:00:00+00:00\n2027-05-01T18:00:00+00:00\n2027-05-02T00:00:00+00:00\n');
    expect(secs.stdout).toBe('2027-05-01T06:00:15+00:00\n2027-05-01T06:00:30+00:00\n2027-05-01T06:00:45+00:00\n2027-05-01T06:01:00+00:00\n');
    expect(berlin.stdout).toBe('2027-03-28T03:00:00+02:00\n2027-03-29T02:30:00+02:00\n');
    // 1 May 2027 is a Saturday: Monday 3 May is the first weekday, 09:00 in Tokyo (+09:00).
    expect(tokyo.stdout).toBe('2027-05-03T09:00:00+09:00\n2027-05-04T09:00:00+09:00\n2027-05-05T09:00:00+09:00\n');
  });

  it('without --from lists times after now', async () => {
    const before = Date.now();
    const r = await run(['cron', '--cron', '0 0 1 1 *', '--tz', 'UTC', '--next', '2']);
    expect(r.code, r.stderr).toBe(0);
    const [a, b] = lines(r.stdout).map((l) => Date.parse(l));
    const year = new Date(before).getUTCFullYear();
    expect(a).toBe(Date.UTC(year + 1, 0, 1));
    expect(b).toBe(Date.UTC(year + 2, 0, 1));
  });
});

describe.concurrent('usage errors: exit 2, one line naming the field and its range, no stack trace, nothing runs', () => {
  it.each([
    ['0 25 * * *', [/hour/, /"25"/, /0-23/]],
    ['61 * * * * *', [/second/, /"61"/, /0-59/]],
    ['0 0 0 * *', [/day-of-month/, /"0"/, /1-31/]],
    ['0 0 * * FRU', [/day-of-week/, /FRU/, /SUN-SAT/]],
    ['* * * *', [/5 fields/, /6/]],
  ])('%s', async (expr, mentions) => {
    await expectUsageError(['cron', '--cron', expr, '--', 'touch', 'MARKER'], mentions);
  });

  it('an unknown zone (--tz; --timezone with --next)', async () => {
    await Promise.all([
      expectUsageError(['cron', '--cron', '* * * * *', '--tz', 'Mars/Olympus', '--', 'touch', 'MARKER'], [/time zone/, /Mars\/Olympus/]),
      expectUsageError(['cr', '--cron', '* * * * *', '--timezone', 'Europe/Berln', '--next', '2'], [/time zone/, /Europe\/Berln/]),
    ]);
  });

  it('a bad expression with --next', async () => {
    await expectUsageError(['cron', '--cron', '0 24 * * *', '--next', '3'], [/hour/, /"24"/, /0-23/]);
  });

  it('--next with a command to run', async () => {
    await expectUsageError(['cron', '--cron', '* * * * *', '--next', '2', '--', 'touch', 'MARKER'], [/--next/]);
  });

  it('--next that is not a number, --from without --next, no --cron', async () => {
    await Promise.all([
      expectUsageError(['cron', '--cron', '* * * * *', '--next', 'three'], [/--next/]),
      expectUsageError(['cron', '--cron', '* * * * *', '--from', '2027-01-01T00:00:00Z', '--', 'touch', 'MARKER'], [/--from/]),
      expectUsageError(['cron', '--', 'touch', 'MARKER'], [/--cron/]),
    ]);
  });
});

describe.concurrent('cron with the core options', () => {
  it('--json: one object per run, due on whole seconds one apart; cr alias and --timezone', async () => {
    const r = await run(['cr', '--cron', '* * * * * *', '--timezone', 'Pacific/Chatham', '--times', '2', '--json', '--', 'sh', '-c', 'echo not-in-json; exit 3']);
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.code).not.toBe(2);
    const runs = jsonRuns(r.stdout);
    expect(runs.map((x) => x.run)).toEqual([1, 2]);
    expect(r.stdout).not.toContain('not-in-json');
    for (const x of runs) {
      expect(x.exit_code).toBe(3);
      expect(x.success).toBe(false);
      expect(Date.parse(x.due) % 1000).toBe(0);
      expect(Date.parse(x.start) - Date.parse(x.due)).toBeGreaterThanOrEqual(-5);
      expect(Date.parse(x.start) - Date.parse(x.due)).toBeLessThan(700);
    }
    expect(Date.parse(runs[1]!.due) - Date.parse(runs[0]!.due)).toBe(1000);
  });

  it('--on-overlap skip: a 1.5 s run outlasting its 1 s slot skips the next slot, and --summary counts the skipped slots', async () => {
    const r = await run(['cron', '--cron', '*/1 * * * * *', '--times', '2', '--on-overlap', 'skip', '--json', '--summary', '--', 'sleep', '1.5']);
    expect(r.code, r.stderr).toBe(0);
    const runs = jsonRuns(r.stdout);
    expect(runs.map((x) => x.run)).toEqual([1, 2]);
    const [a, b] = runs.map((x) => Date.parse(x.due));
    const steps = (b! - a!) / 1000;
    // The run ends 1.5 s after its slot: the next slot is missed, the one after is used.
    expect(Number.isInteger(steps)).toBe(true);
    expect(steps).toBeGreaterThanOrEqual(2);
    expect(steps).toBeLessThanOrEqual(3);
    // Never overlapping: run 2 starts after run 1 ended.
    expect(Date.parse(runs[1]!.start)).toBeGreaterThanOrEqual(Date.parse(runs[0]!.end));
    // Every slot skipped between the two runs is counted, and no more (the job ends after run 2).
    expect(skippedIn(r.stderr), r.stderr).toBe(steps - 1);
  });

  it('--until-success: fails once, succeeds on the next fire time, then stops', async () => {
    const dir = tempDir();
    const flag = join(dir, 'second-time');
    const r = await run(['cron', '--cron', '* * * * * *', '--until-success', '--json', '--', 'sh', '-c', `test -e ${flag} && exit 0; touch ${flag}; exit 1`], { timeoutMs: 15_000 });
    expect(r.code, r.stderr).toBe(0);
    const runs = jsonRuns(r.stdout);
    expect(runs.map((x) => [x.run, x.success])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(Date.parse(runs[1]!.due) - Date.parse(runs[0]!.due)).toBe(1000);
  });
});
