/**
 * The only module that touches @extism/extism (pinned to 2.0.0-rc13: a release candidate, and the
 * internals read below are specific to it). Loaded lazily so that rpr runs without plugins pay
 * nothing for it, and after the WASI warning filter is in place.
 */
import type { Worker } from 'node:worker_threads';
import type { CompiledModule } from '../wasm/runtime.js';
import { silenceWasiWarning } from './quiet-wasi.js';

type ExtismModule = typeof import('@extism/extism');
export type ExtismPlugin = import('@extism/extism').Plugin;
type ExtismOptions = import('@extism/extism').ExtismPluginOptions;
export type CallContext = import('@extism/extism').CallContext;
export type PluginOutput = import('@extism/extism').PluginOutput;

let sdk: Promise<ExtismModule> | undefined;

function loadSdk(): Promise<ExtismModule> {
  silenceWasiWarning();
  sdk ??= import('@extism/extism');
  return sdk;
}

/** Starts loading the SDK ahead of the first instance (create-instance.ts); its failure is reported there. */
export function preloadSdk(): void {
  loadSdk().catch(() => undefined);
}

type CreateOptions = Omit<ExtismOptions, 'runInWorker' | 'timeoutMs'>;

/** In a worker thread: the only place HTTP works, and a loop can be stopped by terminating it. */
export async function createWorkerPlugin(module: CompiledModule, options: CreateOptions): Promise<ExtismPlugin> {
  const { createPlugin } = await loadSdk();
  // No SDK timeoutMs: its timeout handler recreates the worker in the background, which races with
  // our own watchdog and can leak a worker thread. The instance's watchdog owns every deadline.
  return createPlugin(module, { ...options, runInWorker: true, timeoutMs: null });
}

/** On this thread: every call runs synchronously inside Extism's call() (no JSPI on Node 20). */
export async function createForegroundPlugin(module: CompiledModule, options: CreateOptions): Promise<ExtismPlugin> {
  const { createPlugin } = await loadSdk();
  // The module itself, not { wasm: [{ module }] }: the SDK tests any other manifest with
  // `instanceof Response`, and touching Response loads undici (~7-25 ms) in a job that makes no request.
  return createPlugin(module, { ...options, runInWorker: false, timeoutMs: null });
}

/**
 * rc13's BackgroundPlugin keeps its worker and shared buffer in public fields. We need the worker to
 * notice it dying (the SDK does not listen) and the buffer to release a host-call reply that waits
 * for a worker we terminated (see unstick.ts).
 */
export interface BackgroundInternals {
  worker: Worker | null;
  sharedData: SharedArrayBuffer;
}

export function internals(plugin: ExtismPlugin): BackgroundInternals {
  const p = plugin as unknown as Partial<BackgroundInternals>;
  if (!(p.sharedData instanceof SharedArrayBuffer) || p.worker === undefined) {
    throw new Error('unexpected @extism/extism internals: rpr needs exactly 2.0.0-rc13');
  }
  return p as BackgroundInternals;
}

interface Block {
  buffer: ArrayBufferLike;
}

/** What the kernel replacements need of a CallContext that its public API does not give. */
export interface KernelAccess {
  /** Size of a block, without copying it (0 for a bad address). */
  length(addr: bigint): number;
  /** At most `max` bytes from the start of a block (a copy), or null for a bad address. */
  head(addr: bigint, max: number): Uint8Array | null;
  /** Frees a block, as Extism's own log functions do once a line is written. */
  free(addr: bigint): void;
  /** Whether the block at this address still exists (not freed). */
  live(addr: bigint): boolean;
}

const symbolNamed = (o: object, name: string): symbol | undefined => Object.getOwnPropertySymbols(o).find((s) => s.description === name);

/**
 * rc13 keeps the kernel (`env`, with free) and the block table (`get-block`) behind module-private
 * symbols; found by their descriptions. CallContext.read() would copy a whole block (1 MiB log
 * lines included) before we could look at its size.
 */
export function kernelAccess(ctx: CallContext): KernelAccess {
  const envSym = symbolNamed(ctx, 'env');
  const blockSym = symbolNamed(Object.getPrototypeOf(ctx) as object, 'get-block');
  const env = envSym ? (ctx as unknown as Record<symbol, { free?: (a: bigint) => void }>)[envSym] : undefined;
  const getBlock = blockSym ? (ctx as unknown as Record<symbol, (i: number) => Block>)[blockSym] : undefined;
  if (typeof env?.free !== 'function' || typeof getBlock !== 'function') {
    throw new Error('unexpected @extism/extism internals: rpr needs exactly 2.0.0-rc13');
  }
  const block = (addr: bigint): Block | null => {
    if (typeof addr !== 'bigint' || addr <= 0n) return null;
    try {
      return getBlock.call(ctx, Number(addr >> 48n));
    } catch {
      return null;
    }
  };
  return {
    length: (addr) => block(addr)?.buffer.byteLength ?? 0,
    head: (addr, max) => {
      const b = block(addr);
      return b ? new Uint8Array(b.buffer, 0, Math.min(max, b.buffer.byteLength)).slice() : null;
    },
    free: (addr) => {
      if (block(addr)) env.free!(addr);
    },
    live: (addr) => block(addr) !== null,
  };
}
