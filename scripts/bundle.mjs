#!/usr/bin/env node
// Bundles the CLI that `rpr` runs (dist/cli/bin.js, after tsc) into a few CommonJS files, so that a
// start reads six files instead of some sixty, through require():
// - Node 20's ES module loader spends about 1 ms per module resolving, reading and linking it on a
//   2-core machine, and some 8 ms more to load itself (a file that prints a line: 1.10x of `node -e 0`
//   as an ES module, 1.02-1.04x as CommonJS). CommonJS chunks skip both: measured against the same chunks as ES modules,
//   --version 0.91x, a 1-run job 0.90x, `fibonacci --help` 0.93x (farm-bench, 30 pairs).
// - dist/cli/package.json says `"type": "commonjs"`, so the files keep their names (bin.js is what
//   package.json's bin, the tests and the plugin kit run). tsc's own files there, ES modules, move
//   to dist/cli-modules/ (the same depth: their relative imports still resolve), where tests that
//   call main() in-process load them; rpr never does.
// - The packages left out of the bundle are required too: @extism/extism's exports give CommonJS
//   to require() (the plugin API in dist/plugins/ and the unit tests load its ES module build).
// Two steps, each doing what it is made for:
// - esbuild bundles tsc's output and node_modules (commander's CommonJS included) into ESM chunks,
//   one per set of dynamic imports that reach a module: some seventy, 26 of them loaded by a job;
// - rollup puts those chunks back together by what an invocation loads (GROUPS below) and writes
//   them as CommonJS: bin.js and one chunk for --version, one more for --help and usage errors, three
//   more (the V8 flag a job sets first, then two, and small ones they share) for a job. What the other subcommands and the optional parts
//   (plugins, cron, Redis, metrics, up) load stays in chunks of their own, loaded only when used.
// The rest of dist/ (tsc's one file per module) stays: dist/plugins/index.js is the plugin API.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { rollup } from 'rollup';

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
 * commander requires node:child_process as it loads, for executable subcommands (`git-style`
 * programs it would spawn), which rpr has none of: the bundle hands it one that loads on first use.
 * Loading child_process costs some 3 ms of `rpr fibonacci --help` (a job loads it anyway, for its
 * launcher).
 */
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) => (/[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "let loaded;\nmodule.exports = new Proxy({}, { get: (_, key) => (loaded ??= require('node:child_process'))[key] });\n",
      loader: 'js',
    }));
  },
};

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
  plugins: [ownLocation, lazyChildProcessForCommander],
  write: false,
  metafile: true,
  absWorkingDir: ROOT,
  logLevel: 'warning',
  legalComments: 'none',
  // RPR_DEBUG=1 traces point into src/ with node --enable-source-maps (tsc's maps are followed).
  sourcemap: 'linked',
});

/** Entries loaded only with plugin discovery and a plugin host (or that load them themselves). */
const PLUGIN_USERS = [
  'dist/cli/plugins-actions.js',
  'dist/manage/signing.js',
  'dist/app/check-config.js',
  'dist/app/plugin-outputs.js',
  'dist/app/plugin-executor.js',
  'dist/app/http-aware.js',
  'dist/plugins/host/worker-instance.js',
  // The manifest's reader and checks, loaded by discovery or a plugin host when a manifest must be read.
  'dist/plugins/manifest/parse.js',
  'dist/plugins/manifest/verify.js',
  'dist/plugins/manifest/semver.js',
];

/**
 * What an invocation loads, each group one chunk of the output. A group is opened by the chunks of
 * its source modules (tsc's output; each is imported dynamically, so it is an esbuild entry) and
 * takes every chunk they import statically:
 * - base and cli: whatever else needs them too, since every invocation loads bin.js and every one
 *   but --version loads the CLI;
 * - the others: only what no invocation reaches that would not load the group anyway (a group's
 *   own, those of the groups that `needs` it, `sharedWith`): a chunk `rpr cron` also needs must not
 *   make it load a plugin host, nor one `rpr fibonacci --help` needs make it load a job's code.
 * A chunk two groups take is in the first. What no group takes stays one chunk as esbuild made it
 * (rollup would otherwise move it into a group that imports it, and with it that group into
 * invocations that never needed it).
 */
