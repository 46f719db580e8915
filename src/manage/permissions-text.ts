/**
 * Permissions as a user reads them before trusting a plugin: every permission in full, and what an
 * update changes (with whether it asks for more than before).
 */
import type { Permissions } from '../plugins/index.js';

const list = (items: string[]): string => (items.length ? items.join(', ') : 'none');

/** Every permission, one line each (the same words as `rpr plugins info`). */
export function permissionLines(p: Permissions, indent = '  '): string[] {
  return [
    `network:        ${list(p.network)}`,
    `filesystem:     ${list(Object.entries(p.filesystem).map(([guest, host]) => `${guest} -> ${host}`))}${Object.keys(p.filesystem).length ? ' (read-write)' : ''}`,
    `exec:           ${list(p.exec)}${p.execEnv.length ? `; may set ${list(p.execEnv)} for them` : ''}`,
    `host functions: ${list(p.hostFunctions)}`,
    `memory:         ${p.memoryMb} MB, calls time out after ${p.timeoutMs} ms`,
    `topics:         ${p.emit.length || p.subscribe.length ? `emits ${list(p.emit)}; subscribes to ${list(p.subscribe)}` : 'none'}`,
  ].map((line) => indent + line);
}

export interface PermissionChange {
  line: string;
  /** True when the new version may do something the old one could not. */
  wider: boolean;
}

function setChange(label: string, before: string[], after: string[]): PermissionChange[] {
  const added = after.filter((x) => !before.includes(x));
  const removed = before.filter((x) => !after.includes(x));
  return [...(added.length ? [{ line: `+ ${label}: ${added.join(', ')}`, wider: true }] : []), ...(removed.length ? [{ line: `- ${label}: ${removed.join(', ')}`, wider: false }] : [])];
}

/** What changes from `before` to `after`; empty when nothing does. */
export function permissionChanges(before: Permissions, after: Permissions): PermissionChange[] {
  const fs = (p: Permissions) => Object.entries(p.filesystem).map(([guest, host]) => `${guest} -> ${host}`);
  const out = [
    ...setChange('network', before.network, after.network),
    ...setChange('filesystem', fs(before), fs(after)),
    ...setChange('exec', before.exec, after.exec),
    ...setChange('exec variables', before.execEnv, after.execEnv),
    ...setChange('host functions', before.hostFunctions, after.hostFunctions),
    ...setChange('emits', before.emit, after.emit),
    ...setChange('subscribes to', before.subscribe, after.subscribe),
  ];
  if (before.memoryMb !== after.memoryMb) out.push({ line: `~ memory: ${before.memoryMb} MB -> ${after.memoryMb} MB`, wider: after.memoryMb > before.memoryMb });
  if (before.timeoutMs !== after.timeoutMs) out.push({ line: `~ call timeout: ${before.timeoutMs} ms -> ${after.timeoutMs} ms`, wider: after.timeoutMs > before.timeoutMs });
  return out;
}
