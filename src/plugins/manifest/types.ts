/** A plugin.toml, parsed and checked. Field names follow the config loader's (camelCase). */
import type { HostFunctionPermission, PluginKind } from '../contract.js';

export type ConfigType = 'string' | 'integer' | 'number' | 'boolean' | 'duration';

export interface ConfigField {
  type: ConfigType;
  /** Already of `type` (durations stay as written text or ms number until resolved). */
  default?: unknown;
  help: string;
  values?: string[];
  required?: boolean;
  aliases?: string[];
}

export type ConfigSchema = Record<string, ConfigField>;

export interface Permissions {
  /** host[:port] patterns; no port means the scheme's default port, "host:*" any port. */
  network: string[];
  /** guest path -> host path (absolute). */
  filesystem: Record<string, string>;
  /** Programs an executor may have the host spawn (argv[0], exactly). */
  exec: string[];
  /** Variables an executor's plan may set although they change what gets loaded or run (PATH, LD_*...). */
  execEnv: string[];
  hostFunctions: HostFunctionPermission[];
  memoryMb: number;
  timeoutMs: number;
  /** Topics the plugin may publish on with rpr_emit (needs host function "emit" too). */
  emit: string[];
  /** Topics delivered to the plugin's on_topic export. */
  subscribe: string[];
}

/**
 * [coordination] of a scheduler plugin: its runs' starts count against a rate limit that --coordinate
 * can share across instances, read from its settings (`rate` names the N/WINDOW setting; `spread`
 * the boolean one of a sliding window, `burst` the integer one of a token bucket).
 */
export interface PluginSlots {
  slots: 'sliding-window' | 'token-bucket';
  rate: string;
  spread?: string;
  burst?: string;
}

export interface PluginManifest {
  name: string;
  version: string;
  kind: PluginKind;
  description: string;
  author: string;
  /** Absolute path of the .wasm. */
  wasm: string;
  sha256: string;
  abi: number;
  config: ConfigSchema;
  minRprVersion: string | undefined;
  permissions: Permissions;
  /** Absent when the plugin declares none (its runs cannot be coordinated). */
  coordination?: PluginSlots;
  /**
   * A scheduler that decides from what runs print (plugin.reads_output): rpr then reads each run's
   * output through pipes, and the command's stdout is no longer the terminal. Others get "".
   */
  readsOutput?: boolean;
  /** Absolute path of the plugin.toml, for messages. */
  file: string;
  dir: string;
}
