/**
 * The permission keys, once: a manifest's [permissions] and a config file's
 * [plugins.NAME.permissions] / [plugins.NAME.narrow] take exactly these (a grant the config
 * refused as unknown, or a manifest key the config cannot grant, would be a trap for users).
 */
import type { Permissions } from '../manifest/types.js';

export type PermissionValueKind = 'strings' | 'string-table' | 'positive-int';

export const PERMISSION_KEYS = {
  network: { field: 'network', kind: 'strings' },
  filesystem: { field: 'filesystem', kind: 'string-table' },
  exec: { field: 'exec', kind: 'strings' },
  exec_env: { field: 'execEnv', kind: 'strings' },
  host_functions: { field: 'hostFunctions', kind: 'strings' },
  memory_mb: { field: 'memoryMb', kind: 'positive-int' },
  timeout_ms: { field: 'timeoutMs', kind: 'positive-int' },
  emit: { field: 'emit', kind: 'strings' },
  subscribe: { field: 'subscribe', kind: 'strings' },
} as const satisfies Record<string, { field: keyof Permissions; kind: PermissionValueKind }>;

export type PermissionKey = keyof typeof PERMISSION_KEYS;
export const PERMISSION_KEY_NAMES = Object.keys(PERMISSION_KEYS) as PermissionKey[];
