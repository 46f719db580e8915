/**
 * plugin.toml -> PluginManifest. Strict: unknown keys are errors, because a misspelt permission
 * silently ignored would be either a denial nobody understands or a grant nobody reviewed. Every
 * error names the file and the key.
 */
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { hasUnprintable, printable } from '../../errors/printable.js';
import { CONTRACT, type HostFunctionPermission, type PluginKind } from '../contract.js';
import { MAX_MANIFEST_BYTES, readBounded, TooBigError } from '../files.js';
import { PERMISSION_KEY_NAMES } from '../permissions/keys.js';
import { guardedVariable } from '../permissions/exec.js';
import { parseNetworkPattern } from '../permissions/network.js';
import { parseSchema } from './schema.js';
import { isSemver } from './semver.js';
import type { ConfigSchema, Permissions, PluginManifest, PluginSlots } from './types.js';
import { ManifestError } from './error.js';

type Table = Record<string, unknown>;

/** Letters, digits and single dashes: a name maps to one environment-variable prefix (env-name.ts). */
export const NAME_PATTERN = /^(?=.{1,64}$)[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const TOPIC_PATTERN = /^[a-z0-9][a-z0-9._-]{0,127}$/;

export { ManifestError };

const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** Reads one key and checks its type; `fail` throws a ManifestError naming the key. */
class Fields {
  constructor(
    readonly table: Table,
    readonly where: string,
    readonly fail: (reason: string) => never,
    allowed: readonly string[],
  ) {
    for (const key of Object.keys(table)) {
      if (!allowed.includes(key)) fail(`unknown key ${where}.${key} (known: ${allowed.join(', ')})`);
    }
  }
  string(key: string, required: true): string;
  string(key: string, required?: false): string | undefined;
  string(key: string, required = false): string | undefined {
    const v = this.table[key];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string') this.fail(`${this.where}.${key} must be a string${v === undefined ? ' (missing)' : ''}`);
    return v;
  }
  strings(key: string, check?: (s: string) => string | undefined): string[] {
    const v = this.table[key];
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) this.fail(`${this.where}.${key} must be a list of strings`);
    for (const s of v as string[]) {
      const problem = check?.(s);
      if (problem) this.fail(`${this.where}.${key}: ${problem}`);
    }
    return [...new Set(v as string[])];
  }
  int(key: string, min: number, max: number): number | undefined {
    const v = this.table[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(`${this.where}.${key} must be an integer from ${min} to ${max}`);
    return v;
  }
  bool(key: string): boolean | undefined {
    const v = this.table[key];
    if (v !== undefined && typeof v !== 'boolean') this.fail(`${this.where}.${key} must be true or false`);
    return v as boolean | undefined;
  }
  table_(key: string): Table {
    const v = this.table[key];
    if (v === undefined) return {};
    if (!isTable(v)) this.fail(`${this.where}.${key} must be a table`);
    return v;
  }
}

/**
 * Every key and string of a manifest is shown to the user before they trust the plugin (install,
 * update, info): one that carries terminal escapes or invisible formatting could make the consent
 * screen say "network: none" while the file asks for more. Refused at parse, wherever it is.
 */
function refuseUnprintable(value: unknown, where: string, fail: (reason: string) => never): void {
  const here = (key: string) => (where ? `${where}.${key}` : key);
  if (typeof value === 'string') {
    if (hasUnprintable(value)) fail(`${where}: control characters and invisible formatting are not allowed (${JSON.stringify(printable(value).slice(0, 60))})`);
  } else if (Array.isArray(value)) value.forEach((v, i) => refuseUnprintable(v, `${where}[${i}]`, fail));
  else if (isTable(value)) {
    for (const [key, v] of Object.entries(value)) {
      if (hasUnprintable(key)) fail(`${here(printable(key))}: control characters and invisible formatting are not allowed in keys`);
      refuseUnprintable(v, here(key), fail);
    }
  }
}

export function parseManifest(text: string, file: string): PluginManifest {
  const fail = (reason: string): never => {
    throw new ManifestError(file, reason);
  };
  let doc: Table;
  try {
    doc = parseToml(text) as Table;
  } catch (error) {
    return fail(`not valid TOML: ${(error as Error).message.split('\n')[0]}`);
  }
  refuseUnprintable(doc, '', fail);
  const top = new Fields(doc, 'manifest', fail, ['plugin', 'runtime', 'config', 'dependencies', 'permissions', 'coordination']);
  const dir = path.dirname(path.resolve(file));

  const plugin = new Fields(top.table_('plugin'), 'plugin', fail, ['name', 'version', 'kind', 'description', 'author', 'reads_output']);
  const name = plugin.string('name', true);
  if (!NAME_PATTERN.test(name)) fail(`plugin.name "${name}" must be lower-case letters, digits and single dashes, starting with a letter and not ending with a dash`);
  const version = plugin.string('version', true);
  if (!isSemver(version)) fail(`plugin.version "${version}" is not a semver version (x.y.z)`);
  const kind = plugin.string('kind', true) as PluginKind;
  if (!CONTRACT.kinds.includes(kind)) fail(`plugin.kind "${kind}" must be one of ${CONTRACT.kinds.join(', ')}`);

  const runtime = new Fields(top.table_('runtime'), 'runtime', fail, ['wasm', 'sha256', 'abi']);
  const wasm = runtime.string('wasm', true);
  if (path.isAbsolute(wasm) || wasm.split(/[\\/]/).includes('..')) fail(`runtime.wasm "${wasm}" must be a file inside the plugin's directory`);
  const sha256 = runtime.string('sha256', true).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) fail('runtime.sha256 must be 64 hex digits (sha256 of the .wasm)');
  const abi = runtime.int('abi', 1, 1_000_000) ?? CONTRACT.abi;
  if (abi !== CONTRACT.abi) fail(`runtime.abi ${abi} is not supported: this rpr speaks plugin ABI ${CONTRACT.abi}`);

  const deps = new Fields(top.table_('dependencies'), 'dependencies', fail, ['min_rpr_version']);
  const minRprVersion = deps.string('min_rpr_version');
  if (minRprVersion !== undefined && !isSemver(minRprVersion)) fail(`dependencies.min_rpr_version "${minRprVersion}" is not x.y.z`);

  const readsOutput = plugin.bool('reads_output') ?? false;
  if (readsOutput && kind !== 'scheduler') fail('plugin.reads_output is for scheduler plugins (outputs get output_tail in run-end events when the job captures it)');

  const config = parseSchema(top.table_('config'), fail);
  const coordination = doc.coordination === undefined ? undefined : parseSlots(new Fields(top.table_('coordination'), 'coordination', fail, ['slots', 'rate', 'spread', 'burst']), kind, config);
  return {
    name,
    version,
    kind,
    description: plugin.string('description') ?? '',
    author: plugin.string('author') ?? '',
    wasm: path.join(dir, wasm),
    sha256,
    abi,
    config,
    minRprVersion,
    permissions: parsePermissions(top.table_('permissions'), 'permissions', dir, fail),
    ...(coordination ? { coordination } : {}),
    ...(readsOutput ? { readsOutput } : {}),
    file: path.resolve(file),
    dir,
  };
}

