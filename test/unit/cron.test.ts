import { describe, expect, it } from 'vitest';
import { RprError } from '../../src/errors/index.js';
import { formatIsoWithOffset, nextTimes, parseCron } from '../../src/schedule/cron/parse.js';

/** The next n fire times after `from`, as UTC ISO strings (expected values below are worked out by hand). */
function utc(expr: string, tz: string, from: string, n: number): string[] {
  return nextTimes(parseCron(expr, tz), n, Date.parse(from)).map((t) => new Date(t).toISOString());
}

/** The same, printed the way `rpr cron --next` prints them. */
function local(expr: string, tz: string, from: string, n: number): string[] {
  const schedule = parseCron(expr, tz);
  return nextTimes(schedule, n, Date.parse(from)).map((t) => formatIsoWithOffset(t, schedule.timezone));
}

const z = (isoNoMs: string): string => isoNoMs.replace(/Z$/, '.000Z');

// 2027 DST dates: New York springs forward Sun 14 March 02:00 EST -> 03:00 EDT (07:00Z) and falls back
// Sun 7 November 02:00 EDT -> 01:00 EST (06:00Z). Berlin: Sun 28 March 02:00 CET -> 03:00 CEST (01:00Z),
// Sun 31 October 03:00 CEST -> 02:00 CET (01:00Z).
const NY = 'America/New_York';
const BERLIN = 'Europe/Berlin';

