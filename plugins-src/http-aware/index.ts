// http-aware: reads the HTTP response a run printed (curl -i / curl -si) and answers how long the
// server asked rpr to wait before the next run: {"action": "run", "delay_ms": D}, D = 0 when there is
// no hint (rpr then keeps the job's normal schedule), else the hint clamped to [min_delay, max_delay].
//
// The text is untrusted (it comes from the network), so the plugin has no permissions and does
// bounded work: one pass over the response, the body parsed once by the shared JSON reader (depth
// capped), numbers read digit by digit without overflowing, nothing from the text echoed in logs
// except values that passed validation. See docs/http-aware.md for the rules.
//
// Which response: the LAST status line (HTTP/1.0, 1.1, 2, 3) followed by a well-formed header block.
// Status gate: 429 and 503 always (without any hint: min_delay); 403 and the other 5xx only with a
// hint; other 4xx only with trust_client and a hint; 1xx, 2xx and 3xx never.
// Sources, first usable wins: Retry-After (seconds or IMF-fixdate); RateLimit-Reset, then
// X-RateLimit-Reset (delta seconds, or epoch seconds above 1e9; skipped when the matching
// *-Remaining header says requests are left); JSON body fields (custom_fields, then retry_after,
// retryAfter, error.retry_after, rate_limit.reset_in).
import { Config, initWith } from "../lib/config";
import { fail, logDebug, logInfo } from "../lib/io";
import { formatNumber, parse } from "../lib/json";
import { readState, runAfter, stateError } from "../lib/scheduler";
import { formatDuration } from "../lib/units";
import { atPath, bodyObjectText, HttpResponse, jsonSeconds, lastResponse, parseHttpDate, parseSeconds } from "./parse";
export { describe } from "../lib/describe";

/** How much of output_tail is looked at (the host sends the first 16 KiB; this bounds the work if it ever sends more). */
const SCAN_LIMIT = 64 * 1024;
/** A reset value above this is an absolute time in epoch seconds, not a number of seconds to wait. */
const EPOCH_THRESHOLD: f64 = 1e9;
const DEFAULT_FIELDS = ["retry_after", "retryAfter", "error.retry_after", "rate_limit.reset_in"];

let minDelay: f64 = 1000;
let maxDelay: f64 = 1800000;
let parseJson = true;
let parseHeaders = true;
let trustClient = false;
/** custom_fields then the defaults, as written and as paths. */
let fieldNames: string[] = [];
let fieldPaths: string[][] = [];
let customCount = 0;

function addField(name: string): string | null {
  const path = name.split(".");
  for (let i = 0; i < path.length; i++) {
    if (path[i].length == 0) return 'custom_fields: "' + name + '" has an empty part (write a.b.c, comma-separated)';
  }
  fieldNames.push(name);
  fieldPaths.push(path);
  return null;
}

function configure(c: Config): string | null {
  minDelay = c.num("min_delay", 1000);
  maxDelay = c.num("max_delay", 1800000);
  parseJson = c.bool("parse_json", true);
  parseHeaders = c.bool("parse_headers", true);
  trustClient = c.bool("trust_client", false);
  if (!(minDelay >= 0)) return "min_delay must be 0 or more";
  if (!(maxDelay > 0)) return "max_delay must be greater than 0";
  if (maxDelay < minDelay) return "max_delay (" + formatDuration(maxDelay) + ") is less than min_delay (" + formatDuration(minDelay) + ")";
  fieldNames = [];
  fieldPaths = [];
  const custom = c.str("custom_fields", "").split(",");
  for (let i = 0; i < custom.length; i++) {
    const name = custom[i].trim();
    if (name.length == 0) continue;
    const problem = addField(name);
    if (problem !== null) return problem;
  }
  customCount = fieldNames.length;
  for (let i = 0; i < DEFAULT_FIELDS.length; i++) addField(DEFAULT_FIELDS[i]);
  return null;
}

export function init(): i32 {
  return initWith(configure);
}

/** A delay the response asked for, before clamping, and how it was found (for the log). */
class Hint {
  constructor(public ms: f64, public what: string) {}
}

