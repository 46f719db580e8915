/**
 * One version of a plugin, everything derived from its manifest and .wasm: effective permissions,
 * resolved config, compiled module, host functions, the guarded fetch and what describe() said.
 * Loading and hot reload both build one; a handle swaps generations only once a new one works.
 */
import { createHash } from 'node:crypto';
import { CONTRACT, type PluginKind } from '../contract.js';
import { PluginError } from '../errors.js';
import { MAX_WASM_BYTES, readBounded } from '../files.js';
import { ManifestError } from '../manifest/error.js';
import { resolveConfig } from '../manifest/schema.js';
import { checkManifestFiles } from '../manifest/verify.js';
import type { Permissions, PluginManifest } from '../manifest/types.js';
import { checkAck, checkDescription, type Description } from '../messages.js';
import { effectivePermissions, type UserPermissions } from '../permissions/effective.js';
import { VERSION } from '../../version.js';
import { PAGE_BYTES } from '../wasm/prepare.js';
import { checkExports, checkImports } from './abi-check.js';
import { compilePlugin, pagesFor, type CompiledPlugin } from './compile.js';
import { createGuardedFetch } from './fetch.js';
import { checkMapping } from './fs-check.js';
import { buildHostFunctions, type HostFunctionContext } from './host-functions.js';
import { buildKernel } from './kernel-functions.js';
import { createInstance, preloadInstance } from './create-instance.js';
import { CallFailure, type Instance, type InstanceSpec, type LogLevel, type LogSink, type Placement } from './instance.js';
import type { SystemLoadSource } from './system-load.js';

export interface Generation {
  manifest: PluginManifest;
  permissions: Permissions;
  config: Record<string, unknown>;
  compiled: CompiledPlugin;
  description: Description;
  spec: InstanceSpec;
  /** init's input, replayed on every rebuilt instance; undefined if the plugin has no init. */
  initInput: string | undefined;
  exports: Set<string>;
}

/** What a generation needs from its handle (callbacks close over the handle, not the generation). */
export interface GenerationHooks {
  user: UserPermissions;
  rawConfig: Record<string, unknown>;
  log: LogSink;
  logLevel: LogLevel;
  systemLoad: SystemLoadSource;
  createTimeoutMs: number;
  rprVersion?: string;
  /** min_rpr_version needs no check (LoadOptions.versionChecked). */
  versionChecked?: boolean;
  /** Extra check of each version's wasm (see LoadOptions.check). */
  check?: (manifest: PluginManifest, sha256: string) => Promise<void>;
  fn: Omit<HostFunctionContext, 'plugin' | 'permissions' | 'systemLoad'>;
  onNetworkDenied: (target: string, url: string) => void;
  remainingMs: () => number;
  inflight: () => number;
  /** Aborted when the plugin is closed (its HTTP requests in flight end then). */
  closed?: AbortSignal;
  /** Force a worker thread (tests of both paths; RPR_PLUGIN_WORKER=1). */
  forceWorker?: boolean;
  /** On rpr's own thread, limit CPU with node:vm's watchdog, not by metering (tests of both; RPR_PLUGIN_METER=0). */
  vmGuard?: boolean;
  /** Folders no filesystem mapping may reach (plugin stores), besides the plugin's own. */
  protectedDirs?: string[];
}

/** A stuck call on rpr's own thread holds timers and signals back for up to its limit: keep that short. */
const FOREGROUND_MAX_TIMEOUT_MS = 5_000;
/** Extism's own blocks (inputs, answers, HTTP bodies, log lines): 16 MiB, or the memory cap if smaller. */
const KERNEL_MB = 16;

/**
 * Where a plugin's instances run. A scheduler runs on rpr's own thread unless it needs the network
 * (Extism's HTTP is asynchronous: worker only), files (a WASI call can block in the kernel, out of
 * reach of any time limit) or a call time limit longer than timers and signals may wait. Outputs
 * and executors keep a worker whatever they may do: they work beside the job (an output's backlog,
 * an executor's plan while other runs go on), and a stuck call there must not hold back the
 * timers of other runs.
 */
function placementFor(kind: PluginKind, permissions: Permissions, forceWorker = false): Placement {
  return placementReason(kind, permissions, forceWorker).placement;
}

export function placementReason(kind: PluginKind, permissions: Permissions, forceWorker = false): { placement: Placement; why: string } {
  const worker = (why: string) => ({ placement: 'worker' as const, why: `in a worker thread (${why})` });
  if (forceWorker) return worker('RPR_PLUGIN_WORKER=1');
  if (kind !== 'scheduler') return worker(`${kind}s work beside the job`);
  if (permissions.network.length > 0) return worker('it has network access');
  if (Object.keys(permissions.filesystem).length > 0) return worker('it has file access');
  if (permissions.timeoutMs > FOREGROUND_MAX_TIMEOUT_MS) return worker(`its timeout_ms is over ${FOREGROUND_MAX_TIMEOUT_MS}`);
  return { placement: 'foreground', why: "in rpr's own thread (no network, no files: no worker needed)" };
}

export function toFailure(plugin: string, fn: string, error: unknown): PluginError {
  if (error instanceof PluginError) return error;
  if (error instanceof CallFailure) return new PluginError(plugin, fn, error.kind, error.message);
  return new PluginError(plugin, fn, 'load', (error as Error)?.message ?? String(error), { cause: error });
}

