/**
 * Installing, updating, removing, enabling and verifying the user's plugins.
 *
 * Layout of the plugin directory:
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
import { lstat, mkdir, open, readdir, readFile, readlink, rename, rm, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { PluginsConfig } from '../config/types.js';
import { RprError } from '../errors/index.js';
import { BUNDLED_PLUGIN_DIR, permissionsDigest, pinDifferences, pinOf, readManifest, type DiscoveredPlugin, type PluginManifest } from '../plugins/index.js';
import { disabledNames, discoverChecked, integrityConfig, sha256Of, type IntegrityConfig } from './integrity.js';
import { emptyLock, LOCK_FILE, readLock, STORE_DIR, withMutex, writeLock, type LockEntry, type LockFile } from './lockfile.js';
import { permissionChanges, permissionLines } from './permissions-text.js';
import { badTrustedKeys, checkSignature, keyId, SIGNATURE_FILE } from './signature.js';
import { resolveSource, type SourceOptions, type StagedPlugin } from './source.js';

export interface ManageIO {
  /** A line for stdout. */
  out(line: string): void;
  /** A notice for stderr. */
  note(line: string): void;
  /**
   * Asks the user to go ahead; resolves when they agree, throws (exit 2) when they do not or
   * cannot be asked (no terminal, no --yes).
   */
  confirm(question: string): Promise<void>;
}

export interface Manager {
  dir: string;
  config: PluginsConfig | undefined;
  integrity: IntegrityConfig;
  io: ManageIO;
  sourceOptions: SourceOptions;
}

export function manager(config: PluginsConfig | undefined, io: ManageIO, env: NodeJS.ProcessEnv = process.env): Manager {
  const integrity = integrityConfig(config, env);
  return { dir: integrity.dir, config, integrity, io, sourceOptions: { pluginDir: integrity.dir } };
}

const short = (sha: string) => sha.slice(0, 12);

/** The signature of a staged plugin, judged: throws when it must be refused; else a line to show. */
function judgeSignature(m: Manager, staged: StagedPlugin): { line: string; signedBy?: string } {
  for (const reason of badTrustedKeys(m.integrity.trustedKeys)) m.io.note(`rpr: [plugins] trusted_keys: ${reason} (ignored)`);
  const verdict = checkSignature(staged.signature, staged.sha256, permissionsDigest(staged.manifest), m.integrity.trustedKeys);
  const name = staged.manifest.name;
  if (verdict.status === 'invalid') throw new RprError('E_PLUGIN', `not installing ${name}: ${verdict.reason}`, { hint: 'the files were changed after they were signed (the wasm, or the permissions in plugin.toml); if you are its author, sign it again with rpr plugins sign' });
  if (m.integrity.requireSigned && verdict.status === 'unsigned') {
    throw new RprError('E_PLUGIN', `not installing ${name}: it is not signed, and [plugins] require_signed = true`, { hint: `ask its author for a signed version (${SIGNATURE_FILE}), or sign it yourself with rpr plugins sign and trust your key` });
  }
  if (m.integrity.requireSigned && verdict.status === 'untrusted') {
    throw new RprError('E_PLUGIN', `not installing ${name}: it is signed by ${keyId(verdict.key)}, which is not in [plugins] trusted_keys`, { hint: `if you trust that key, add "${verdict.key}" to [plugins] trusted_keys` });
  }
  if (verdict.status === 'trusted') return { line: `signature: valid, by trusted key ${keyId(verdict.key)}`, signedBy: verdict.key };
  if (verdict.status === 'untrusted') return { line: `signature: valid, by ${keyId(verdict.key)}, which is not in [plugins] trusted_keys` };
  return { line: 'signature: none' };
}

/** Where plugin NAME is in the user's directory now (a lock entry, or a folder found by discovery). */
async function currentUserPlugin(m: Manager, name: string): Promise<{ entry?: LockEntry; found?: DiscoveredPlugin; bundled?: DiscoveredPlugin }> {
  const lock = await readLock(m.dir);
  const discovery = await discoverChecked(m.config, { includeDisabled: true, verifyFiles: true });
  const found = discovery.plugins.get(name);
  const entry = lock?.plugins[name];
  const user = found?.source === 'user' ? found : undefined;
  const bundled = found?.source === 'bundled' ? found : found?.shadows ? { manifest: found.shadows, source: 'bundled' as const } : undefined;
  return { ...(entry ? { entry } : {}), ...(user ? { found: user } : {}), ...(bundled ? { bundled } : {}) };
}

