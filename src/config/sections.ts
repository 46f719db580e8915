/**
 * [defaults] and [observability]: flat tables of core options. Everything
 * that is not one of the section's keys is an error, with a hint saying
 * where the key does belong when it is a real option.
 */
import type { OptionDef } from '../options/catalog.js';
import type { KeyPath } from './lines.js';
import { knownKeysHint, type Problems } from './problems.js';
import { ALL_OPTIONS, COORDINATION_OPTIONS, DEFAULTS_OPTIONS, OBSERVABILITY_OPTIONS } from './schema.js';
import type { CoordinationConfig, ObservabilityConfig } from './types.js';
import { describe, isTable, readOption } from './values.js';

export function readDefaults(problems: Problems, raw: unknown, nowWall: number): Record<string, unknown> {
  return readOptionTable(problems, ['defaults'], raw, DEFAULTS_OPTIONS, nowWall, (key) => {
    if (OBSERVABILITY_OPTIONS.has(key)) return 'health and metrics settings go in [observability]';
    if (key === 'coordinate' || COORDINATION_OPTIONS.has(key)) return 'coordination settings go in [coordination] (url, on_coordination_loss)';
    if (ALL_OPTIONS.has(key)) return 'it describes one job, so it has no default: set it in a [jobs.NAME] table or on the command line';
    return undefined;
  });
}

export function readObservability(problems: Problems, raw: unknown, nowWall: number): ObservabilityConfig {
  return readOptionTable(problems, ['observability'], raw, OBSERVABILITY_OPTIONS, nowWall, (key) => (DEFAULTS_OPTIONS.has(key) ? `${key} goes in [defaults]` : undefined)) as ObservabilityConfig;
}

/** [coordination]: url (the --coordinate option) and on_coordination_loss. */
export function readCoordination(problems: Problems, raw: unknown, nowWall: number): CoordinationConfig {
  return readOptionTable(problems, ['coordination'], raw, COORDINATION_OPTIONS, nowWall, (key) =>
    key === 'coordinate' ? 'write it as url = "redis://host:port"' : DEFAULTS_OPTIONS.has(key) ? `${key} goes in [defaults]` : undefined,
  ) as CoordinationConfig;
}

/**
 * Reads a table whose keys are core options. `misplaced(key)` returns a hint
 * for a key that is an option but not of this table.
 */
function readOptionTable(
  problems: Problems,
  path: KeyPath,
  raw: unknown,
  allowed: ReadonlyMap<string, OptionDef>,
  nowWall: number,
  misplaced: (key: string) => string | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (raw === undefined) return out;
  if (!isTable(raw)) {
    problems.report(path, `expected a table, got ${describe(raw)}`, `write it as [${path.join('.')}] followed by key = value lines`);
    return out;
  }
  for (const [key, value] of Object.entries(raw)) {
    const def = allowed.get(key);
    if (!def) {
      const hint = misplaced(key);
      problems.report([...path, key], hint ? `not allowed in [${path.join('.')}]` : 'unknown key', hint ?? knownKeysHint(key, [...allowed.keys()]));
      continue;
    }
    const typed = readOption(problems, [...path, key], def, value, nowWall);
    if (typed !== undefined) out[def.key] = typed;
  }
  return out;
}