/** Stringified for Extism's config_get: strings as they are, everything else as JSON. */
function extismConfig(config: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

function compareDescription(m: PluginManifest, d: Description): void {
  const fail = (what: string) => {
    throw new PluginError(m.name, 'describe', 'abi', `${what} (plugin.toml: ${m.file})`);
  };
  if (d.abi !== CONTRACT.abi) fail(`speaks plugin ABI ${d.abi}, this rpr speaks ${CONTRACT.abi}`);
  if (d.name !== m.name) fail(`calls itself "${d.name}", its manifest says "${m.name}"`);
  if (d.kind !== m.kind) fail(`is a ${d.kind}, its manifest says ${m.kind}`);
  if (d.version !== m.version) fail(`is version ${d.version}, its manifest says ${m.version}`);
  const keys = (o: object) => Object.keys(o).sort().join(',');
  if (keys(d.config) !== keys(m.config)) fail(`describes config keys [${keys(d.config)}], its manifest [${keys(m.config)}]`);
}

/** Builds a generation and its first working instance (described and initialised). */
export async function buildGeneration(manifest: PluginManifest, hooks: GenerationHooks): Promise<{ gen: Generation; instance: Instance }> {
  const name = manifest.name;
  // Placed by the manifest's own permissions (the user's grants may move it: then the other kind loads later).
  preloadInstance(placementFor(manifest.kind, manifest.permissions, hooks.forceWorker));
  let bytes: Uint8Array;
  try {
    bytes = await readBounded(manifest.wasm, MAX_WASM_BYTES);
  } catch (error) {
    throw new ManifestError(manifest.file, `cannot read ${manifest.wasm}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  await hooks.check?.(manifest, sha);
  await checkManifestFiles(manifest, sha, hooks.rprVersion ?? VERSION, hooks.versionChecked);

  const permissions = effectivePermissions(manifest.permissions, hooks.user);
  const config = resolveConfig(name, manifest.config, hooks.rawConfig);
  const placement = placementFor(manifest.kind, permissions, hooks.forceWorker);
  const compiled = await compilePlugin(name, bytes, pagesFor(permissions.memoryMb), sha, placement === 'foreground' && !hooks.vmGuard);
  checkImports(name, compiled.info, Object.keys(permissions.filesystem).length > 0);
  checkExports(name, manifest.kind, compiled.info);
  const guard = { own: manifest.dir, files: [manifest.file, manifest.wasm], stores: hooks.protectedDirs ?? [] };
  for (const [guest, host] of Object.entries(permissions.filesystem)) await checkMapping(name, guest, host, guard);

  const exports = new Set(compiled.info.exports.map((e) => e.name));
  const kernelPages = Math.min(compiled.maxPages, pagesFor(KERNEL_MB));
  const kernel = buildKernel({
    plugin: name,
    log: hooks.log,
    logLevel: hooks.logLevel,
    foreground: placement === 'foreground',
    kernelBytes: kernelPages * PAGE_BYTES,
    onNetworkDenied: hooks.onNetworkDenied,
  });
  const spec: InstanceSpec = {
    placement,
    module: compiled.module,
    metered: compiled.metered,
    initExports: compiled.initExports,
    userFunctions: buildHostFunctions({ ...hooks.fn, plugin: name, permissions, systemLoad: hooks.systemLoad }),
    kernelFunctions: kernel.functions,
    onCallStart: kernel.begin,
    onCallEnd: kernel.end,
    kernelOverCap: kernel.overCap,
    fetch: createGuardedFetch({
      plugin: name,
      network: permissions.network,
      remainingMs: hooks.remainingMs,
      onDenied: hooks.onNetworkDenied,
      onStart: hooks.fn.enter,
      onEnd: hooks.fn.leave,
      ...(hooks.closed ? { closed: hooks.closed } : {}),
    }),
    allowedPaths: permissions.filesystem,
    config: extismConfig(config),
    kernelPages,
    maxHttpResponseBytes: CONTRACT.limits.http_response_bytes + 1,
    maxAnswerBytes: CONTRACT.limits.answer_bytes,
    log: hooks.log,
    logLevel: hooks.logLevel,
    workerName: `rpr plugin ${name}`,
    createTimeoutMs: hooks.createTimeoutMs,
    callTimeoutMs: permissions.timeoutMs,
    inflight: hooks.inflight,
  };
  let instance: Instance;
  try {
    instance = await createInstance(spec);
  } catch (error) {
    throw toFailure(name, 'load', error);
  }
  try {
    const raw = await instance.call('describe', '', permissions.timeoutMs).catch((e) => {
      throw toFailure(name, 'describe', e);
    });
    const description = checkDescription(name, parseAnswer(name, 'describe', raw));
    compareDescription(manifest, description);
    const initInput = exports.has('init') ? JSON.stringify(config) : undefined;
    const gen: Generation = { manifest, permissions, config, compiled, description, spec, initInput, exports };
    await runInit(gen, instance);
    return { gen, instance };
  } catch (error) {
    instance.discard();
    throw error;
  }
}

/** Calls init on a fresh instance, if the plugin has one. */
export async function runInit(gen: Generation, instance: Instance): Promise<void> {
  if (gen.initInput === undefined) return;
  const name = gen.manifest.name;
  const raw = await instance.call('init', gen.initInput, gen.permissions.timeoutMs).catch((e) => {
    throw toFailure(name, 'init', e);
  });
  checkAck(name, 'init', parseAnswer(name, 'init', raw));
}

/** Bytes from a plugin -> JSON value (undefined for no output), bounded and checked. */
export function parseAnswer(plugin: string, fn: string, raw: Uint8Array | null): unknown {
  if (raw === null || raw.length === 0) return undefined;
  const max = CONTRACT.limits.answer_bytes;
  if (raw.length > max) throw new PluginError(plugin, fn, 'too-large', `answer of ${raw.length} bytes is larger than ${max}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new PluginError(plugin, fn, 'malformed', 'answer is not UTF-8 text');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new PluginError(plugin, fn, 'malformed', `answer is not JSON: ${JSON.stringify(text.slice(0, 60))}${text.length > 60 ? '...' : ''}`);
  }
}
