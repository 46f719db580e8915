/**
 * The store's transactions. Layout of the plugin directory:
 *   plugins.lock             what was installed (JSON, see lockfile.ts)
 *   plugins.lock.busy        the mutex, while an rpr changes anything
 *   .store/NAME-SHA-RAND/    one installed version: plugin.toml, the wasm, plugin.sig ...
 *   NAME -> .store/...       a symlink: what discovery finds
 *
 * An install writes the new version into .store/ (invisible to discovery), reads it back and checks
 * it, records it in plugins.lock (written whole, by rename), and only then points NAME at it, with
 * one rename of a symlink: a reader sees the old version or the new one, never a mix. A crash
 * before the switch leaves an unused folder in .store/ (removed by the next install); a crash
 * between the lock and the switch leaves the old version refused at load, with a message that
 * `rpr plugins update NAME` answers. Plugin folders copied in by hand (not symlinks) still work.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, readFile, readlink, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { RprError } from '../errors/index.js';
import { pinOf, readManifest } from '../plugins/index.js';
import { sha256Of } from './integrity.js';
import { emptyLock, readLock, STORE_DIR, withMutex, writeLock, type LockEntry, type LockFile } from './lockfile.js';
import { short, type Manager } from './manager.js';
import type { StagedPlugin } from './source.js';

/** Writes `staged` into the store, checks it, records it, switches NAME to it. Under the mutex. */
export async function commit(m: Manager, staged: StagedPlugin, extra: Partial<LockEntry>, recordedSource = staged.source): Promise<void> {
  const name = staged.manifest.name;
  await withMutex(
    m.dir,
    async () => {
      const lock = (await readLock(m.dir)) ?? emptyLock();
      const storeRel = path.join(STORE_DIR, `${name}-${short(staged.sha256)}-${randomBytes(3).toString('hex')}`);
      const store = path.join(m.dir, storeRel);
      await mkdir(store, { recursive: true });
      try {
        for (const [rel, bytes] of staged.files) {
          const file = path.join(store, rel);
          await mkdir(path.dirname(file), { recursive: true });
          const handle = await open(file, 'wx', 0o644);
          try {
            await handle.writeFile(bytes);
            await handle.sync();
          } finally {
            await handle.close();
          }
        }
        // Mapped folders relative to the plugin's own folder exist, empty, for the plugin to use.
        for (const host of Object.values(staged.manifest.permissions.filesystem)) {
          const rel = path.relative(staged.manifest.dir, host);
          if (!rel.startsWith('..') && !path.isAbsolute(rel)) await mkdir(path.join(store, rel), { recursive: true });
        }
        // Read back what is on disk: it must be what was checked.
        const written = await readManifest(path.join(store, 'plugin.toml'));
        const sha = sha256Of(await readFile(written.wasm));
        if (sha !== staged.sha256 || written.sha256 !== sha || written.name !== name) {
          throw new RprError('E_PLUGIN', `installing ${name}: the files written to ${store} do not read back as checked (sha256 ${sha})`, { hint: 'is the disk full or failing?' });
        }
      } catch (error) {
        await rm(store, { recursive: true, force: true });
        throw error;
      }
      const previous = lock.plugins[name];
      lock.plugins[name] = {
        version: staged.manifest.version,
        kind: staged.manifest.kind,
        sha256: staged.sha256,
        manifest_sha256: sha256Of(staged.files.get('plugin.toml')!),
        permissions: pinOf(staged.manifest),
        source: recordedSource,
        source_type: staged.sourceType,
        ...extra,
        installed_at: new Date().toISOString(),
        store: storeRel,
      };
      // The lock first: a running job that reloads on the switch below must find the new hash there.
      await writeLock(m.dir, lock);
      await pointAt(m, name, storeRel);
      if (previous && previous.store !== storeRel) await rm(path.join(m.dir, previous.store), { recursive: true, force: true });
      await sweepStore(m, lock);
    },
    (owner) => m.io.note(`rpr: waiting for another rpr that is changing plugins in ${m.dir} (${owner.slice(0, 80)})`),
  );
}

/** Makes m.dir/NAME point at storeRel, in one rename when NAME is a symlink or absent. */
async function pointAt(m: Manager, name: string, storeRel: string): Promise<void> {
  const target = path.join(m.dir, name);
  const tmp = path.join(m.dir, `.${name}.link-${randomBytes(4).toString('hex')}`);
  await symlink(storeRel, tmp, 'dir');
  const existing = await lstat(target).catch(() => null);
  if (existing && !existing.isSymbolicLink()) {
    // A folder copied in by hand: keep it aside in the store (the user may want their edits back).
    const aside = path.join(m.dir, STORE_DIR, `${name}-replaced-${randomBytes(3).toString('hex')}`);
    await rename(target, aside);
    m.io.note(`rpr: the folder that was ${target} is now ${aside}`);
  }
  await rename(tmp, target);
}

/** Removes store folders no lock entry and no symlink uses (left by a crash or a replaced install). */
async function sweepStore(m: Manager, lock: LockFile): Promise<void> {
  const used = new Set(Object.values(lock.plugins).map((e) => path.basename(e.store)));
  for (const entry of await readdir(m.dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isSymbolicLink()) used.add(path.basename(await readlink(path.join(m.dir, entry.name)).catch(() => '')));
  }
  for (const entry of await readdir(path.join(m.dir, STORE_DIR), { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory() || used.has(entry.name) || entry.name.includes('-replaced-')) continue;
    await rm(path.join(m.dir, STORE_DIR, entry.name), { recursive: true, force: true });
  }
}
