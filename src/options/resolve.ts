/**
 * The one place that decides each option's value:
 *   flag > environment (RPR_<KEY>) > file > built-in default,
 * where "file" is, for `rpr run NAME`, the job's own keys, then [defaults] /
 * [observability]. Pure: everything it reads is passed in, so every layer
 * can be tested against the next.
 */
import { RprError, usageError } from '../errors/index.js';
import { appliesTo, longFlag, OPTIONS, snakeCase, type CatalogValues, type OptionDef } from './catalog.js';
import { parseOptionValue } from './values.js';

type ValueSource = 'flag' | 'env' | 'file' | 'default';

/**
 * What resolution needs of a loaded config file. config/'s LoadedConfig fits
 * it as is; declaring it here keeps options/ from importing config/.
 */
interface ConfigLayer {
  path: string;
  defaults: Readonly<Record<string, unknown>>;
  observability: Readonly<Record<string, unknown>>;
  /** [coordination], keyed by option (coordinate, onCoordinationLoss). */
  coordination?: Readonly<Record<string, unknown>>;
  jobs: Readonly<Record<string, { name: string; schedule: string; command: readonly string[]; shell: boolean; options: Readonly<Record<string, unknown>> }>>;
  lineOf(path: readonly string[]): number | undefined;
}

export interface ResolveInput {
  /**
   * The subcommand: interval, count, duration, cron, or a plugin scheduler.
   * Options that do not apply to it are left out. null keeps every option
   * (for `rpr config show`). Ignored when `job` is given: the job's schedule rules.
   */
  command: string | null;
  /** Commander's parsed values (cmd.opts()), camelCase; raw strings are parsed here. */
  flags?: Readonly<Record<string, unknown>>;
  /**
   * Commander's cmd.getOptionValueSource(key). Only 'cli' (and 'implied', set by
   * another flag) count as flags; a commander 'default' is a built-in default.
   * Without it, every defined value in `flags` counts as a flag.
   */
  flagSource?: (key: string) => string | undefined;
  env?: Readonly<Record<string, string | undefined>>;
  config?: ConfigLayer | null;
  /** For `rpr run NAME`: the job whose options sit between env and [defaults]. */
  job?: string;
  /** Wall clock for time-of-day values; defaults to Date.now(). */
  nowWall?: number;
  /** Overrides BUILT_IN_DEFAULTS (tests). */
  builtIns?: Readonly<Record<string, unknown>>;
}

export interface Resolved {
  values: CatalogValues;
  /** Flags that are not core options (--next, plugin flags...), passed through untouched. */
  others: Record<string, unknown>;
  /** Of values and others. */
  sources: Record<string, ValueSource>;
  /** Human detail of each source: '--timeout', 'RPR_TIMEOUT', '/etc/rpr.toml:3', 'built-in'. */
  where: Record<string, string>;
}

/**
 * Defaults the catalog's descriptions promise. Options absent here and
 * everywhere else are simply unset (booleans: off).
 */
export const BUILT_IN_DEFAULTS = {
  onOverlap: 'skip',
  maxParallel: 4,
  killAfter: 5000,
  healthAddr: '127.0.0.1',
  metricsAddr: '127.0.0.1',
  progress: true,
} as const satisfies CatalogValues;

/** Keys of OptionValues set by the user (not built-in defaults); absent means all are. */
export const EXPLICIT: unique symbol = Symbol('explicit');

/** Resolved values as a job gets them, with which keys someone set: only those can need another option. */
export type OptionValues = CatalogValues & { readonly [EXPLICIT]?: ReadonlySet<string> };

/** The values, plus which keys someone set (flag, env or file) rather than a built-in default. */
export function withExplicit(resolved: Resolved): OptionValues {
  const explicit = Object.keys(resolved.sources).filter((key) => resolved.sources[key] !== 'default');
  return Object.defineProperty(resolved.values, EXPLICIT, { value: new Set(explicit), enumerable: false });
}

/** RPR_TIMEOUT, RPR_ON_OVERLAP, RPR_HEALTH_PORT... */
export const envVarName = (def: OptionDef): string => `RPR_${snakeCase(def.key).toUpperCase()}`;

const OBSERVABILITY = new Set(['healthPort', 'healthAddr', 'metricsPort', 'metricsAddr']);
/** Options read from [coordination], with their key there. */
const COORDINATION: Readonly<Record<string, string>> = { coordinate: 'url', onCoordinationLoss: 'on_coordination_loss' };

