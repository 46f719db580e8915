/**
 * The index of the bundled plugins (dist/plugins/bundled-index.json): every plugins-dist/ manifest
 * as discovery would make it, parsed and checked against this rpr by the build
 * (scripts/plugin-index.mjs), so that a start reads one small JSON file instead of loading the TOML
 * parser and the schema checks for eighteen plugin.toml files. It is part of rpr, as the bundled
 * plugins are: a test compares it with what the files say. What stays on every load is the check
 * that the wasm is the one the manifest names (host/generation.ts hashes it against runtime.sha256).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../../version.js';
import type { PluginManifest } from './types.js';

/**
 * Beside the plugin system's modules in dist/; from src/ (the unit tests) there is none.
 * @public (scripts/plugin-index.mjs writes it, through dist/)
 */
export const BUNDLED_INDEX = fileURLToPath(new URL('../bundled-index.json', import.meta.url));

/** Paths under plugins-dist/ are written relative to it: the package may be anywhere. */
const ROOT_MARK = '@bundled/';

interface IndexFile {
  /** The rpr the manifests were checked against (dependencies.min_rpr_version). */
  rprVersion: string;
  plugins: PluginManifest[];
}

/** The index's text for these manifests of plugins-dist/ `root` (a path ending in its separator). */
export function bundledIndexText(root: string, manifests: PluginManifest[], rprVersion = VERSION): string {
  const file: IndexFile = { rprVersion, plugins: manifests };
  return `${JSON.stringify(file, function (this: Record<string, unknown>, key: string, value: unknown) {
    // What JSON would not give back as it was (a TOML date, inf, nan) fails the build.
    const original = this[key];
    if ((typeof original === 'number' && !Number.isFinite(original)) || original instanceof Date || typeof original === 'bigint') {
      throw new Error(`the bundled plugins' index cannot hold ${key} = ${String(original)}`);
    }
    return typeof value === 'string' && value.startsWith(root) ? ROOT_MARK + value.slice(root.length) : value;
  })}\n`;
}

/**
 * The manifests of plugins-dist/ `root` from the index, when there is one made for this rpr
 * (`rprVersion`); null otherwise, and the files are read instead.
 */
export function readBundledIndex(root: string, rprVersion = VERSION, indexFile = BUNDLED_INDEX): PluginManifest[] | null {
  let file: IndexFile;
  try {
    file = JSON.parse(readFileSync(indexFile, 'utf8'), (_key, value: unknown) =>
      typeof value === 'string' && value.startsWith(ROOT_MARK) ? path.join(root, value.slice(ROOT_MARK.length)) : value,
    ) as IndexFile;
  } catch {
    return null;
  }
  if (file?.rprVersion !== rprVersion || !Array.isArray(file.plugins)) return null;
  return file.plugins;
}
