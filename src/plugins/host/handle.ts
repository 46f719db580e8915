/**
 * PluginHandle: what the rest of rpr holds for a loaded plugin. Calls are queued (an Extism
 * instance is not reentrant), each runs under the instance's watchdog, answers are parsed and
 * bounded here, and any failure but a plugin's own error report throws the instance away: the next
 * call gets a fresh one built from the cached compiled module, with init replayed.
 */
import { stat } from 'node:fs/promises';
import { monotonicMs } from '../../clock/clock.js';
import { CONTRACT, type PluginKind } from '../contract.js';
import { denied, PluginError, type Grant } from '../errors.js';
import { pinDifferences, pinOf } from '../manifest/pin.js';
import type { Permissions, PluginManifest } from '../manifest/types.js';
import type { Description, TopicMessage } from '../messages.js';
import type { TopicBus } from './bus.js';
import { buildGeneration, parseAnswer, runInit, toFailure, type Generation, type GenerationHooks } from './generation.js';
import { createInstance } from './create-instance.js';
import type { Instance, LogLevel, Placement } from './instance.js';

export interface HandleOptions {
  onLog: (level: Exclude<LogLevel, 'silent'>, message: string) => void;
  onDenied: (error: PluginError) => void;
  bus: TopicBus | undefined;
  hotReload: boolean;
}

export interface PluginStats {
  calls: number;
  failures: number;
  rebuilds: number; // instances rebuilt after a failure
  reloads: number;
  denials: number;
  /** ms to create the last instance (worker start + init). */
  lastCreateMs: number;
}

export interface ReloadResult {
  reloaded: boolean;
  /** Why a changed plugin was not taken (the old version keeps running). */
  error?: PluginError | Error;
  version: string;
}

/** Failures after which the instance is not trusted any more. */
const KEEPS_INSTANCE = new Set(['plugin-error', 'denied']);

const fileStamp = async (files: string[]): Promise<string> =>
  (
    await Promise.all(
      files.map((f) =>
        stat(f).then(
          (s) => `${s.mtimeMs}:${s.size}:${s.ino}`,
          () => 'missing',
        ),
      ),
    )
  ).join('|');

export class PluginHandle {
  #gen: Generation;
  #instance: Promise<Instance> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #hops = 0;
  #deadline = Infinity;
  #inflight = 0;
  readonly #closing = new AbortController();
  #stamp = '';
  #unsubscribe: (() => void)[] = [];
  readonly #deniedSeen = new Map<string, number>();
  readonly #hooks: GenerationHooks;
  readonly #options: HandleOptions;
  readonly stats: PluginStats = { calls: 0, failures: 0, rebuilds: 0, reloads: 0, denials: 0, lastCreateMs: 0 };

