/**
 * The catalog's rules between options (`conflicts`, `needs` in catalog.ts), checked in this one
 * place for every job whatever set the values: flags, RPR_* variables, the config file.
 */
import { usageError } from '../errors/index.js';
import { longFlag, OPTIONS, type OptionDef } from './catalog.js';
import { EXPLICIT, type OptionValues } from './resolve.js';

const isSet = (value: unknown): boolean => value !== undefined && value !== false && value !== '';

/** Throws the usage error of the first rule the values break, in catalog order: conflicts, then needs. */
export function checkOptionRules(values: OptionValues): void {
  const value = new Map<string, unknown>(Object.entries(values));
  const byKey = new Map<string, OptionDef>(OPTIONS.map((def) => [def.key, def]));
  const flag = (key: string): string => longFlag(byKey.get(key)!);
  for (const def of OPTIONS) {
    for (const other of def.conflicts ?? []) {
      if (value.get(def.key) && value.get(other.key)) throw usageError(`${longFlag(def)} and ${flag(other.key)} cannot be used together`, other.hint);
    }
  }
  // Only a value someone set needs anything: a built-in default (--max-parallel's 4) does not.
  const explicit = values[EXPLICIT];
  for (const def of OPTIONS) {
    const need = def.needs;
    if (!need || !isSet(value.get(def.key)) || (explicit && !explicit.has(def.key))) continue;
    const met = need.anyOf.some((key) => isSet(value.get(key)) && (need.value === undefined || value.get(key) === need.value));
    if (met) continue;
    const what = need.what ?? `${flag(need.anyOf[0]!)}${need.value === undefined ? '' : ` ${need.value}`}`;
    throw usageError(need.message ?? `${longFlag(def)} only applies with ${what}`, need.hint ?? `add ${what} or drop ${longFlag(def)}`);
  }
}
