// Reading HTTP responses as `curl -i` / `curl -si` prints them, and the timing values they carry.
// The text comes from the network: everything here is a single forward pass (or a bounded number of
// passes) over it, with no recursion except the shared JSON reader's, which stops at depth 64.
import { JType, JValue } from "../lib/json";

// ------------------------------------------------------------------------------- characters

function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

/** RFC 9110 tchar: the characters of a header name. */
function isTokenChar(c: i32): bool {
  if (isDigit(c)) return true;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x7a) return true;
  // ! # $ % & ' * + - . ^ _ ` | ~
  return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d || c == 0x2e || c == 0x5e || c == 0x5f || c == 0x60 || c == 0x7c || c == 0x7e;
}

function lower(c: i32): i32 {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/** Does text[start, end) equal `name` (lower case), ignoring case? */
function nameIs(text: string, start: i32, end: i32, name: string): bool {
  if (end - start != name.length) return false;
  for (let i = 0; i < name.length; i++) if (lower(text.charCodeAt(start + i)) != name.charCodeAt(i)) return false;
  return true;
}

function isSpace(c: i32): bool {
  return c == 0x20 || c == 0x09;
}

// ------------------------------------------------------------------------------- responses

/** One response: its status, the headers the plugin reads (first occurrence of each), its body. */
export class HttpResponse {
  status: i32 = 0;
  retryAfter: string | null = null;
  rateLimitReset: string | null = null;
  rateLimitRemaining: string | null = null;
  xRateLimitReset: string | null = null;
  xRateLimitRemaining: string | null = null;
  /** Where the body starts in the text (after the blank line; the end of the text if there is none). */
  bodyStart: i32 = 0;
  body: string = "";
}

const PREFIX = "HTTP/";

/**
 * The status of a status line text[start, end): "HTTP/1.1 429 Too Many Requests", "HTTP/2 503 ",
 * "HTTP/1.0 200 OK" -> the code (100-599), or -1 if it is not a status line.
 */
function statusAt(text: string, start: i32, end: i32): i32 {
  if (end - start < 10) return -1;
  for (let k = 0; k < 5; k++) if (text.charCodeAt(start + k) != PREFIX.charCodeAt(k)) return -1;
  let i = start + 5;
  if (!isDigit(text.charCodeAt(i))) return -1;
  i++;
  if (text.charCodeAt(i) == 0x2e) {
    i++;
    if (i >= end || !isDigit(text.charCodeAt(i))) return -1;
    i++;
  }
  if (i + 4 > end || text.charCodeAt(i) != 0x20) return -1;
  i++;
  let status = 0;
  for (let k = 0; k < 3; k++) {
    const c = text.charCodeAt(i + k);
    if (!isDigit(c)) return -1;
    status = status * 10 + (c - 0x30);
  }
  i += 3;
  if (i < end && text.charCodeAt(i) != 0x20) return -1;
  return status >= 100 && status <= 599 ? status : -1;
}

/** End of the line starting at `pos` without its LF and CR (the next line starts after the LF). */
function lineEnd(text: string, pos: i32, eol: i32): i32 {
  return eol > pos && text.charCodeAt(eol - 1) == 0x0d ? eol - 1 : eol;
}

function eolFrom(text: string, pos: i32): i32 {
  const eol = text.indexOf("\n", pos);
  return eol < 0 ? text.length : eol;
}

/** Set by readHead when it returns null: where the line that broke the header block starts. */
let resumeAt: i32 = 0;

/**
 * The header block after a status line ending at `pos`: header lines ("Name: value", or a folded
 * continuation starting with a space) up to a blank line or the end of the text. Null if a line is
 * neither (then this was not really a response, e.g. a line of a body that looks like a status line).
 */
function readHead(text: string, status: i32, pos: i32): HttpResponse | null {
  const r = new HttpResponse();
  r.status = status;
  const n = text.length;
  let lines = 0;
  while (pos < n) {
    const eol = eolFrom(text, pos);
    const end = lineEnd(text, pos, eol);
    if (end == pos) {
      r.bodyStart = min(eol + 1, n);
      return r;
    }
    const c = text.charCodeAt(pos);
    if (isSpace(c)) {
      if (lines == 0) {
        resumeAt = pos;
        return null;
      }
    } else {
      let nameEnd = pos;
      while (nameEnd < end && isTokenChar(text.charCodeAt(nameEnd))) nameEnd++;
      // A sloppy server's "Name : value" is tolerated (RFC 9112 has proxies strip that space).
      let colon = nameEnd;
      while (colon < end && isSpace(text.charCodeAt(colon))) colon++;
      if (nameEnd == pos || colon >= end || text.charCodeAt(colon) != 0x3a) {
        resumeAt = pos;
        return null;
      }
      if (nameIs(text, pos, nameEnd, "retry-after")) {
        if (r.retryAfter === null) r.retryAfter = text.substring(colon + 1, end).trim();
      } else if (nameIs(text, pos, nameEnd, "ratelimit-reset")) {
        if (r.rateLimitReset === null) r.rateLimitReset = text.substring(colon + 1, end).trim();
      } else if (nameIs(text, pos, nameEnd, "ratelimit-remaining")) {
        if (r.rateLimitRemaining === null) r.rateLimitRemaining = text.substring(colon + 1, end).trim();
      } else if (nameIs(text, pos, nameEnd, "x-ratelimit-reset")) {
        if (r.xRateLimitReset === null) r.xRateLimitReset = text.substring(colon + 1, end).trim();
      } else if (nameIs(text, pos, nameEnd, "x-ratelimit-remaining")) {
        if (r.xRateLimitRemaining === null) r.xRateLimitRemaining = text.substring(colon + 1, end).trim();
      }
    }
    lines++;
    pos = eol + 1;
  }
  r.bodyStart = n;
  return r;
}

/**
 * The last HTTP response in `text` (curl -i prints one per redirect hop and for 100 Continue; the
 * final answer is the last), or null if there is none. A status line counts only if a well-formed
 * header block follows it. Its body runs from the blank line to the end of the text.
 * One pass: every line is looked at a bounded number of times.
 */
export function lastResponse(text: string): HttpResponse | null {
  const n = text.length;
  let best: HttpResponse | null = null;
  let pos = 0;
  while (pos < n) {
    const eol = eolFrom(text, pos);
    const end = lineEnd(text, pos, eol);
    const status = statusAt(text, pos, end);
    if (status >= 0) {
      const r = readHead(text, status, eol + 1);
      if (r !== null) {
        best = r;
        pos = r.bodyStart;
        continue;
      }
      pos = resumeAt;
      continue;
    }
    pos = eol + 1;
  }
  if (best !== null) best.body = text.substring(best.bodyStart);
  return best;
}

// ------------------------------------------------------------------------------- values

/**
 * A non-negative decimal number of seconds ("2", "1.5", " 30 "), or -1. No sign, no exponent.
 * Enormous values are not computed digit by digit past 1e15 s (they are clamped to max_delay anyway).
 */
export function parseSeconds(text: string): f64 {
  const t = text.trim();
  const n = t.length;
  let i = 0;
  let whole: f64 = 0;
  while (i < n && isDigit(t.charCodeAt(i))) {
    if (whole < 1e15) whole = whole * 10 + <f64>(t.charCodeAt(i) - 0x30);
    i++;
  }
  if (i == 0) return -1;
  let frac: f64 = 0;
  let scale: f64 = 1;
  if (i < n && t.charCodeAt(i) == 0x2e) {
    i++;
    const start = i;
    while (i < n && isDigit(t.charCodeAt(i))) {
      if (i - start < 9) {
        frac = frac * 10 + <f64>(t.charCodeAt(i) - 0x30);
        scale *= 10;
      }
      i++;
    }
    if (i == start) return -1;
  }
  if (i != n) return -1;
  return whole + frac / scale;
}

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

function twoDigits(t: string, at: i32): i32 {
  const a = t.charCodeAt(at);
  const b = t.charCodeAt(at + 1);
  if (!isDigit(a) || !isDigit(b)) return -1;
  return (a - 0x30) * 10 + (b - 0x30);
}

function lowerWord(t: string, at: i32): string {
  return t.substr(at, 3).toLowerCase();
}

/** Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: i64, m: i64, d: i64): i64 {
  if (m <= 2) y -= 1;
  const era = (y >= 0 ? y : y - 399) / 400;
  const yoe = y - era * 400;
  const mp = m > 2 ? m - 3 : m + 9;
  const doy = (153 * mp + 2) / 5 + d - 1;
  const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: i32, m: i32): i32 {
  if (m == 2) return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28;
  return m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31;
}

/**
 * An IMF-fixdate ("Wed, 21 Oct 2026 07:28:00 GMT", the HTTP-date format RFC 9110 has senders use)
 * as ms since the epoch, or NaN. Day and month names are matched ignoring case; the day name is not
 * checked against the date.
 */
export function parseHttpDate(text: string): f64 {
  const t = text.trim();
  if (t.length != 29) return NaN;
  if (!DAYS.includes(lowerWord(t, 0)) || t.charCodeAt(3) != 0x2c || t.charCodeAt(4) != 0x20) return NaN;
  const day = twoDigits(t, 5);
  if (t.charCodeAt(7) != 0x20) return NaN;
  const month = MONTHS.indexOf(lowerWord(t, 8)) + 1;
  if (month == 0 || t.charCodeAt(11) != 0x20) return NaN;
  const y1 = twoDigits(t, 12);
  const y2 = twoDigits(t, 14);
  if (y1 < 0 || y2 < 0 || t.charCodeAt(16) != 0x20) return NaN;
  const year = y1 * 100 + y2;
  const hour = twoDigits(t, 17);
  const minute = twoDigits(t, 20);
  const second = twoDigits(t, 23);
  if (t.charCodeAt(19) != 0x3a || t.charCodeAt(22) != 0x3a || t.charCodeAt(25) != 0x20 || t.substr(26, 3) != "GMT") return NaN;
  if (day < 1 || day > daysInMonth(year, month) || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return NaN;
  const days = daysFromCivil(<i64>year, <i64>month, <i64>day);
  return <f64>days * 86400000 + <f64>(hour * 3600 + minute * 60 + second) * 1000;
}

/** A JSON value holding seconds: a number >= 0 or a numeric string; -1 otherwise. */
export function jsonSeconds(v: JValue): f64 {
  if (v.type == JType.Number) return v.n >= 0 ? v.n : -1; // NaN fails the test too
  if (v.type == JType.String) return parseSeconds(v.s);
  return -1;
}

/** The value at a dotted path ("error.retry_after") of a JSON object, or null. */
export function atPath(root: JValue, path: string[]): JValue | null {
  let v: JValue | null = root;
  for (let i = 0; i < path.length && v !== null; i++) v = v.get(path[i]);
  return v;
}

/** The JSON object a body holds: it must start with "{" (after white space); anything after its last "}" (stderr lines) is left out. */
export function bodyObjectText(body: string): string | null {
  const t = body.trim();
  if (t.length == 0 || t.charCodeAt(0) != 0x7b) return null;
  const end = t.lastIndexOf("}");
  return t.substring(0, end + 1);
}
