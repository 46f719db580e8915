// Durations and times as rpr writes them, for settings a plugin parses itself (a rate such as
// "100/1h", a list of offsets) and for the lines it prints. Same grammar as rpr's own durations
// (src/units/duration.ts): "500ms", "1.5s", "1h30m", "2d", "1w"; a bare "0" is zero.

function unitMs(unit: string): f64 {
  if (unit == "ms") return 1;
  if (unit == "s") return 1000;
  if (unit == "m") return 60000;
  if (unit == "h") return 3600000;
  if (unit == "d") return 86400000;
  if (unit == "w") return 604800000;
  return -1;
}

/** Milliseconds, or -1 if `text` is not a duration. */
export function parseDuration(text: string): f64 {
  const t = text.trim();
  if (t == "0") return 0;
  if (t.length == 0) return -1;
  let total: f64 = 0;
  let i = 0;
  while (i < t.length) {
    const start = i;
    let dots = 0;
    while (i < t.length) {
      const c = t.charCodeAt(i);
      if (c == 0x2e) dots++;
      else if (c < 0x30 || c > 0x39) break;
      i++;
    }
    if (i == start || dots > 1 || t.charCodeAt(i - 1) == 0x2e) return -1;
    const value = parseFloat(t.substring(start, i));
    const unitStart = i;
    while (i < t.length) {
      const c = t.charCodeAt(i);
      if (c < 0x61 || c > 0x7a) break;
      i++;
    }
    const ms = unitMs(t.substring(unitStart, i));
    if (ms < 0) return -1;
    total += value * ms;
  }
  return Math.round(total);
}

function trimZeros(s: string): string {
  if (!s.includes(".")) return s;
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) == 0x30) end--;
  if (end > 0 && s.charCodeAt(end - 1) == 0x2e) end--;
  return s.substring(0, end);
}

/** 250ms, 1.5s, 1h30m: the same text rpr prints for a duration. */
export function formatDuration(ms: f64): string {
  if (!isFinite(ms)) return "forever";
  if (ms < 0) ms = 0;
  if (ms < 1000) return (<i64>Math.round(ms)).toString() + "ms";
  if (ms < 60000) {
    const whole = <i64>Math.round(ms);
    return trimZeros((whole / 1000).toString() + "." + pad(whole % 1000, 3)) + "s";
  }
  let rest = <i64>Math.round(ms / 1000);
  let out = "";
  const sizes: i64[] = [86400, 3600, 60, 1];
  const units = ["d", "h", "m", "s"];
  for (let i = 0; i < 4; i++) {
    const n = rest / sizes[i];
    if (n > 0) out += n.toString() + units[i];
    rest -= n * sizes[i];
  }
  return out;
}

function pad(n: i64, width: i32): string {
  return n.toString().padStart(width, "0");
}

/** ISO 8601 UTC with milliseconds: 2024-05-01T12:00:00.250Z. */
export function isoTime(ms: f64): string {
  const total = <i64>Math.floor(ms);
  let days = total / 86400000;
  let rem = total % 86400000;
  if (rem < 0) {
    rem += 86400000;
    days -= 1;
  }
  // civil_from_days (H. Hinnant)
  const z = days + 719468;
  const era = (z >= 0 ? z : z - 146096) / 146097;
  const doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const d = doy - (153 * mp + 2) / 5 + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const h = rem / 3600000;
  const mi = (rem / 60000) % 60;
  const s = (rem / 1000) % 60;
  const milli = rem % 1000;
  return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T" + pad(h, 2) + ":" + pad(mi, 2) + ":" + pad(s, 2) + "." + pad(milli, 3) + "Z";
}

/** Digits with at most one decimal point inside: 10, 2.5. */
function isDecimal(text: string): bool {
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c == 0x2e) dots++;
    else if (c < 0x30 || c > 0x39) return false;
  }
  return text.length > 0 && dots <= 1 && text.charCodeAt(0) != 0x2e && text.charCodeAt(text.length - 1) != 0x2e;
}

/** A rate "N/WINDOW": `count` per `windowMs`. */
export class Rate {
  constructor(public count: f64, public windowMs: f64) {}
}

/** Why the last parseRate() returned null. */
export let rateError: string = "";

/**
 * "N/WINDOW" (100/1h, 5/1s, 2/100ms; a bare unit is one of it: 10/s = 10/1s). N is a number
 * greater than 0; null (with rateError set) otherwise.
 */
export function parseRate(text: string): Rate | null {
  const slash = text.indexOf("/");
  if (slash < 0 || text.indexOf("/", slash + 1) >= 0) {
    rateError = 'rate must be N/WINDOW, e.g. 100/1h or 2/100ms, got "' + text + '"';
    return null;
  }
  const countText = text.substring(0, slash).trim();
  const count = isDecimal(countText) ? parseFloat(countText) : NaN;
  if (!(count > 0)) {
    rateError = 'rate: "' + countText + '" is not a number of runs greater than 0 (a rate of 0 would never run)';
    return null;
  }
  let windowText = text.substring(slash + 1).trim();
  if (windowText.length > 0 && windowText.charCodeAt(0) >= 0x61) windowText = "1" + windowText;
  const windowMs = parseDuration(windowText);
  if (windowMs <= 0) {
    rateError = 'rate: "' + text.substring(slash + 1) + '" is not a window length such as 1s, 1h or 100ms';
    return null;
  }
  return new Rate(count, windowMs);
}
