/**
 * [config] of plugin.toml: one sub-table per key, e.g.
 *   [config.initial]
 *   type = "duration"; default = "1s"; help = "first delay"; aliases = ["base-delay"]
 * and the resolution of user values against it (CLI text or config-file values -> typed JSON, with
 * durations as ms), which is what `init` receives.
 */
import { RprError } from '../../errors/index.js';
import { parseDuration } from '../../units/duration.js';
import { pluginEnvName } from './env-name.js';
import type { ConfigField, ConfigSchema, ConfigType } from './types.js';

const TYPES: ConfigType[] = ['string', 'integer', 'number', 'boolean', 'duration'];
const KEY = /^[a-z][a-z0-9_-]{0,63}$/;
const FIELD_KEYS = ['type', 'default', 'help', 'values', 'required', 'aliases'];

type Table = Record<string, unknown>;

export function parseSchema(table: Table, fail: (reason: string) => never): ConfigSchema {
  const schema: ConfigSchema = {};
  const seen = new Map<string, string>();
  for (const [key, raw] of Object.entries(table)) {
    const where = `config.${key}`;
    if (!KEY.test(key)) fail(`${where}: key must be lower-case letters, digits, _ and -`);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(`${where} must be a table with type, default, help`);
    const t = raw as Table;
    for (const k of Object.keys(t)) if (!FIELD_KEYS.includes(k)) fail(`unknown key ${where}.${k} (known: ${FIELD_KEYS.join(', ')})`);
    const type = t.type as ConfigType;
    if (!TYPES.includes(type)) fail(`${where}.type must be one of ${TYPES.join(', ')}`);
    if (typeof t.help !== 'string' || t.help === '') fail(`${where}.help must be a non-empty string`);
    const field: ConfigField = { type, help: t.help as string };
    const list = (name: 'values' | 'aliases'): string[] | undefined => {
      const v = t[name];
      if (v === undefined) return undefined;
      if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) fail(`${where}.${name} must be a list of strings`);
      return v as string[];
    };
    const values = list('values');
    if (values) field.values = values;
    const aliases = list('aliases');
    if (aliases) field.aliases = aliases;
    if (t.required !== undefined) {
      if (typeof t.required !== 'boolean') fail(`${where}.required must be true or false`);
      field.required = t.required as boolean;
    }
    if (t.default !== undefined) {
      try {
        field.default = coerce(field, t.default);
      } catch (error) {
        fail(`${where}.default: ${(error as Error).message}`);
      }
    }
    const variable = pluginEnvName('x', key);
    const clash = Object.keys(schema).find((other) => pluginEnvName('x', other) === variable);
    if (clash) fail(`${where}: "${key}" and "${clash}" would be set by the same environment variable (${variable.replace('RPR_PLUGIN_X__', 'RPR_PLUGIN_<NAME>__')}); rename one`);
    for (const name of [key, ...(aliases ?? [])]) {
      if (seen.has(name)) fail(`${where}: "${name}" is already used by config.${seen.get(name)}`);
      seen.set(name, key);
    }
    schema[key] = field;
  }
  return schema;
}

/** A user value (text from a flag, or a TOML value) as the field's type; durations become ms. */
export function coerce(field: ConfigField, value: unknown): unknown {
  const bad = (): never => {
    throw new Error(`expected ${field.type}${field.values ? ` (one of ${field.values.join(', ')})` : ''}, got ${JSON.stringify(value)}`);
  };
  let out: unknown;
  switch (field.type) {
    case 'string':
      out = typeof value === 'string' ? value : bad();
      break;
    case 'boolean':
      out = typeof value === 'boolean' ? value : value === 'true' ? true : value === 'false' ? false : bad();
      break;
    case 'integer':
    case 'number': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(n) || (field.type === 'integer' && !Number.isInteger(n))) bad();
      out = n;
      break;
    }
    case 'duration':
      if (typeof value === 'number' && Number.isFinite(value) && value >= 0) out = Math.round(value);
      else if (typeof value === 'string') out = parseDuration(value, 'value');
      else bad();
      break;
  }
  if (field.values && !field.values.includes(String(out))) bad();
  return out;
}

/**
 * Resolves user values (keys or aliases) against the schema: defaults applied, types checked,
 * unknown keys and missing required keys rejected. Errors name the plugin and the key.
 */
export function resolveConfig(plugin: string, schema: ConfigSchema, values: Record<string, unknown>): Record<string, unknown> {
  const byName = new Map<string, string>();
  for (const [key, field] of Object.entries(schema)) for (const n of [key, ...(field.aliases ?? [])]) byName.set(n, key);
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const key = byName.get(name) ?? byName.get(name.replaceAll('_', '-')) ?? byName.get(name.replaceAll('-', '_'));
    if (key === undefined) {
      throw new RprError('E_CONFIG', `plugin "${plugin}": unknown setting "${name}"`, { hint: `known: ${Object.keys(schema).join(', ') || '(none)'}` });
    }
    try {
      out[key] = coerce(schema[key]!, value);
    } catch (error) {
      throw new RprError('E_CONFIG', `plugin "${plugin}": setting "${name}": ${(error as Error).message}`, { hint: schema[key]!.help });
    }
  }
  for (const [key, field] of Object.entries(schema)) {
    if (key in out) continue;
    if (field.default !== undefined) out[key] = field.default;
    else if (field.required) throw new RprError('E_CONFIG', `plugin "${plugin}": setting "${key}" is required`, { hint: field.help });
  }
  return out;
}