export function resolveOptions(input: ResolveInput): Resolved {
  const { flags = {}, env = {}, config = null, nowWall = Date.now() } = input;
  const builtIns: Readonly<Record<string, unknown>> = input.builtIns ?? BUILT_IN_DEFAULTS;
  const job = input.job === undefined ? undefined : findJob(config, input.job);
  const scope = job ? job.schedule : input.command;
  // Each value was parsed by its option's type (options/values.ts) or is a built-in default of that type:
  // the one place the catalog's value types are taken on trust.
  const values: Record<string, unknown> = {};
  const out: Resolved = { values: values as CatalogValues, others: {}, sources: {}, where: {} };
  const set = (key: string, value: unknown, source: ValueSource, where: string, into = values): void => {
    into[key] = value;
    out.sources[key] = source;
    out.where[key] = where;
  };
  const fileWhere = (path: string[]): string => {
    const line = config?.lineOf(path);
    return line === undefined ? config!.path : `${config!.path}:${line}`;
  };

  for (const def of OPTIONS) {
    const applies = scope === null || appliesTo(def, scope);
    const flag = flagValue(input, flags, def.key);
    if (flag.kind === 'flag') {
      if (!applies) throw usageError(`${longFlag(def)} does not apply to ${job ? `job ${job.name} (${scope})` : scope}`);
      const value = typeof flag.value === 'string' ? parseOptionValue(def, flag.value, longFlag(def), nowWall) : flag.value;
      set(def.key, value, 'flag', longFlag(def));
      continue;
    }
    if (!applies) continue;

    if (job && def.key === 'shell' && job.shell && job.options.shell === undefined) {
      // A command written as one string is a shell line: no env or default may turn that off.
      set('shell', true, 'file', fileWhere(['jobs', job.name, 'command']));
      continue;
    }
    const name = envVarName(def);
    const fromEnv = def.defaultable ? env[name] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') {
      set(def.key, parseOptionValue(def, fromEnv, name, nowWall), 'env', name);
      continue;
    }
    if (job && job.options[def.key] !== undefined) {
      set(def.key, job.options[def.key], 'file', fileWhere(['jobs', job.name, snakeCase(def.key)]));
      continue;
    }
    if (config && Object.hasOwn(COORDINATION, def.key)) {
      const value = config.coordination?.[def.key];
      if (value !== undefined) {
        set(def.key, value, 'file', fileWhere(['coordination', COORDINATION[def.key]!]));
        continue;
      }
    } else if (config && def.defaultable) {
      const section = OBSERVABILITY.has(def.key) ? 'observability' : 'defaults';
      const table = section === 'observability' ? config.observability : config.defaults;
      if (table[def.key] !== undefined) {
        set(def.key, table[def.key], 'file', fileWhere([section, snakeCase(def.key)]));
        continue;
      }
    }
    if (flag.kind === 'default') set(def.key, flag.value, 'default', 'built-in');
    else if (builtIns[def.key] !== undefined) set(def.key, builtIns[def.key], 'default', 'built-in');
    else if (def.key === 'name' && job) set('name', job.name, 'file', fileWhere(['jobs', job.name])); // the job's name labels its metrics
  }

  // Flags that are not core options (--next, --set, plugin flags...) pass through untouched.
  const known = new Set(OPTIONS.map((d) => d.key));
  for (const [key, value] of Object.entries(flags)) {
    if (known.has(key) || value === undefined) continue;
    const kind = flagValue(input, flags, key).kind;
    set(key, value, kind === 'flag' ? 'flag' : 'default', kind === 'flag' ? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : 'built-in', out.others);
  }
  return out;
}

type FlagValue = { kind: 'flag' | 'default'; value: unknown } | { kind: 'none' };

function flagValue(input: ResolveInput, flags: Readonly<Record<string, unknown>>, key: string): FlagValue {
  const value = flags[key];
  if (value === undefined) return { kind: 'none' };
  if (!input.flagSource) return { kind: 'flag', value };
  const source = input.flagSource(key);
  return source === 'cli' || source === 'implied' ? { kind: 'flag', value } : { kind: 'default', value };
}

function findJob(config: ConfigLayer | null, name: string) {
  if (!config) {
    throw new RprError('E_CONFIG', `no job named "${name}": there is no config file`, {
      hint: 'define [jobs.NAME] in ~/.config/rpr/config.toml, or name a file with --config',
    });
  }
  const job = config.jobs[name];
  if (!job) {
    const names = Object.keys(config.jobs);
    throw new RprError('E_CONFIG', `${config.path}: no job named "${name}"`, {
      hint: names.length ? `jobs in this file: ${names.join(', ')}` : 'the file defines no [jobs.NAME] tables',
    });
  }
  return job;
}
