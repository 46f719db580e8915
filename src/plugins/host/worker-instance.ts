/**
 * An instance in a worker thread, with a watchdog around every call: on expiry the worker is
 * terminated, which stops a loop within milliseconds. Used for plugins that need HTTP or WASI.
 */
import { createWorkerPlugin, internals, type BackgroundInternals, type ExtismPlugin } from './extism.js';
import { CallFailure, classify, extismLogger, oomFailure, takeAnswer, type Instance, type InstanceSpec } from './instance.js';
import { releaseWriter } from './unstick.js';

/**
 * rc13 passes host-call replies through a SharedArrayBuffer guarded by Atomics.wait/waitAsync with a
 * 500 ms timeout, and a wake-up gets lost now and then (measured under load: p99 of a call with one
 * host-function round trip ~520 ms, and at times nearly every call stalled 500 ms). Both sides
 * re-check their condition when woken, so a periodic notify during a call turns a lost wake-up into
 * a few milliseconds.
 */
const KICK_MS = 4;

/** Bounds the plugin's log lines inside the worker, before they are posted (see the file). */
const PRELOAD = new URL('./worker-preload.js', import.meta.url).href;
function wakeWaiters(shared: SharedArrayBuffer): NodeJS.Timeout {
  const flag = new Int32Array(shared, 0, 1);
  const timer = setInterval(() => Atomics.notify(flag, 0), KICK_MS);
  timer.unref();
  return timer;
}

export class WorkerInstance implements Instance {
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

  static async create(spec: InstanceSpec): Promise<WorkerInstance> {
    let self: WorkerInstance | undefined;
    const pending = createWorkerPlugin(spec.module, {
      useWasi: Object.keys(spec.allowedPaths).length > 0,
      allowedPaths: spec.allowedPaths,
      // Match-all for Extism's hostname-only check; the real check is in spec.fetch. The empty
      // string lets URLs without a host (file:, data:) reach our fetch and be refused there,
      // instead of making Extism throw (which kills the instance).
      allowedHosts: ['*', ''],
      fetch: spec.fetch,
      // Copies: the SDK adds its own entries to the objects it is given.
      functions: { 'extism:host/user': { ...spec.userFunctions }, 'extism:host/env': { ...spec.kernelFunctions } } as never,
      config: spec.config,
      memory: { maxPages: spec.kernelPages, maxHttpResponseBytes: spec.maxHttpResponseBytes, maxVarBytes: 1 << 20 },
      logger: extismLogger(spec.log, (message) => {
        if (self) self.#fail(oomFailure(message));
      }),
      logLevel: spec.logLevel,
      enableWasiOutput: false,
      nodeWorkerArgs: { name: spec.workerName, execArgv: ['--disable-warning=ExperimentalWarning', '--import', PRELOAD] },
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
      pending.then(
        (p) => p.close(),
        () => {},
      );
      throw error instanceof CallFailure ? error : new CallFailure('worker-died', `cannot start: ${(error as Error)?.message ?? error}`);
    } finally {
      clearTimeout(timer);
    }
    const instance = new WorkerInstance(plugin, spec);
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
    // Extism's background plugin never drops the blocks of earlier calls: without a reset the block
    // table grows by every input and answer (measured: RSS +65 MB over 5,000 deliveries, and at
    // 32,768 blocks addresses overflow and every call traps).
    const result = this.#plugin.reset().then(() => {
      this.#spec.onCallStart();
      return this.#plugin.call(fn, input);
    });
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
          (out) => {
            try {
              resolve(takeAnswer(out, this.#spec.maxAnswerBytes));
            } catch (error) {
              reject(error);
              this.discard();
            }
          },
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
      this.#spec.onCallEnd();
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
