// rate-limit (aliases rl, r): --rate N/WINDOW. In every sliding window of that length at most N runs
// start - retries included. Computed from the actual start times of the runs (a run started at
// now - duration), and the next allowed time is exact: no probing.
//
// Retries: --retry-pattern 0,10m,30m re-runs a failed run 10m and 30m after it first started (until
// one attempt succeeds). A new run is only started if all of its possible retries would fit too,
// so retries happen on time and still never break the limit; the slots of retries that were not
// needed (the run succeeded) are given back.
//
// --spread keeps new runs at least WINDOW/N apart instead of letting N go back to back.
// --show-next puts each wait in the decision's message (rpr prints it on stderr).
import { Config, initWith } from "../lib/config";
import { fail } from "../lib/io";
import { readState, runAfter, stateError } from "../lib/scheduler";
import { formatDuration, isoTime, parseDuration, parseRate, rateError } from "../lib/units";
export { describe } from "../lib/describe";

class Request {
  constructor(
    /** When its first attempt started. */
    public t0: f64,
    /** Index in offsets of its next attempt. */
    public next: i32,
  ) {}
}

let limit: i32 = 1;
let window: f64 = 1000;
let offsets: f64[] = [0];
let spread = false;
let showNext = false;

/** Actual start times of runs that can still share a window with a future run, ascending. */
let starts: f64[] = [];
/** Failed runs that still have retries to come. */
let pending: Request[] = [];
/** What the last decision started: a retry of this request, or (null) a new run. */
let planned: Request | null = null;
/** The run last recorded (a repeated question about the same run must not count it twice). */
let recorded: i64 = 0;

function parsePattern(text: string): string | null {
  const parts = text.split(",");
  const list: f64[] = [0];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i].trim();
    if (part.length == 0) continue;
    const ms = parseDuration(part);
    if (ms < 0) return 'retry-pattern: "' + part + '" is not a duration';
    if (ms > 0) list.push(ms);
  }
  list.sort((a: f64, b: f64): i32 => (a < b ? -1 : a > b ? 1 : 0));
  offsets = [];
  for (let i = 0; i < list.length; i++) if (i == 0 || list[i] != list[i - 1]) offsets.push(list[i]);
  // The attempts of one run must fit by themselves.
  for (let i = 0; i + limit < offsets.length; i++) {
    if (offsets[i + limit] - offsets[i] < window) {
      return "retry-pattern " + text + " puts " + (limit + 1).toString() + " attempts of one run within " + formatDuration(window) + ", more than the rate allows";
    }
  }
  return null;
}

function configure(c: Config): string | null {
  const rate = parseRate(c.str("rate"));
  if (rate === null) return rateError;
  if (rate.count != Math.floor(rate.count) || rate.count > 1e9) return 'rate: N must be a whole number of runs, got "' + c.str("rate") + '"';
  limit = <i32>rate.count;
  window = rate.windowMs;
  const patternError = parsePattern(c.str("retry-pattern", "0"));
  if (patternError !== null) return patternError;
  spread = c.bool("spread", false);
  showNext = c.bool("show-next", false);
  return null;
}

export function init(): i32 {
  return initWith(configure);
}

// ---------------------------------------------------------------------------- the arithmetic

class Interval {
  constructor(public lo: f64, public hi: f64) {}
}

function insertSorted(list: f64[], t: f64): void {
  let i = list.length;
  list.push(t);
  while (i > 0 && list[i - 1] > t) {
    list[i] = list[i - 1];
    i--;
  }
  list[i] = t;
}

/**
 * The earliest t >= from such that adding starts at t + o for every o in `offs` keeps at most
 * `limit` starts in every window [x, x + window) that holds one of them, given the starts (and
 * reserved future starts) in `base` (ascending).
 *
 * Too many starts in one window means limit + 1 of them within less than `window`: a contiguous run
 * of q new starts (offs[a..b]) and p = limit + 1 - q contiguous base starts (base[i..i+p-1]). Such
 * a group is closer than `window` exactly when t lies in the open interval
 *   (base[i+p-1] - window - offs[a],  base[i] + window - offs[b])
 * (and the base group and the new run are each narrower than the window). The answer is the first
 * t from `from` on that no such interval contains: a sweep over them sorted by start.
 */
