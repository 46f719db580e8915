#!/usr/bin/env node
// Writes dist/plugins/bundled-index.json, the bundled plugins' manifests as discovery makes them
// (src/plugins/manifest/bundled-index.ts), from plugins-dist/ and the plugin system in dist/ (after
// tsc): a start then reads one JSON file instead of parsing and checking every plugin.toml.
// `npm run build` and `npm run build:plugins` run it; a plugin that does not pass fails the build.
// It also writes dist/plugins/metered/SHA256.wasm, each bundled plugin's module metered
// (src/plugins/wasm/premetered.ts): a scheduler's job then reads it instead of metering at start.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
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
    const { meterWasm } = await load('plugins/wasm/meter.js');
    const { METERED_DIR } = await load('plugins/wasm/premetered.js');
    await rm(METERED_DIR, { recursive: true, force: true });
    await mkdir(METERED_DIR, { recursive: true });
    for (const manifest of manifests) {
      const bytes = await readFile(manifest.wasm);
      const metered = meterWasm(bytes);
      if (!metered) throw new Error(`${manifest.name}: its module cannot be metered (exception handling, or an instruction src/plugins/wasm/instructions.ts does not know)`);
      await writeFile(path.join(METERED_DIR, `${createHash('sha256').update(bytes).digest('hex')}.wasm`), metered);
    }
  } catch (error) {
    console.error(`plugin index: ${error.message}`);
    process.exitCode = 1;
  }
}