const GROUPS = [
  // What bin.js imports itself: --version loads this and bin.js only.
  { name: 'base', everyone: true, roots: ['dist/cli/bin.js'] },
  // The V8 flag a job sets before any other chunk compiles from its code cache (scripts/code-cache.mjs):
  // V8's flags are part of a cache's key. A job loads it first; nothing else does.
  { name: 'flags', everyone: true, roots: ['dist/app/steady-gc.js'] },
  // What a job needs to start its launcher (python3, some 30 ms to start) and to hold stop signals:
  // bin.js loads it first, and the rest of the CLI loads while the launcher starts.
  { name: 'launch', everyone: true, roots: ['dist/run/spawn.js', 'dist/app/signals.js'] },
  // Parsing a command line: commander, the option catalog, help and usage errors, the config lookup.
  { name: 'cli', everyone: true, roots: ['dist/cli/program.js', 'dist/cli/config-file.js'] },
  // Running a job: the loop, its schedule, its runs, its report.
  {
    name: 'job',
    needs: ['launch', 'cli'],
    roots: ['dist/cli/job-modules.js'],
    // Each of these runs a job, or reads one as a job would (`rpr config check`, `rpr plugins install`).
    sharedWith: ['dist/app/plugin-executor.js', 'dist/app/dry-run.js', 'dist/app/check-config.js', 'dist/cli/up-command.js', 'dist/cli/config-command.js', 'dist/cli/plugins-actions.js'],
  },
  // A scheduler plugin's subcommand (`rpr fibonacci --help` too): discovery, the manifest's checks.
  {
    name: 'plugins',
    needs: ['cli'],
    // Not the manifest parser and its checks: the bundled plugins are found in the build's index, and
    // whatever a group holds runs when its chunk loads (semver's set-up alone takes 2-3 ms).
    roots: ['dist/cli/plugin-commands.js', 'dist/app/find-plugins.js'],
    sharedWith: PLUGIN_USERS,
  },
  // A scheduler plugin's job: the plugin host on rpr's thread.
  { name: 'host', needs: ['plugins', 'job'], roots: ['dist/app/load-plugins.js', 'dist/app/plugin-schedule.js', 'dist/plugins/host/foreground-instance.js'], sharedWith: PLUGIN_USERS },
];

/** Each of esbuild's chunks (by its absolute path) and the group it goes into, if any. */
function groupChunks(metafile) {
  const imports = (file) => metafile.outputs[file].imports.filter(({ path: p, kind }) => kind === 'import-statement' && metafile.outputs[p]).map(({ path: p }) => p);
  const closure = (files) => {
    const seen = new Set();
    const pending = [...files];
    while (pending.length > 0) {
      const file = pending.pop();
      if (seen.has(file)) continue;
      seen.add(file);
      pending.push(...imports(file));
    }
    return seen;
  };
  const entries = Object.entries(metafile.outputs).filter(([file, out]) => file.endsWith('.js') && out.entryPoint);
  const byEntry = new Map(entries.map(([file, out]) => [out.entryPoint, file]));
  // Which entries reach each chunk.
  const reachedBy = new Map();
  for (const [entry] of entries) for (const file of closure([entry])) reachedBy.set(file, [...(reachedBy.get(file) ?? []), entry]);
  const group = new Map();
  const entryOf = (root, name) => byEntry.get(root) ?? fail(`${root} (group ${name}) is no chunk of its own: is it still imported dynamically?`);
  // Which groups are always loaded with each: itself and what it needs, and what that needs.
  const withIt = (name) => {
    const { needs = [] } = GROUPS.find((g) => g.name === name);
    return new Set([name, ...needs.flatMap((need) => [...withIt(need)])]);
  };
  const groupOfEntry = new Map(GROUPS.flatMap(({ name, roots }) => roots.map((root) => [entryOf(root, name), name])));
  for (const { name, everyone, roots, sharedWith = [] } of GROUPS) {
    const shared = new Set(sharedWith.map((root) => entryOf(root, name)));
    // An entry may share a chunk of this group if loading it loads the group anyway.
    const loadsGroup = (entry) => shared.has(entry) || (groupOfEntry.has(entry) && withIt(groupOfEntry.get(entry)).has(name));
    for (const file of closure(roots.map((root) => entryOf(root, name)))) {
      if (group.has(path.join(ROOT, file)) || !(everyone || reachedBy.get(file).every(loadsGroup))) continue;
      group.set(path.join(ROOT, file), name);
    }
  }
  return group;
}

