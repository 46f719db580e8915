/**
 * A manifest's permissions in one canonical form, for pinning what the user agreed to: plugins.lock
 * records it at install, a signature covers its digest, and every load compares the manifest on
 * disk with the pin. (A plugin allowed to write its own folder rewrote its plugin.toml during a
 * call and was reloaded with the wider permissions it wrote itself.) Lists are sorted; a mapped
 * folder inside the plugin's own folder is written relative to it, so the pin survives the plugin
 * folder moving (the store gives every installed version its own folder).
 */
import { nodeCrypto } from '../node-crypto.js';
import path from 'node:path';
import type { Permissions, PluginManifest } from './types.js';

export interface PinnedPermissions {
  network: string[];
  filesystem: Record<string, string>;
  exec: string[];
  exec_env: string[];
  host_functions: string[];
  memory_mb: number;
  timeout_ms: number;
  emit: string[];
  subscribe: string[];
}

const sorted = (xs: readonly string[]): string[] => [...new Set(xs)].sort();

function pinPermissions(permissions: Permissions, dir: string): PinnedPermissions {
  const filesystem: Record<string, string> = {};
  for (const guest of Object.keys(permissions.filesystem).sort()) {
    const host = permissions.filesystem[guest]!;
    const rel = path.relative(dir, host);
    filesystem[guest] = rel === '' ? '.' : !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : host;
  }
  return {
    network: sorted(permissions.network),
    filesystem,
    exec: sorted(permissions.exec),
    exec_env: sorted(permissions.execEnv),
    host_functions: sorted(permissions.hostFunctions),
    memory_mb: permissions.memoryMb,
    timeout_ms: permissions.timeoutMs,
    emit: sorted(permissions.emit),
    subscribe: sorted(permissions.subscribe),
  };
}

export const pinOf = (manifest: PluginManifest): PinnedPermissions => pinPermissions(manifest.permissions, manifest.dir);

/** The pin as text, for comparing and signing (keys in a fixed order). */
export const pinText = (pin: PinnedPermissions): string => JSON.stringify(pin, Object.keys(pin).sort().concat(Object.keys(pin.filesystem)));

export const digestOf = (permissions: Permissions, dir: string): string =>
  nodeCrypto()
    .createHash('sha256')
    .update(pinText(pinPermissions(permissions, dir)))
    .digest('hex');
export const permissionsDigest = (manifest: PluginManifest): string => digestOf(manifest.permissions, manifest.dir);

/** What differs between a pin and the manifest's permissions now, in words; empty when nothing. */
export function pinDifferences(pinned: PinnedPermissions, now: PinnedPermissions): string[] {
  const out: string[] = [];
  for (const key of Object.keys(pinned) as (keyof PinnedPermissions)[]) {
    const a = JSON.stringify(pinned[key]);
    const b = JSON.stringify(now[key]);
    if (a !== b) out.push(`${key} ${a} -> ${b}`);
  }
  for (const key of Object.keys(now)) if (!(key in pinned)) out.push(`${key} (new) ${JSON.stringify(now[key as keyof PinnedPermissions])}`);
  return out;
}
