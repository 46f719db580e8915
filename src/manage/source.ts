/**
 * From what the user typed after `rpr plugins install` to a plugin held in memory and checked,
 * before anything is written: a .wasm file (described through its own `describe`, a plugin.toml
 * generated), a folder with plugin.toml, a .tar.gz holding one plugin, an https:// URL to either
 * (http:// to this machine), or the bare name of a bundled plugin (a copy to customise).
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { RprError } from '../errors/index.js';
import { BUNDLED_PLUGIN_DIR, parseManifest, ManifestError, type Description, type PluginManifest } from '../plugins/index.js';
import { NAME_PATTERN } from '../plugins/manifest/parse.js';
import { checkSourceUrl, download, isUrl, DOWNLOAD_LIMITS, type DownloadLimits } from './download.js';
import { sha256Of } from './integrity.js';
import type { SourceType } from './lockfile.js';
import { SIGNATURE_FILE } from './signature.js';
import { readTarGz, TarError } from './tar.js';
import { abiProblems, describeBytes, descriptionProblems, manifestFromDescription } from './validate.js';
import { inspectWasm } from '../plugins/wasm/inspect.js';
import { CONTRACT } from '../plugins/contract.js';
import { compareSemver } from '../plugins/index.js';
import { VERSION } from '../version.js';
import { packageFile } from '../package-files.js';

export interface StagedPlugin {
  manifest: PluginManifest;
  /** Files of the plugin's folder, relative path -> bytes (plugin.toml, the wasm, plugin.sig ...). */
  files: Map<string, Buffer>;
  sha256: string;
  /** plugin.sig's text, if the plugin came with one. */
  signature: string | null;
  source: string;
  sourceType: SourceType;
  /** Things the user should know (a generated manifest, a bundled copy ...). */
  notes: string[];
}

export interface SourceOptions {
  /** Where the plugin will live: manifests are read as if they were there already. */
  pluginDir: string;
  bundledDir?: string;
  limits?: DownloadLimits;
}

const WASM_MAGIC = Buffer.from([0x00, 0x61, 0x73, 0x6d]);
const isWasm = (b: Buffer) => b.subarray(0, 4).equals(WASM_MAGIC);
const isGzip = (b: Buffer) => b[0] === 0x1f && b[1] === 0x8b;
/** Files besides plugin.toml, the wasm and plugin.sig that are kept from a folder or an archive. */
const EXTRA_FILES = /^(README|LICENSE|COPYING|CHANGELOG)(\.[a-z]+)?$/i;

const usage = (message: string, hint?: string) => new RprError('E_USAGE', message, hint ? { hint } : {});
const refused = (message: string, hint?: string) => new RprError('E_PLUGIN', message, hint ? { hint } : {});
const SOURCE_HINT = 'SOURCE is a .wasm file, a folder with plugin.toml, a .tar.gz, an https:// URL, or the name of a bundled plugin';

/** Parses a manifest text as the plugin.toml of pluginDir/NAME/ (NAME from the text itself). */
function placeManifest(text: string, pluginDir: string, where: string): PluginManifest {
  try {
    const first = parseManifest(text, path.join(pluginDir, '.staging', 'plugin.toml'));
    return parseManifest(text, path.join(pluginDir, first.name, 'plugin.toml'));
  } catch (error) {
    if (error instanceof ManifestError) throw refused(`${where}: ${error.message.replace(/^.*?plugin\.toml: /, 'plugin.toml: ')}`, `see ${packageFile('docs/plugins.md')} for the plugin.toml format`);
    throw error;
  }
}

/** Checks a staged plugin's wasm against its manifest and the contract, and describe() against both. */
async function checkStaged(staged: StagedPlugin, where: string, description?: Description): Promise<StagedPlugin> {
  const { manifest } = staged;
  if (manifest.sha256 !== staged.sha256) {
    throw refused(
      `${where}: ${path.basename(manifest.wasm)} has sha256 ${staged.sha256}, but its plugin.toml says ${manifest.sha256}`,
      'the archive or folder is inconsistent; rebuild or re-download it',
    );
  }
  if (manifest.minRprVersion && compareSemver(VERSION, manifest.minRprVersion) < 0) {
    throw refused(`${where}: plugin "${manifest.name}" ${manifest.version} needs rpr ${manifest.minRprVersion} or later; this is rpr ${VERSION}`, 'upgrade rpr first');
  }
  const wasm = staged.files.get(path.relative(manifest.dir, manifest.wasm))!;
  let info;
  try {
    info = inspectWasm(wasm);
  } catch (error) {
    throw refused(`${where}: not a WebAssembly module rpr can read: ${(error as Error).message}`);
  }
  for (const [guest, host] of Object.entries(manifest.permissions.filesystem)) {
    const rel = path.relative(host, manifest.dir);
    // Checked again at every load (plugins/host/fs-check.ts); here so that nothing is installed that could never run.
    if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) {
      throw refused(
        `${where}: [permissions] filesystem maps ${guest} to ${host}, which holds the plugin's own folder: it could rewrite its plugin.toml`,
        'map a folder of its own, e.g. { "/data" = "data" }',
      );
    }
  }
  const wasi = Object.keys(manifest.permissions.filesystem).length > 0;
  const { problems } = abiProblems(info, manifest.kind, wasi);
  if (problems.length) throw refused(`${where}: does not match the rpr plugin contract: ${problems.join('; ')}`, `rpr plugins validate shows every problem`);
  if (!info.imports.some((i) => i.module === CONTRACT.wasi.module)) {
    let d = description;
    try {
      d ??= await describeBytes(wasm);
    } catch (error) {
      throw refused(`${where}: describe failed: ${(error as Error).message}`);
    }
    const mismatch = descriptionProblems(manifest, d);
    if (mismatch.length) throw refused(`${where}: ${mismatch.join('; ')}`);
  }
  return staged;
}

