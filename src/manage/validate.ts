/**
 * `rpr plugins validate PATH`, and the checks install shares with it: a plugin (a folder with
 * plugin.toml, a plugin.toml, or a bare .wasm) against wit/contract.json - manifest, imports and
 * exports with their signatures, memory, what `describe` answers (ABI, name, kind, version, config
 * schema) and a plugin.sig if there is one. Every problem is collected, not just the first.
 */
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { CONTRACT, requiredExports, allowedExports, type PluginKind } from '../plugins/contract.js';
import { compareSemver, describeWasm, digestOf, noPermissions, parseManifest, permissionsDigest, ManifestError, type Description, type PluginManifest } from '../plugins/index.js';
import { usageError } from '../errors/index.js';
import { VERSION } from '../version.js';
import { inspectWasm, type WasmInfo } from '../plugins/wasm/inspect.js';
import { PAGE_BYTES } from '../plugins/wasm/prepare.js';
import { sha256Of } from './integrity.js';
import { checkSignature, SIGNATURE_FILE } from './signature.js';
import { packageFile } from '../package-files.js';

/** Every function name the contract knows (for the export signature check). */
const CONTRACT_FUNCTIONS = new Set(
  [...CONTRACT.exports.all, ...CONTRACT.exports.scheduler, ...CONTRACT.exports.executor, ...CONTRACT.exports.output, ...CONTRACT.exports.optional]
    .map((e) => e.name)
    .filter((n) => n !== '_initialize'),
);

const sig = (params: readonly string[] = [], results: readonly string[] = []) => `(${params.join(', ')}) -> (${results.join(', ')})`;

/** Problems of a module's imports and exports against the contract (all of them). */
export function abiProblems(info: WasmInfo, kind: PluginKind | undefined, wasiGranted: boolean): { problems: string[]; notes: string[] } {
  const problems: string[] = [];
  const notes: string[] = [];
  const tables = new Map<string, Map<string, { params: string[]; results: string[] }>>([
    [CONTRACT.host_functions.module, new Map(CONTRACT.host_functions.functions.map((f) => [f.name, f]))],
    [CONTRACT.extism_env.module, new Map(CONTRACT.extism_env.functions.map((f) => [f.name, f]))],
  ]);
  for (const imp of info.imports) {
    const what = `import "${imp.module}" "${imp.name}"`;
    if (imp.kind !== 'function') {
      problems.push(`${what} is a ${imp.kind}; a plugin may only import functions`);
      continue;
    }
    if (imp.module === CONTRACT.wasi.module) {
      if (!wasiGranted) problems.push(`${what}: the module uses WASI, which needs a [permissions] filesystem mapping`);
      continue;
    }
    const spec = tables.get(imp.module)?.get(imp.name);
    if (!spec) problems.push(`${what} is not part of the rpr plugin ABI ${CONTRACT.abi} (see ${packageFile('wit/contract.json')})`);
    else if (sig(imp.params, imp.results) !== sig(spec.params, spec.results)) problems.push(`${what} has signature ${sig(imp.params, imp.results)}, the ABI says ${sig(spec.params, spec.results)}`);
  }
  if (info.memories.length !== 1) problems.push(`the module defines ${info.memories.length} memories; a plugin has exactly one`);
  if (!info.exports.some((e) => e.name === CONTRACT.exports.memory && e.kind === 'memory')) problems.push(`the module must export its memory as "${CONTRACT.exports.memory}"`);
  const want = sig(CONTRACT.export_signature.params, CONTRACT.export_signature.results);
  if (kind) {
    for (const { name } of requiredExports(kind)) {
      const exp = info.exports.find((e) => e.name === name);
      if (exp?.kind !== 'function') problems.push(`${kind === 'scheduler' ? 'a' : 'an'} ${kind} plugin must export the function "${name}"`);
    }
    const allowed = allowedExports(kind);
    for (const exp of info.exports) {
      if (exp.kind === 'function' && !allowed.has(exp.name))
        problems.push(`export "${exp.name}" is not part of the ${kind} contract (allowed: ${[...allowed].filter((n) => n !== 'memory').join(', ')})`);
      else if (exp.kind === 'global' && (exp.name === '__data_end' || exp.name === '__heap_base')) notes.push(`exports the linker global "${exp.name}" (harmless; rustc adds it)`);
      else if (exp.kind !== 'function' && exp.name !== CONTRACT.exports.memory) problems.push(`export "${exp.name}" (a ${exp.kind}) is not part of the contract`);
    }
  }
  for (const exp of info.exports) {
    if (exp.kind === 'function' && CONTRACT_FUNCTIONS.has(exp.name) && sig(exp.params, exp.results) !== want) {
      problems.push(`export "${exp.name}" has signature ${sig(exp.params, exp.results)}; Extism exports are ${want}`);
    }
    if (exp.name === '_start') problems.push('exports _start (a WASI command); a plugin must be a library (reactor) module');
    if (exp.name.startsWith('__rpr_')) problems.push(`exports "${exp.name}"; names starting with __rpr_ are reserved for the host`);
  }
  return { problems, notes };
}