/** [coordination]: which settings hold the rate a scheduler's starts keep (types.ts PluginSlots). */
function parseSlots(f: Fields, kind: PluginKind, config: ConfigSchema): PluginSlots {
  if (kind !== 'scheduler') f.fail('[coordination] is for scheduler plugins');
  const slots = f.string('slots', true);
  if (slots !== 'sliding-window' && slots !== 'token-bucket') f.fail(`coordination.slots "${slots}" must be sliding-window or token-bucket`);
  const setting = (key: string, type: string, required: boolean): string | undefined => {
    const name = required ? f.string(key, true) : f.string(key);
    if (name !== undefined && config[name]?.type !== type) f.fail(`coordination.${key} "${name}" must name ${type === 'integer' ? 'an' : 'a'} ${type} setting in [config]`);
    return name;
  };
  const rate = setting('rate', 'string', true)!;
  if (slots === 'sliding-window') {
    if (f.table.burst !== undefined) f.fail('coordination.burst is for token-bucket slots');
    const spread = setting('spread', 'boolean', false);
    return { slots, rate, ...(spread === undefined ? {} : { spread }) };
  }
  if (f.table.spread !== undefined) f.fail('coordination.spread is for sliding-window slots');
  const burst = setting('burst', 'integer', false);
  return { slots, rate, ...(burst === undefined ? {} : { burst }) };
}

