// token-bucket (alias tb): --rate N/WINDOW --burst B. A bucket of B tokens, full at the start,
// refilled continuously at N per WINDOW; each run takes one token when it starts and waits for one
// when the bucket is empty. Over any stretch of time L at most B + L x N/WINDOW runs start.
// Counted from the actual start times (now - duration). --show-next puts each wait in the message.
import { Config, initWith } from "../lib/config";
import { fail } from "../lib/io";
import { readState, runAfter, stateError } from "../lib/scheduler";
import { formatDuration, isoTime, parseRate, rateError } from "../lib/units";
export { describe } from "../lib/describe";

let perMs: f64 = 0.001;
let burst: f64 = 1;
let showNext = false;
let rateText = "";

let tokens: f64 = 0;
/** When `tokens` was counted; < 0 before the first run. */
let countedAt: f64 = -1;
/** The run whose token was last taken (a repeated question about the same run takes none). */
let recorded: i64 = 0;

function configure(c: Config): string | null {
  rateText = c.str("rate");
  const rate = parseRate(rateText);
  if (rate === null) return rateError;
  perMs = rate.count / rate.windowMs;
  burst = c.num("burst", 1);
  if (!(burst >= 1)) return "burst must be at least 1";
  showNext = c.bool("show-next", false);
  return null;
}

export function init(): i32 {
  return initWith(configure);
}

function refill(at: f64): void {
  tokens = Math.min(burst, tokens + (at - countedAt) * perMs);
  countedAt = at;
}

export function next(): i32 {
  const s = readState();
  if (s === null) return fail(stateError);
  const now = s.nowMs;
  if (countedAt < 0) {
    tokens = burst;
    countedAt = s.run == 0 ? now : s.lastStartMs;
  }
  if (s.run > 0 && s.run != recorded) {
    recorded = s.run;
    refill(Math.max(countedAt, s.lastStartMs));
    tokens -= 1;
  }
  refill(Math.max(countedAt, now));
  // A hair of tolerance: a token due exactly now must not wait a rounding error more.
  const wait = tokens >= 1 - 1e-9 ? 0 : (1 - tokens) / perMs;
  let message: string | null = null;
  if (showNext && wait > 0) {
    message = "token-bucket: next run in " + formatDuration(wait) + ", at " + isoTime(now + wait) + " (bucket empty; refills at " + rateText + ")";
  }
  return runAfter(wait, message);
}