describe('DST: fixed-hour expressions follow the wall clock', () => {
  it.each([
    // spring gap: 02:30 does not exist; runs once at the first instant after the gap (03:00), then normal
    ['30 2 * * *', NY, '2027-03-13T12:00:00Z', ['2027-03-14T07:00:00Z', '2027-03-15T06:30:00Z', '2027-03-16T06:30:00Z']],
    ['30 2 * * *', BERLIN, '2027-03-27T12:00:00Z', ['2027-03-28T01:00:00Z', '2027-03-29T00:30:00Z']],
    // autumn overlap: 01:30 (NY) / 02:30 (Berlin) happen twice; only the first (daylight) one runs
    ['30 1 * * *', NY, '2027-11-06T12:00:00Z', ['2027-11-07T05:30:00Z', '2027-11-08T06:30:00Z']],
    ['30 2 * * *', BERLIN, '2027-10-30T12:00:00Z', ['2027-10-31T00:30:00Z', '2027-11-01T01:30:00Z']],
    // 02:30 is not in New York's repeated hour (01:00-01:59): unaffected
    ['30 2 * * *', NY, '2027-11-06T12:00:00Z', ['2027-11-07T07:30:00Z', '2027-11-08T07:30:00Z']],
    // several times inside the gap merge into the one run at 03:00; 03:00 itself is that same run
    ['*/15 2 * * *', NY, '2027-03-14T05:00:00Z', ['2027-03-14T07:00:00Z', '2027-03-15T06:00:00Z']],
    ['0,30 2,3 * * *', NY, '2027-03-14T05:00:00Z', ['2027-03-14T07:00:00Z', '2027-03-14T07:30:00Z', '2027-03-15T06:00:00Z']],
    // every minute-slot of the repeated hour runs on the first pass only
    ['*/15 1 * * *', NY, '2027-11-07T04:50:00Z', ['2027-11-07T05:00:00Z', '2027-11-07T05:15:00Z', '2027-11-07T05:30:00Z', '2027-11-07T05:45:00Z', '2027-11-08T06:00:00Z']],
    // hours around the overlap: 00:00 EDT, 01:00 EDT, (01:00 EST skipped), 02:00 EST, 03:00 EST
    ['0 0-3 * * *', NY, '2027-11-07T03:30:00Z', ['2027-11-07T04:00:00Z', '2027-11-07T05:00:00Z', '2027-11-07T07:00:00Z', '2027-11-07T08:00:00Z']],
    // the seconds field follows the same rule
    ['0 30 2 * * *', NY, '2027-03-13T12:00:00Z', ['2027-03-14T07:00:00Z', '2027-03-15T06:30:00Z']],
    // a gap at midnight (Santiago, 5 Sept 2027 00:00 -> 01:00): the day's midnight run happens at 01:00
    ['0 0 * * *', 'America/Santiago', '2027-09-03T12:00:00Z', ['2027-09-04T04:00:00Z', '2027-09-05T04:00:00Z', '2027-09-06T03:00:00Z']],
    // a 30-minute gap (Lord Howe, 3 Oct 2027 02:00 +10:30 -> 02:30 +11:00): 02:00 and 02:15 merge into 02:30
    ['0,15,30,45 2 * * *', 'Australia/Lord_Howe', '2027-10-02T14:00:00Z', ['2027-10-02T15:30:00Z', '2027-10-02T15:45:00Z', '2027-10-03T15:00:00Z']],
  ])('%s in %s from %s', (expr, tz, from, expected) => {
    expect(utc(expr, tz, from, expected.length)).toEqual(expected.map(z));
  });

  it('prints the catch-up run and the first pass with their offsets', () => {
    expect(local('30 2 * * *', NY, '2027-03-13T12:00:00Z', 2)).toEqual(['2027-03-14T03:00:00-04:00', '2027-03-15T02:30:00-04:00']);
    expect(local('30 1 * * *', NY, '2027-11-06T12:00:00Z', 2)).toEqual(['2027-11-07T01:30:00-04:00', '2027-11-08T01:30:00-05:00']);
    expect(local('30 2 * * *', BERLIN, '2027-10-30T12:00:00Z', 2)).toEqual(['2027-10-31T02:30:00+02:00', '2027-11-01T02:30:00+01:00']);
  });

  it('never runs twice when asked from inside the repeated hour', () => {
    const s = parseCron('30 1 * * *', NY);
    // 01:10 EDT, first pass: the 01:30 EDT run is still ahead
    expect(s.nextAfter(Date.parse('2027-11-07T05:10:00Z'))).toBe(Date.parse('2027-11-07T05:30:00Z'));
    // exactly at the run, and at 01:10 EST (second pass): next is tomorrow, not 01:30 EST today
    expect(s.nextAfter(Date.parse('2027-11-07T05:30:00Z'))).toBe(Date.parse('2027-11-08T06:30:00Z'));
    expect(s.nextAfter(Date.parse('2027-11-07T06:10:00Z'))).toBe(Date.parse('2027-11-08T06:30:00Z'));
    // Berlin, from 02:10 CET (second pass)
    expect(parseCron('30 2 * * *', BERLIN).nextAfter(Date.parse('2027-10-31T01:10:00Z'))).toBe(Date.parse('2027-11-01T01:30:00Z'));
  });

  it('a once-a-year time inside the repeated hour, asked for months ahead, is the first pass', () => {
    // 7 Nov 2027 is New York's fall-back day; from January the offset (EST) is the same at both ends
    expect(local('30 1 7 11 *', NY, '2027-01-01T00:00:00Z', 2)).toEqual(['2027-11-07T01:30:00-04:00', '2028-11-07T01:30:00-05:00']);
    // and once a year inside the gap, asked from the previous summer: the end of the gap
    expect(local('30 2 14 3 *', NY, '2026-08-01T00:00:00Z', 2)).toEqual(['2027-03-14T03:00:00-04:00', '2028-03-14T02:30:00-04:00']);
  });

  it('continues normally after the catch-up run at the end of the gap', () => {
    const s = parseCron('30 2 * * *', NY);
    expect(s.nextAfter(Date.parse('2027-03-14T07:00:00Z'))).toBe(Date.parse('2027-03-15T06:30:00Z'));
    expect(s.nextAfter(Date.parse('2027-03-14T06:59:59.999Z'))).toBe(Date.parse('2027-03-14T07:00:00Z'));
  });

  it('runs exactly once on every local day of 2027, never stopping across either change', () => {
    const s = parseCron('30 2 * * *', NY);
    const times = nextTimes(s, 365, Date.parse('2027-01-01T05:00:00Z'));
    const days = times.map((t) => formatIsoWithOffset(t, NY).slice(0, 10));
    expect(new Set(days).size).toBe(365);
    expect(days[0]).toBe('2027-01-01');
    expect(days[364]).toBe('2027-12-31');
    const clock = times.map((t) => formatIsoWithOffset(t, NY).slice(11, 19));
    expect(clock.filter((c) => c !== '02:30:00')).toEqual(['03:00:00']);
    expect(formatIsoWithOffset(times[72]!, NY)).toBe('2027-03-14T03:00:00-04:00');
  });
});