/** What describe() said against the manifest: the host refuses the first three, the rest confuse users. */
export function descriptionProblems(manifest: PluginManifest, d: Description): string[] {
  const problems: string[] = [];
  if (d.abi !== CONTRACT.abi) problems.push(`describe: speaks plugin ABI ${d.abi}, this rpr speaks ${CONTRACT.abi}`);
  if (d.name !== manifest.name) problems.push(`describe: calls itself "${d.name}", plugin.toml says "${manifest.name}"`);
  if (d.kind !== manifest.kind) problems.push(`describe: is a ${d.kind}, plugin.toml says ${manifest.kind}`);
  if (d.version !== manifest.version) problems.push(`describe: is version ${d.version}, plugin.toml says ${manifest.version}`);
  const mine = Object.keys(manifest.config).sort();
  const theirs = Object.keys(d.config ?? {}).sort();
  for (const key of theirs.filter((k) => !mine.includes(k))) problems.push(`describe: config key "${key}" is not in plugin.toml's [config]`);
  for (const key of mine.filter((k) => !theirs.includes(k))) problems.push(`describe: plugin.toml's config key "${key}" is not in describe's config`);
  for (const key of mine.filter((k) => theirs.includes(k))) {
    const field = d.config[key] as { type?: unknown };
    if (field?.type !== manifest.config[key]!.type) problems.push(`describe: config "${key}" has type ${JSON.stringify(field?.type)}, plugin.toml says ${manifest.config[key]!.type}`);
  }
  return problems;
}

const tomlString = (s: string): string =>
  JSON.stringify(s)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
const tomlValue = (v: unknown): string => (typeof v === 'string' ? tomlString(v) : Array.isArray(v) ? `[${v.map(tomlValue).join(', ')}]` : JSON.stringify(v));

/** A plugin.toml for a bare .wasm, from its describe answer; it asks for no permissions. */
export function manifestFromDescription(d: Description, sha256: string, wasm = 'plugin.wasm'): string {
  const lines = [
    "# Generated by rpr plugins install from the plugin's own describe answer.",
    '[plugin]',
    `name = ${tomlString(d.name)}`,
    `version = ${tomlString(d.version)}`,
    `kind = ${tomlString(d.kind)}`,
    `description = ${tomlString(d.description ?? '')}`,
    '',
    '[runtime]',
    `wasm = ${tomlString(wasm)}`,
    `sha256 = "${sha256}"`,
    `abi = ${Number(d.abi)}`,
  ];
  for (const [key, raw] of Object.entries(d.config ?? {})) {
    lines.push('', `[config.${tomlString(key)}]`);
    for (const [k, v] of Object.entries(raw as unknown as Record<string, unknown>)) if (v !== undefined && v !== null) lines.push(`${k} = ${tomlValue(v)}`);
  }
  lines.push('', '# A bare .wasm declares no permissions: it gets none. Grant some in your config file,', '# [plugins.NAME.permissions], if it needs them.', '[permissions]', '');
  return lines.join('\n');
}

