/**
 * Effective permissions = (manifest ∩ narrowing) ∪ explicit grants.
 * - The manifest says what the plugin asks for.
 * - `narrow` (optional) is what the user is willing to give of that; a key left out does not narrow.
 * - `grant` is what the user adds explicitly ([plugins.NAME.permissions] in the config file); it is
 *   the only way to get more than the manifest asks for.
 * rpr never grants anything that is in neither the manifest nor `grant`.
 */
import path from 'node:path';
import { CONTRACT, type HostFunctionPermission } from '../contract.js';
import type { Permissions } from '../manifest/types.js';
import { formatPattern, intersectPatterns, parseNetworkPattern, type NetworkPattern } from './network.js';

/**
 * The user's side: any subset of the keys. Structural and loose on purpose (host function names as
 * plain strings) so the config loader's own type fits without a cast; unknown host function names
 * grant nothing.
 */
export type PermissionsInput = Partial<Omit<Permissions, 'hostFunctions'>> & { hostFunctions?: readonly string[] };

const known = (names: readonly string[] | undefined): HostFunctionPermission[] | undefined =>
  names?.filter((n): n is HostFunctionPermission => (CONTRACT.permissions.host_functions as string[]).includes(n));

export interface UserPermissions {
  narrow?: PermissionsInput;
  grant?: PermissionsInput;
}

const unique = <T>(xs: T[]): T[] => [...new Set(xs)];

function patterns(list: string[]): NetworkPattern[] {
  return list.map(parseNetworkPattern).filter((p): p is NetworkPattern => typeof p !== 'string');
}

function narrowNetwork(asked: string[], allowed: string[]): string[] {
  const out: string[] = [];
  for (const a of patterns(asked)) {
    for (const b of patterns(allowed)) {
      const both = intersectPatterns(a, b);
      if (both) out.push(formatPattern(both));
    }
  }
  return unique(out);
}

/** A mapping survives narrowing if the user keeps its guest path and a host dir inside the manifest's. */
function narrowFilesystem(asked: Record<string, string>, allowed: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [guest, host] of Object.entries(asked)) {
    const want = allowed[guest];
    if (want === undefined) continue;
    const rel = path.relative(host, want);
    if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) out[guest] = want;
  }
  return out;
}

const intersect = <T>(a: T[], b: T[] | undefined): T[] => (b === undefined ? a : a.filter((x) => b.includes(x)));

export function effectivePermissions(manifest: Permissions, user: UserPermissions = {}): Permissions {
  const n = user.narrow ?? {};
  const g = user.grant ?? {};
  const narrowed: Permissions = {
    network: n.network === undefined ? [...manifest.network] : narrowNetwork(manifest.network, n.network),
    filesystem: n.filesystem === undefined ? { ...manifest.filesystem } : narrowFilesystem(manifest.filesystem, n.filesystem),
    exec: intersect(manifest.exec, n.exec),
    execEnv: intersect(manifest.execEnv, n.execEnv),
    hostFunctions: intersect(manifest.hostFunctions, known(n.hostFunctions)),
    memoryMb: Math.min(manifest.memoryMb, n.memoryMb ?? Infinity),
    timeoutMs: Math.min(manifest.timeoutMs, n.timeoutMs ?? Infinity),
    emit: intersect(manifest.emit, n.emit),
    subscribe: intersect(manifest.subscribe, n.subscribe),
  };
  return {
    network: unique([...narrowed.network, ...(g.network ?? [])]),
    filesystem: { ...narrowed.filesystem, ...(g.filesystem ?? {}) },
    exec: unique([...narrowed.exec, ...(g.exec ?? [])]),
    execEnv: unique([...narrowed.execEnv, ...(g.execEnv ?? [])]),
    hostFunctions: unique([...narrowed.hostFunctions, ...(known(g.hostFunctions) ?? [])]),
    memoryMb: Math.max(narrowed.memoryMb, g.memoryMb ?? 0),
    timeoutMs: Math.max(narrowed.timeoutMs, g.timeoutMs ?? 0),
    emit: unique([...narrowed.emit, ...(g.emit ?? [])]),
    subscribe: unique([...narrowed.subscribe, ...(g.subscribe ?? [])]),
  };
}
