#!/usr/bin/env node
// Makes V8's code cache for the bundle's chunks (dist/cli/chunk-*.js.job.cache and .cli.cache), read
// by src/cli/code-cache.ts when rpr loads them. A cache made right after compiling holds only each
// chunk's top level; one made after the code has run holds every function that ran too, which V8
// would otherwise compile on its first call. So the cache is made by running rpr, as a user would,
// with a preload (code-cache-preload.mjs) that compiles the chunks as rpr does and writes each one's
// cache as rpr exits. Later invocations run more of the code: a chunk's cache is the one of the last invocation
// that loaded it. A job sets a V8 flag (app/steady-gc.ts) and V8's flags are part of a cache's key,
// so jobs and the rest (help) each get caches of their own.
// A chunk's file name holds its content's hash (rollup's), and the build writes dist/ anew: a cache
// can only sit next to the chunk it was made from.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = path.join(ROOT, 'dist', 'cli');
const work = mkdtempSync(path.join(os.tmpdir(), 'rpr-code-cache-'));

const preload = pathToFileURL(path.join(ROOT, 'scripts', 'code-cache-preload.mjs')).href;

for (const file of readdirSync(OUT)) if (file.endsWith('.cache')) rmSync(path.join(OUT, file));

const home = mkdtempSync(path.join(work, 'home-'));
// What users run most, smallest first: help, a core job, a scheduler plugin's job.
const invocations = [
  ['cli', ['fibonacci', '--help']],
  ['job', ['count', '--times', '1', '--', 'true']],
  ['job', ['fibonacci', '--times', '2', '--initial', '1ms', '--', 'true']],
];
for (const [kind, args] of invocations) {
  const r = spawnSync(process.execPath, ['--import', preload, path.join(OUT, 'bin.js'), ...args], {
    // No user config or plugins: the bundle's own code paths only. Nor source maps or V8 coverage
    // from the caller's environment: under either, rpr leaves its chunks to Node (no cache made).
    env: {
      ...process.env,
      RPR_CODE_CACHE_OUT: work,
      RPR_CODE_CACHE_KIND: kind,
      HOME: home,
      XDG_CONFIG_HOME: home,
      XDG_DATA_HOME: home,
      RPR_CONFIG: undefined,
      RPR_PLUGIN_DIR: undefined,
      NODE_OPTIONS: undefined,
      NODE_V8_COVERAGE: undefined,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    console.error(`code-cache: rpr ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
    process.exit(1);
  }
}
const caches = readdirSync(work).filter((file) => file.endsWith('.cache'));
for (const file of caches) copyFileSync(path.join(work, file), path.join(OUT, file));
rmSync(work, { recursive: true, force: true });
console.log(`code-cache: ${caches.length} caches`);
