import { type RprError, usageError } from '../errors/index.js';
import { parseDuration } from '../units/duration.js';
import { parseTimeOfDayOrIso } from '../units/time.js';
import { compilePattern } from '../units/pattern.js';
import { longFlag, type OptionDef } from './catalog.js';

/**
 * Turns a raw value (a flag's text, an env var, a TOML value) into the typed
 * value of an option. `where` names the source for the error message:
 * '--every', 'RPR_TIMEOUT', 'rpr.toml:12 defaults.timeout'.
 */
export function parseOptionValue(def: OptionDef, raw: unknown, where = longFlag(def), nowWall = Date.now()): unknown {
  const text = typeof raw === 'string' ? raw : undefined;
  switch (def.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (text !== undefined && /^(1|true|yes|on)$/i.test(text)) return true;
      if (text !== undefined && /^(0|false|no|off)$/i.test(text)) return false;
      throw usageError(`${where}: expected true or false, got ${show(raw)}`, 'use true or false');
    case 'duration':
      if (text === undefined) throw typeError(where, 'a duration string such as "30s"', raw);
      return parseDuration(text, where);
    case 'time':
      if (text === undefined) throw typeError(where, 'a time string such as "09:30" or an ISO time', raw);
      return parseTimeOfDayOrIso(text, where, nowWall);
    case 'int': {
      const n = typeof raw === 'number' ? raw : text !== undefined && /^-?\d+$/.test(text.trim()) ? Number(text) : NaN;
      if (!Number.isSafeInteger(n)) throw typeError(where, 'a whole number', raw);
      if (n < 0) throw usageError(`${where}: must not be negative, got ${n}`, def.key === 'times' ? 'omit --times to run without a limit' : `use a count of ${def.min ?? 0} or more`);
      if (def.min !== undefined && n < def.min)
        throw usageError(`${where}: must be at least ${def.min}, got ${n}`, def.key === 'times' ? 'omit --times to run without a limit' : `use ${def.min} or more`);
      if (def.max !== undefined && n > def.max) throw usageError(`${where}: must be at most ${def.max}, got ${n}`, `use ${def.min ?? 0} to ${def.max}`);
      return n;
    }
    case 'number': {
      const n = typeof raw === 'number' ? raw : text !== undefined && text.trim() !== '' ? Number(text) : NaN;
      if (!Number.isFinite(n)) throw typeError(where, 'a number', raw);
      return n;
    }
    case 'enum':
      if (text === undefined || !def.choices!.includes(text)) {
        throw usageError(`${where}: ${show(raw)} is not one of ${def.choices!.join(', ')}`, `e.g. ${def.choices![0]}`);
      }
      return text;
    case 'regex':
      if (text === undefined) throw typeError(where, 'a regular expression string', raw);
      return compilePattern(text, where);
    case 'string':
      if (text === undefined) throw typeError(where, 'a string', raw);
      return text;
  }
}

const show = (raw: unknown): string => (typeof raw === 'string' ? `"${raw}"` : (JSON.stringify(raw) ?? String(raw)));

const EXAMPLES: Record<string, string> = {
  'a whole number': 'e.g. 3',
  'a number': 'e.g. 2.5',
  'a string': 'quote it in TOML, e.g. "text"',
};

function typeError(where: string, expected: string, raw: unknown): RprError {
  return usageError(`${where}: expected ${expected}, got ${show(raw)}`, EXAMPLES[expected] ?? `e.g. ${expected.replace(/^a .*such as /, '')}`);
}