/** A bare .wasm: described by its own describe export; plugin.toml is generated from that. */
async function fromWasm(bytes: Buffer, signature: string | null, source: string, sourceType: SourceType, opts: SourceOptions): Promise<StagedPlugin> {
  const sha256 = sha256Of(bytes);
  let info;
  try {
    info = inspectWasm(bytes);
  } catch (error) {
    throw refused(`${source}: not a WebAssembly module rpr can read: ${(error as Error).message}`);
  }
  const { problems } = abiProblems(info, undefined, false);
  if (problems.length)
    throw refused(`${source}: does not match the rpr plugin contract: ${problems.join('; ')}`, 'a bare .wasm must not need permissions to describe itself; rpr plugins validate shows every problem');
  let description: Description;
  try {
    description = await describeBytes(bytes);
  } catch (error) {
    throw refused(`${source}: cannot describe itself: ${(error as Error).message}`, 'a bare .wasm needs a working describe export; otherwise install a folder with a plugin.toml');
  }
  const text = manifestFromDescription(description, sha256);
  const manifest = placeManifest(text, opts.pluginDir, `${source} (its describe answer)`);
  const files = new Map<string, Buffer>([
    ['plugin.toml', Buffer.from(text)],
    ['plugin.wasm', bytes],
  ]);
  if (signature !== null) files.set(SIGNATURE_FILE, Buffer.from(signature));
  const staged = { manifest, files, sha256, signature, source, sourceType, notes: ["plugin.toml was generated from the plugin's describe answer; a bare .wasm asks for no permissions"] };
  return checkStaged(staged, source, description);
}

/** A plugin folder's files (already in memory), rooted at its plugin.toml. */
async function fromFiles(all: Map<string, Buffer>, source: string, sourceType: SourceType, opts: SourceOptions): Promise<StagedPlugin> {
  const tomls = [...all.keys()].filter((f) => f === 'plugin.toml' || /^[^/]+\/plugin\.toml$/.test(f));
  if (tomls.length === 0) throw refused(`${source}: holds no plugin.toml (at its top or in one folder)`, 'a plugin archive holds one plugin: plugin.toml, its .wasm, maybe plugin.sig');
  if (tomls.length > 1) throw refused(`${source}: holds ${tomls.length} plugins (${tomls.join(', ')}); install them one at a time`);
  const root = path.posix.dirname(tomls[0]!);
  const files = new Map<string, Buffer>();
  for (const [file, bytes] of all) {
    if (root !== '.' && !file.startsWith(`${root}/`)) continue;
    files.set(root === '.' ? file : file.slice(root.length + 1), bytes);
  }
  const manifest = placeManifest(files.get('plugin.toml')!.toString('utf8'), opts.pluginDir, source);
  const wasmRel = path.relative(manifest.dir, manifest.wasm).split(path.sep).join('/');
  const wasm = files.get(wasmRel);
  if (!wasm) throw refused(`${source}: plugin.toml names ${wasmRel}, which is not there`);
  const keep = new Map<string, Buffer>([
    ['plugin.toml', files.get('plugin.toml')!],
    [wasmRel, wasm],
  ]);
  const signature = files.get(SIGNATURE_FILE)?.toString('utf8') ?? null;
  if (signature !== null) keep.set(SIGNATURE_FILE, files.get(SIGNATURE_FILE)!);
  for (const [file, bytes] of files) if (!file.includes('/') && EXTRA_FILES.test(file)) keep.set(file, bytes);
  return checkStaged({ manifest, files: keep, sha256: sha256Of(wasm), signature, source, sourceType, notes: [] }, source);
}

