/**
 * Typing of raw TOML values. Core options go through the shared
 * parseOptionValue so that a file, an env var and a flag accept exactly the
 * same text; only the non-option keys (plugins, permissions) are checked here.
 */
import { TomlDate } from 'smol-toml';
import { RprError } from '../errors/index.js';
import type { OptionDef } from '../options/catalog.js';
import { parseOptionValue } from '../options/values.js';
import { indexKey, type KeyPath } from './lines.js';
import type { Problems } from './problems.js';
import type { ValueKind } from './schema.js';

export type Table = Record<string, unknown>;

/** smol-toml builds tables with a null prototype; dates are objects too. */
export function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** "a string", "an array"...: how a wrong type is named in an error. */
export function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value instanceof TomlDate) return 'a date/time';
  if (isTable(value)) return 'a table';
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return `${value}`;
  return `the string ${JSON.stringify(value)}`;
}

/** A TOML date/time as the text the time parser takes: 09:30:00, 2027-01-31T09:00:00Z. */
function dateText(date: TomlDate): string {
  const text = date.toISOString();
  return date.isTime() ? text.replace(/\.0+$/, '') : text;
}

/** One core option's value, typed; undefined (after reporting) when it is bad. */
export function readOption(problems: Problems, path: KeyPath, def: OptionDef, raw: unknown, nowWall: number): unknown {
  // TOML has real date/time literals; let `start_at = 09:30:00` mean "09:30:00".
  const value = raw instanceof TomlDate && def.type === 'time' ? dateText(raw) : raw;
  // TOML has numbers and booleans too: `times = "3"` or `verbose = "yes"` is a
  // string where the file needs a number or true/false. (Flags and RPR_*
  // variables are text, so the shared parser accepts text; a file need not.)
  const got = typeof value === 'string' ? JSON.stringify(value) : describe(value);
  if ((def.type === 'int' || def.type === 'number') && typeof value !== 'number') {
    return void problems.report(path, `expected ${def.type === 'int' ? 'a whole number' : 'a number'}, got ${got}`, typeof value === 'string' ? 'write the number without quotes' : undefined);
  }
  if (def.type === 'boolean' && typeof value !== 'boolean') {
    return void problems.report(path, `expected true or false, got ${got}`, typeof value === 'string' ? 'write true or false without quotes' : undefined);
  }
  const result = problems.parse(path, (where) => {
    const typed = parseOptionValue(def, value, where, nowWall);
    if (def.key === 'timezone') checkZone(typed as string, where);
    return typed;
  });
  return result.ok ? result.value : undefined;
}

/**
 * A time zone is checked when the file is read, so that a typo is reported
 * with its file and line rather than later by the cron job that uses it.
 * (The same check as schedule/cron/zone.ts, which config/ may not import.)
 */
function checkZone(zone: string, where: string): void {
  try {
    if (zone.trim() === '') throw new RangeError('empty');
    new Intl.DateTimeFormat('en-US', { timeZone: zone.trim() });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new RprError('E_CONFIG', `${where}: unknown time zone "${zone}"`, { hint: 'use an IANA zone name such as Europe/Berlin, America/New_York or UTC' });
  }
}

/** A non-option value of a known kind; undefined (after reporting) when it does not fit. */
export function readKind(problems: Problems, path: KeyPath, kind: ValueKind, raw: unknown): unknown {
  switch (kind) {
    case 'string':
      if (typeof raw === 'string') return raw;
      return void problems.report(path, `expected a string, got ${describe(raw)}`);
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      return void problems.report(path, `expected true or false, got ${describe(raw)}`);
    case 'positive-int':
      if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw > 0) return raw;
      return void problems.report(path, `expected a whole number greater than 0, got ${describe(raw)}`);
    case 'strings': {
      if (!Array.isArray(raw)) return void problems.report(path, `expected an array of strings, got ${describe(raw)}`);
      let ok = true;
      raw.forEach((item, index) => {
        if (typeof item !== 'string') {
          ok = false;
          problems.report([...path, indexKey(index)], `expected a string, got ${describe(item)}`);
        }
      });
      return ok ? [...(raw as string[])] : undefined;
    }
    case 'string-table': {
      if (!isTable(raw)) return void problems.report(path, `expected a table of strings, got ${describe(raw)}`);
      let ok = true;
      for (const [key, item] of Object.entries(raw)) {
        if (typeof item !== 'string') {
          ok = false;
          problems.report([...path, key], `expected a string, got ${describe(item)}`);
        }
      }
      return ok ? { ...(raw as Record<string, string>) } : undefined;
    }
  }
}

/** Free-form config handed to plugins: plain objects, dates as ISO text, so it serialises to JSON as written. */
export function plainValue(value: unknown): unknown {
  if (value instanceof TomlDate) return dateText(value);
  if (Array.isArray(value)) return value.map(plainValue);
  if (isTable(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainValue(v)]));
  return value;
}
