/**
 * Our own check of a cron expression, field by field, before cron-parser sees
 * it: cron-parser's errors ("Constraint error, got value 25 expected range
 * 0-23") do not say which field is wrong. This module only validates and
 * normalizes the text; all date math stays in cron-parser.
 */
import { RprError } from '../../errors/index.js';

const SHORTCUTS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 0 1 1 *',
  '@annually': '0 0 0 1 1 *',
  '@monthly': '0 0 0 1 * *',
  '@weekly': '0 0 0 * * 0',
  '@daily': '0 0 0 * * *',
  '@midnight': '0 0 0 * * *',
  '@hourly': '0 0 * * * *',
};

const SHORTCUT_LIST = Object.keys(SHORTCUTS).join(' ');
const FORMAT_HINT = `write 5 fields "MIN HOUR DOM MON DOW" (e.g. "30 2 * * *"), 6 with a leading seconds field ("SEC MIN HOUR DOM MON DOW"), or one of ${SHORTCUT_LIST}`;

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  /** Names for min, min+1, ... (month and day-of-week only). */
  names?: readonly string[];
  /** Allowed values in short, for messages. */
  range: string;
  /** What the field accepts, for hints. */
  accepts: string;
}

const SECOND: FieldSpec = { name: 'second', min: 0, max: 59, range: '0-59', accepts: '0-59' };
const MINUTE: FieldSpec = { name: 'minute', min: 0, max: 59, range: '0-59', accepts: '0-59' };
const HOUR: FieldSpec = { name: 'hour', min: 0, max: 23, range: '0-23', accepts: '0-23' };
const DOM: FieldSpec = {
  name: 'day-of-month',
  min: 1,
  max: 31,
  range: '1-31, L, LW or NW',
  accepts: '1-31, L (last day), LW (last weekday) or NW (weekday nearest day N, e.g. 15W)',
};
const MONTH: FieldSpec = {
  name: 'month',
  min: 1,
  max: 12,
  names: MONTH_NAMES,
  range: '1-12 or JAN-DEC',
  accepts: '1-12 or JAN-DEC',
};
const DOW: FieldSpec = {
  name: 'day-of-week',
  min: 0,
  max: 7,
  names: DAY_NAMES,
  range: '0-7 or SUN-SAT, DL or D#N',
  accepts: '0-7 or SUN-SAT (0 and 7 are Sunday), DL (last weekday D of the month, e.g. 5L) or D#N (e.g. FRI#3)',
};

/** The six fields in cron-parser order. */
const FIELD_SPECS = [SECOND, MINUTE, HOUR, DOM, MONTH, DOW] as const;

export interface CronSyntax {
  /** The expression as given, trimmed. */
  expression: string;
  hasSeconds: boolean;
  /** second minute hour day-of-month month day-of-week, upper-cased, names replaced by numbers. */
  fields: Six;
  /** The same six fields as written (seconds "0" when not given), for messages. */
  raw: Six;
}

type Six = [string, string, string, string, string, string];

function cronError(message: string, hint: string): RprError {
  return new RprError('E_CRON', `cron: ${message}`, { hint });
}

function fieldOrder(hasSeconds: boolean): string {
  return hasSeconds ? 'the fields are: second minute hour day-of-month month day-of-week' : 'the fields are: minute hour day-of-month month day-of-week';
}

/** Validates and normalizes; throws RprError('E_CRON') naming the bad field. */
export function checkSyntax(input: string): CronSyntax {
  const expression = typeof input === 'string' ? input.trim() : '';
  if (expression === '') {
    throw cronError('the expression is empty', FORMAT_HINT);
  }
  if (expression.startsWith('@')) {
    const mapped = SHORTCUTS[expression.toLowerCase()];
    if (mapped === undefined) {
      throw cronError(`unknown shortcut "${expression}"`, `use one of ${SHORTCUT_LIST}, or write the fields out`);
    }
    const six = mapped.split(' ') as Six;
    return { expression, hasSeconds: false, fields: six, raw: six };
  }
  const parts = expression.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    throw cronError(`expected 5 fields (or 6 with a leading seconds field), got ${parts.length} in "${expression}"`, FORMAT_HINT);
  }
  const hasSeconds = parts.length === 6;
  const six = hasSeconds ? parts : ['0', ...parts];
  const ctx: Ctx = { expression, hasSeconds };
  const fields = six.map((raw, i) => checkField(FIELD_SPECS[i]!, raw.toUpperCase(), raw, ctx));
  return { expression, hasSeconds, fields: fields as Six, raw: six as Six };
}

interface Ctx {
  expression: string;
  hasSeconds: boolean;
}

function outOfRange(spec: FieldSpec, token: string, ctx: Ctx, range = `${spec.min}-${spec.max}`): RprError {
  return cronError(`${spec.name} "${token}" is out of range ${range} in "${ctx.expression}"`, `${spec.name} takes ${spec.accepts}; ${fieldOrder(ctx.hasSeconds)}`);
}

function invalid(spec: FieldSpec, token: string, ctx: Ctx, why = ''): RprError {
  return cronError(
    `${spec.name} "${token}" is not valid${why ? `: ${why}` : ''} (allowed ${spec.range}) in "${ctx.expression}"`,
    `${spec.name} takes ${spec.accepts}, in lists (1,5), ranges (1-5) and steps (*/15, 0-30/10); ${fieldOrder(ctx.hasSeconds)}`,
  );
}

