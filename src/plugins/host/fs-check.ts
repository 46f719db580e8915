/**
 * Checks a filesystem mapping before a plugin gets it. node:wasi refuses ../, absolute paths, and
 * symlinks that a plugin tries to create pointing outside (measured: errno 76/63), but it follows a
 * symlinked *directory* that already exists inside the mapping to wherever it points (measured:
 * data/dirlink -> ../outside let a plugin read outside/secret.txt). So a mapping whose tree holds a
 * symlink leading out of it is refused. The walk is bounded; a tree too big to check is refused
 * too (map a smaller directory). Symlinks that other programs create later are not seen: Node
 * documents node:wasi as no security boundary, and docs/plugin-host.md says so.
 */
import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { PluginError } from '../errors.js';

const MAX_ENTRIES = 10_000;

const inside = (root: string, p: string) => {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/** What no mapping may reach: the plugin's own files, and the folders plugins are kept in. */
export interface Protected {
  /** The plugin's folder (plugin.toml, its wasm, plugin.sig). */
  own: string;
  /** Its manifest and wasm (a wasm may sit in a subfolder). */
  files: string[];
  /** Plugin stores: the user's plugin directory, the bundled plugins. */
  stores: string[];
}

const real = async (p: string): Promise<string> => realpath(p).catch(() => path.resolve(p));

/**
 * A plugin that could write its own folder rewrote its plugin.toml during a call, and a hot reload
 * then gave it the permissions it wrote itself. No mapping may contain the plugin's own folder or
 * files, or a plugin store, or lie in a store outside the plugin's own folder (another plugin's
 * files, plugins.lock). A subfolder of its own folder (a `data` folder) stays allowed.
 */
async function checkProtected(root: string, guard: Protected, fail: (detail: string) => never): Promise<void> {
  const own = await real(guard.own);
  if (inside(root, own)) fail('it would give the plugin write access to its own folder (its plugin.toml and wasm)');
  for (const file of guard.files) if (inside(root, await real(file))) fail(`it would give the plugin write access to ${path.basename(file)}`);
  for (const store of guard.stores) {
    const dir = await real(store);
    if (inside(root, dir)) fail(`it would give the plugin write access to the plugin folder ${store}`);
    if (inside(dir, root) && !inside(own, root)) fail(`it lies in the plugin folder ${store}, outside the plugin's own folder`);
  }
}

export async function checkMapping(plugin: string, guest: string, host: string, guard?: Protected): Promise<void> {
  const fail = (detail: string): never => {
    throw new PluginError(plugin, 'load', 'denied', `filesystem mapping ${guest} -> ${host}: ${detail}`);
  };
  const s = await lstat(host).catch(() => undefined);
  if (!s) return fail('does not exist');
  const root = await realpath(host);
  if (!(await lstat(root)).isDirectory()) fail('not a directory');
  if (guard) await checkProtected(root, guard, fail);
  let seen = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (++seen > MAX_ENTRIES) fail(`more than ${MAX_ENTRIES} entries to check for symlinks leading out; map a smaller directory`);
      const full = path.join(dir, entry.name);
      if (entry.isSymbolicLink()) {
        // Where the OS would go; for a dangling link, where it would go once its target exists.
        const dest = (await realpath(full).catch(() => undefined)) ?? path.resolve(dir, await readlink(full));
        if (!inside(root, dest)) fail(`${path.relative(root, full)} is a symlink leading out of it (to ${dest})`);
      } else if (entry.isDirectory()) {
        await walk(full);
      }
    }
  };
  await walk(root);
}
