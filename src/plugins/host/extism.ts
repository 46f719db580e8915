/**
 * The only module that touches @extism/extism (pinned to 2.0.0-rc13: a release candidate, and the
 * two internals read below are specific to it). Loaded lazily so that rpr runs without plugins pay
 * nothing for it, and after the WASI warning filter is in place.
 */
import type { Worker } from 'node:worker_threads';
import type { CompiledModule } from '../wasm/runtime.js';
import { silenceWasiWarning } from './quiet-wasi.js';

type ExtismModule = typeof import('@extism/extism');
export type ExtismPlugin = import('@extism/extism').Plugin;
export type ExtismOptions = import('@extism/extism').ExtismPluginOptions;
export type CallContext = import('@extism/extism').CallContext;

let sdk: Promise<ExtismModule> | undefined;

function loadSdk(): Promise<ExtismModule> {
  silenceWasiWarning();
  sdk ??= import('@extism/extism');
  return sdk;
}

/** Always a worker: only a worker can be stopped in a loop, and only a worker can do HTTP. */
export async function createWorkerPlugin(module: CompiledModule, options: Omit<ExtismOptions, 'runInWorker' | 'timeoutMs'>): Promise<ExtismPlugin> {
  const { createPlugin } = await loadSdk();
  // No SDK timeoutMs: its timeout handler recreates the worker in the background, which races with
  // our own watchdog and can leak a worker thread. The handle's watchdog owns every deadline.
  return createPlugin({ wasm: [{ module }] }, { ...options, runInWorker: true, timeoutMs: null });
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
