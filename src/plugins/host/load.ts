/**
 * loadPlugin: manifest + user settings -> a working PluginHandle (or a PluginError / ManifestError
 * saying which plugin failed and why).
 */
import { MAX_WASM_BYTES, readBounded } from '../files.js';
import type { PluginError } from '../errors.js';
import type { PluginManifest } from '../manifest/types.js';
import type { UserPermissions } from '../permissions/effective.js';
import type { TopicBus } from './bus.js';
import { PluginHandle } from './handle.js';
import { rateLimited } from './log-limit.js';
import type { LogLevel } from './instance.js';
import { createSystemLoadSource, type SystemLoadSource } from './system-load.js';
import { compilePlugin, pagesFor } from './compile.js';
import { CONTRACT } from '../contract.js';
import { createInstance } from './create-instance.js';
import { buildKernel } from './kernel-functions.js';
import { parseAnswer, toFailure } from './generation.js';
import { checkImports } from './abi-check.js';
import { buildHostFunctions } from './host-functions.js';
import { createGuardedFetch } from './fetch.js';
import { checkDescription, type Description } from '../messages.js';

export interface LoadOptions {
  /** Narrowing of the manifest's permissions and explicit grants on top ([plugins.NAME.permissions]). */
  permissions?: UserPermissions;
  /** The user's settings for the plugin (schema keys or aliases; CLI text or TOML values). */
  config?: Record<string, unknown>;
  /** The plugin's own log lines and the host's notices about it (rebuilds, reloads, misuse). */
  onLog?: (level: Exclude<LogLevel, 'silent'>, message: string) => void;
  /** Minimum level of the plugin's own log lines passed to onLog. Default "info". */
  logLevel?: LogLevel;
  /** Each distinct denial (network, host function, emit topic), the first time it happens. */
  onDenied?: (error: PluginError) => void;
  /** Topic bus shared by the plugins of a job; without one, emit succeeds and reaches nobody. */
  bus?: TopicBus;
  /** Machine load for rpr_system_load (tests inject a fake). */
  systemLoad?: SystemLoadSource;
  /** Check the plugin's files before every call and take a changed version. */
  hotReload?: boolean;
  /** Worker start deadline. Default 10 s. */
  createTimeoutMs?: number;
  /** For tests: the rpr version checked against min_rpr_version. */
  rprVersion?: string;
  /** min_rpr_version was checked against this rpr already (the build's index of the bundled plugins): not again. */
  versionChecked?: boolean;
  /** Run it in a worker thread even where rpr's own thread would do (tests of both paths). */
  forceWorker?: boolean;
  /** On rpr's own thread, stop a stuck call with node:vm's watchdog instead of metering (tests of both). */
  vmGuard?: boolean;
  /** Plugin stores (the user's plugin directory, the bundled plugins): no filesystem mapping may reach them. */
  protectedDirs?: string[];
  /**
   * Called with the manifest and the actual sha256 of its wasm before anything else is done with it,
   * at load and at every hot reload (rpr's plugins.lock and signatures); throwing refuses that version.
   */
  check?: (manifest: PluginManifest, sha256: string) => Promise<void>;
}

export async function loadPlugin(manifest: PluginManifest, options: LoadOptions = {}): Promise<PluginHandle> {
  const onLog = options.onLog ?? (() => {});
  const handle = new PluginHandle(
    {
      user: options.permissions ?? {},
      rawConfig: options.config ?? {},
      log: rateLimited((level, message) => onLog(level, `plugin "${manifest.name}": ${message}`)),
      logLevel: options.logLevel ?? 'info',
      systemLoad: options.systemLoad ?? createSystemLoadSource(),
      createTimeoutMs: options.createTimeoutMs ?? 10_000,
      ...(options.rprVersion === undefined ? {} : { rprVersion: options.rprVersion }),
      ...(options.versionChecked ? { versionChecked: true } : {}),
      ...(options.check === undefined ? {} : { check: options.check }),
      ...(options.forceWorker ? { forceWorker: true } : {}),
      ...(options.vmGuard ? { vmGuard: true } : {}),
      ...(options.protectedDirs ? { protectedDirs: options.protectedDirs } : {}),
    },
    { onLog, onDenied: options.onDenied ?? (() => {}), bus: options.bus, hotReload: options.hotReload ?? false },
  );
  await handle.start(manifest);
  return handle;
}

/**
 * What a bare .wasm says about itself (its describe export), run with no permissions at all, for
 * `rpr plugins info FILE` before any manifest exists.
 */
export async function describeWasm(file: string, timeoutMs = 2000): Promise<Description> {
  const name = file;
  const compiled = await compilePlugin(name, await readBounded(file, MAX_WASM_BYTES), 256, undefined, true);
  // Unchecked imports would fail inside the worker, which rc13 turns into a crash of our thread.
  checkImports(name, compiled.info, false);
  const none = { network: [], filesystem: {}, exec: [], execEnv: [], hostFunctions: [], memoryMb: 16, timeoutMs, emit: [], subscribe: [] };
  const noop = () => {};
  const kernel = buildKernel({ plugin: name, log: noop, logLevel: 'silent', foreground: true, kernelBytes: 2 ** 20, onNetworkDenied: noop });
  const instance = await createInstance({
    placement: 'foreground',
    module: compiled.module,
    metered: compiled.metered,
    initExports: compiled.initExports,
    userFunctions: buildHostFunctions({
      plugin: name,
      permissions: none,
      systemLoad: () => {
        throw new Error('denied');
      },
      publish: noop,
      denied: noop,
      misuse: noop,
      enter: noop,
      leave: noop,
    }),
    kernelFunctions: kernel.functions,
    onCallStart: kernel.begin,
    onCallEnd: kernel.end,
    kernelOverCap: kernel.overCap,
    fetch: createGuardedFetch({ plugin: name, network: [] }),
    allowedPaths: {},
    config: {},
    kernelPages: pagesFor(1),
    maxHttpResponseBytes: 0,
    maxAnswerBytes: CONTRACT.limits.answer_bytes,
    log: noop,
    logLevel: 'silent',
    workerName: 'rpr describe',
    createTimeoutMs: 10_000,
    callTimeoutMs: timeoutMs,
    inflight: () => 0,
  }).catch((error) => {
    throw toFailure(name, 'describe', error);
  });
  try {
    return checkDescription(
      name,
      parseAnswer(
        name,
        'describe',
        await instance.call('describe', '', timeoutMs).catch((e) => {
          throw toFailure(name, 'describe', e);
        }),
      ),
    );
  } finally {
    instance.discard();
  }
}