  /** Use loadPlugin(). */
  constructor(hooks: Omit<GenerationHooks, 'fn' | 'onNetworkDenied' | 'remainingMs' | 'inflight' | 'closed'>, options: HandleOptions) {
    this.#options = options;
    this.#hooks = {
      ...hooks,
      fn: {
        publish: (topic, payload) => this.#publish(topic, payload),
        denied: (what, detail, grant) => this.#denied(what, detail, grant),
        misuse: (fn, detail) => options.onLog('warn', `plugin "${this.name}" misused ${fn}: ${detail}`),
        enter: () => void this.#inflight++,
        leave: () => void this.#inflight--,
      },
      onNetworkDenied: (target, url) => this.#denied('network', `network access to ${target} denied (${url})`, { key: 'network', value: target }),
      remainingMs: () => this.#deadline - Date.now(),
      inflight: () => this.#inflight,
      closed: this.#closing.signal,
    };
    this.#gen = undefined as unknown as Generation;
  }

  /** Loads the first generation; throws if it does not work. */
  async start(manifest: PluginManifest): Promise<void> {
    const t0 = monotonicMs();
    const { gen, instance } = await buildGeneration(manifest, this.#hooks);
    this.stats.lastCreateMs = monotonicMs() - t0;
    this.#gen = gen;
    this.#instance = Promise.resolve(instance);
    this.#stamp = await fileStamp([manifest.file, manifest.wasm]);
    this.#subscribe();
  }

  get name(): string {
    return this.#gen.manifest.name;
  }
  get kind(): PluginKind {
    return this.#gen.manifest.kind;
  }
  get manifest(): PluginManifest {
    return this.#gen.manifest;
  }
  /** Effective permissions: (manifest ∩ narrowing) ∪ grants. */
  get permissions(): Permissions {
    return this.#gen.permissions;
  }
  /** The resolved config given to init / config_get. */
  get config(): Record<string, unknown> {
    return this.#gen.config;
  }
  describe(): Description {
    return this.#gen.description;
  }
  /** Where its instances run: rpr's own thread or a worker; on rpr's own thread, metered (fuel.ts) or not. */
  get placement(): Placement {
    return this.#gen.spec.placement;
  }
  get metered(): boolean {
    return this.#gen.spec.metered;
  }
  /** Each distinct denial with how often it happened. */
  denials(): { message: string; count: number }[] {
    return [...this.#deniedSeen].map(([message, count]) => ({ message, count }));
  }
  /** Calls an export of the contract with a JSON input; resolves to its parsed JSON answer. */
  call<T = unknown>(fn: string, input?: unknown): Promise<T> {
    return this.#enqueue(() => this.#callNow(fn, input === undefined ? '' : JSON.stringify(input), 0)) as Promise<T>;
  }

  /** If the plugin's files changed on disk, loads the new version; keeps the old one if it fails. */
  reloadIfChanged(): Promise<ReloadResult> {
    return this.#enqueue(() => this.#reloadNow());
  }
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#unsubscribe) off();
    // Discard first: a call stuck in a loop ends now (its worker is terminated), not at its timeout.
    const instance = await this.#instance?.catch(() => undefined);
    instance?.discard();
    this.#closing.abort();
    await this.#queue.catch(() => {});
  }
  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }

  #allowed(fn: string): boolean {
    const spec = [...CONTRACT.exports.all, ...CONTRACT.exports[this.kind], ...CONTRACT.exports.optional];
    return fn !== '_initialize' && spec.some((e) => e.name === fn) && this.#gen.exports.has(fn);
  }

  async #callNow(fn: string, input: string, hops: number): Promise<unknown> {
    if (this.#closed) throw new PluginError(this.name, fn, 'closed', 'the plugin was closed');
    if (!this.#allowed(fn)) throw new PluginError(this.name, fn, 'abi', `"${fn}" is not an export this ${this.kind} plugin provides under ABI ${CONTRACT.abi}`);
    if (this.#options.hotReload) await this.#reloadNow();
    this.stats.calls++;
    const gen = this.#gen;
    let instance: Instance;
    try {
      instance = await this.#ensureInstance();
    } catch (error) {
      this.stats.failures++;
      throw toFailure(this.name, fn, error);
    }
    this.#hops = hops;
    this.#deadline = Date.now() + gen.permissions.timeoutMs;
    try {
      const raw = await instance.call(fn, input, gen.permissions.timeoutMs);
      const value = parseAnswer(this.name, fn, raw);
      if (fn === 'init') gen.initInput = input;
      return value;
    } catch (error) {
      const failure = toFailure(this.name, fn, error);
      this.stats.failures++;
      if (!KEEPS_INSTANCE.has(failure.failure)) this.#rebuildSoon(instance, failure);
      throw failure;
    } finally {
      this.#hops = 0;
      this.#deadline = Infinity;
    }
  }

  #ensureInstance(): Promise<Instance> {
    if (!this.#instance) this.#instance = this.#spawn();
    const pending = this.#instance;
    // A failed rebuild is retried at the next call rather than remembered forever.
    pending.catch(() => {
      if (this.#instance === pending) this.#instance = undefined;
    });
    return pending;
  }

  async #spawn(): Promise<Instance> {
    const gen = this.#gen;
    const t0 = monotonicMs();
    let instance: Instance;
    try {
      instance = await createInstance(gen.spec);
    } catch (error) {
      throw toFailure(this.name, 'rebuild', error);
    }
    try {
      await runInit(gen, instance);
    } catch (error) {
      instance.discard();
      throw error;
    }
    this.stats.lastCreateMs = monotonicMs() - t0;
    return instance;
  }

  /** Drops the failed instance and starts building its replacement right away. */
  #rebuildSoon(failed: Instance, failure: PluginError): void {
    failed.discard();
    this.#instance = undefined;
    // A call cut short by close() is no reason to rebuild, nor to say so.
    if (this.#closed) return;
    this.stats.rebuilds++;
    this.#options.onLog('warn', `plugin "${this.name}": rebuilding the instance after: ${failure.message}`);
    this.#ensureInstance().catch(() => {});
  }

  async #reloadNow(): Promise<ReloadResult> {
    const current = this.#gen.manifest;
    const version = current.version;
    const stamp = await fileStamp([current.file, current.wasm]);
    if (stamp === this.#stamp) return { reloaded: false, version };
    this.#stamp = stamp;
    let next: { gen: Generation; instance: Instance };
    try {
      // The TOML parser is loaded only when a plugin's files change (installed plugins; bundled ones never do).
      const { readManifest } = await import('../manifest/parse.js');
      const manifest = await readManifest(current.file);
      if (manifest.name !== current.name) throw new PluginError(current.name, 'reload', 'load', `the new manifest names another plugin, "${manifest.name}"`);
      // The job was started with what the user agreed to; a running plugin never gets more (or other) permissions.
      const changed = pinDifferences(pinOf(current), pinOf(manifest));
      if (changed.length > 0) throw new PluginError(current.name, 'reload', 'denied', `the new plugin.toml asks for other permissions (${changed.join('; ')}); restart the job to take them`);
      next = await buildGeneration(manifest, this.#hooks);
      // The stamp may have moved while we built (a copy in progress): take what we built, check again next time.
      this.#stamp = await fileStamp([manifest.file, manifest.wasm]);
    } catch (error) {
      const why = error instanceof Error ? error : new Error(String(error));
      this.#options.onLog('warn', `plugin "${current.name}": the changed plugin does not load, keeping version ${version}: ${why.message}`);
      return { reloaded: false, error: why, version };
    }
    const old = await this.#instance?.catch(() => undefined);
    old?.discard();
    for (const off of this.#unsubscribe) off();
    this.#gen = next.gen;
    this.#instance = Promise.resolve(next.instance);
    this.#subscribe();
    this.stats.reloads++;
    this.#options.onLog('info', `plugin "${this.name}": reloaded version ${next.gen.manifest.version} (was ${version})`);
    return { reloaded: true, version: next.gen.manifest.version };
  }

  #denied(what: string, detail: string, grant: Grant): void {
    this.stats.denials++;
    const count = this.#deniedSeen.get(detail) ?? 0;
    this.#deniedSeen.set(detail, count + 1);
    // Report each distinct denial once: a plugin looping on a refused call must not flood stderr.
    if (count === 0) this.#options.onDenied(denied(this.name, what, detail, undefined, grant));
  }

  #publish(topic: string, payload: unknown): void {
    this.#options.bus?.publish({ topic, from: this.name, payload }, this.#hops + 1);
  }

  #subscribe(): void {
    const bus = this.#options.bus;
    this.#unsubscribe = [];
    if (!bus || !this.#gen.exports.has('on_topic')) return;
    for (const topic of this.#gen.permissions.subscribe) {
      this.#unsubscribe.push(bus.subscribe(topic, (message, hops) => this.#deliver(message, hops)));
    }
  }

  #deliver(message: TopicMessage, hops: number): void {
    if (this.#closed) return;
    this.#enqueue(() => this.#callNow('on_topic', JSON.stringify(message), hops))
      .then((answer) => {
        const ack = answer as { ok?: unknown; error?: unknown } | undefined;
        if (ack !== undefined && ack.ok === false) throw new PluginError(this.name, 'on_topic', 'plugin-error', String(ack.error ?? 'failed'));
      })
      .catch((error: Error) => this.#options.onLog('warn', `plugin "${this.name}": delivery of topic "${message.topic}" failed: ${error.message}`));
  }
}