function seconds(s: f64): string {
  return isFinite(s) ? formatNumber(s) : "(too large)";
}

function relative(ms: f64): string {
  return ms >= 0 ? formatDuration(ms) + " from now" : formatDuration(-ms) + " ago";
}

/** A RateLimit-Reset-style header: delta seconds, or epoch seconds when above 1e9. */
function resetHint(name: string, value: string | null, remaining: string | null, nowMs: f64): Hint | null {
  if (value === null) return null;
  // Quota left: the reset time is information, not a request to wait (GitHub sends it on every answer, 403s included).
  if (remaining !== null && parseSeconds(remaining) > 0) return null;
  const s = parseSeconds(value);
  if (s < 0) return null;
  if (s > EPOCH_THRESHOLD) {
    const ms = s * 1000 - nowMs;
    return new Hint(ms, name + " " + seconds(s) + " (header, epoch seconds, " + relative(ms) + ")");
  }
  return new Hint(s * 1000, name + " " + seconds(s) + " (header)");
}

function findHint(r: HttpResponse, nowMs: f64): Hint | null {
  if (parseHeaders) {
    const ra = r.retryAfter;
    if (ra !== null) {
      const s = parseSeconds(ra);
      if (s >= 0) return new Hint(s * 1000, "Retry-After " + seconds(s) + " (header)");
      const at = parseHttpDate(ra);
      // Validated IMF-fixdate: 29 known characters, safe to repeat in the log.
      if (!isNaN(at)) return new Hint(at - nowMs, "Retry-After " + ra + " (header, " + relative(at - nowMs) + ")");
    }
    let h = resetHint("RateLimit-Reset", r.rateLimitReset, r.rateLimitRemaining, nowMs);
    if (h !== null) return h;
    h = resetHint("X-RateLimit-Reset", r.xRateLimitReset, r.xRateLimitRemaining, nowMs);
    if (h !== null) return h;
  }
  if (parseJson) {
    const text = bodyObjectText(r.body);
    if (text === null) return null;
    const body = parse(text);
    if (body === null || !body.isObject) return null;
    for (let i = 0; i < fieldPaths.length; i++) {
      const v = atPath(body, fieldPaths[i]);
      if (v === null) continue;
      const s = jsonSeconds(v);
      if (s >= 0) return new Hint(s * 1000, fieldNames[i] + " " + seconds(s) + (i < customCount ? " (json, custom_fields)" : " (json)"));
    }
  }
  return null;
}

function answer(status: i32, what: string, ms: f64): i32 {
  let d = ms >= 0 ? ms : 0; // a date in the past, or NaN: as soon as allowed
  let note = "";
  if (d > maxDelay) {
    d = maxDelay;
    note = " (clamped to max_delay " + formatDuration(maxDelay) + ")";
  } else if (d < minDelay) {
    d = minDelay;
    note = " (raised to min_delay " + formatDuration(minDelay) + ")";
  }
  d = Math.ceil(d);
  logInfo(status.toString() + ": " + what + " -> " + formatNumber(d) + " ms" + note);
  return runAfter(d);
}

export function next(): i32 {
  const s = readState();
  if (s === null) return fail(stateError);
  let text = s.outputTail;
  if (text.length > SCAN_LIMIT) text = text.substring(0, SCAN_LIMIT);
  const r = lastResponse(text);
  if (r === null) return runAfter(0);
  const status = r.status;
  const always = status == 429 || status == 503;
  const withHint = status == 403 || status >= 500 || (status >= 400 && trustClient);
  if (!always && !withHint) {
    logDebug(status.toString() + ": no delay (" + (status >= 400 ? "4xx hints need trust_client" : "only 4xx and 5xx carry hints") + ")");
    return runAfter(0);
  }
  const hint = findHint(r, s.nowMs);
  if (hint !== null) return answer(status, hint.what, hint.ms);
  if (always) {
    const d = Math.ceil(minDelay);
    logInfo(status.toString() + ": no timing hint -> " + formatNumber(d) + " ms (min_delay)");
    return runAfter(d);
  }
  logDebug(status.toString() + ": no timing hint, no delay");
  return runAfter(0);
}
