/**
 * Time-zone helpers for cron: validating an IANA name, the UTC offset of an
 * instant, locating offset changes, and ISO-8601 output with a numeric offset.
 * Only Intl is used (no tz database of our own).
 */
import { RprError } from '../../errors/index.js';

export const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let fmt = formatters.get(zone);
  if (fmt === undefined) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, fmt);
  }
  return fmt;
}

/** The local zone of this process, as an IANA name. */
function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/**
 * Validates a zone name and returns its canonical spelling ("europe/berlin"
 * becomes "Europe/Berlin"). No zone given means the local zone.
 */
export function resolveZone(tz?: string): string {
  if (tz === undefined) return localZone();
  const name = typeof tz === 'string' ? tz.trim() : '';
  try {
    if (name === '') throw new RangeError('empty time zone');
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new RprError('E_CRON', `cron: unknown time zone "${String(tz)}"`, {
      hint: 'use an IANA zone name such as Europe/Berlin, America/New_York or UTC',
      cause: error,
    });
  }
}

/** Epoch ms of a proleptic-Gregorian UTC date-time, also for years 0-99. */
export function utcMs(year: number, month: number, day: number, h = 0, m = 0, s = 0, ms = 0): number {
  const d = new Date(Date.UTC(2000, month - 1, day, h, m, s, ms));
  d.setUTCFullYear(year);
  return d.getTime();
}

interface WallParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallParts(ms: number, zone: string): WallParts {
  const out: WallParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  let bc = false;
  for (const part of formatterFor(zone).formatToParts(ms)) {
    switch (part.type) {
      case 'era':
        bc = part.value.startsWith('B');
        break;
      case 'year':
      case 'month':
      case 'day':
      case 'hour':
      case 'minute':
      case 'second':
        out[part.type] = Number(part.value);
        break;
      default:
        break;
    }
  }
  if (bc) out.year = 1 - out.year;
  return out;
}

/** UTC offset of `zone` at instant `ms`, in ms (local = UTC + offset). */
export function offsetAt(ms: number, zone: string): number {
  const p = wallParts(ms, zone);
  const whole = Math.floor(ms / 1000) * 1000;
  return utcMs(p.year, p.month, p.day, p.hour, p.minute, p.second) - whole;
}

/**
 * The first instant in (lo, hi] whose offset differs from offLo, given that
 * offsetAt(lo) === offLo and offsetAt(hi) !== offLo. Bisection to the ms.
 */
export function firstOffsetChange(lo: number, hi: number, zone: string, offLo: number): number {
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (offsetAt(mid, zone) === offLo) lo = mid;
    else hi = mid;
  }
  return hi;
}

const pad = (n: number, width = 2): string => String(Math.abs(n)).padStart(width, '0');

/**
 * ISO 8601 local time with a numeric offset, e.g. "2027-05-01T06:00:00+02:00".
 * UTC is written "+00:00", never "Z", so every line has the same shape.
 * Milliseconds appear only when not zero (cron times never have them).
 */
export function formatIsoWithOffset(wallMs: number, tz: string): string {
  if (!Number.isFinite(wallMs)) throw new RangeError(`formatIsoWithOffset: ${wallMs} is not a time`);
  const zone = resolveZone(tz);
  const p = wallParts(wallMs, zone);
  const ms = ((wallMs % 1000) + 1000) % 1000;
  const offsetS = Math.round(offsetAt(wallMs, zone) / 1000);
  const sign = offsetS < 0 ? '-' : '+';
  const abs = Math.abs(offsetS);
  const offH = Math.floor(abs / 3600);
  const offM = Math.floor((abs % 3600) / 60);
  const offS = abs % 60;
  const year = p.year < 0 ? `-${pad(p.year, 6)}` : p.year > 9999 ? `+${pad(p.year, 6)}` : pad(p.year, 4);
  return (
    `${year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}` +
    (ms === 0 ? '' : `.${pad(ms, 3)}`) +
    `${sign}${pad(offH)}:${pad(offM)}${offS === 0 ? '' : `:${pad(offS)}`}`
  );
}
