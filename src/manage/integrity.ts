/**
 * What every load of an installed plugin checks, on top of the host's own manifest checks:
 * - the wasm's sha256 against plugins.lock (what was installed, and confirmed, is what runs): a
 *   mismatch refuses the plugin with a message naming the file and both hashes;
 * - its permissions against the ones pinned in plugins.lock at install: a plugin.toml that asks for
 *   other permissions (edited by hand, or by the plugin itself through a folder it could write) is
 *   refused, at load and at every hot reload;
 * - its signature (over the wasm and the permissions): a plugin.sig that does not verify always refuses the plugin; with
 *   `[plugins] require_signed = true`, a plugin must carry a signature by one of `trusted_keys`.
 * Bundled plugins (plugins-dist/, shipped with rpr) are not checked here: they are part of rpr.
 * A user plugin that is not in the lock (copied by hand) loads as before, unless signatures are required.
 */
// fs.promises is loaded on first use (some 2 ms): `rpr fibonacci --help` loads this module, never calls it.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { PluginsConfig } from '../config/types.js';
// The modules themselves, not the plugin system's index: discovery (the CLI's, for every plugin
// subcommand and the help) loads neither the host nor the manifest parser.
import { discoverPlugins, userPluginDir, type Discovery } from '../plugins/manifest/discover.js';
import { ManifestError } from '../plugins/manifest/error.js';
import { permissionsDigest, pinDifferences, pinOf } from '../plugins/manifest/pin.js';
import type { PluginManifest } from '../plugins/manifest/types.js';
import { nodeCrypto } from '../plugins/node-crypto.js';
import { LOCK_FILE, mutexBusy, readLock, waitUntilFree, type LockFile } from './lockfile.js';
import { checkSignature, keyId, SIGNATURE_FILE } from './signature.js';

export interface IntegrityConfig {
  /** The user's plugin directory (RPR_PLUGIN_DIR, [plugins] dir, ~/.repeater/plugins). */
  dir: string;
  requireSigned: boolean;
  trustedKeys: string[];
}

export function integrityConfig(config: PluginsConfig | undefined, env: NodeJS.ProcessEnv = process.env): IntegrityConfig {
  return {
    dir: userPluginDir({ configDir: config?.dir, env }),
    requireSigned: config?.requireSigned === true,
    trustedKeys: config?.trustedKeys ?? [],
  };
}

/** A refusal of an installed plugin: the message names the file; the hint says what to do. */
export class IntegrityError extends ManifestError {
  constructor(file: string, reason: string, hint: string) {
    super(file, reason);
    this.name = 'IntegrityError';
    Object.defineProperty(this, 'hint', { value: hint });
  }
}

export const sha256Of = (bytes: Uint8Array): string => nodeCrypto().createHash('sha256').update(bytes).digest('hex');

/** The plugin.sig beside a manifest, or null. */
const readSignatureOf = (manifest: PluginManifest): Promise<string | null> => fs.readFile(path.join(manifest.dir, SIGNATURE_FILE), 'utf8').catch(() => null);

/**
 * Throws an IntegrityError if the installed plugin `manifest`, whose wasm hashes to `sha256`, may not
 * load. While another rpr is installing (its mutex is held) a mismatch is re-checked once it is done:
 * an update writes the lock first and switches the files right after.
 */