/** [permissions] of a manifest, or the same keys in a user's config (relative paths from `baseDir`). */
function parsePermissions(table: Table, where: string, baseDir: string, fail: (reason: string) => never): Permissions {
  return { ...CONTRACT_DEFAULTS(), ...parsePartialPermissions(table, where, baseDir, fail) };
}

/** What a manifest without [permissions] asks for (a bare .wasm's generated one, too). */
export const CONTRACT_DEFAULTS = (): Permissions => ({
  network: [],
  filesystem: {},
  exec: [],
  execEnv: [],
  hostFunctions: [],
  memoryMb: CONTRACT.permissions.defaults.memory_mb,
  timeoutMs: CONTRACT.permissions.defaults.timeout_ms,
  emit: [],
  subscribe: [],
});

export function parsePartialPermissions(table: Table, where: string, baseDir: string, fail: (reason: string) => never): Partial<Permissions> {
  const f = new Fields(table, where, fail, PERMISSION_KEY_NAMES);
  const out: Partial<Permissions> = {};
  const { ceilings } = CONTRACT.permissions;
  if (table.network !== undefined)
    out.network = f.strings('network', (s) => {
      const p = parseNetworkPattern(s);
      return typeof p === 'string' ? p : undefined;
    });
  if (table.exec !== undefined) {
    out.exec = f.strings('exec', (s) => (s === '' || (s.includes('/') && !path.isAbsolute(s)) ? `"${s}" must be a program name or an absolute path` : undefined));
  }
  if (table.exec_env !== undefined) {
    out.execEnv = f.strings('exec_env', (s) => (guardedVariable(s) ? undefined : `"${s}" is not a variable rpr guards (PATH, LD_*, ...); any other variable needs no permission`));
  }
  if (table.host_functions !== undefined) {
    const known = CONTRACT.permissions.host_functions as string[];
    out.hostFunctions = f.strings('host_functions', (s) => (known.includes(s) ? undefined : `"${s}" is not a host function (known: ${known.join(', ')})`)) as HostFunctionPermission[];
  }
  const topic = (s: string) => (TOPIC_PATTERN.test(s) ? undefined : `"${s}" is not a topic name (lower-case letters, digits, . _ -)`);
  if (table.emit !== undefined) out.emit = f.strings('emit', topic);
  if (table.subscribe !== undefined) out.subscribe = f.strings('subscribe', topic);
  const memoryMb = f.int('memory_mb', 1, ceilings.memory_mb);
  if (memoryMb !== undefined) out.memoryMb = memoryMb;
  const timeoutMs = f.int('timeout_ms', 1, ceilings.timeout_ms);
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
  if (table.filesystem !== undefined) {
    const fs: Record<string, string> = {};
    for (const [guest, host] of Object.entries(f.table_('filesystem'))) {
      if (!guest.startsWith('/') || guest.split('/').includes('..')) fail(`${where}.filesystem: guest path "${guest}" must be absolute, without ..`);
      if (typeof host !== 'string' || host === '') fail(`${where}.filesystem."${guest}" must be a host directory path`);
      fs[guest] = path.resolve(baseDir, host as string);
    }
    out.filesystem = fs;
  }
  return out;
}

export async function readManifest(file: string): Promise<PluginManifest> {
  let text: string;
  try {
    text = (await readBounded(file, MAX_MANIFEST_BYTES)).toString('utf8');
  } catch (error) {
    if (error instanceof TooBigError) throw new ManifestError(file, `${error.message}; not read`);
    throw new ManifestError(file, `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseManifest(text, file);
}
