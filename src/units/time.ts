import { RprError } from '../errors/index.js';

const CLOCK_TIME = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/;

/**
 * Parses a point in time for --start-at / --until-time: an ISO 8601 date-time
 * (with or without offset; without means local time), or HH:MM[:SS], meaning
 * the next time the local clock shows it (today, or tomorrow if already past).
 * Returns epoch milliseconds.
 */
export function parseTimeOfDayOrIso(text: string, where: string, nowWall: number): number {
  const clock = CLOCK_TIME.exec(text.trim());
  if (clock) {
    const [h, m, s] = [Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0)];
    if (h > 23 || m > 59 || s > 59) throw badTime(text, where);
    const at = new Date(nowWall);
    at.setHours(h, m, s, 0);
    if (at.getTime() <= nowWall) at.setDate(at.getDate() + 1);
    return at.getTime();
  }
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(text.trim())) {
    throw badTime(text, where);
  }
  const ms = Date.parse(text.trim());
  if (Number.isNaN(ms)) throw badTime(text, where);
  return ms;
}

function badTime(text: string, where: string): RprError {
  return new RprError('E_DURATION', `${where}: "${text}" is not a time`, {
    hint: 'use HH:MM[:SS] (local) or an ISO time such as 2027-01-31T09:00:00Z',
  });
}
