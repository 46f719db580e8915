/**
 * Cron date math: when does an expression fire next, as an instant (epoch ms)?
 * Pure functions, no timers; the job loop owns waiting.
 *
 * How it is split:
 * - syntax.ts checks each field and produces friendly E_CRON errors;
 * - cron-parser does all the field matching (names, ranges, steps, L, #,
 *   DOM/DOW OR), always in UTC, on the *wall-clock* time line of the zone: a
 *   "wall time" here is local date-time fields encoded as if they were UTC.
 *   W (nearest weekday) is resolved per month into plain days for cron-parser,
 *   which lacks it;
 * - this file maps wall times to real instants and applies the DST rule
 *   (see docs/cron.md). cron-parser's own `tz` handling is not used: in 5.10
 *   it runs a time in the spring gap one hour late (02:30 -> 03:30) instead of
 *   at the end of the gap, and its DST code has a history of bugs (hasNext()
 *   false across the gap, cron-parser #404). Walking the zone's constant-offset
 *   segments ourselves makes every result strictly increasing by construction.
 *
 * DST rule:
 * - Expressions whose hour field covers all 24 hours (`*`, `0-23`, `*\/1`)
 *   follow real time: they fire at every instant whose local time matches, so
 *   nothing fires inside the spring gap (it does not exist and no real time is
 *   lost) and matching times in the repeated autumn hour fire on both passes
 *   (each pass is a different real hour). `*\/30 * * * *` stays exactly 30
 *   real minutes apart across every change.
 * - Every other expression names specific hours and follows the wall clock: a
 *   time inside the spring gap fires once, at the first instant after the gap
 *   (several times in the same gap merge into that one run); a time inside the
 *   repeated hour fires once, on its first occurrence.
 *
 * Assumes a zone changes its offset at most once in any 24 hours and by less
 * than 24 hours; true in practice of current rules.
 */
import { CronExpression, CronExpressionParser } from 'cron-parser';
import type { CronFieldCollection } from 'cron-parser';
import { RprError } from '../../errors/index.js';
import { checkSyntax, type CronSyntax } from './syntax.js';
import { DAY_MS, firstOffsetChange, offsetAt, resolveZone, utcMs } from './zone.js';

export { formatIsoWithOffset } from './zone.js';

export interface CronSchedule {
  /** The expression as given (trimmed). */
  readonly expression: string;
  /** Canonical IANA zone name the expression is evaluated in. */
  readonly timezone: string;
  /** True when the expression has 6 fields (leading seconds). */
  readonly hasSeconds: boolean;
  /** The first fire time strictly after `wallMs` (epoch ms), or null if there is none. */
  nextAfter(wallMs: number): number | null;
}

/**
 * Parses a 5-field (or 6-field, leading seconds) cron expression or a
 * shortcut, to be evaluated in `tz` (an IANA name; default the local zone).
 * Throws RprError('E_CRON') naming the bad field and its allowed range.
 */
export function parseCron(expr: string, tz?: string): CronSchedule {
  const syntax = checkSyntax(expr);
  const timezone = resolveZone(tz);
  const matcher = new WallMatcher(syntax);
  return {
    expression: syntax.expression,
    timezone,
    hasSeconds: syntax.hasSeconds,
    nextAfter: (wallMs: number) => nextInstant(matcher, timezone, wallMs),
  };
}

