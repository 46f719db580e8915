#!/usr/bin/env node
// Builds the AssemblyScript test plugins in test/plugins/fixtures/*/plugin.ts into
// test/plugins/fixtures/dist/NAME/{plugin.wasm,plugin.toml}, filling the manifest's sha256.
// Skips a fixture whose inputs (its sources, lib/, flags, asc version) have not changed.
// Usage: node scripts/build-fixtures.mjs [--force]
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../test/plugins/fixtures/', import.meta.url));
const OUT = path.join(ROOT, 'dist');
// --use abort=...: without it every module imports env.abort, which is not part of the plugin ABI.
const FLAGS = ['-O3', '--use', 'abort=lib/rpr/rprAbort', '--runtime', 'incremental'];
const force = process.argv.includes('--force');
// Read the version without loading the compiler: an up-to-date check must stay cheap (it runs
// before every test run).
const ASC_VERSION = createRequire(import.meta.url)('assemblyscript/package.json').version;
let asc;

/** Written under a temporary name then renamed, so a concurrent reader never sees half a file. */
async function writeAtomic(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

async function filesHash(files) {
  const h = createHash('sha256').update(ASC_VERSION).update(FLAGS.join(' '));
  for (const f of files.sort()) h.update(f).update(await readFile(f));
  return h.digest('hex');
}

async function libFiles() {
  const dir = path.join(ROOT, 'lib');
  return (await readdir(dir)).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f));
}

async function build(name, lib) {
  const src = path.join(ROOT, name);
  const out = path.join(OUT, name);
  const inputs = [path.join(src, 'plugin.ts'), path.join(src, 'plugin.toml'), ...lib];
  const stamp = await filesHash(inputs);
  const stampFile = path.join(out, '.stamp');
  if (!force && (await readFile(stampFile, 'utf8').catch(() => '')) === stamp) return false;
  await mkdir(out, { recursive: true });
  asc ??= (await import('assemblyscript/asc')).default;
  let stderr = '';
  const wasmTmp = path.join(out, `plugin.${process.pid}.wasm`);
  const { error } = await asc.main([path.join(name, 'plugin.ts'), '--baseDir', ROOT, '--outFile', wasmTmp, ...FLAGS], {
    stdout: { write() {} },
    stderr: {
      write: (s) => {
        stderr += s;
      },
    },
  });
  if (error) throw new Error(`asc failed for ${name}: ${error.message}\n${stderr}`);
  const wasm = await readFile(wasmTmp);
  await rename(wasmTmp, path.join(out, 'plugin.wasm'));
  const sha = createHash('sha256').update(wasm).digest('hex');
  const toml = (await readFile(path.join(src, 'plugin.toml'), 'utf8')).replace('@SHA256@', sha);
  await writeAtomic(path.join(out, 'plugin.toml'), toml);
  await writeAtomic(stampFile, stamp);
  return true;
}

const lib = await libFiles();
const names = (await readdir(ROOT, { withFileTypes: true }))
  .filter((d) => d.isDirectory() && !['lib', 'dist'].includes(d.name))
  .map((d) => d.name)
  .sort();
const t0 = Date.now();
const built = [];
for (const name of names) if (await build(name, lib)) built.push(name);
console.log(`fixtures: ${built.length ? `built ${built.join(', ')}` : 'up to date'} (${Date.now() - t0} ms)`);