/** describe() of these bytes, run with no permissions (the .wasm is copied to a temporary file). */
export async function describeBytes(bytes: Uint8Array): Promise<Description> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'rpr-describe-'));
  try {
    const file = path.join(tmp, 'plugin.wasm');
    await writeFile(file, bytes);
    return await describeWasm(file, 5_000);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export interface Validation {
  /** What was checked: "NAME VERSION (KIND)" when known. */
  subject: string;
  problems: string[];
  notes: string[];
}

/** Checks the plugin at `target` (folder, plugin.toml or .wasm). */
export async function validatePlugin(target: string): Promise<Validation> {
  const problems: string[] = [];
  const notes: string[] = [];
  const resolved = path.resolve(target);
  const info = await stat(resolved).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) {
    const what = info.code === 'ENOENT' || info.code === 'ENOTDIR' ? 'no such file or folder' : `cannot be read (${info.code ?? info.message})`;
    throw usageError(`plugins validate: ${target}: ${what}`, 'give a plugin folder (plugin.toml + wasm), a plugin.toml, or a .wasm');
  }
  let manifestFile: string | undefined;
  let wasmFile: string;
  if (info.isDirectory()) {
    manifestFile = path.join(resolved, 'plugin.toml');
    wasmFile = path.join(resolved, 'plugin.wasm');
  } else if (resolved.endsWith('.toml')) {
    manifestFile = resolved;
    wasmFile = path.join(path.dirname(resolved), 'plugin.wasm');
  } else wasmFile = resolved;

  let manifest: PluginManifest | undefined;
  if (manifestFile) {
    const text = await readFile(manifestFile, 'utf8').catch(() => null);
    if (text === null) problems.push(`${manifestFile}: missing (a plugin folder has a plugin.toml)`);
    else if (/sha256\s*=\s*"@SHA256@"/.test(text)) {
      problems.push(`${manifestFile}: runtime.sha256 is the @SHA256@ placeholder of a source template; build the plugin and validate what the build wrote (e.g. dist/)`);
    } else {
      try {
        manifest = parseManifest(text, manifestFile);
        wasmFile = manifest.wasm;
      } catch (error) {
        problems.push(error instanceof ManifestError ? error.message : `${manifestFile}: ${(error as Error).message}`);
      }
    }
  }
  const bytes = await readFile(wasmFile).catch(() => null);
  if (!bytes) {
    problems.push(`${wasmFile}: cannot read the .wasm`);
    return { subject: manifest ? `${manifest.name} ${manifest.version} (${manifest.kind})` : target, problems, notes };
  }
  const sha = sha256Of(bytes);
  if (manifest?.minRprVersion && compareSemver(VERSION, manifest.minRprVersion) < 0) {
    problems.push(`${manifestFile}: dependencies.min_rpr_version is ${manifest.minRprVersion}; this is rpr ${VERSION}, which will not load it`);
  }
  if (manifest && manifest.sha256 !== sha) problems.push(`${wasmFile}: sha256 is ${sha}, plugin.toml's runtime.sha256 says ${manifest.sha256}`);

  let wasm: WasmInfo | undefined;
  try {
    wasm = inspectWasm(bytes);
  } catch (error) {
    problems.push(`${wasmFile}: not a WebAssembly module rpr can read: ${(error as Error).message}`);
  }
  const wasi = manifest ? Object.keys(manifest.permissions.filesystem).length > 0 : false;
  let description: Description | undefined;
  if (wasm) {
    const abi = abiProblems(wasm, manifest?.kind, wasi);
    problems.push(...abi.problems.map((p) => `${path.basename(wasmFile)}: ${p}`));
    notes.push(...abi.notes);
    const memory = wasm.memories[0];
    const capPages = Math.floor(((manifest?.permissions.memoryMb ?? CONTRACT.permissions.defaults.memory_mb) * 2 ** 20) / PAGE_BYTES);
    if (memory && memory.min > capPages) problems.push(`${path.basename(wasmFile)}: needs ${memory.min} memory pages at start, more than its memory_mb allows (${capPages} pages)`);
    const usesWasi = wasm.imports.some((i) => i.module === CONTRACT.wasi.module);
    const importsOk = !abi.problems.some((p) => p.startsWith('import '));
    if (usesWasi) notes.push('describe was not run: the module uses WASI, which only a full load with its filesystem grant provides');
    else if (importsOk) {
      try {
        description = await describeBytes(bytes);
      } catch (error) {
        problems.push(`describe failed: ${(error as Error).message}`);
      }
    }
  }
  if (description) {
    if (manifest) problems.push(...descriptionProblems(manifest, description));
    else {
      // A bare .wasm: its describe answer must make a valid manifest, as install will generate one.
      try {
        parseManifest(manifestFromDescription(description, sha), path.join(path.dirname(wasmFile), 'plugin.toml'));
        if (wasm)
          problems.push(
            ...abiProblems(wasm, description.kind, false)
              .problems.filter((p) => p.includes('must export') || p.includes('not part of the'))
              .map((p) => `${path.basename(wasmFile)}: ${p}`),
          );
      } catch (error) {
        problems.push(`describe: its answer does not make a valid plugin.toml: ${(error as Error).message.replace(/^[^:]*plugin\.toml: /, '')}`);
      }
    }
  }
  const sigFile = manifestFile ? path.join(path.dirname(manifestFile), SIGNATURE_FILE) : `${wasmFile}.sig`;
  const sigText = await readFile(sigFile, 'utf8').catch(() => null);
  if (sigText !== null) {
    const verdict = checkSignature(sigText, sha, manifest ? permissionsDigest(manifest) : digestOf(noPermissions(), path.dirname(wasmFile)), []);
    if (verdict.status === 'invalid') problems.push(`${sigFile}: ${verdict.reason}`);
    else if (verdict.status !== 'unsigned') notes.push(`signed by ${verdict.key}`);
  }
  const name = manifest ?? description;
  return { subject: name ? `${name.name} ${name.version} (${name.kind})` : target, problems: [...new Set(problems)], notes };
}