async function oldManifest(m: Manager, name: string): Promise<PluginManifest | undefined> {
  return readManifest(path.join(m.dir, name, 'plugin.toml')).catch(() => undefined);
}

export interface InstallOptions {
  /** --sha256: the wasm must hash to this. */
  sha256?: string;
}

function checkPin(staged: StagedPlugin, pin: string | undefined, what: string): void {
  if (pin === undefined) return;
  if (!/^[0-9a-f]{64}$/i.test(pin)) throw new RprError('E_USAGE', `--sha256 "${pin}" is not 64 hex digits`);
  if (pin.toLowerCase() !== staged.sha256) {
    throw new RprError('E_PLUGIN', `not ${what} ${staged.manifest.name}: its wasm has sha256 ${staged.sha256}, but --sha256 expects ${pin.toLowerCase()}`, {
      hint: 'the download is not what you pinned: check the source; nothing was installed',
    });
  }
}

/** `rpr plugins install SOURCE`. */
export async function installPlugin(m: Manager, source: string, options: InstallOptions = {}): Promise<void> {
  const staged = await resolveSource(source, m.sourceOptions);
  const { manifest } = staged;
  checkPin(staged, options.sha256, 'installing');
  const signature = judgeSignature(m, staged);
  const now = await currentUserPlugin(m, manifest.name);
  if (now.found && !now.entry && path.dirname(now.found.manifest.dir) !== m.dir) {
    throw new RprError('E_USAGE', `a plugin "${manifest.name}" is already in ${now.found.manifest.dir}`, { hint: 'remove that folder first (rpr plugins remove ' + manifest.name + ')' });
  }
  const { io } = m;
  io.out(`${now.entry || now.found ? 'Replacing' : 'Installing'} ${manifest.name} ${manifest.version} (${manifest.kind}) from ${staged.source}`);
  if (manifest.description) io.out(`  ${manifest.description}`);
  io.out(`  sha256: ${staged.sha256}${options.sha256 ? ' (matches --sha256)' : ''}`);
  io.out(`  ${signature.line}`);
  for (const note of staged.notes) io.out(`  note: ${note}`);
  if (now.entry || now.found) io.out(`  replaces ${now.found?.manifest.version ?? now.entry?.version} (${now.entry ? `installed from ${now.entry.source}` : `copied into ${now.found!.manifest.dir}`})`);
  else if (now.bundled && staged.sourceType !== 'bundled') io.out(`  replaces the bundled ${manifest.name} ${now.bundled.manifest.version} for you`);
  io.out('It asks for these permissions:');
  for (const line of permissionLines(manifest.permissions)) io.out(line);
  const before = now.found?.manifest ?? (await oldManifest(m, manifest.name));
  if (before) {
    const changes = permissionChanges(before.permissions, manifest.permissions);
    io.out(changes.length ? 'Changes from the installed version:' : 'Permissions are the same as the installed version\'s.');
    for (const c of changes) io.out(`  ${c.line}`);
  }
  await io.confirm(`Install ${manifest.name} ${manifest.version} with these permissions?`);
  await commit(m, staged, { ...(options.sha256 ? { pinned: options.sha256.toLowerCase() } : {}), ...(signature.signedBy ? { signed_by: signature.signedBy } : {}) });
  io.out(`installed ${manifest.name} ${manifest.version} into ${path.join(m.dir, manifest.name)}`);
}

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
    await commit(m, staged, { ...(options.sha256 ? { pinned: options.sha256.toLowerCase() } : entry.pinned ? { pinned: entry.pinned } : {}), ...(signature.signedBy ? { signed_by: signature.signedBy } : {}) }, entry.source);
    m.io.out(restoring ? `restored ${name} ${manifest.version}` : `updated ${name} to ${manifest.version}`);
  }
}

