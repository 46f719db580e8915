/**
 * The one check of a manifest against its files and this rpr: the wasm's sha256 against
 * runtime.sha256, and dependencies.min_rpr_version. Loading a plugin makes it (host/generation.ts),
 * as do install, validate and the listing commands; a job's discovery does not (it would hash every
 * bundled wasm at every start for plugins the job never uses). semver is loaded only when a
 * min_rpr_version is compared: a bundled plugin's was compared by the build (bundled-index.ts).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { VERSION } from '../../version.js';
import { MAX_WASM_BYTES, readBounded } from '../files.js';
import { ManifestError } from './error.js';
import type { PluginManifest } from './types.js';

/** Why this rpr cannot run the plugin, or undefined. */
async function versionProblem(manifest: PluginManifest, rprVersion = VERSION): Promise<string | undefined> {
  if (!manifest.minRprVersion) return undefined;
  const { compareSemver } = await import('./semver.js');
  if (compareSemver(rprVersion, manifest.minRprVersion) < 0) return `needs rpr ${manifest.minRprVersion} or later; this is rpr ${rprVersion}`;
  return undefined;
}

/** Why the wasm is not the one the manifest names, or undefined. */
function hashProblem(manifest: PluginManifest, wasmSha256: string): string | undefined {
  if (wasmSha256 !== manifest.sha256) return `${path.basename(manifest.wasm)} does not match runtime.sha256 (file is ${wasmSha256})`;
  return undefined;
}

/**
 * Throws a ManifestError (naming the plugin.toml) for the first problem. `versionChecked`: its
 * min_rpr_version was already checked against this rpr (the build's index of the bundled plugins).
 */
export async function checkManifestFiles(manifest: PluginManifest, wasmSha256: string | undefined, rprVersion = VERSION, versionChecked = false): Promise<void> {
  const problem = (wasmSha256 === undefined ? undefined : hashProblem(manifest, wasmSha256)) ?? (versionChecked ? undefined : await versionProblem(manifest, rprVersion));
  if (problem) throw new ManifestError(manifest.file, problem);
}

async function sha256File(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readBounded(file, MAX_WASM_BYTES))
    .digest('hex');
}

/** Checks a manifest against its wasm and this rpr; throws ManifestError with the reason. */
export async function verifyManifest(manifest: PluginManifest, rprVersion = VERSION): Promise<void> {
  let actual: string;
  try {
    actual = await sha256File(manifest.wasm);
  } catch (error) {
    throw new ManifestError(manifest.file, `cannot read ${path.basename(manifest.wasm)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  await checkManifestFiles(manifest, actual, rprVersion);
}
