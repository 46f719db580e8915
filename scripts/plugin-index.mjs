#!/usr/bin/env node
// Writes dist/plugins/bundled-index.json, the bundled plugins' manifests as discovery makes them
// (src/plugins/manifest/bundled-index.ts), from plugins-dist/ and the plugin system in dist/ (after
// tsc): a start then reads one JSON file instead of parsing and checking every plugin.toml.
// `npm run build` and `npm run build:plugins` run it; a plugin that does not pass fails the build.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(ROOT, 'dist');
const load = (file) => import(pathToFileURL(path.join(DIST, file)).href);

if (!existsSync(path.join(DIST, 'plugins', 'manifest', 'bundled-index.js'))) {
  console.log('plugin index: no dist/ yet (npm run build writes it)');
} else {
  const { BUNDLED_PLUGIN_DIR, bundledManifests } = await load('plugins/manifest/discover.js');
  const { BUNDLED_INDEX, bundledIndexText } = await load('plugins/manifest/bundled-index.js');
  try {
    const manifests = await bundledManifests();
    await writeFile(BUNDLED_INDEX, bundledIndexText(BUNDLED_PLUGIN_DIR, manifests));
  } catch (error) {
    console.error(`plugin index: ${error.message}`);
    process.exitCode = 1;
  }
}
