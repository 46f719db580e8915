/**
 * What the plugin commands share: the manager (where, with which settings and io), how a staged
 * plugin's signature is judged, and what is installed under a name now.
 */
import path from 'node:path';
import type { PluginsConfig } from '../config/types.js';
import { RprError } from '../errors/index.js';
import { permissionsDigest, readManifest, type DiscoveredPlugin, type PluginManifest } from '../plugins/index.js';
import { discoverChecked, integrityConfig, type IntegrityConfig } from './integrity.js';
import { readLock, type LockEntry } from './lockfile.js';
import { badTrustedKeys, checkSignature, keyId, SIGNATURE_FILE } from './signature.js';
import type { SourceOptions, StagedPlugin } from './source.js';

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

export const short = (sha: string) => sha.slice(0, 12);

/** The signature of a staged plugin, judged: throws when it must be refused; else a line to show. */
export function judgeSignature(m: Manager, staged: StagedPlugin): { line: string; signedBy?: string } {
  for (const reason of badTrustedKeys(m.integrity.trustedKeys)) m.io.note(`rpr: [plugins] trusted_keys: ${reason} (ignored)`);
  const verdict = checkSignature(staged.signature, staged.sha256, permissionsDigest(staged.manifest), m.integrity.trustedKeys);
  const name = staged.manifest.name;
  if (verdict.status === 'invalid')
    throw new RprError('E_PLUGIN', `not installing ${name}: ${verdict.reason}`, {
      hint: 'the files were changed after they were signed (the wasm, or the permissions in plugin.toml); if you are its author, sign it again with rpr plugins sign',
    });
  if (m.integrity.requireSigned && verdict.status === 'unsigned') {
    throw new RprError('E_PLUGIN', `not installing ${name}: it is not signed, and [plugins] require_signed = true`, {
      hint: `ask its author for a signed version (${SIGNATURE_FILE}), or sign it yourself with rpr plugins sign and trust your key`,
    });
  }
  if (m.integrity.requireSigned && verdict.status === 'untrusted') {
    throw new RprError('E_PLUGIN', `not installing ${name}: it is signed by ${keyId(verdict.key)}, which is not in [plugins] trusted_keys`, {
      hint: `if you trust that key, add "${verdict.key}" to [plugins] trusted_keys`,
    });
  }
  if (verdict.status === 'trusted') return { line: `signature: valid, by trusted key ${keyId(verdict.key)}`, signedBy: verdict.key };
  if (verdict.status === 'untrusted') return { line: `signature: valid, by ${keyId(verdict.key)}, which is not in [plugins] trusted_keys` };
  return { line: 'signature: none' };
}

/** Where plugin NAME is in the user's directory now (a lock entry, or a folder found by discovery). */
export async function currentUserPlugin(m: Manager, name: string): Promise<{ entry?: LockEntry; found?: DiscoveredPlugin; bundled?: DiscoveredPlugin }> {
  const lock = await readLock(m.dir);
  const discovery = await discoverChecked(m.config, { includeDisabled: true, verifyFiles: true });
  const found = discovery.plugins.get(name);
  const entry = lock?.plugins[name];
  const user = found?.source === 'user' ? found : undefined;
  const bundled = found?.source === 'bundled' ? found : found?.shadows ? { manifest: found.shadows, source: 'bundled' as const } : undefined;
  return { ...(entry ? { entry } : {}), ...(user ? { found: user } : {}), ...(bundled ? { bundled } : {}) };
}

export async function oldManifest(m: Manager, name: string): Promise<PluginManifest | undefined> {
  return readManifest(path.join(m.dir, name, 'plugin.toml')).catch(() => undefined);
}
