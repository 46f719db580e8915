import type { KeyPath } from './lines.js';

/**
 * What a config file means once validated. Option values are already typed
 * by parseOptionValue (durations in ms, patterns compiled, times as epoch
 * ms) and keyed by the catalog's camelCase keys, exactly like parsed flags.
 */
export interface LoadedConfig {
  /** The file, as given or located. */
  path: string;
  /** [defaults]: defaultable core options (not the four observability ones). */
  defaults: Record<string, unknown>;
  observability: ObservabilityConfig;
  /** [coordination]: keyed by option (coordinate, onCoordinationLoss); absent in configs built by hand. */
  coordination?: CoordinationConfig;
  plugins: PluginsConfig;
  jobs: Record<string, JobConfig>;
  /** Line of a key by its TOML path, e.g. ['defaults', 'kill_after'] (snake_case, as written). */
  lineOf(path: KeyPath): number | undefined;
}

// A type alias, not an interface, so that it also reads as a Record<string, unknown> (options/resolve.ts).
export type ObservabilityConfig = {
  healthPort?: number;
  healthAddr?: string;
  metricsPort?: number;
  metricsAddr?: string;
};

/** [coordination] url and on_coordination_loss, under their option keys. */
export type CoordinationConfig = {
  coordinate?: string;
  onCoordinationLoss?: 'skip' | 'run-local';
};

export interface PluginsConfig {
  /** Directory of installed plugins (overrides ~/.repeater/plugins). */
  dir?: string;
  requireSigned?: boolean;
  trustedKeys?: string[];
  enabled?: string[];
  disabled?: string[];
  /** [plugins.NAME] tables, by plugin name. */
  entries: Record<string, PluginEntry>;
}

export interface PluginEntry {
  /** Every key of [plugins.NAME] but `permissions` and `narrow`, as written (snake_case kept: the plugin's schema owns them). */
  config: Record<string, unknown>;
  /** [plugins.NAME.permissions]: grants on top of the manifest's. */
  permissions?: PluginPermissions;
  /** [plugins.NAME.narrow]: limits below the manifest's (lists are intersected, numbers lowered). */
  narrow?: PluginPermissions;
}

export interface PluginPermissions {
  /** host[:port] patterns. */
  network?: string[];
  /** guest path -> host path. */
  filesystem?: Record<string, string>;
  exec?: string[];
  execEnv?: string[];
  hostFunctions?: string[];
  memoryMb?: number;
  timeoutMs?: number;
  emit?: string[];
  subscribe?: string[];
}

export interface JobConfig {
  name: string;
  /** interval | count | duration | cron (aliases resolved), or a plugin scheduler's name. */
  schedule: string;
  command: string[];
  /** True when `command` was a string (run through sh -c) or `shell = true`. */
  shell: boolean;
  /** Core options of the job, camelCase, typed; `shell` only when written (see `shell` above). */
  options: Record<string, unknown>;
  /** Plugin schedulers only: the job's other keys, as written, for the plugin. */
  pluginConfig?: Record<string, unknown>;
  /** `rpr up` only: start the job again when it ends (default never). */
  restart?: 'never' | 'on-failure' | 'always';
}
