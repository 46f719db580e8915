/** `rpr plugins verify`: every plugin against plugins.lock, its manifest, its pinned permissions and its signature. */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { readBundledIndex } from '../plugins/manifest/bundled-index.js';
import { BUNDLED_PLUGIN_DIR, permissionsDigest, pinDifferences, pinOf, readManifest } from '../plugins/index.js';
import { sha256Of } from './integrity.js';
import { LOCK_FILE, readLock, withMutex, type LockFile } from './lockfile.js';
import { short, type Manager } from './manager.js';
import { checkSignature, keyId, SIGNATURE_FILE } from './signature.js';

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
        else if (entry.signed_by && verdict.status === 'unsigned')
          lines.push({ name, ok: false, text: `${name}: was signed by ${keyId(entry.signed_by)} at install, and its ${SIGNATURE_FILE} is gone` });
        else if (m.integrity.requireSigned && verdict.status !== 'trusted')
          lines.push({ name, ok: false, text: `${name}: ${verdict.status === 'unsigned' ? 'not signed' : `signed by an untrusted key ${keyId(verdict.key)}`}, and [plugins] require_signed = true` });
        else {
          const toml = await readFile(manifest.file).catch(() => null);
          const edited = entry.manifest_sha256 !== undefined && toml !== null && sha256Of(toml) !== entry.manifest_sha256;
          const extras = [verdict.status === 'trusted' ? `signed by ${keyId(verdict.key)}` : '', edited ? 'its plugin.toml was edited after install' : ''].filter(Boolean);
          lines.push({ name, ok: true, text: `${name} ${manifest.version}: ok, sha256 ${short(sha)}… from ${entry.source}${extras.map((e) => `, ${e}`).join('')}` });
        }
      }
    }
    // What jobs and the help read instead of the bundled plugin.toml files (JSON keeps no undefined).
    const indexed = bundledDir === BUNDLED_PLUGIN_DIR ? readBundledIndex(bundledDir) : null;
    const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
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
        const inIndex = kind === 'bundled' ? indexed?.find((m) => m.name === manifest.name) : undefined;
        if (sha !== manifest.sha256) lines.push({ name: manifest.name, ok: false, text: `${manifest.name} (${label}): ${manifest.wasm} has sha256 ${sha}, its plugin.toml says ${manifest.sha256}` });
        else if (indexed && !isDeepStrictEqual(asJson(inIndex), asJson(manifest))) {
          lines.push({
            name: manifest.name,
            ok: false,
            text: `${manifest.name} (${label}): ${manifest.file} is not what rpr's index of its bundled plugins says (jobs read the index); reinstall rpr`,
          });
        } else lines.push({ name: manifest.name, ok: true, text: `${manifest.name} ${manifest.version}: ok, sha256 ${short(sha)}… (${label})` });
      }
    }
    return lines;
  });
}