/** The next `n` fire times strictly after `fromWallMs`, fewer if the schedule ends. */
export function nextTimes(schedule: CronSchedule, n: number, fromWallMs: number): number[] {
  if (!Number.isInteger(n) || n < 0) {
    throw new RprError('E_USAGE', `cron: cannot list ${n} next times`, { hint: 'ask for a whole number, 0 or more' });
  }
  const out: number[] = [];
  let at = fromWallMs;
  while (out.length < n) {
    const next = schedule.nextAfter(at);
    if (next === null) break;
    out.push(next);
    at = next;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Wall-time matching (cron-parser, in UTC)

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MONTH_LABELS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
/** How far the W search walks month by month before giving up (400 years). */
const MAX_W_MONTHS = 4800;

function compile(fields: readonly string[], syntax: CronSyntax): CronFieldCollection {
  try {
    return CronExpressionParser.parse(fields.join(' '), { tz: 'UTC' }).fields;
  } catch (error) {
    // Our syntax check should have caught everything; keep cron-parser's words as a last resort.
    throw new RprError('E_CRON', `cron: "${syntax.expression}" is not valid: ${(error as Error).message}`, {
      hint: 'check the expression with: rpr cron --cron EXPR --next 5',
      cause: error,
    });
  }
}

function fromFields(fields: CronFieldCollection, afterWall: number, beforeWall?: number): number | null {
  try {
    const options = { tz: 'UTC', currentDate: new Date(afterWall) };
    const bounded = beforeWall === undefined ? options : { ...options, endDate: new Date(beforeWall) };
    return CronExpression.fieldsToExpression(fields, bounded).next().getTime();
  } catch {
    // cron-parser's loop limit (no match within its search horizon) or, when bounded, nothing before beforeWall
    return null;
  }
}

const isStar = (field: string): boolean => field === '*' || field === '?';

function daysIn(year: number, month: number): number {
  if (month !== 2) return DAYS_IN_MONTH[month - 1]!;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/** The weekday nearest `day` within the same month (Quartz's W). */
function nearestWeekday(year: number, month: number, day: number, lastDay: number): number {
  const weekday = new Date(utcMs(year, month, day)).getUTCDay();
  if (weekday === 6) return day === 1 ? 3 : day - 1;
  if (weekday === 0) return day === lastDay ? day - 2 : day + 1;
  return day;
}

class WallMatcher {
  /** The hour field covers all 24 hours: real-time DST semantics. */
  readonly everyHour: boolean;
  private readonly base: CronFieldCollection;
  private readonly fields: CronSyntax['fields'];
  /** Day-of-month items when some use W, else null. */
  private readonly domItems: string[] | null;
  private readonly perMonth = new Map<string, CronFieldCollection>();

  constructor(private readonly syntax: CronSyntax) {
    this.fields = syntax.fields;
    const [s, m, h, dom, mon, dow] = syntax.fields;
    const items = dom.split(',');
    const hasW = items.some((item) => item.endsWith('W'));
    this.domItems = hasW ? items : null;
    // For validation and month filtering: NW counts as day N, LW as L.
    const template = hasW ? items.map((i) => (i === 'LW' ? 'L' : i.endsWith('W') ? i.slice(0, -1) : i)).join(',') : dom;
    this.checkDayExists(template);
    this.base = compile([s, m, h, template, mon, dow], syntax);
    this.everyHour = this.base.hour.values.length === 24;
  }

  /** Rejects a day-of-month that no allowed month has, e.g. "0 0 30 2 *". */
  private checkDayExists(domTemplate: string): void {
    const [, , , , mon, dow] = this.fields;
    if (isStar(domTemplate) || !isStar(dow)) return; // with a day-of-week, OR keeps it satisfiable
    const days = compile(['0', '0', '0', domTemplate, '*', '*'], this.syntax).dayOfMonth.values;
    if (days.some((d) => typeof d !== 'number')) return; // L
    const months = compile(['0', '0', '0', '*', mon, '*'], this.syntax).month.values as number[];
    const firstDay = Math.min(...(days as number[]));
    const longest = Math.max(...months.map((m) => DAYS_IN_MONTH[m - 1]!));
    if (firstDay > longest) {
      const raw = this.syntax.raw;
      throw new RprError(
        'E_CRON',
        `cron: day-of-month "${raw[3]}" never occurs in month "${raw[4]}" (${months.map((m) => MONTH_LABELS[m - 1]).join(',')} ` +
          `${months.length === 1 ? 'has' : 'have'} at most ${longest} days) in "${this.syntax.expression}"`,
        { hint: 'use a day that exists in those months, or L for the last day of the month' },
      );
    }
  }

  /** First matching wall time strictly after `afterWall`, or null. */
  next(afterWall: number): number | null {
    if (this.domItems === null) return fromFields(this.base, afterWall);
    const start = new Date(afterWall);
    let year = start.getUTCFullYear();
    let month = start.getUTCMonth() + 1;
    const months = this.base.month.values as number[];
    for (let i = 0; i < MAX_W_MONTHS; i++) {
      const [nextYear, nextMonth] = month === 12 ? [year + 1, 1] : [year, month + 1];
      if (months.includes(month)) {
        const fields = this.fieldsFor(year, month);
        if (fields !== null) {
          const end = utcMs(nextYear, nextMonth, 1);
          const found = fromFields(fields, i === 0 ? afterWall : utcMs(year, month, 1) - 1, end - 1);
          if (found !== null && found < end) return found;
        }
      }
      year = nextYear;
      month = nextMonth;
    }
    return null;
  }

  /** The expression for one month, its W items turned into plain days; null if nothing can match. */
  private fieldsFor(year: number, month: number): CronFieldCollection | null {
    const lastDay = daysIn(year, month);
    const dom: string[] = [];
    for (const item of this.domItems!) {
      if (item === 'LW') dom.push(String(nearestWeekday(year, month, lastDay, lastDay)));
      else if (item.endsWith('W')) {
        const day = Number(item.slice(0, -1));
        if (day <= lastDay) dom.push(String(nearestWeekday(year, month, day, lastDay)));
      } else dom.push(item);
    }
    const [s, m, h, , mon, dow] = this.fields;
    if (dom.length === 0 && isStar(dow)) return null;
    // No day-of-month left but a day-of-week: (nothing OR dow) is dow alone, which is what `*` means to cron-parser.
    const domText = dom.length === 0 ? '*' : dom.join(',');
    let fields = this.perMonth.get(domText);
    if (fields === undefined) {
      fields = compile([s, m, h, domText, mon, dow], this.syntax);
      if (this.perMonth.size > 256) this.perMonth.clear();
      this.perMonth.set(domText, fields);
    }
    return fields;
  }
}

// ---------------------------------------------------------------------------
// Wall time -> instant, with the DST rule

/** Upper bound on offset changes crossed in one search (about 500 years of DST). */
const MAX_SEGMENTS = 1000;

/**
 * First instant in (from, to] whose offset is not `off` (offsetAt(from) is
 * `off`), or null. Probing near both ends is enough: an offset change in
 * between that is later undone cannot produce an earlier fire time (see the
 * assumption in the header).
 */
function offsetChangeIn(from: number, to: number, off: number, zone: string): number | null {
  if (to <= from) return null;
  const probes: number[] = [];
  if (from + DAY_MS < to) probes.push(from + DAY_MS);
  if (to - DAY_MS > from + DAY_MS) probes.push(to - DAY_MS);
  probes.push(to);
  let lo = from;
  for (const probe of probes) {
    if (offsetAt(probe, zone) !== off) return firstOffsetChange(lo, probe, zone, off);
    lo = probe;
  }
  return null;
}

/**
 * Walks the zone's constant-offset segments in time order, starting with the
 * one holding `w`; inside a segment wall time and real time move together, so
 * the first match found in the earliest segment is the answer.
 */
function nextInstant(matcher: WallMatcher, zone: string, w: number): number | null {
  if (!Number.isFinite(w)) throw new RangeError(`cron: ${w} is not a time`);
  const wallClock = !matcher.everyHour;
  let off = offsetAt(w, zone);
  // Start of the current segment and the offset before it, when that change is recent enough to matter.
  let segStart: number | null = null;
  let prevOff = off;
  const dayBefore = offsetAt(w - DAY_MS, zone);
  if (dayBefore !== off) {
    segStart = firstOffsetChange(w - DAY_MS, w, zone, dayBefore);
    prevOff = dayBefore;
  }
  for (let guard = 0; guard < MAX_SEGMENTS; guard++) {
    const entered = segStart !== null && segStart > w ? segStart : null;
    // Spring forward: a wall-clock time inside the gap runs once, at the gap's end.
    if (wallClock && entered !== null && prevOff < off) {
      const inGap = matcher.next(entered + prevOff - 1);
      if (inGap !== null && inGap < entered + off) return entered;
    }
    // Exclusive lower bound on wall time: after w, or from the segment's first instant.
    let lower = entered !== null ? entered + off - 1 : w + off;
    // Fall back: a wall-clock time in the repeated hour already had its first occurrence.
    if (wallClock && segStart !== null && prevOff > off) lower = Math.max(lower, segStart + prevOff - 1);
    const wall = matcher.next(lower);
    if (wall === null) return null;
    const candidate = wall - off;
    const change = offsetChangeIn(entered ?? w, candidate, off, zone);
    if (change === null) return candidate;
    prevOff = off;
    off = offsetAt(change, zone);
    segStart = change;
  }
  return null;
}
