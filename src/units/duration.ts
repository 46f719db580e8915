import { RprError } from '../errors/index.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d|w)/gy;

/**
 * Parses "500ms", "1.5s", "1h30m", "2d", "1w". A bare number is rejected
 * (is "5" seconds or minutes?) except 0, which is unambiguous.
 */
export function parseDuration(text: string, where = 'duration'): number {
  const value = text.trim();
  if (value === '0') return 0;
  let total = 0;
  let consumed = 0;
  PART.lastIndex = 0;
  for (let match = PART.exec(value); match; match = PART.exec(value)) {
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    consumed = PART.lastIndex;
  }
  if (value === '' || consumed !== value.length || !Number.isFinite(total)) {
    throw new RprError('E_DURATION', `${where}: "${text}" is not a duration`, {
      hint: 'use a number with a unit, e.g. 500ms, 30s, 5m, 1h30m, 1.5d or 1w',
    });
  }
  return Math.round(total);
}

/** 1h30m, 1.5s, 250ms: the shortest faithful text for a duration. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(3)}s`;
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('');
}
