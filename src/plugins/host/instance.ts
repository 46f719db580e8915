/**
 * One live Extism instance in a worker, with a watchdog around every call. A failed instance is
 * thrown away whole (worker terminated); the handle builds a fresh one from the cached compiled
 * module. Nothing here retries: it reports what happened as a CallFailure.
 */
import type { CompiledModule } from '../wasm/runtime.js';
import { createWorkerPlugin, internals, type BackgroundInternals, type CallContext, type ExtismPlugin } from './extism.js';
import { releaseWriter } from './unstick.js';

export type FailureKind = 'timeout' | 'trap' | 'worker-died' | 'plugin-error';

export class CallFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'CallFailure';
  }
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogSink = (level: Exclude<LogLevel, 'silent'>, message: string) => void;

export interface InstanceSpec {
  module: CompiledModule;
  /** Exports to call once on every fresh instance (moved start function, _initialize). */
  initExports: string[];
  userFunctions: Record<string, (ctx: CallContext, ...args: bigint[]) => bigint | number>;
  fetch: typeof fetch;
  allowedPaths: Record<string, string>;
  /** Extism config (config_get): the resolved plugin config, as text. */
  config: Record<string, string>;
  maxPages: number;
  maxHttpResponseBytes: number;
  log: LogSink;
  logLevel: LogLevel;
  workerName: string;
  createTimeoutMs: number;
  callTimeoutMs: number;
  /** Host calls of this plugin still running (for releaseWriter). */
  inflight: () => number;
}

/**
 * rc13's kernel alloc pushes a block *before* checking memory.maxPages, logs "memory limit
 * exceeded" and returns 0: a plugin that ignores the 0 and keeps allocating grows the worker's
 * memory until its timeout (measured: +42 MB in 500 ms with 64 KiB blocks). That log line is our
 * signal to stop the instance at once.
 */
const KERNEL_OOM = /^memory limit exceeded/;

function logger(log: LogSink, onKernelOom: (message: string) => void): Console {
  const to = (level: Exclude<LogLevel, 'silent'>) => (message: unknown) => {
    const text = String(message);
    if (level === 'error' && KERNEL_OOM.test(text)) onKernelOom(text);
    else log(level, text);
  };
  return { trace: to('trace'), debug: to('debug'), info: to('info'), warn: to('warn'), error: to('error'), log: to('info') } as unknown as Console;
}

/** Extism rejects with an Error for its own and host-function failures, with a plain object for traps. */
function classify(error: unknown): CallFailure {
  if (error instanceof Error) {
    const m = /^Plugin-originated error: ([\s\S]*)$/.exec(error.message);
    if (m) return new CallFailure('plugin-error', m[1]!.trim() || 'failed (no reason given)');
    return new CallFailure('worker-died', `instance failed: ${error.message}`);
  }
  const message = (error as { message?: unknown } | null)?.message;
  return new CallFailure('trap', `trapped: ${typeof message === 'string' ? message : String(error)}`);
}

/**
 * rc13 passes host-call replies through a SharedArrayBuffer guarded by Atomics.wait/waitAsync with a
 * 500 ms timeout, and a wake-up gets lost now and then (measured under load: p99 of a call with one
 * host-function round trip ~520 ms, and at times nearly every call stalled 500 ms). Both sides
 * re-check their condition when woken, so a periodic notify during a call turns a lost wake-up into
 * a few milliseconds.
 */
const KICK_MS = 4;
function wakeWaiters(shared: SharedArrayBuffer): NodeJS.Timeout {
  const flag = new Int32Array(shared, 0, 1);
  const timer = setInterval(() => Atomics.notify(flag, 0), KICK_MS);
  timer.unref();
  return timer;
}

export class Instance {
  readonly #plugin: ExtismPlugin;
  readonly #internals: BackgroundInternals;
  readonly #spec: InstanceSpec;
  #dead: string | undefined;
  #discarded = false;
  #onDeath: ((reason: string) => void) | undefined;
  #onFail: ((failure: CallFailure) => void) | undefined;