/** Writes `staged` into the store, checks it, records it, switches NAME to it. Under the mutex. */
async function commit(m: Manager, staged: StagedPlugin, extra: Partial<LockEntry>, recordedSource = staged.source): Promise<void> {
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

export interface VerifyLine {
  name: string;
  ok: boolean;
  text: string;
}

/** `rpr plugins verify`: re-hashes every plugin, installed and bundled; lists what differs. */
export async function verifyPlugins(m: Manager, bundledDir = BUNDLED_PLUGIN_DIR): Promise<VerifyLine[]> {
  return withMutex(m.dir, async () => {
    const lines: VerifyLine[] = [];
    let lock: LockFile | null = null;
    try {
      lock = await readLock(m.dir);
    } catch (error) {
      lines.push({ name: LOCK_FILE, ok: false, text: (error as Error).message });
    }
    const seen = new Set<string>();
    for (const [name, entry] of Object.entries(lock?.plugins ?? {})) {
      seen.add(name);
      const manifest = await readManifest(path.join(m.dir, name, 'plugin.toml')).catch((e: Error) => e);
      if (manifest instanceof Error) {
        lines.push({ name, ok: false, text: `${name}: missing or unreadable (${manifest.message}); rpr plugins update ${name} reinstalls it` });
        continue;
      }
      const bytes = await readFile(manifest.wasm).catch(() => null);
      if (!bytes) {
        lines.push({ name, ok: false, text: `${name}: ${manifest.wasm} is missing` });
        continue;
      }
      const sha = sha256Of(bytes);
      if (sha !== entry.sha256) lines.push({ name, ok: false, text: `${name}: ${manifest.wasm} has sha256 ${sha}, ${LOCK_FILE} says ${entry.sha256} (installed from ${entry.source})` });
      else if (manifest.sha256 !== sha) lines.push({ name, ok: false, text: `${name}: ${manifest.file} says runtime.sha256 ${manifest.sha256}, the wasm is ${sha}` });
      else if (entry.permissions && pinDifferences(entry.permissions, pinOf(manifest)).length > 0) {
        const changed = pinDifferences(entry.permissions, pinOf(manifest)).join('; ');
        lines.push({ name, ok: false, text: `${name}: ${manifest.file} asks for other permissions than ${LOCK_FILE} pinned at install (${changed}); rpr plugins update ${name} restores it` });
      } else {
        const sig = await readFile(path.join(manifest.dir, SIGNATURE_FILE), 'utf8').catch(() => null);
        const verdict = checkSignature(sig, sha, permissionsDigest(manifest), m.integrity.trustedKeys);
        if (verdict.status === 'invalid') lines.push({ name, ok: false, text: `${name}: ${verdict.reason}` });
        else if (entry.signed_by && verdict.status === 'unsigned') lines.push({ name, ok: false, text: `${name}: was signed by ${keyId(entry.signed_by)} at install, and its ${SIGNATURE_FILE} is gone` });
        else if (m.integrity.requireSigned && verdict.status !== 'trusted') lines.push({ name, ok: false, text: `${name}: ${verdict.status === 'unsigned' ? 'not signed' : `signed by an untrusted key ${keyId(verdict.key)}`}, and [plugins] require_signed = true` });
        else {
          const toml = await readFile(manifest.file).catch(() => null);
          const edited = entry.manifest_sha256 !== undefined && toml !== null && sha256Of(toml) !== entry.manifest_sha256;
          const extras = [verdict.status === 'trusted' ? `signed by ${keyId(verdict.key)}` : '', edited ? 'its plugin.toml was edited after install' : ''].filter(Boolean);
          lines.push({ name, ok: true, text: `${name} ${manifest.version}: ok, sha256 ${short(sha)}… from ${entry.source}${extras.map((e) => `, ${e}`).join('')}` });
        }
      }
    }
    // Plugins copied in by hand: their manifest is all there is to check against.
    for (const [root, kind] of [
      [m.dir, 'user'],
      [bundledDir, 'bundled'],
    ] as const) {
      for (const entry of await readdir(root, { withFileTypes: true }).catch(() => [])) {
        if (entry.name.startsWith('.') || (kind === 'user' && seen.has(entry.name)) || !(entry.isDirectory() || entry.isSymbolicLink())) continue;
        const manifest = await readManifest(path.join(root, entry.name, 'plugin.toml')).catch(() => null);
        if (!manifest) continue;
        const bytes = await readFile(manifest.wasm).catch(() => null);
        const sha = bytes ? sha256Of(bytes) : 'missing';
        const label = kind === 'bundled' ? 'bundled' : 'not in plugins.lock (copied in by hand)';
        if (sha !== manifest.sha256) lines.push({ name: manifest.name, ok: false, text: `${manifest.name} (${label}): ${manifest.wasm} has sha256 ${sha}, its plugin.toml says ${manifest.sha256}` });
        else lines.push({ name: manifest.name, ok: true, text: `${manifest.name} ${manifest.version}: ok, sha256 ${short(sha)}… (${label})` });
      }
    }
    return lines;
  });
}
