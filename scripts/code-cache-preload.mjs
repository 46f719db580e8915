// Preloaded (`node --import`) by scripts/code-cache.mjs into each rpr it runs: compiles the bundle's
// chunks as rpr does (src/cli/code-cache.ts's compileChunk, from tsc's output) and, as rpr exits,
// writes each one's V8 code cache to RPR_CODE_CACHE_OUT as NAME.RPR_CODE_CACHE_KIND.cache.
// rpr's own hook, installed once a job's V8 flag is set, finds no cache yet and hands each chunk on
// to this one: only those chunks get a cache, made under the flags rpr runs them with (a chunk
// compiled before rpr's hook, as the one that sets the flag, is never read from a cache).
import { writeFileSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileChunk } from '../dist/cli-modules/code-cache.js';

const BUNDLE = fileURLToPath(new URL('../dist/cli/', import.meta.url)).replace(/\/$/, '');
const { RPR_CODE_CACHE_OUT: out, RPR_CODE_CACHE_KIND: kind } = process.env;
const scripts = new Map();
const loadJs = Module._extensions['.js'];
const hook = (module, filename) => {
  const viaRpr = Module._extensions['.js'] !== hook;
  if (!viaRpr || path.dirname(filename) !== BUNDLE || !path.basename(filename).startsWith('chunk-')) return loadJs(module, filename);
  scripts.set(path.basename(filename), compileChunk(module, filename));
};
Module._extensions['.js'] = hook;
process.on('exit', () => {
  for (const [name, script] of scripts) writeFileSync(path.join(out, `${name}.${kind}.cache`), script.createCachedData());
});