describe('DST: every-hour expressions follow real time', () => {
  it.each([
    // spring: 01:30 EST then 03:00 EDT, 30 real minutes apart; nothing for the 02:xx that never exist
    ['*/30 * * * *', NY, '2027-03-14T05:00:00Z', ['2027-03-14T05:30:00Z', '2027-03-14T06:00:00Z', '2027-03-14T06:30:00Z', '2027-03-14T07:00:00Z', '2027-03-14T07:30:00Z']],
    // autumn: 01:00 and 01:30 run on both passes, each a different real half hour
    ['*/30 * * * *', NY, '2027-11-07T04:00:00Z', ['2027-11-07T04:30:00Z', '2027-11-07T05:00:00Z', '2027-11-07T05:30:00Z', '2027-11-07T06:00:00Z', '2027-11-07T06:30:00Z', '2027-11-07T07:00:00Z']],
    ['*/30 * * * *', BERLIN, '2027-03-28T00:00:00Z', ['2027-03-28T00:30:00Z', '2027-03-28T01:00:00Z', '2027-03-28T01:30:00Z']],
    ['*/30 * * * *', BERLIN, '2027-10-30T23:00:00Z', ['2027-10-30T23:30:00Z', '2027-10-31T00:00:00Z', '2027-10-31T00:30:00Z', '2027-10-31T01:00:00Z', '2027-10-31T01:30:00Z', '2027-10-31T02:00:00Z']],
    // hourly at :30 stays one real hour apart: 01:30 EST -> 03:30 EDT, with no extra run at 03:00
    ['30 * * * *', NY, '2027-03-14T06:00:00Z', ['2027-03-14T06:30:00Z', '2027-03-14T07:30:00Z']],
    ['@hourly', NY, '2027-11-07T04:30:00Z', ['2027-11-07T05:00:00Z', '2027-11-07T06:00:00Z', '2027-11-07T07:00:00Z']],
    // 0-23 covers every hour too
    ['0 0-23 * * *', NY, '2027-11-07T04:30:00Z', ['2027-11-07T05:00:00Z', '2027-11-07T06:00:00Z']],
  ])('%s in %s from %s', (expr, tz, from, expected) => {
    expect(utc(expr, tz, from, expected.length)).toEqual(expected.map(z));
  });

  it('prints both passes of the repeated hour with their offsets', () => {
    expect(local('*/30 * * * *', NY, '2027-11-07T05:15:00Z', 3)).toEqual(['2027-11-07T01:30:00-04:00', '2027-11-07T01:00:00-05:00', '2027-11-07T01:30:00-05:00']);
  });

  it('from the end of the first pass, goes to the start of the second', () => {
    expect(parseCron('*/30 * * * *', NY).nextAfter(Date.parse('2027-11-07T05:45:00Z'))).toBe(Date.parse('2027-11-07T06:00:00Z'));
  });

  it.each([NY, BERLIN, 'Australia/Lord_Howe'])('*/30 is always exactly 30 real minutes apart in %s', (tz) => {
    for (const from of ['2027-03-13T00:00:00Z', '2027-10-01T00:00:00Z', '2027-10-30T00:00:00Z', '2027-11-06T00:00:00Z']) {
      const times = nextTimes(parseCron('*/30 * * * *', tz), 200, Date.parse(from));
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(1_800_000);
    }
  });

  it('finds the second pass of a midnight fall-back even when the next wall-time match is months away', () => {
    // Beirut falls back 31 Oct 2027 00:00 +03 -> 30 Oct 23:00 +02; by 30 March 2028 it is +03 again
    expect(local('0,30 * 30 3,10 *', 'Asia/Beirut', '2027-10-30T20:40:00Z', 3)).toEqual(['2027-10-30T23:00:00+02:00', '2027-10-30T23:30:00+02:00', '2028-03-30T00:00:00+03:00']);
    // the fixed-hour version runs on the first pass only
    expect(local('30 23 30 3,10 *', 'Asia/Beirut', '2027-10-30T19:00:00Z', 2)).toEqual(['2027-10-30T23:30:00+03:00', '2028-03-30T23:30:00+03:00']);
  });

  it('a seconds schedule keeps ticking through the repeated hour', () => {
    expect(utc('*/20 * * * * *', NY, '2027-11-07T05:59:30Z', 3)).toEqual(['2027-11-07T05:59:40Z', '2027-11-07T06:00:00Z', '2027-11-07T06:00:20Z'].map(z));
  });
});

/**
 * Brute-force oracle, independent of the implementation: enumerate every real
 * minute around a change, read its local wall time with Intl, and apply the
 * documented rule directly.
 */