async function fromFolder(dir: string, source: string, sourceType: SourceType, opts: SourceOptions): Promise<StagedPlugin> {
  const text = await readFile(path.join(dir, 'plugin.toml'), 'utf8').catch(() => null);
  if (text === null) throw usage(`${dir}: no plugin.toml in this folder`, 'install a folder with plugin.toml and its .wasm, a .wasm file, a .tar.gz or an https:// URL');
  const manifest = placeManifest(text, opts.pluginDir, dir);
  const wasmRel = path.relative(manifest.dir, manifest.wasm).split(path.sep).join('/');
  const files = new Map<string, Buffer>([['plugin.toml', Buffer.from(text)]]);
  const wasm = await readFile(path.join(dir, wasmRel)).catch(() => null);
  if (!wasm) throw refused(`${dir}: plugin.toml names ${wasmRel}, which cannot be read`, 'build the plugin first');
  files.set(wasmRel, wasm);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile() && (entry.name === SIGNATURE_FILE || EXTRA_FILES.test(entry.name))) files.set(entry.name, await readFile(path.join(dir, entry.name)));
  }
  return fromFiles(files, source, sourceType, opts);
}

/** Bundled plugins' names, for messages. */
async function bundledNames(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/**
 * Reads and checks SOURCE. Throws an RprError saying what is wrong (E_USAGE when SOURCE names
 * nothing installable, E_PLUGIN when what it names is refused).
 */
export async function resolveSource(source: string, opts: SourceOptions): Promise<StagedPlugin> {
  const bundledDir = opts.bundledDir ?? BUNDLED_PLUGIN_DIR;
  const limits = opts.limits ?? DOWNLOAD_LIMITS;
  if (source.startsWith('bundled:')) return resolveBundled(source.slice('bundled:'.length), bundledDir, opts);
  if (isUrl(source)) {
    const url = checkSourceUrl(source);
    if (typeof url === 'string') throw usage(`cannot install from ${url}`);
    const got = (await download(url.href, limits))!;
    if (isWasm(got.bytes)) {
      const sig = await download(`${url.href}.sig`, { ...limits, maxBytes: 64 * 1024 }, true).catch(() => null);
      return fromWasm(got.bytes, sig ? sig.bytes.toString('utf8') : null, source, 'url', opts);
    }
    if (isGzip(got.bytes)) return fromArchive(got.bytes, source, 'url', opts, limits);
    throw refused(`${source}: is neither a .wasm module nor a .tar.gz archive`, 'the URL must serve the plugin itself (.wasm) or a release archive (.tar.gz)');
  }
  const file = path.resolve(source);
  const info = await stat(file).catch(() => null);
  if (info?.isDirectory()) return fromFolder(file, file, 'folder', opts);
  if (info?.isFile()) {
    if (path.basename(file) === 'plugin.toml') return fromFolder(path.dirname(file), path.dirname(file), 'folder', opts);
    const bytes = await readFile(file);
    if (isWasm(bytes)) return fromWasm(bytes, await readFile(`${file}.sig`, 'utf8').catch(() => null), file, 'file', opts);
    if (isGzip(bytes)) return fromArchive(bytes, file, 'file', opts, limits);
    throw usage(`${source}: is neither a .wasm module, a .tar.gz archive nor a plugin.toml`, SOURCE_HINT);
  }
  if (NAME_PATTERN.test(source) && !source.includes('/')) return resolveBundled(source, bundledDir, opts);
  throw usage(`${source}: no such file or folder`, SOURCE_HINT);
}

async function fromArchive(gz: Buffer, source: string, sourceType: SourceType, opts: SourceOptions, limits: DownloadLimits): Promise<StagedPlugin> {
  let files: Map<string, Buffer>;
  try {
    files = readTarGz(gz, limits.maxBytes * 2);
  } catch (error) {
    if (error instanceof TarError) throw refused(`${source}: not a plugin archive: ${error.message}`);
    throw error;
  }
  return fromFiles(files, source, sourceType, opts);
}

async function resolveBundled(name: string, bundledDir: string, opts: SourceOptions): Promise<StagedPlugin> {
  const names = await bundledNames(bundledDir);
  if (!names.includes(name)) {
    const base = name.replace(/-(backoff|scheduler|executor|output)$/, '');
    const near = names.find((n) => n === base || n.startsWith(base) || base.startsWith(n));
    throw usage(
      `no bundled plugin "${name}", and no file or folder of that name`,
      near
        ? `did you mean "${near}"? Bundled plugins work without installing; rpr plugins install ${near} makes a copy you can customise`
        : `bundled plugins: ${names.join(', ')}; SOURCE may also be a .wasm, a folder, a .tar.gz or an https:// URL`,
    );
  }
  const staged = await fromFolder(path.join(bundledDir, name), `bundled:${name}`, 'bundled', opts);
  staged.notes.push(`"${name}" is bundled with rpr and works without installing; this copies it into your plugin folder to customise (edit plugin.toml there), and your copy replaces the bundled one`);
  return staged;
}