function fail(message) {
  throw new Error(`bundle: ${message}`);
}

/** esbuild's output, in memory, as rollup's input: each chunk with its source map (to src/, through tsc's). */
function fromEsbuild(files) {
  const byPath = new Map(files.map((file) => [file.path, file.text]));
  return {
    name: 'from-esbuild',
    resolveId(source, importer) {
      if (!source.startsWith('.') && !path.isAbsolute(source)) return { id: source, external: true };
      const absolute = importer ? path.resolve(path.dirname(importer), source) : path.resolve(source);
      if (!byPath.has(absolute)) throw new Error(`bundle: ${source} (imported by ${importer}) is not in esbuild's output`);
      return absolute;
    },
    load(id) {
      const map = byPath.get(`${id}.map`);
      return { code: byPath.get(id).replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n'), map: map ? JSON.parse(map) : null };
    },
    // A chunk's own location, as esbuild's output asks for it (ownLocation above).
    resolveImportMeta: (property) => (property === 'url' ? "require('node:url').pathToFileURL(__filename).href" : null),
  };
}

const group = groupChunks(result.metafile);
const rolled = await rollup({
  input: { bin: path.join(OUT, 'bin.js') },
  plugins: [fromEsbuild(result.outputFiles)],
  // esbuild has decided what each module does when it runs; rollup only regroups its chunks.
  treeshake: false,
  onwarn(warning, warn) {
    // The CLI's modules import each other in cycles that esbuild's chunks already resolve, and
    // esbuild leaves a few unused names in its imports of Node's modules.
    if (warning.code !== 'CIRCULAR_DEPENDENCY' && warning.code !== 'UNUSED_EXTERNAL_IMPORT') warn(warning);
  },
});
const { output } = await rolled.generate({
  dir: OUT,
  format: 'cjs',
  chunkFileNames: 'chunk-[hash].js',
  // bin.js is the entry: its own code stays in it.
  manualChunks: (id) => (id === path.join(OUT, 'bin.js') ? undefined : (group.get(id) ?? path.basename(id, '.js'))),
  sourcemap: true,
  // import() of a package becomes require(): @extism/extism ships CommonJS too ("require" in its
  // exports), and an import() would start Node's ES module loader for it alone.
  dynamicImportInCjs: false,
});
await rolled.close();

// Written only once the build has read every input (bin.js is both an input and the output).
const written = new Set(output.flatMap((chunk) => (chunk.type === 'chunk' ? [chunk.fileName, `${chunk.fileName}.map`] : [])));
const MODULES = path.join(DIST, 'cli-modules');
await rm(MODULES, { recursive: true, force: true });
await mkdir(MODULES);
// Not tsc's bin.js: the bundle's takes its place (importing it would run rpr).
const tscFiles = (await readdir(OUT)).filter((f) => /\.js(\.map)?$/.test(f) && !written.has(f));
await Promise.all(tscFiles.map((f) => rename(path.join(OUT, f), path.join(MODULES, f))));
await writeFile(path.join(OUT, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
await Promise.all(
  output.flatMap((chunk) =>
    // Each chunk's map is written with it (rollup also gives it as an asset).
    chunk.type === 'chunk' ? [writeFile(path.join(OUT, chunk.fileName), chunk.code), writeFile(path.join(OUT, `${chunk.fileName}.map`), chunk.map.toString())] : [],
  ),
);
