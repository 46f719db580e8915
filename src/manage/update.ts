/** `rpr plugins update [NAME...|--all]`: from each plugin's recorded source; a restore when its files or its permissions differ from the lock. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { RprError } from '../errors/index.js';
import { pinDifferences, pinOf } from '../plugins/index.js';
import { checkPin } from './install.js';
import { sha256Of } from './integrity.js';
import { emptyLock, LOCK_FILE, readLock } from './lockfile.js';
import { judgeSignature, oldManifest, short, type Manager } from './manager.js';
import { permissionChanges, permissionLines } from './permissions-text.js';
import { resolveSource } from './source.js';
import { commit } from './store.js';

export interface UpdateOptions {
  all?: boolean;
  sha256?: string;
}

/** `rpr plugins update [NAME...|--all]`: from each plugin's recorded source. */
export async function updatePlugins(m: Manager, names: string[], options: UpdateOptions = {}): Promise<void> {
  const lock = (await readLock(m.dir)) ?? emptyLock();
  const installed = Object.keys(lock.plugins);
  if (options.all && names.length) throw new RprError('E_USAGE', 'update: give plugin names or --all, not both');
  if (!options.all && names.length === 0) throw new RprError('E_USAGE', 'update: which plugin?', { hint: `rpr plugins update NAME, or --all (installed: ${installed.join(', ') || 'none'})` });
  if (options.sha256 && names.length !== 1) throw new RprError('E_USAGE', 'update: --sha256 pins one plugin; name exactly one');
  const targets = options.all ? installed : names;
  if (options.all && targets.length === 0) m.io.out(`no plugins installed in ${m.dir}`);
  for (const name of targets) {
    const entry = lock.plugins[name];
    if (!entry) {
      throw new RprError('E_USAGE', `update: "${name}" was not installed with rpr plugins install, so there is no source to update it from`, {
        hint: installed.length ? `installed: ${installed.join(', ')}` : 'rpr plugins install SOURCE installs one',
      });
    }
    const staged = await resolveSource(entry.source, m.sourceOptions);
    const { manifest } = staged;
    if (manifest.name !== name) throw new RprError('E_PLUGIN', `not updating ${name}: its source ${entry.source} now holds plugin "${manifest.name}"`);
    const current = await oldManifest(m, name);
    const installedWasm = current ? await readFile(current.wasm).catch(() => null) : null;
    // Intact: the wasm is the one pinned, and plugin.toml asks for the permissions agreed to (edits
    // to anything else in it are the user's own, and kept).
    const permissionsKept = !current || !entry.permissions || pinDifferences(entry.permissions, pinOf(current)).length === 0;
    const intact = installedWasm !== null && sha256Of(installedWasm) === entry.sha256 && permissionsKept;
    const installedToml = await readFile(path.join(m.dir, name, 'plugin.toml')).catch(() => null);
    const stagedToml = staged.files.get('plugin.toml')!;
    // What the source held at install: its plugin.toml is recorded, so that edits made to the
    // installed copy (customising a bundled plugin) are not mistaken for a new release.
    const sourceChanged = staged.sha256 !== entry.sha256 || (entry.manifest_sha256 ? sha256Of(stagedToml) !== entry.manifest_sha256 : !installedToml?.equals(stagedToml));
    const edited = entry.manifest_sha256 !== undefined && installedToml !== null && sha256Of(installedToml) !== entry.manifest_sha256;
    if (!sourceChanged && intact) {
      m.io.out(`${name} ${entry.version} is up to date (${entry.source})${edited ? '; your edits to its plugin.toml are kept' : ''}`);
      continue;
    }
    if (options.sha256) checkPin(staged, options.sha256, 'updating');
    else if (entry.pinned && staged.sha256 !== entry.pinned) {
      throw new RprError('E_PLUGIN', `not updating ${name}: it was pinned to sha256 ${entry.pinned}, and ${entry.source} now has ${staged.sha256}`, {
        hint: `if you trust the new version, run rpr plugins update ${name} --sha256 ${staged.sha256}`,
      });
    }
    const signature = judgeSignature(m, staged);
    const restoring = staged.sha256 === entry.sha256 && !intact;
    const why = permissionsKept ? `the installed files differ from ${LOCK_FILE}` : `its plugin.toml asks for other permissions than ${LOCK_FILE} pinned`;
    if (restoring) m.io.out(`Restoring ${name} ${entry.version} from ${entry.source} (${why})`);
    else {
      m.io.out(`Updating ${name} ${entry.version} -> ${manifest.version} from ${entry.source}`);
      m.io.out(`  sha256: ${short(entry.sha256)}… -> ${staged.sha256}`);
    }
    m.io.out(`  ${signature.line}`);
    const changes = current ? permissionChanges(current.permissions, manifest.permissions) : [];
    if (!current) {
      m.io.out('  (the installed files are missing; it is installed again) It asks for:');
      for (const line of permissionLines(manifest.permissions, '    ')) m.io.out(line);
    } else if (changes.length) {
      m.io.out('Permission changes:');
      for (const c of changes) m.io.out(`  ${c.line}`);
    } else m.io.out('  permissions: unchanged');
    // A restore replaces a wasm that does not match the lock: its plugin.toml is not to be trusted either.
    const losesEdits = edited && !restoring;
    if (losesEdits) m.io.out(`  note: ${path.join(m.dir, name, 'plugin.toml')} was edited after install; the new version replaces those edits`);
    // The user trusted the plugin with its old permissions: ask again only if it wants more (or
    // their own edits would be lost).
    if (!current || losesEdits || changes.some((c) => c.wider)) await m.io.confirm(`Update ${name} to ${manifest.version} with these permissions?`);
    await commit(
      m,
      staged,
      { ...(options.sha256 ? { pinned: options.sha256.toLowerCase() } : entry.pinned ? { pinned: entry.pinned } : {}), ...(signature.signedBy ? { signed_by: signature.signedBy } : {}) },
      entry.source,
    );
    m.io.out(restoring ? `restored ${name} ${manifest.version}` : `updated ${name} to ${manifest.version}`);
  }
}
