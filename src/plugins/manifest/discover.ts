/**
 * Finding plugins: the bundled ones in plugins-dist/ (always there, nothing to install), then the
 * user's directory. A user plugin with a bundled plugin's name replaces it, with a notice. A broken
 * plugin (manifest that does not parse, rpr too old; with verifyFiles, a wasm missing or not
 * matching its sha256) is reported with its file and reason and the others still load.
 *
 * The bundled manifests are read from the index the build made of them (bundled-index.ts), rather
 * than parsed and checked one by one at every start; the parser is loaded only for a manifest that
 * has to be read (the user's plugins, or the bundled ones without an index).
 */
import { readdir } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readBundledIndex } from './bundled-index.js';
import { ManifestError } from './error.js';
import type { PluginManifest } from './types.js';

/** plugins-dist/ at the package root; same relative path from src/ and dist/. */
export const BUNDLED_PLUGIN_DIR = fileURLToPath(new URL('../../../plugins-dist/', import.meta.url));
const KIND_DIRS = ['schedulers', 'executors', 'outputs'];
/** Code-point order: the same everywhere, and localeCompare's first call costs ~15 ms of ICU set-up at every start. */
const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export interface DiscoveredPlugin {
  manifest: PluginManifest;
  source: 'bundled' | 'user';
  /** The bundled plugin this one replaces. */
  shadows?: PluginManifest;
  /** Read from the build's index of the bundled plugins, whose min_rpr_version it checked against this rpr. */
  indexed?: boolean;
}

interface DiscoveryProblem {
  file: string;
  message: string;
}

export interface Discovery {
  plugins: Map<string, DiscoveredPlugin>;
  problems: DiscoveryProblem[];
  /** For --verbose: shadowing and skipped plugins. */
  notices: string[];
  searchPath: string[];
  /** Plugins found but turned off ([plugins] disabled, rpr plugins disable): named as such, not as unknown. */
  disabled?: string[];
}

export interface DiscoverOptions {
  bundledDir?: string;
  /** [plugins] dir from the config file; RPR_PLUGIN_DIR wins over it. */
  configDir?: string;
  env?: NodeJS.ProcessEnv;
  home?: string;
  disabled?: string[];
  rprVersion?: string;
  /**
   * An extra check of each manifest before its wasm is verified (rpr's plugins.lock and signatures,
   * src/manage/): throwing reports the plugin as a problem, like any other reason it cannot load.
   */
  check?: (manifest: PluginManifest, source: 'bundled' | 'user') => Promise<void>;
  /**
   * Hash every wasm against its manifest (the listing and verify commands). A job does not: the
   * plugins it uses are checked when they load, before any run.
   */
  verifyFiles?: boolean;
}

export function userPluginDir(options: DiscoverOptions = {}): string {
  const env = options.env ?? process.env;
  if (env.RPR_PLUGIN_DIR) return path.resolve(env.RPR_PLUGIN_DIR);
  if (options.configDir) return path.resolve(options.configDir);
  return path.join(options.home ?? os.homedir(), '.repeater', 'plugins');
}

// node:fs's readdir, promisified, not node:fs/promises: every plugin subcommand (`rpr fibonacci
// --help` too) lists the user's plugin folder, and loading fs/promises takes some 2 ms.
const listDir = promisify(readdir);

/** plugin.toml files under `root`: root/NAME/plugin.toml and root/{schedulers,executors,outputs}/NAME/plugin.toml. */
async function manifestFiles(root: string): Promise<string[]> {
  const entries = await listDir(root, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const e of entries.filter((d) => d.isDirectory() || d.isSymbolicLink()).sort(byName)) {
    const dir = path.join(root, e.name);
    if (KIND_DIRS.includes(e.name)) files.push(...(await manifestFiles(dir)).filter((f) => path.dirname(path.dirname(f)) === dir));
    else {
      const inner = await listDir(dir).catch(() => [] as string[]);
      if (inner.includes('plugin.toml')) files.push(path.join(dir, 'plugin.toml'));
    }
  }
  return files;
}

/** One plugin.toml read, parsed and checked (the parser and the checks are loaded only now). */
async function readChecked(file: string, source: 'bundled' | 'user', options: DiscoverOptions): Promise<PluginManifest> {
  const [{ readManifest }, { checkManifestFiles, verifyManifest }] = await Promise.all([import('./parse.js'), import('./verify.js')]);
  const manifest = await readManifest(file);
  await options.check?.(manifest, source);
  if (options.verifyFiles) await verifyManifest(manifest, options.rprVersion);
  else await checkManifestFiles(manifest, undefined, options.rprVersion);
  return manifest;
}

/**
 * Every bundled manifest, read and checked, for the build's index (bundled-index.ts); throws at the first problem.
 * @public (scripts/plugin-index.mjs, through dist/)
 */
export async function bundledManifests(root = BUNDLED_PLUGIN_DIR): Promise<PluginManifest[]> {
  const manifests: PluginManifest[] = [];
  for (const file of await manifestFiles(root)) manifests.push(await readChecked(file, 'bundled', {}));
  return manifests;
}

export async function discoverPlugins(options: DiscoverOptions = {}): Promise<Discovery> {
  const bundledDir = options.bundledDir ?? BUNDLED_PLUGIN_DIR;
  const userDir = userPluginDir(options);
  const result: Discovery = { plugins: new Map(), problems: [], notices: [], searchPath: [bundledDir, userDir] };
  const disabled = new Set(options.disabled ?? []);
  for (const [source, root] of [
    ['bundled', bundledDir],
    ['user', userDir],
  ] as const) {
    const seenHere = new Map<string, string>();
    // Made by the build from these very files, with this rpr's version checked: nothing left to check
    // but what options.check adds. Listings and verify (verifyFiles) read the files themselves.
    const indexed = source === 'bundled' && root === BUNDLED_PLUGIN_DIR && !options.verifyFiles ? readBundledIndex(root, options.rprVersion) : null;
    for (const entry of indexed ?? (await manifestFiles(root))) {
      const file = typeof entry === 'string' ? entry : entry.file;
      let manifest: PluginManifest;
      try {
        manifest = typeof entry === 'string' ? await readChecked(entry, source, options) : entry;
        if (typeof entry !== 'string') await options.check?.(manifest, source);
      } catch (error) {
        result.problems.push({ file, message: error instanceof ManifestError ? error.message : `${file}: ${(error as Error).message}` });
        continue;
      }
      const name = manifest.name;
      if (seenHere.has(name)) {
        result.problems.push({ file, message: `${file}: plugin "${name}" is also defined by ${seenHere.get(name)}; keeping the first` });
        continue;
      }
      seenHere.set(name, file);
      if (disabled.has(name)) {
        (result.disabled ??= []).push(name);
        result.notices.push(`plugin "${name}" (${file}) is disabled in the config`);
        continue;
      }
      const bundled = result.plugins.get(name);
      if (bundled) result.notices.push(`plugin "${name}" from ${file} shadows the bundled one (${bundled.manifest.file})`);
      result.plugins.set(name, bundled ? { manifest, source, shadows: bundled.manifest } : { manifest, source, ...(typeof entry === 'string' ? {} : { indexed: true }) });
    }
  }
  return result;
}