function earliest(from: f64, base: f64[], offs: f64[]): f64 {
  const forbidden: Interval[] = [];
  const k = offs.length;
  for (let a = 0; a < k; a++) {
    for (let b = a; b < k; b++) {
      const q = b - a + 1;
      if (q > limit || offs[b] - offs[a] >= window) break;
      const p = limit + 1 - q;
      for (let i = 0; i + p - 1 < base.length; i++) {
        const first = base[i];
        const last = base[i + p - 1];
        if (last - first >= window) continue;
        const lo = last - window - offs[a];
        const hi = first + window - offs[b];
        if (hi > lo && hi > from) forbidden.push(new Interval(lo, hi));
      }
    }
  }
  forbidden.sort((x: Interval, y: Interval): i32 => (x.lo < y.lo ? -1 : x.lo > y.lo ? 1 : 0));
  let t = from;
  for (let i = 0; i < forbidden.length; i++) {
    const f = forbidden[i];
    if (f.lo >= t) break;
    if (f.hi > t) t = f.hi;
  }
  return t;
}

/** Starts that count: actual ones, plus the reserved future attempts of pending retries (not `skip`'s next). */
function baseSet(now: f64, skip: Request | null): f64[] {
  const out = starts.slice(0);
  for (let r = 0; r < pending.length; r++) {
    const req = pending[r];
    for (let j = req.next; j < offsets.length; j++) {
      if (req === skip && j == req.next) continue;
      insertSorted(out, Math.max(req.t0 + offsets[j], now));
    }
  }
  return out;
}

function countSince(from: f64): i32 {
  let n = 0;
  for (let i = 0; i < starts.length; i++) if (starts[i] > from) n++;
  return n;
}

export function next(): i32 {
  const s = readState();
  if (s === null) return fail(stateError);
  const now = s.nowMs;
  if (s.run > 0 && s.run != recorded) {
    recorded = s.run;
    const started = s.lastStartMs;
    insertSorted(starts, started);
    const done = planned;
    if (done !== null) {
      const at = pending.indexOf(done);
      if (s.success || done.next + 1 >= offsets.length) {
        if (at >= 0) pending.splice(at, 1);
      } else done.next++;
    } else if (!s.success && offsets.length > 1) {
      pending.push(new Request(started, 1));
    }
    // Older starts cannot share a window with anything from now on.
    let drop = 0;
    while (drop < starts.length && starts[drop] <= now - window) drop++;
    if (drop > 0) starts = starts.slice(drop);
  }

  // The retry due first, at its time or as soon after as the limit allows.
  let retry: Request | null = null;
  for (let r = 0; r < pending.length; r++) {
    const req = pending[r];
    if (retry === null || req.t0 + offsets[req.next] < retry.t0 + offsets[retry.next]) retry = req;
  }
  let retryAt = Infinity;
  if (retry !== null) retryAt = earliest(Math.max(now, retry.t0 + offsets[retry.next]), baseSet(now, retry), [0]);

  // A new run, with room for all its possible retries.
  let from = now;
  if (spread && starts.length > 0) from = Math.max(from, starts[starts.length - 1] + window / <f64>limit);
  const newAt = earliest(from, baseSet(now, null), offsets);

  let at = newAt;
  let what = "next run";
  planned = null;
  if (retry !== null && retryAt <= newAt) {
    at = retryAt;
    planned = retry;
    what = "retry " + retry.next.toString() + " of the run started at " + isoTime(retry.t0);
  }
  const wait = at - now;
  let message: string | null = null;
  if (showNext && wait > 0) {
    message =
      "rate-limit: " + what + " in " + formatDuration(wait) + ", at " + isoTime(at) +
      " (" + countSince(now - window).toString() + " of " + limit.toString() + " runs in the last " + formatDuration(window) + ")";
  }
  return runAfter(wait, message);
}
