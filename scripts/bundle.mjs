#!/usr/bin/env node
// Bundles the CLI that `rpr` runs (dist/cli/bin.js, after tsc) into a few files, so that a start
// reads one or two modules instead of some sixty: Node 20's ESM loader spends about 1 ms per module
// resolving, reading and linking it on a 2-core machine, most of rpr's start-up (docs/BENCHMARKS.md).
// What each subcommand loads lazily stays a separate chunk, loaded as before only when it is needed.
// The rest of dist/ (tsc's one file per module) stays: dist/plugins/index.js is the plugin API.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(ROOT, 'dist');
const OUT = path.join(DIST, 'cli');

/**
 * A module that finds a file next to itself (import.meta.url: package.json, wit/, plugins-dist/,
 * templates/, run/launcher.py) must keep finding it from inside a chunk in dist/cli/: its
 * import.meta.url becomes the URL of where tsc put it.
 */
const ownLocation = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!args.path.startsWith(DIST + path.sep) || !source.includes('import.meta.url')) return undefined;
      const relative = path.relative(OUT, args.path).split(path.sep).join('/');
      const own = `new URL(${JSON.stringify(relative.startsWith('.') ? relative : `./${relative}`)}, import.meta.url).href`;
      return { contents: source.replaceAll('import.meta.url', own), loader: 'js' };
    });
  },
};

/**
 * commander and execa's helpers are CommonJS: their require() of Node's modules goes through
 * esbuild's __require, which needs a real require in the chunk that defines it. Only there: a
 * createRequire costs a few tenths of a millisecond per chunk loaded.
 */
const REQUIRE = "import { createRequire as __rprCreateRequire } from 'node:module'; const require = __rprCreateRequire(import.meta.url);\n";

// The input is tsc's output: bundling a bundle again would work, but nothing would say it is stale.
if ((await readFile(path.join(OUT, 'bin.js'), 'utf8')).includes('./chunk-')) {
  console.error('bundle: dist/cli/bin.js is already a bundle; run tsc first (npm run build does)');
  process.exit(1);
}

const result = await build({
  entryPoints: { bin: path.join(OUT, 'bin.js') },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  // The plugin runtime starts a worker from its own files; ioredis and prom-client are loaded only by
  // the jobs that use them, and are left as they are.
  external: ['@extism/extism', 'ioredis', 'prom-client'],
  plugins: [ownLocation],
  write: false,
  logLevel: 'warning',
  legalComments: 'none',
  // RPR_DEBUG=1 traces point into src/ with node --enable-source-maps (tsc's maps are followed).
  sourcemap: 'linked',
});

// Written only once the build has read every input (bin.js is both an input and the output).
const old = (await readdir(OUT)).filter((f) => /^chunk-.*\.js(\.map)?$/.test(f));
await Promise.all(old.map((f) => rm(path.join(OUT, f))));
const needsRequire = new Set(result.outputFiles.filter((f) => f.path.endsWith('.js') && f.text.includes('typeof require')).map((f) => f.path));
await Promise.all(
  result.outputFiles.map((file) => {
    if (needsRequire.has(file.path)) return writeFile(file.path, REQUIRE + file.text);
    // Its map: the line added above the code shifts every mapping down one line.
    if (needsRequire.has(file.path.replace(/\.map$/, ''))) {
      const map = JSON.parse(file.text);
      return writeFile(file.path, JSON.stringify({ ...map, mappings: `;${map.mappings}` }));
    }
    return writeFile(file.path, file.contents);
  }),
);