async function checkInstalled(cfg: IntegrityConfig, manifest: PluginManifest, sha256: string | undefined): Promise<void> {
  let lock: LockFile | null;
  try {
    lock = await readLock(cfg.dir);
  } catch (error) {
    throw new IntegrityError(manifest.file, `cannot check plugin "${manifest.name}" against its lock file: ${(error as Error).message}`, `rpr plugins verify reports what is installed`);
  }
  let entry = lock?.plugins[manifest.name];
  if (entry && sha256 !== undefined && entry.sha256 !== sha256 && (await mutexBusy(cfg.dir))) {
    await waitUntilFree(cfg.dir, 3_000);
    entry = (await readLock(cfg.dir).catch(() => null))?.plugins[manifest.name];
  }
  if (entry && sha256 !== undefined && entry.sha256 !== sha256) {
    throw new IntegrityError(
      manifest.wasm,
      `sha256 is ${sha256}, but ${LOCK_FILE} pinned ${entry.sha256} when plugin "${manifest.name}" ${entry.version} was installed from ${entry.source}; refusing to load it`,
      `if you changed it yourself, install it again (rpr plugins install ${manifest.dir}); otherwise restore it with rpr plugins update ${manifest.name}`,
    );
  }
  if (entry?.permissions) {
    const changed = pinDifferences(entry.permissions, pinOf(manifest));
    if (changed.length > 0) {
      throw new IntegrityError(
        manifest.file,
        `plugin "${manifest.name}" asks for other permissions than the ones agreed to when it was installed (${changed.join('; ')}); refusing to load it`,
        `rpr plugins update ${manifest.name} restores its plugin.toml; to give a plugin more, grant it in [plugins.${manifest.name}.permissions] in your config`,
      );
    }
  }
  // Without the wasm's hash (a job's discovery) the rest waits for the load, which has it.
  if (sha256 === undefined) return;
  const verdict = checkSignature(await readSignatureOf(manifest), sha256, permissionsDigest(manifest), cfg.trustedKeys);
  if (verdict.status === 'invalid') {
    throw new IntegrityError(
      manifest.wasm,
      `plugin "${manifest.name}": ${verdict.reason}; refusing to load it`,
      'a signature that does not match means the files were changed after signing; reinstall the plugin',
    );
  }
  if (cfg.requireSigned && verdict.status === 'unsigned') {
    throw new IntegrityError(
      manifest.wasm,
      `plugin "${manifest.name}" is not signed ([plugins] require_signed = true); refusing to load it`,
      `ask its author for a signed version (${SIGNATURE_FILE}), or remove it`,
    );
  }
  if (cfg.requireSigned && verdict.status === 'untrusted') {
    throw new IntegrityError(
      manifest.wasm,
      `plugin "${manifest.name}" is signed by ${keyId(verdict.key)}, which is not in [plugins] trusted_keys; refusing to load it`,
      `if you trust that key, add "${verdict.key}" to [plugins] trusted_keys`,
    );
  }
}

/** A load-time check for loadPlugin (initial load and every hot reload). */
export function loadCheck(cfg: IntegrityConfig): (manifest: PluginManifest, sha256: string) => Promise<void> {
  return (manifest, sha256) => checkInstalled(cfg, manifest, sha256);
}

/** [plugins] disabled, plus `rpr plugins disable` (the lock), minus [plugins] enabled which overrides the latter. */
export function disabledNames(config: PluginsConfig | undefined, lock: LockFile | null): string[] {
  const enabled = new Set(config?.enabled ?? []);
  return [...new Set([...(config?.disabled ?? []), ...(lock?.disabled ?? []).filter((n) => !enabled.has(n))])];
}

export interface CheckedDiscovery extends Discovery {
  /** Plugins refused by the integrity check, by name (neither they nor a bundled namesake load). */
  refused: Map<string, IntegrityError>;
}

/**
 * discoverPlugins with the integrity check applied to the user's plugins, and the plugins disabled
 * through `rpr plugins disable` left out (unless `includeDisabled`, for listings). With
 * `verifyFiles` (listings, verify) every wasm is hashed and checked against plugins.lock and its
 * signature; without (a job), only the pinned permissions are: the plugins the job uses get the
 * full check when they load, before any run.
 */
export async function discoverChecked(config: PluginsConfig | undefined, options: { includeDisabled?: boolean; env?: NodeJS.ProcessEnv; verifyFiles?: boolean } = {}): Promise<CheckedDiscovery> {
  const cfg = integrityConfig(config, options.env);
  const lock = await readLock(cfg.dir).catch(() => null);
  const disabled = options.includeDisabled ? [] : disabledNames(config, lock);
  const refused = new Map<string, IntegrityError>();
  const run = () =>
    discoverPlugins({
      configDir: config?.dir,
      disabled,
      ...(options.env ? { env: options.env } : {}),
      ...(options.verifyFiles ? { verifyFiles: true } : {}),
      check: async (manifest, source) => {
        if (source !== 'user') return;
        let sha: string | undefined;
        if (options.verifyFiles) {
          try {
            sha = sha256Of(await fs.readFile(manifest.wasm));
          } catch {
            return; // the host's own check names the missing file
          }
        }
        try {
          await checkInstalled(cfg, manifest, sha);
        } catch (error) {
          if (error instanceof IntegrityError) refused.set(manifest.name, error);
          throw error;
        }
      },
    });
  let discovery = await run();
  if (refused.size > 0 && (await mutexBusy(cfg.dir))) {
    await waitUntilFree(cfg.dir, 3_000);
    refused.clear();
    discovery = await run();
  }
  for (const [name, error] of refused) {
    // A refused installed plugin must not quietly fall back to the bundled one it would replace.
    discovery.plugins.delete(name);
    const problem = discovery.problems.find((p) => p.message === error.message);
    if (problem) problem.file = error.file;
  }
  return Object.assign(discovery, { refused });
}
