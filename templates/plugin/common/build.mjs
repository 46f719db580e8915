#!/usr/bin/env node
// Builds this rpr plugin: src/ -> dist/plugin.wasm and dist/plugin.toml (plugin.toml with
// runtime.sha256 filled in), ready for `rpr plugins install dist`. The plugin's `describe` answer
// is generated from plugin.toml into build/ first, so the .wasm and its manifest cannot disagree.
//
//   node build.mjs                    build (npm run build)
//   node build.mjs --check-toolchain  say which compiler would be used; exit 3 if there is none
//
// AssemblyScript (src/index.ts) needs the assemblyscript package: `npm install` here, or the one
// next to the rpr this project was made with (package.json "rpr.home").
// Rust (src/lib.rs) needs rustc and the wasm32-unknown-unknown standard library; no cargo, no
// crates. Debian/Ubuntu: apt-get install rustc libstd-rust-dev-wasm32 lld. rustup: rustup target
// add wasm32-unknown-unknown. $RUSTC picks a compiler.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const RPR_HOME = pkg.rpr?.home ? path.resolve(ROOT, pkg.rpr.home) : undefined;
/** The rpr plugin ABI this plugin speaks (rpr's wit/contract.json). */
const ABI = 1;
const LANG = existsSync(path.join(ROOT, 'src', 'lib.rs')) ? 'rust' : 'as';
const CONFIG_FIELD_KEYS = ['type', 'default', 'help', 'values', 'required', 'aliases'];

/** A package file from this project's node_modules, else from the one of rpr (package.json rpr.home). */
async function load(name, file) {
  for (const base of [ROOT, RPR_HOME].filter(Boolean)) {
    for (let dir = base; ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, 'node_modules', name, file);
      if (existsSync(candidate)) return import(pathToFileURL(candidate).href);
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error(`cannot find the ${name} package: run npm install in ${ROOT}`);
}

/** A rustc that has the wasm32-unknown-unknown standard library, or null. */
function findRustc() {
  for (const rustc of [process.env.RUSTC, 'rustc', '/usr/bin/rustc'].filter(Boolean)) {
    const r = spawnSync(rustc, ['--print', 'target-libdir', '--target', 'wasm32-unknown-unknown'], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    const dir = r.stdout.trim();
    if (existsSync(dir) && readdirSync(dir).some((f) => f.startsWith('libstd-'))) return rustc;
  }
  return null;
}

const NO_RUSTC =
  'no rustc with the wasm32-unknown-unknown standard library found (tried $RUSTC, rustc on PATH, /usr/bin/rustc). ' +
  'Debian/Ubuntu: apt-get install rustc libstd-rust-dev-wasm32 lld; rustup: rustup target add wasm32-unknown-unknown';

/** The describe answer, from plugin.toml. */
async function description() {
  const { parse } = await load('smol-toml', 'dist/index.js');
  const doc = parse(readFileSync(path.join(ROOT, 'plugin.toml'), 'utf8'));
  const p = doc.plugin ?? {};
  if (doc.runtime?.sha256 !== '@SHA256@') throw new Error('plugin.toml: keep runtime.sha256 = "@SHA256@"; the build fills it in (in dist/plugin.toml)');
  const config = {};
  for (const [key, field] of Object.entries(doc.config ?? {})) {
    config[key] = Object.fromEntries(CONFIG_FIELD_KEYS.filter((k) => field[k] !== undefined).map((k) => [k, field[k]]));
  }
  return { name: p.name, version: p.version, kind: p.kind, abi: ABI, description: p.description ?? '', config };
}

async function compileAs(out) {
  const asc = (await load('assemblyscript', 'dist/asc.js')).default;
  let log = '';
  const { error } = await asc.main(
    // --use abort=: without it the module imports env.abort, which is not part of the plugin ABI.
    ['src/index.ts', '--baseDir', ROOT, '--outFile', path.relative(ROOT, out), '-O3', '--use', 'abort=src/rpr/abort', '--runtime', 'incremental', '--maximumMemory', '512', '--noColors'],
    { stdout: { write: (s) => void (log += s) }, stderr: { write: (s) => void (log += s) } },
  );
  if (error) throw new Error(`asc failed: ${error.message}\n${log}`);
}

function compileRust(out) {
  const rustc = findRustc();
  if (!rustc) throw new Error(NO_RUSTC);
  const args = ['--edition', '2021', '--crate-type', 'cdylib', '--target', 'wasm32-unknown-unknown', '-C', 'opt-level=s', '-C', 'panic=abort', '-C', 'strip=symbols', '-o', out, path.join(ROOT, 'src', 'lib.rs')];
  const r = spawnSync(rustc, args, { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${rustc} failed:\n${r.stderr}${r.error ? r.error.message : ''}`);
}

async function main() {
  if (process.argv.includes('--check-toolchain')) {
    if (LANG === 'as') {
      await load('assemblyscript', 'dist/asc.js');
      console.log('assemblyscript');
      return;
    }
    const rustc = findRustc();
    if (!rustc) {
      console.error(NO_RUSTC);
      process.exitCode = 3;
      return;
    }
    console.log(spawnSync(rustc, ['--version'], { encoding: 'utf8' }).stdout.trim());
    return;
  }
  const build = path.join(ROOT, 'build');
  const dist = path.join(ROOT, 'dist');
  mkdirSync(build, { recursive: true });
  mkdirSync(dist, { recursive: true });
  const describe = JSON.stringify(await description());
  writeFileSync(path.join(build, 'describe.json'), describe);
  writeFileSync(path.join(build, 'description.ts'), `// Generated by build.mjs from plugin.toml.\nexport const DESCRIPTION: string = ${JSON.stringify(describe)};\n`);
  const wasmFile = path.join(build, 'plugin.wasm');
  if (LANG === 'rust') compileRust(wasmFile);
  else await compileAs(wasmFile);
  const wasm = readFileSync(wasmFile);
  const sha = createHash('sha256').update(wasm).digest('hex');
  const toml = readFileSync(path.join(ROOT, 'plugin.toml'), 'utf8').replace('@SHA256@', sha);
  // A signature is of one wasm and one set of permissions: one left from an earlier build would be
  // refused by every rpr that loads this one. Keep it only if nothing it covers changed.
  const sig = path.join(dist, 'plugin.sig');
  const unchanged = existsSync(sig) && existsSync(path.join(dist, 'plugin.toml')) && readFileSync(path.join(dist, 'plugin.toml'), 'utf8') === toml;
  if (existsSync(sig) && !unchanged) {
    rmSync(sig);
    console.log('removed dist/plugin.sig (it was for an earlier build): sign again with rpr plugins sign dist --key KEY.pem');
  }
  writeFileSync(path.join(dist, 'plugin.wasm'), wasm);
  writeFileSync(path.join(dist, 'plugin.toml'), toml);
  console.log(`built dist/plugin.wasm (${(wasm.length / 1024).toFixed(1)} KiB, sha256 ${sha}) and dist/plugin.toml`);
}

main().catch((error) => {
  console.error(error.message);
  process.exitCode = 1;
});
