/**
 * [plugins] and [plugins.NAME]. The plugin host owns what a plugin's own keys
 * mean (its manifest has the schema), so those pass through as written; what
 * is checked here is the plugin system's settings and the permissions table,
 * because a mistyped grant must never be silently dropped or widened.
 */
import type { KeyPath } from './lines.js';
import { knownKeysHint, type Problems } from './problems.js';
import { PERMISSION_KEYS, PLUGINS_KEYS, type ValueKind } from './schema.js';
import type { PluginEntry, PluginPermissions, PluginsConfig } from './types.js';
import { describe, isTable, plainValue, readKind, type Table } from './values.js';

export function readPlugins(problems: Problems, raw: unknown): PluginsConfig {
  const out: PluginsConfig = { entries: {} };
  if (raw === undefined) return out;
  if (!isTable(raw)) {
    problems.report(['plugins'], `expected a table, got ${describe(raw)}`);
    return out;
  }
  const settings: Table = {};
  for (const [key, value] of Object.entries(raw)) {
    if (PLUGINS_KEYS[key]) settings[key] = value;
    else if (isTable(value)) out.entries[key] = readPluginEntry(problems, ['plugins', key], value);
    else {
      problems.report(['plugins', key], 'unknown key', `${knownKeysHint(key, Object.keys(PLUGINS_KEYS))}; a plugin's own settings go in [plugins.NAME]`);
    }
  }
  Object.assign(out, readTyped(problems, ['plugins'], settings, PLUGINS_KEYS));
  return out;
}

function readPluginEntry(problems: Problems, path: KeyPath, table: Table): PluginEntry {
  const { permissions, narrow, ...rest } = table;
  const entry: PluginEntry = { config: plainValue(rest) as Table };
  const granted = readPermissions(problems, [...path, 'permissions'], permissions);
  if (granted) entry.permissions = granted;
  const narrowed = readPermissions(problems, [...path, 'narrow'], narrow);
  if (narrowed) entry.narrow = narrowed;
  return entry;
}

/** [plugins.NAME.permissions] (grants) or [plugins.NAME.narrow] (limits): the manifest's keys. */
function readPermissions(problems: Problems, where: KeyPath, value: unknown): PluginPermissions | undefined {
  if (value === undefined) return undefined;
  if (!isTable(value)) {
    problems.report(where, `expected a table, got ${describe(value)}`);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!PERMISSION_KEYS[key]) problems.report([...where, key], 'unknown permission', knownKeysHint(key, Object.keys(PERMISSION_KEYS)));
  }
  return readTyped(problems, where, value, PERMISSION_KEYS) as PluginPermissions;
}

/** The known keys of `table`, each checked against its kind and renamed to its field. */
function readTyped(problems: Problems, path: KeyPath, table: Table, keys: Record<string, { field: string; kind: ValueKind }>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, { field, kind }] of Object.entries(keys)) {
    if (table[key] === undefined) continue;
    const value = readKind(problems, [...path, key], kind, table[key]);
    if (value !== undefined) out[field] = value;
  }
  return out;
}