/** A single value: a number or (month, day-of-week) a three-letter name. */
function value(spec: FieldSpec, token: string, ctx: Ctx, original: string): number {
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    if (n < spec.min || n > spec.max) throw outOfRange(spec, token, ctx);
    return n;
  }
  if (spec.names && /^[A-Z]{3}$/.test(token)) {
    const index = spec.names.indexOf(token);
    if (index >= 0) return spec.min + index;
    throw invalid(spec, original, ctx, `"${token}" is not a name`);
  }
  throw invalid(spec, original, ctx);
}

function checkField(spec: FieldSpec, field: string, original: string, ctx: Ctx): string {
  const allowsQuestion = spec === DOM || spec === DOW;
  if (field === '*' || (field === '?' && allowsQuestion)) return field;
  if (field.includes('?')) {
    throw invalid(spec, original, ctx, allowsQuestion ? '? must be the whole field' : '? is only for day-of-month and day-of-week');
  }
  const items = field.split(',');
  if (spec === DOW && field.includes('#') && items.length > 1) {
    throw invalid(spec, original, ctx, '# cannot be combined with other values in a list');
  }
  const checked = items.map((item) => {
    if (item === '') throw invalid(spec, original, ctx, 'empty list item');
    return checkItem(spec, item, ctx, original);
  });
  return withoutOverlaps(spec, checked) ?? checked.join(',');
}

/**
 * Overlapping list items (1-5,3 or 0,7: Sunday twice) are fine in cron, but cron-parser refuses
 * duplicate values: such a list is written out as its values, each once. Null when nothing
 * overlaps (or an item is L, W or #), so other fields reach cron-parser as written.
 */
function withoutOverlaps(spec: FieldSpec, items: string[]): string | null {
  if (items.length < 2 || items.some((item) => /[LW#]/.test(item))) return null;
  const values: number[] = [];
  for (const item of items) {
    const [base, step] = item.split('/') as [string, string | undefined];
    const [lo, hi] = base === '*' ? [spec.min, spec.max] : base.includes('-') ? base.split('-').map(Number) : step !== undefined ? [Number(base), spec.max] : [Number(base), Number(base)];
    for (let v = lo!; v <= hi!; v += Number(step ?? 1)) values.push(spec === DOW && v === 7 ? 0 : v);
  }
  const unique = [...new Set(values)];
  return unique.length === values.length ? null : unique.sort((a, b) => a - b).join(',');
}

/** Checks one list item and returns it with names replaced by numbers. */
function checkItem(spec: FieldSpec, item: string, ctx: Ctx, original: string): string {
  if (spec === DOM) {
    if (item === 'L' || item === 'LW') return item;
    const w = /^(\d+)W$/.exec(item);
    if (w) return `${value(spec, w[1]!, ctx, original)}W`;
    if (item.includes('W')) throw invalid(spec, original, ctx, 'W takes a single day, e.g. 15W or LW');
    if (item.includes('L')) throw invalid(spec, original, ctx, 'L stands alone, for the last day of the month');
  }
  if (spec === DOW) {
    const nth = /^([^#]+)#(.*)$/.exec(item);
    if (nth) {
      const day = value(spec, nth[1]!, ctx, original);
      const n = nth[2]!;
      if (!/^\d+$/.test(n)) throw invalid(spec, original, ctx, 'write D#N, e.g. FRI#3 for the third Friday');
      if (Number(n) < 1 || Number(n) > 5) {
        throw cronError(
          `day-of-week occurrence "${n}" in "${item}" is out of range 1-5 in "${ctx.expression}"`,
          'D#N means the Nth weekday D of the month, N from 1 to 5, e.g. FRI#3 for the third Friday',
        );
      }
      return `${day}#${Number(n)}`;
    }
    const last = /^(.+)L$/.exec(item);
    if (last) return `${value(spec, last[1]!, ctx, original)}L`;
    if (item === 'L') throw invalid(spec, original, ctx, 'L needs a weekday, e.g. 5L or FRIL for the last Friday');
  }
  const slash = item.split('/');
  if (slash.length > 2) throw invalid(spec, original, ctx);
  const [base, step] = slash as [string, string | undefined];
  let stepText = '';
  if (step !== undefined) {
    const span = spec.max - spec.min + 1;
    if (!/^\d+$/.test(step)) throw invalid(spec, original, ctx, `step "${step}" is not a number`);
    if (Number(step) < 1 || Number(step) > span) {
      throw cronError(`${spec.name} step "${step}" is out of range 1-${span} in "${ctx.expression}"`, `a step such as */15 repeats within ${spec.min}-${spec.max}; ${fieldOrder(ctx.hasSeconds)}`);
    }
    stepText = `/${Number(step)}`;
  }
  if (base === '*') return `*${stepText}`;
  const dash = base.split('-');
  if (dash.length > 2) throw invalid(spec, original, ctx);
  if (dash.length === 2) {
    const [a, b] = dash as [string, string];
    const lo = value(spec, a, ctx, original);
    let hi = value(spec, b, ctx, original);
    // MON-SUN: a range that ends on Sunday by name means up to 7.
    if (spec === DOW && b === 'SUN' && lo > 0) hi = 7;
    if (lo > hi) {
      throw cronError(
        `${spec.name} range "${base}" runs backwards (allowed ${spec.min}-${spec.max}) in "${ctx.expression}"`,
        `ranges do not wrap around; split it into a list: ${lo}-${spec === DOW ? 6 : spec.max},${spec.min}-${hi}`,
      );
    }
    return `${lo}-${hi}${stepText}`;
  }
  return `${value(spec, base, ctx, original)}${stepText}`;
}
