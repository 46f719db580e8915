/**
 * Which keys each section of the config file takes. Option keys come from
 * the catalog (snake_case of its camelCase key), so a new flag gets its
 * config key for free; only the non-option sections are spelled out here.
 */
import { appliesTo, OPTIONS, snakeCase, type OptionDef } from '../options/catalog.js';
import { PERMISSION_KEYS as PLUGIN_PERMISSION_KEYS } from '../plugins/permissions/keys.js';

export const SECTIONS = ['defaults', 'observability', 'plugins', 'jobs', 'coordination'] as const;

/** The four options that live in [observability] rather than [defaults]. */
const OBSERVABILITY_KEYS: readonly string[] = ['healthPort', 'healthAddr', 'metricsPort', 'metricsAddr'];

/** [coordination]: config key -> option. The URL's key is `url` there (`coordinate` in [jobs.NAME], like the flag). */
const COORDINATION_KEYS: Readonly<Record<string, string>> = { url: 'coordinate', on_coordination_loss: 'onCoordinationLoss' };
const COORDINATION_OPTION_KEYS = Object.values(COORDINATION_KEYS);

const configKey = (def: OptionDef): string => snakeCase(def.key);

const byConfigKey = (defs: readonly OptionDef[]): Map<string, OptionDef> => new Map(defs.map((d) => [configKey(d), d]));

export const DEFAULTS_OPTIONS: ReadonlyMap<string, OptionDef> = byConfigKey(OPTIONS.filter((d) => d.defaultable && !OBSERVABILITY_KEYS.includes(d.key) && !COORDINATION_OPTION_KEYS.includes(d.key)));
export const OBSERVABILITY_OPTIONS: ReadonlyMap<string, OptionDef> = byConfigKey(OPTIONS.filter((d) => OBSERVABILITY_KEYS.includes(d.key)));
export const COORDINATION_OPTIONS: ReadonlyMap<string, OptionDef> = new Map(Object.entries(COORDINATION_KEYS).map(([configKey, key]) => [configKey, OPTIONS.find((d) => d.key === key)!]));
export const ALL_OPTIONS: ReadonlyMap<string, OptionDef> = byConfigKey(OPTIONS);

export const CORE_SCHEDULES = ['interval', 'count', 'duration', 'cron'] as const;

/** The CLI's subcommand aliases, so `schedule = "i"` means what `rpr i` means. */
const SCHEDULE_ALIASES: Record<string, string> = {
  int: 'interval',
  i: 'interval',
  cnt: 'count',
  c: 'count',
  dur: 'duration',
  d: 'duration',
  cr: 'cron',
};
export const canonicalSchedule = (name: string): string => SCHEDULE_ALIASES[name] ?? name;
export const isCoreSchedule = (name: string): boolean => (CORE_SCHEDULES as readonly string[]).includes(name);

/** Options a job with this schedule may set; plugin schedules get the 'all'-scope ones. */
export function jobOptions(schedule: string): ReadonlyMap<string, OptionDef> {
  return byConfigKey(OPTIONS.filter((d) => appliesTo(d, schedule)));
}

/** A core schedule that means nothing without this option (its flag is required too). */
export const REQUIRED_JOB_OPTION: Record<string, string> = { interval: 'every', cron: 'cron' };

/** Keys of [jobs.NAME] that are not options. */
export const JOB_KEYS = ['schedule', 'command', 'restart'] as const;

/** `restart` of a [jobs.NAME]: whether `rpr up` starts the job again once it has ended. */
export const RESTART_POLICIES = ['never', 'on-failure', 'always'] as const;

export type ValueKind = 'string' | 'boolean' | 'strings' | 'positive-int' | 'string-table';

/** [plugins]: settings of the plugin system itself; any table in it is a [plugins.NAME]. */
export const PLUGINS_KEYS: Record<string, { field: string; kind: ValueKind }> = {
  dir: { field: 'dir', kind: 'string' },
  require_signed: { field: 'requireSigned', kind: 'boolean' },
  trusted_keys: { field: 'trustedKeys', kind: 'strings' },
  enabled: { field: 'enabled', kind: 'strings' },
  disabled: { field: 'disabled', kind: 'strings' },
};

/** [plugins.NAME.permissions] and [plugins.NAME.narrow]: the manifest's [permissions] keys, from the one list. */
export const PERMISSION_KEYS: Record<string, { field: string; kind: ValueKind }> = PLUGIN_PERMISSION_KEYS;