function oracle(minutes: number[], hours: number[] | '*', tz: string, from: number, to: number): number[] {
  const fmt = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  const wallOf = (t: number): string => {
    const p = Object.fromEntries(fmt.formatToParts(t).map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
  };
  const instants: { t: number; wall: string; h: number; m: number }[] = [];
  for (let t = from; t <= to; t += 60_000) {
    const wall = wallOf(t);
    instants.push({ t, wall, h: Number(wall.slice(11, 13)), m: Number(wall.slice(14, 16)) });
  }
  if (hours === '*') return instants.filter((i) => minutes.includes(i.m)).map((i) => i.t);
  const out = new Set<number>();
  const days = new Set(instants.map((i) => i.wall.slice(0, 10)));
  for (const day of days) {
    for (const h of hours) {
      for (const m of minutes) {
        const wanted = `${day} ${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
        // first instant showing that wall time, or (gap) the first instant showing a later one
        const hit = instants.find((i) => i.wall === wanted) ?? instants.find((i) => i.wall > wanted);
        if (hit) out.add(hit.t);
      }
    }
  }
  return [...out].sort((a, b) => a - b);
}

describe('DST: agrees with a brute-force oracle, starting from every minute', () => {
  const windows: [string, string][] = [
    [NY, '2027-03-13T20:00:00Z'],
    [NY, '2027-11-06T20:00:00Z'],
    [BERLIN, '2027-03-27T14:00:00Z'],
    [BERLIN, '2027-10-30T14:00:00Z'],
    ['Australia/Lord_Howe', '2027-10-02T04:00:00Z'],
    ['Australia/Lord_Howe', '2027-04-03T04:00:00Z'],
    // changes at midnight: 28 Mar 2027 00:00 -> 01:00, 31 Oct 2027 00:00 -> 30 Oct 23:00
    ['Asia/Beirut', '2027-03-27T10:00:00Z'],
    ['Asia/Beirut', '2027-10-30T10:00:00Z'],
  ];
  const exprs: [string, number[], number[] | '*'][] = [
    ['30 2 * * *', [30], [2]],
    ['0,15,30,45 1,2 * * *', [0, 15, 30, 45], [1, 2]],
    ['10 0-3 * * *', [10], [0, 1, 2, 3]],
    ['20 23 * * *', [20], [23]],
    ['*/30 * * * *', [0, 30], '*'],
    ['45 * * * *', [45], '*'],
  ];
  it.each(windows)('%s around %s', (tz, start) => {
    const from = Date.parse(start);
    const to = from + 20 * 3_600_000;
    for (const [expr, minutes, hours] of exprs) {
      const expected = oracle(minutes, hours, tz, from - 3_600_000, to + 3_600_000).filter((t) => t > from && t <= to);
      const schedule = parseCron(expr, tz);
      const got = nextTimes(schedule, expected.length + 1, from).filter((t) => t <= to);
      expect(got, `${expr} in ${tz}`).toEqual(expected);
      // asking from any minute (not only from the previous run) gives the same next time
      for (let t = from; t < to; t += 7 * 60_000) {
        const next = expected.find((e) => e > t);
        if (next !== undefined) expect(schedule.nextAfter(t), `${expr} in ${tz} after ${new Date(t).toISOString()}`).toBe(next);
      }
    }
  });
});

describe('calendar', () => {
  it.each([
    // leap day: 2028, 2032, 2036; and 2100 is not a leap year
    ['0 0 29 2 *', 'UTC', '2027-01-01T00:00:00Z', ['2028-02-29T00:00:00Z', '2032-02-29T00:00:00Z', '2036-02-29T00:00:00Z']],
    ['0 0 29 2 *', 'UTC', '2096-03-01T00:00:00Z', ['2104-02-29T00:00:00Z']],
    ['0 0 29 2 *', BERLIN, '2027-01-01T00:00:00Z', ['2028-02-28T23:00:00Z']],
    // month ends: 31 skips the short months, 30 skips February
    ['0 0 31 * *', 'UTC', '2027-01-01T00:00:00Z', ['2027-01-31T00:00:00Z', '2027-03-31T00:00:00Z', '2027-05-31T00:00:00Z', '2027-07-31T00:00:00Z', '2027-08-31T00:00:00Z']],
    ['0 0 30 * *', 'UTC', '2027-01-31T00:00:00Z', ['2027-03-30T00:00:00Z']],
    // L: last day, including 29 February in a leap year
    ['0 0 L * *', 'UTC', '2028-01-15T00:00:00Z', ['2028-01-31T00:00:00Z', '2028-02-29T00:00:00Z', '2028-03-31T00:00:00Z', '2028-04-30T00:00:00Z']],
    ['0 0 1,L * *', 'UTC', '2027-01-15T00:00:00Z', ['2027-01-31T00:00:00Z', '2027-02-01T00:00:00Z', '2027-02-28T00:00:00Z']],
    // LW: last weekday (31 Jan 2027 and 28 Feb 2027 are Sundays, 31 Jul 2027 a Saturday)
    [
      '0 0 LW * *',
      'UTC',
      '2027-01-01T00:00:00Z',
      ['2027-01-29T00:00:00Z', '2027-02-26T00:00:00Z', '2027-03-31T00:00:00Z', '2027-04-30T00:00:00Z', '2027-05-31T00:00:00Z', '2027-06-30T00:00:00Z', '2027-07-30T00:00:00Z'],
    ],
    // 15W: 15 May 2027 is a Saturday -> Friday 14; 15 Aug 2027 a Sunday -> Monday 16
    ['0 0 15W * *', 'UTC', '2027-04-20T00:00:00Z', ['2027-05-14T00:00:00Z', '2027-06-15T00:00:00Z', '2027-07-15T00:00:00Z', '2027-08-16T00:00:00Z']],
    // 1W never leaves the month: 1 May 2027 is a Saturday -> Monday 3 (not 30 April); 1 Aug a Sunday -> Monday 2
    ['0 0 1W 5,8 *', 'UTC', '2027-01-01T00:00:00Z', ['2027-05-03T00:00:00Z', '2027-08-02T00:00:00Z']],
    // 31W: only months with a 31st; 31 Jan 2027 Sunday -> 29, 31 Jul Saturday -> 30, 31 Oct Sunday -> 29
    [
      '0 0 31W * *',
      'UTC',
      '2027-01-01T00:00:00Z',
      ['2027-01-29T00:00:00Z', '2027-03-31T00:00:00Z', '2027-05-31T00:00:00Z', '2027-07-30T00:00:00Z', '2027-08-31T00:00:00Z', '2027-10-29T00:00:00Z', '2027-12-31T00:00:00Z'],
    ],
    // 5L: last Friday
    ['0 0 * * 5L', 'UTC', '2027-01-01T00:00:00Z', ['2027-01-29T00:00:00Z', '2027-02-26T00:00:00Z', '2027-03-26T00:00:00Z', '2027-04-30T00:00:00Z']],
    ['0 0 * * FRIL', 'UTC', '2027-01-01T00:00:00Z', ['2027-01-29T00:00:00Z']],
    // #: third Friday; fifth Monday only in months that have one
    ['0 0 * * FRI#3', 'UTC', '2027-01-01T00:00:00Z', ['2027-01-15T00:00:00Z', '2027-02-19T00:00:00Z', '2027-03-19T00:00:00Z']],
    ['0 0 * * 1#5', 'UTC', '2027-01-01T00:00:00Z', ['2027-03-29T00:00:00Z', '2027-05-31T00:00:00Z']],
  ])('%s in %s from %s', (expr, tz, from, expected) => {
    expect(utc(expr, tz, from, expected.length)).toEqual(expected.map(z));
  });
});

describe('fields', () => {
  it.each([
    // seconds field
    ['*/20 * * * * *', '2027-01-01T00:00:00Z', ['2027-01-01T00:00:20Z', '2027-01-01T00:00:40Z', '2027-01-01T00:01:00Z']],
    ['30 15 10 * * *', '2027-01-01T00:00:00Z', ['2027-01-01T10:15:30Z', '2027-01-02T10:15:30Z']],
    // names, any case; MON-SUN reaches Sunday; 7 is Sunday too
    ['0 9 * JAN,jul MON', '2027-01-01T00:00:00Z', ['2027-01-04T09:00:00Z', '2027-01-11T09:00:00Z', '2027-01-18T09:00:00Z', '2027-01-25T09:00:00Z', '2027-07-05T09:00:00Z']],
    ['0 9 * * MON-FRI', '2027-01-01T08:00:00Z', ['2027-01-01T09:00:00Z', '2027-01-04T09:00:00Z']],
    ['0 9 * * mon-sun', '2027-01-01T10:00:00Z', ['2027-01-02T09:00:00Z', '2027-01-03T09:00:00Z']],
    ['0 0 * * 7', '2027-01-01T00:00:00Z', ['2027-01-03T00:00:00Z']],
    ['0 0 * * SUN', '2027-01-01T00:00:00Z', ['2027-01-03T00:00:00Z']],
    // ranges, lists, steps
    ['0 9 * * 1-5/2', '2027-01-01T00:00:00Z', ['2027-01-01T09:00:00Z', '2027-01-04T09:00:00Z', '2027-01-06T09:00:00Z']],
    ['5/20 8-9 * * *', '2027-01-01T00:00:00Z', ['2027-01-01T08:05:00Z', '2027-01-01T08:25:00Z', '2027-01-01T08:45:00Z', '2027-01-01T09:05:00Z']],
    ['0 0 1 */6 *', '2027-01-01T00:00:00Z', ['2027-07-01T00:00:00Z', '2028-01-01T00:00:00Z']],
  ])('%s from %s', (expr, from, expected) => {
    expect(utc(expr, 'UTC', from, expected.length)).toEqual(expected.map(z));
  });

  it('reports whether there is a seconds field', () => {
    expect(parseCron('*/20 * * * * *', 'UTC').hasSeconds).toBe(true);
    expect(parseCron('*/20 * * * *', 'UTC').hasSeconds).toBe(false);
    expect(parseCron('@hourly', 'UTC').hasSeconds).toBe(false);
    expect(parseCron('  30 2 * * *  ', 'UTC').expression).toBe('30 2 * * *');
  });
});

describe('day-of-month and day-of-week', () => {
  it.each([
    // both restricted: either matches (1 Jan 2027 is a Friday; the 13th is a Wednesday)
    ['0 0 13 * FRI', '2027-01-01T00:00:00Z', ['2027-01-08T00:00:00Z', '2027-01-13T00:00:00Z', '2027-01-15T00:00:00Z', '2027-01-22T00:00:00Z']],
    // a step makes the field restricted too: days 1,11,21,31 or Mondays
    [
      '0 0 */10 * MON',
      '2027-01-01T00:00:00Z',
      ['2027-01-04T00:00:00Z', '2027-01-11T00:00:00Z', '2027-01-18T00:00:00Z', '2027-01-21T00:00:00Z', '2027-01-25T00:00:00Z', '2027-01-31T00:00:00Z', '2027-02-01T00:00:00Z'],
    ],
    // W and L in day-of-month OR a weekday: 15 Jan 2027 (Fri), 31 Jan (the last day, a Sunday), and Sundays
    ['0 0 L,15W * SUN', '2027-01-04T00:00:00Z', ['2027-01-10T00:00:00Z', '2027-01-15T00:00:00Z', '2027-01-17T00:00:00Z', '2027-01-24T00:00:00Z', '2027-01-31T00:00:00Z']],
    // April has no 31st, so 31W contributes nothing there, but the Mondays still run
    ['0 0 31W 4 MON', '2027-04-01T00:00:00Z', ['2027-04-05T00:00:00Z', '2027-04-12T00:00:00Z']],
    // only one restricted: that one alone
    ['0 0 13 * *', '2027-01-01T00:00:00Z', ['2027-01-13T00:00:00Z', '2027-02-13T00:00:00Z']],
    ['0 0 * * FRI', '2027-01-01T00:00:00Z', ['2027-01-08T00:00:00Z', '2027-01-15T00:00:00Z']],
    ['0 0 ? * MON', '2027-01-01T00:00:00Z', ['2027-01-04T00:00:00Z', '2027-01-11T00:00:00Z']],
    // the OR also rescues a day the month lacks: 30 Feb never, but Mondays of February do
    ['0 0 30 2 MON', '2027-01-01T00:00:00Z', ['2027-02-01T00:00:00Z', '2027-02-08T00:00:00Z']],
  ])('%s from %s', (expr, from, expected) => {
    expect(utc(expr, 'UTC', from, expected.length)).toEqual(expected.map(z));
  });
});

describe('shortcuts', () => {
  it.each([
    ['@yearly', '2028-01-01T00:00:00Z'],
    ['@annually', '2028-01-01T00:00:00Z'],
    ['@monthly', '2027-07-01T00:00:00Z'],
    ['@weekly', '2027-06-06T00:00:00Z'], // 1 June 2027 is a Tuesday
    ['@daily', '2027-06-02T00:00:00Z'],
    ['@midnight', '2027-06-02T00:00:00Z'],
    ['@hourly', '2027-06-01T01:00:00Z'],
    ['@DAILY', '2027-06-02T00:00:00Z'],
  ])('%s', (expr, expected) => {
    expect(utc(expr, 'UTC', '2027-06-01T00:00:00Z', 1)).toEqual([z(expected)]);
  });

  it('@daily is local midnight in the schedule zone', () => {
    expect(local('@daily', BERLIN, '2027-06-01T00:00:00Z', 1)).toEqual(['2027-06-02T00:00:00+02:00']);
  });
});

function cronError(expr: string, tz?: string): RprError {
  try {
    parseCron(expr, tz);
  } catch (error) {
    expect(error).toBeInstanceOf(RprError);
    const e = error as RprError;
    expect(e.code).toBe('E_CRON');
    expect(e.hint).toBeTruthy();
    return e;
  }
  throw new Error(`"${expr}" was accepted`);
}

describe('invalid expressions', () => {
  it('names the field, the bad value and the allowed range', () => {
    expect(cronError('0 25 * * *').message).toBe('cron: hour "25" is out of range 0-23 in "0 25 * * *"');
    expect(cronError('0 25 * * *').hint).toContain('minute hour day-of-month month day-of-week');
  });

  it.each([
    ['60 * * * * *', 'second "60" is out of range 0-59'],
    ['61 * * * *', 'minute "61" is out of range 0-59'],
    ['0 20-25 * * *', 'hour "25" is out of range 0-23'],
    ['0 0 0 * *', 'day-of-month "0" is out of range 1-31'],
    ['0 0 32 * *', 'day-of-month "32" is out of range 1-31'],
    ['0 0 32W * *', 'day-of-month "32" is out of range 1-31'],
    ['0 0 * 13 *', 'month "13" is out of range 1-12'],
    ['0 0 * 0 *', 'month "0" is out of range 1-12'],
    ['0 0 * * 8', 'day-of-week "8" is out of range 0-7'],
    ['0 0 * * 9L', 'day-of-week "9" is out of range 0-7'],
    ['0 0 * * 8#2', 'day-of-week "8" is out of range 0-7'],
    ['0 0 * * FRI#6', 'day-of-week occurrence "6" in "FRI#6" is out of range 1-5'],
    ['0 0 * * FRI#0', 'day-of-week occurrence "0" in "FRI#0" is out of range 1-5'],
    ['0 0 * * FRU', 'day-of-week "FRU" is not valid: "FRU" is not a name (allowed 0-7 or SUN-SAT, DL or D#N)'],
    ['0 0 * JAN-FOO *', 'month "JAN-FOO" is not valid: "FOO" is not a name (allowed 1-12 or JAN-DEC)'],
    ['0 MON * * *', 'hour "MON" is not valid (allowed 0-23)'],
    ['x * * * *', 'minute "x" is not valid (allowed 0-59)'],
    ['H * * * *', 'minute "H" is not valid (allowed 0-59)'],
    ['1,,2 * * * *', 'minute "1,,2" is not valid: empty list item (allowed 0-59)'],
    ['? * * * *', 'minute "?" is not valid: ? is only for day-of-month and day-of-week (allowed 0-59)'],
    ['*/0 * * * *', 'minute step "0" is out of range 1-60'],
    ['*/61 * * * *', 'minute step "61" is out of range 1-60'],
    ['0 */25 * * *', 'hour step "25" is out of range 1-24'],
    ['1/2/3 * * * *', 'minute "1/2/3" is not valid (allowed 0-59)'],
    ['0 22-2 * * *', 'hour range "22-2" runs backwards (allowed 0-23)'],
    ['0 0 * * FRI-MON', 'day-of-week range "FRI-MON" runs backwards (allowed 0-7)'],
    ['0 0 L-2 * *', 'day-of-month "L-2" is not valid: L stands alone, for the last day of the month (allowed 1-31, L, LW or NW)'],
    ['0 0 1-5W * *', 'day-of-month "1-5W" is not valid: W takes a single day, e.g. 15W or LW'],
    ['0 0 * * L', 'day-of-week "L" is not valid: L needs a weekday'],
    ['0 0 * * 1#2,3', 'day-of-week "1#2,3" is not valid: # cannot be combined with other values in a list'],
    ['0 0 30 2 *', 'day-of-month "30" never occurs in month "2" (FEB has at most 29 days)'],
    ['0 0 31 4,6,9,11 *', 'day-of-month "31" never occurs in month "4,6,9,11" (APR,JUN,SEP,NOV have at most 30 days)'],
    ['0 0 31W FEB *', 'day-of-month "31W" never occurs in month "FEB" (FEB has at most 29 days)'],
  ])('%s', (expr, message) => {
    const error = cronError(expr);
    expect(error.message.startsWith(`cron: ${message}`), error.message).toBe(true);
    expect(error.message.endsWith(` in "${expr}"`), error.message).toBe(true);
  });

  it.each([
    ['* * * *', 4],
    ['* * * * * * *', 7],
    ['0', 1],
  ])('rejects %s: wrong number of fields, with the format in the hint', (expr, count) => {
    const error = cronError(expr);
    expect(error.message).toBe(`cron: expected 5 fields (or 6 with a leading seconds field), got ${count} in "${expr}"`);
    expect(error.hint).toContain('MIN HOUR DOM MON DOW');
    expect(error.hint).toContain('SEC MIN HOUR DOM MON DOW');
  });

  it('rejects an empty expression and unknown shortcuts', () => {
    expect(cronError('   ').message).toBe('cron: the expression is empty');
    const error = cronError('@reboot');
    expect(error.message).toBe('cron: unknown shortcut "@reboot"');
    expect(error.hint).toContain('@yearly @annually @monthly @weekly @daily @midnight @hourly');
  });
});

describe('time zones', () => {
  it('defaults to the local zone', () => {
    expect(parseCron('0 0 * * *').timezone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });

  it('canonicalizes the name', () => {
    expect(parseCron('0 0 * * *', 'europe/berlin').timezone).toBe('Europe/Berlin');
    expect(parseCron('0 0 * * *', 'UTC').timezone).toBe('UTC');
  });

  it.each(['Mars/Olympus', '', 'Europe/Berln', '+99:00'])('rejects %j', (tz) => {
    const error = cronError('0 0 * * *', tz);
    expect(error.message).toBe(`cron: unknown time zone "${tz}"`);
    expect(error.hint).toContain('IANA');
  });

  it('evaluates fields in the zone, not in UTC', () => {
    expect(utc('0 9 * * MON', 'Asia/Tokyo', '2027-01-01T00:00:00Z', 1)).toEqual([z('2027-01-04T00:00:00Z')]);
    expect(utc('0 23 31 12 *', 'America/Los_Angeles', '2027-06-01T00:00:00Z', 1)).toEqual([z('2028-01-01T07:00:00Z')]);
  });
});

describe('formatIsoWithOffset', () => {
  it.each([
    ['2027-05-01T04:00:00Z', BERLIN, '2027-05-01T06:00:00+02:00'],
    ['2027-01-01T04:00:00Z', BERLIN, '2027-01-01T05:00:00+01:00'],
    ['2027-01-01T04:00:00Z', 'UTC', '2027-01-01T04:00:00+00:00'],
    ['2027-01-01T04:00:00Z', NY, '2026-12-31T23:00:00-05:00'],
    ['2027-01-01T04:00:00Z', 'Asia/Kolkata', '2027-01-01T09:30:00+05:30'],
    ['2027-01-01T04:00:00Z', 'America/St_Johns', '2027-01-01T00:30:00-03:30'],
    ['2027-01-01T04:00:00.250Z', 'UTC', '2027-01-01T04:00:00.250+00:00'],
  ])('%s in %s', (iso, tz, expected) => {
    expect(formatIsoWithOffset(Date.parse(iso), tz)).toBe(expected);
  });

  it('rejects a bad zone like parseCron does', () => {
    expect(() => formatIsoWithOffset(0, 'Nowhere/Special')).toThrow(RprError);
  });
});

describe('nextTimes', () => {
  const s = parseCron('0 9 * * *', 'UTC');

  it('is strictly after `from`', () => {
    expect(nextTimes(s, 1, Date.parse('2027-01-01T09:00:00Z'))).toEqual([Date.parse('2027-01-02T09:00:00Z')]);
    expect(nextTimes(s, 1, Date.parse('2027-01-01T08:59:59.999Z'))).toEqual([Date.parse('2027-01-01T09:00:00Z')]);
    expect(nextTimes(s, 1, Date.parse('2027-01-01T09:00:00.001Z'))).toEqual([Date.parse('2027-01-02T09:00:00Z')]);
  });

  it('returns n strictly increasing times, or none for n = 0', () => {
    const times = nextTimes(s, 5, Date.parse('2027-01-01T00:00:00Z'));
    expect(times).toHaveLength(5);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(86_400_000);
    expect(nextTimes(s, 0, 0)).toEqual([]);
  });

  it('rejects a count that is not a whole number', () => {
    expect(() => nextTimes(s, -1, 0)).toThrow(RprError);
    expect(() => nextTimes(s, 1.5, 0)).toThrow(RprError);
  });
});