  private constructor(plugin: ExtismPlugin, spec: InstanceSpec) {
    this.#plugin = plugin;
    this.#spec = spec;
    this.#internals = internals(plugin);
    const worker = this.#internals.worker;
    let lastError = '';
    // Without an 'error' listener a worker error is rethrown on the main thread: rpr would crash.
    worker?.on('error', (error) => {
      lastError = `: ${error.message}`;
    });
    worker?.on('exit', (code) => {
      if (this.#dead !== undefined) return;
      this.#markDead(`worker exited (code ${code})${lastError}`);
      this.discard();
    });
  }

  static async create(spec: InstanceSpec): Promise<Instance> {
    let self: Instance | undefined;
    const onKernelOom = (message: string) => {
      if (self) self.#fail(new CallFailure('trap', `exceeded its memory cap (${message}); the plugin was stopped`));
    };
    const pending = createWorkerPlugin(spec.module, {
      useWasi: Object.keys(spec.allowedPaths).length > 0,
      allowedPaths: spec.allowedPaths,
      // Match-all for Extism's hostname-only check; the real check is in spec.fetch. The empty
      // string lets URLs without a host (file:, data:) reach our fetch and be refused there,
      // instead of making Extism throw (which kills the instance).
      allowedHosts: ['*', ''],
      fetch: spec.fetch,
      functions: { 'extism:host/user': spec.userFunctions },
      config: spec.config,
      memory: { maxPages: spec.maxPages, maxHttpResponseBytes: spec.maxHttpResponseBytes, maxVarBytes: 1 << 20 },
      logger: logger(spec.log, onKernelOom),
      logLevel: spec.logLevel,
      enableWasiOutput: false,
      nodeWorkerArgs: { name: spec.workerName, execArgv: ['--disable-warning=ExperimentalWarning'] },
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CallFailure('timeout', `worker did not start within ${spec.createTimeoutMs} ms`)), spec.createTimeoutMs);
    });
    let plugin: ExtismPlugin;
    try {
      plugin = await Promise.race([pending, deadline]);
    } catch (error) {
      // It may still start later: make sure it does not outlive us.
      pending.then((p) => p.close(), () => {});
      throw error instanceof CallFailure ? error : new CallFailure('worker-died', `cannot start: ${(error as Error)?.message ?? error}`);
    } finally {
      clearTimeout(timer);
    }
    const instance = new Instance(plugin, spec);
    self = instance;
    try {
      for (const fn of spec.initExports) await instance.call(fn, '', spec.callTimeoutMs);
    } catch (error) {
      instance.discard();
      throw error;
    }
    return instance;
  }

  get dead(): boolean {
    return this.#dead !== undefined;
  }

  async call(fn: string, input: string, timeoutMs: number): Promise<Uint8Array | null> {
    if (this.#dead !== undefined) throw new CallFailure('worker-died', this.#dead);
    const result = this.#plugin.call(fn, input);
    // If the watchdog wins, this promise may settle late or never; it must not be an unhandled rejection.
    result.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const kick = wakeWaiters(this.#internals.sharedData);
    try {
      return await new Promise<Uint8Array | null>((resolve, reject) => {
        // Reject before discarding: discarding reports a death, which is not what happened.
        timer = setTimeout(() => {
          reject(new CallFailure('timeout', `did not answer within ${timeoutMs} ms; the plugin was stopped`));
          this.discard();
        }, timeoutMs);
        this.#onDeath = (reason) => reject(new CallFailure('worker-died', reason));
        this.#onFail = reject;
        result.then(
          // Copy: the output may be a view on memory the SDK reuses.
          (out) => resolve(out === null ? null : new Uint8Array(out.bytes())),
          (error) => {
            const failure = classify(error);
            reject(failure);
            if (failure.kind !== 'plugin-error') this.discard();
          },
        );
      });
    } finally {
      clearTimeout(timer);
      clearInterval(kick);
      this.#onDeath = undefined;
      this.#onFail = undefined;
    }
  }

  /** Ends the call in progress with `failure` and throws the instance away. */
  #fail(failure: CallFailure): void {
    this.#onFail?.(failure);
    this.discard();
  }

  #markDead(reason: string): void {
    this.#dead = reason;
    this.#onDeath?.(reason);
  }

  /** Terminates the worker (stops a loop within milliseconds); pending calls are abandoned. */
  discard(): void {
    if (this.#discarded) return;
    this.#discarded = true;
    if (this.#dead === undefined) this.#markDead('instance was discarded');
    const shared = this.#internals.sharedData;
    this.#plugin.close().catch(() => {});
    releaseWriter(shared, this.#spec.inflight);
  }
}
