/**
 * An instance on rpr's own thread. Extism rc13 runs a foreground export synchronously inside
 * call() (it only awaits when the module suspends, which needs JSPI), so the whole wasm call has one
 * deadline: a metered module (wasm/meter.ts) is stopped by its own fuel count at the call's time
 * limit (fuel.ts); another one by V8, in one section guarded by node:vm's watchdog (guard.ts). The
 * instance, whose state is then undefined, is thrown away. Building a new one from the compiled
 * module takes ~1 ms, against ~40 ms and a thread for a worker.
 */
import { createForegroundPlugin, type ExtismPlugin, type PluginOutput } from './extism.js';
import { Fuel } from './fuel.js';
import { GuardTimeout, runGuarded } from './guard.js';
import { CallFailure, classify, extismLogger, oomFailure, takeAnswer, type Instance, type InstanceSpec } from './instance.js';

/** Never called: a foreground plugin has no network, and rpr's http_request answers for it. */
const noFetch = (() => Promise.resolve(new Response(null, { status: 403 }))) as typeof fetch;

/**
 * A signal that came while the thread was held (Ctrl-C at a stuck plugin) is handled before the
 * failure: the job ends as the user asked, not as a plugin failure. (Two turns: the signal's
 * wake-up is read in the poll phase of the next loop iteration.)
 */
async function signalsFirst(): Promise<void> {
  for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
}

export class ForegroundInstance implements Instance {
  readonly #plugin: ExtismPlugin;
  readonly #spec: InstanceSpec;
  readonly #fuel: Fuel | undefined;
  #dead: string | undefined;
  #oom: string | undefined;

  private constructor(plugin: ExtismPlugin, spec: InstanceSpec, fuel: Fuel | undefined) {
    this.#plugin = plugin;
    this.#spec = spec;
    this.#fuel = fuel;
  }

  static async create(spec: InstanceSpec): Promise<ForegroundInstance> {
    let self: ForegroundInstance | undefined;
    const fuel = spec.metered ? new Fuel() : undefined;
    // Copies: the SDK adds to the namespaces it is given.
    const functions = { 'extism:host/user': { ...spec.userFunctions }, 'extism:host/env': { ...spec.kernelFunctions } };
    const plugin = await createForegroundPlugin(spec.module, {
      useWasi: false,
      allowedHosts: [],
      // Ours, so that the SDK does not touch the global fetch (loading undici costs ~25 ms).
      fetch: noFetch,
      functions: (fuel ? fuel.functions(functions) : functions) as never,
      config: spec.config,
      memory: { maxPages: spec.kernelPages, maxHttpResponseBytes: spec.maxHttpResponseBytes, maxVarBytes: 1 << 20 },
      // Never a throw from here: a module with exception handling could catch it and go on. The
      // plugin's own allocations are refused before they are made (kernel-functions.ts); this is
      // Extism's check of what the host stores for it.
      logger: extismLogger(spec.log, (message) => {
        if (self) self.#oom ??= message;
      }),
      logLevel: spec.logLevel,
      enableWasiOutput: false,
    });
    const instance = new ForegroundInstance(plugin, spec, fuel);
    self = instance;
    for (const fn of spec.initExports) await instance.call(fn, '', spec.callTimeoutMs);
    return instance;
  }

  get dead(): boolean {
    return this.#dead !== undefined;
  }

  async call(fn: string, input: string, timeoutMs: number): Promise<Uint8Array | null> {
    if (this.#dead !== undefined) throw new CallFailure('worker-died', this.#dead);
    let pending: Promise<PluginOutput | null> | undefined;
    const start = () => {
      pending = this.#plugin.call(fn, input);
    };
    const timedOut = () => new CallFailure('timeout', `did not answer within ${timeoutMs} ms; the plugin was stopped`);
    this.#spec.onCallStart();
    try {
      try {
        if (this.#fuel) this.#fuel.run(start, timeoutMs);
        else runGuarded(start, timeoutMs);
      } catch (error) {
        this.discard();
        await signalsFirst();
        if (error instanceof GuardTimeout) throw timedOut();
        throw classify(error);
      }
      let out: PluginOutput | null;
      const overCap = () => this.#spec.kernelOverCap() ?? this.#oom;
      try {
        out = await pending!;
      } catch (error) {
        if (this.#fuel?.expired) {
          this.discard();
          await signalsFirst();
          throw timedOut();
        }
        const oom = overCap();
        if (oom !== undefined) throw this.#failed(oomFailure(oom));
        const failure = classify(error);
        if (failure.kind !== 'plugin-error') this.discard();
        throw failure;
      }
      // The plugin may have ignored the refused allocation and answered anyway: the cap still holds.
      const oom = overCap();
      if (oom !== undefined) throw this.#failed(oomFailure(oom));
      try {
        return takeAnswer(out, this.#spec.maxAnswerBytes);
      } catch (error) {
        throw this.#failed(error as CallFailure);
      }
    } finally {
      this.#spec.onCallEnd();
    }
  }

  #failed(failure: CallFailure): CallFailure {
    this.discard();
    return failure;
  }

  discard(): void {
    if (this.#dead !== undefined) return;
    this.#dead = 'instance was discarded';
    // Nothing runs in the background: dropping the references is all it takes.
    this.#plugin.close().catch(() => {});
  }
}
