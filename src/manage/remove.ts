/** `rpr plugins remove NAME`, `disable NAME`, `enable NAME`. */
import { lstat, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { RprError } from '../errors/index.js';
import { disabledNames, discoverChecked } from './integrity.js';
import { emptyLock, readLock, withMutex, writeLock } from './lockfile.js';
import { currentUserPlugin, type Manager } from './manager.js';

/** `rpr plugins remove NAME`. */
export async function removePlugin(m: Manager, name: string): Promise<void> {
  const now = await currentUserPlugin(m, name);
  if (!now.entry && !now.found) {
    if (now.bundled) throw new RprError('E_USAGE', `"${name}" is bundled with rpr and cannot be removed`, { hint: `rpr plugins disable ${name} turns it off` });
    throw new RprError('E_USAGE', `no installed plugin "${name}"`, { hint: 'rpr plugins list shows them' });
  }
  await withMutex(m.dir, async () => {
    const lock = (await readLock(m.dir)) ?? emptyLock();
    const entry = lock.plugins[name];
    if (entry) {
      delete lock.plugins[name];
      await writeLock(m.dir, lock);
    }
    const link = path.join(m.dir, name);
    const info = await lstat(link).catch(() => null);
    if (info?.isSymbolicLink()) await unlink(link);
    else if (now.found && path.dirname(now.found.manifest.dir) === m.dir) await rm(now.found.manifest.dir, { recursive: true, force: true });
    else if (now.found) throw new RprError('E_USAGE', `plugin "${name}" is in ${now.found.manifest.dir}; remove that folder yourself`);
    if (entry) await rm(path.join(m.dir, entry.store), { recursive: true, force: true });
  });
  m.io.out(`removed ${name}${now.bundled ? ` (the bundled ${name} ${now.bundled.manifest.version} is used again)` : ''}`);
}

/** `rpr plugins disable NAME` / `enable NAME`: recorded in plugins.lock. */
export async function setEnabled(m: Manager, name: string, enabled: boolean): Promise<void> {
  const discovery = await discoverChecked(m.config, { includeDisabled: true, verifyFiles: true });
  const lock = await readLock(m.dir);
  if (!discovery.plugins.has(name) && !lock?.plugins[name] && !lock?.disabled.includes(name) && !discovery.refused.has(name)) {
    throw new RprError('E_USAGE', `no plugin "${name}"`, { hint: 'rpr plugins list shows them' });
  }
  await withMutex(m.dir, async () => {
    const fresh = (await readLock(m.dir)) ?? emptyLock();
    fresh.disabled = enabled ? fresh.disabled.filter((n) => n !== name) : [...fresh.disabled, name];
    await writeLock(m.dir, fresh);
  });
  m.io.out(`${enabled ? 'enabled' : 'disabled'} ${name}`);
  if (enabled && m.config?.disabled?.includes(name)) m.io.note(`rpr: note: [plugins] disabled in your config file still lists "${name}", which keeps it off`);
  if (!enabled && m.config?.enabled?.includes(name)) m.io.note(`rpr: note: [plugins] enabled in your config file lists "${name}", which keeps it on`);
}

/** Whether each plugin is on: [plugins] disabled > [plugins] enabled > rpr plugins disable. */
export async function enabledState(m: Manager): Promise<(name: string) => boolean> {
  const lock = await readLock(m.dir).catch(() => null);
  const off = new Set(disabledNames(m.config, lock));
  return (name) => !off.has(name);
}
