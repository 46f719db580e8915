/** `rpr plugins install SOURCE`: shows what the plugin asks for, asks, then commits it to the store. */
import path from 'node:path';
import { RprError } from '../errors/index.js';
import { currentUserPlugin, judgeSignature, oldManifest, type Manager } from './manager.js';
import { permissionChanges, permissionLines } from './permissions-text.js';
import { resolveSource, type StagedPlugin } from './source.js';
import { commit } from './store.js';

export interface InstallOptions {
  /** --sha256: the wasm must hash to this. */
  sha256?: string;
}

export function checkPin(staged: StagedPlugin, pin: string | undefined, what: string): void {
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
    throw new RprError('E_USAGE', `a plugin "${manifest.name}" is already in ${now.found.manifest.dir}`, { hint: `remove that folder first (rpr plugins remove ${manifest.name})` });
  }
  const { io } = m;
  io.out(`${now.entry || now.found ? 'Replacing' : 'Installing'} ${manifest.name} ${manifest.version} (${manifest.kind}) from ${staged.source}`);
  if (manifest.description) io.out(`  ${manifest.description}`);
  io.out(`  sha256: ${staged.sha256}${options.sha256 ? ' (matches --sha256)' : ''}`);
  io.out(`  ${signature.line}`);
  for (const note of staged.notes) io.out(`  note: ${note}`);
  if (now.entry || now.found)
    io.out(`  replaces ${now.found?.manifest.version ?? now.entry?.version} (${now.entry ? `installed from ${now.entry.source}` : `copied into ${now.found!.manifest.dir}`})`);
  else if (now.bundled && staged.sourceType !== 'bundled') io.out(`  replaces the bundled ${manifest.name} ${now.bundled.manifest.version} for you`);
  io.out('It asks for these permissions:');
  for (const line of permissionLines(manifest.permissions)) io.out(line);
  const before = now.found?.manifest ?? (await oldManifest(m, manifest.name));
  if (before) {
    const changes = permissionChanges(before.permissions, manifest.permissions);
    io.out(changes.length ? 'Changes from the installed version:' : "Permissions are the same as the installed version's.");
    for (const c of changes) io.out(`  ${c.line}`);
  }
  await io.confirm(`Install ${manifest.name} ${manifest.version} with these permissions?`);
  await commit(m, staged, { ...(options.sha256 ? { pinned: options.sha256.toLowerCase() } : {}), ...(signature.signedBy ? { signed_by: signature.signedBy } : {}) });
  io.out(`installed ${manifest.name} ${manifest.version} into ${path.join(m.dir, manifest.name)}`);
}
