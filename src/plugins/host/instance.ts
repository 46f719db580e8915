/**
 * One live Extism instance of a plugin, in one of two places:
 * - `foreground`: on rpr's own thread, each call under a V8 execution timeout (foreground-instance.ts).
 *   ~0.1 ms a call and ~1 ms to build; for plugins whose permissions need no network and no files.
 * - `worker`: in a worker thread with a watchdog that terminates it (worker-instance.ts). Needed for
 *   HTTP (Extism's http_request is asynchronous and Node 20 has no JSPI) and kept for WASI, whose
 *   calls may block in the kernel where no execution timeout reaches.
 * A failed instance is thrown away whole; the handle builds a fresh one from the cached compiled
 * module. Nothing here retries: it reports what happened as a CallFailure.
 */
import type { CompiledModule } from '../wasm/runtime.js';
import type { CallContext, PluginOutput } from './extism.js';

export type FailureKind = 'timeout' | 'trap' | 'worker-died' | 'plugin-error' | 'too-large';

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
export type Placement = 'foreground' | 'worker';
// biome-ignore lint/suspicious/noConfusingVoidType: a host function that returns nothing is a void function, not one returning undefined
export type HostFn = (ctx: CallContext, ...args: bigint[]) => bigint | number | void;

export interface InstanceSpec {
  placement: Placement;
  module: CompiledModule;
  /** The module counts its own work (wasm/meter.ts): its calls need no node:vm watchdog. */
  metered: boolean;
  /** Exports to call once on every fresh instance (moved start function, _initialize, hs_init). */
  initExports: string[];
  /** Module extism:host/user: rpr's host functions. */
  userFunctions: Record<string, HostFn>;
  /** Module extism:host/env: Extism kernel functions rpr replaces (log_*, and HTTP in the foreground). */
  kernelFunctions: Record<string, HostFn>;
  /** Start and end of every call (the per-call log budget). */
  onCallStart: () => void;
  onCallEnd: () => void;
  /** Why the call just made went over the kernel cap (rpr's own thread only), if it did. */
  kernelOverCap: () => string | undefined;
  fetch: typeof fetch;
  allowedPaths: Record<string, string>;
  /** Extism config (config_get): the resolved plugin config, as text. */
  config: Record<string, string>;
  /** Extism's own blocks (inputs, answers, HTTP bodies, log lines), apart from the plugin's linear memory. */
  kernelPages: number;
  maxHttpResponseBytes: number;
  /** Larger answers are refused before they are copied out of the instance. */
  maxAnswerBytes: number;
  /** Where Extism's own notices go (the plugin's lines come through kernelFunctions). */
  log: LogSink;
  /** The level the plugin is told (get_log_level) so that it can skip lines nobody reads. */
  logLevel: LogLevel;
  workerName: string;
  createTimeoutMs: number;
  callTimeoutMs: number;
  /** Host calls of this plugin still running (worker teardown needs it). */
  inflight: () => number;
}

export interface Instance {
  readonly dead: boolean;
  /** Calls an export; resolves to its output bytes (null for none) or rejects with a CallFailure. */
  call(fn: string, input: string, timeoutMs: number): Promise<Uint8Array | null>;
  /** Stops the instance now; a call in progress is abandoned. */
  discard(): void;
}

/**
 * rc13's kernel alloc pushes a block *before* checking memory.maxPages, logs "memory limit
 * exceeded" and returns 0: a plugin that ignores the 0 and keeps allocating grows rpr's memory until
 * its timeout (measured: +42 MB in 500 ms with 64 KiB blocks). That log line is our signal to stop
 * the instance at once.
 */
const KERNEL_OOM = /^memory limit exceeded/;

/** Extism's logger for one instance: kernel OOM goes to `onKernelOom`, the rest to `log`. */
export function extismLogger(log: LogSink, onKernelOom: (message: string) => void): Console {
  const to = (level: Exclude<LogLevel, 'silent'>) => (message: unknown) => {
    const text = String(message);
    if (level === 'error' && KERNEL_OOM.test(text)) onKernelOom(text);
    else log(level, text);
  };
  return { trace: to('trace'), debug: to('debug'), info: to('info'), warn: to('warn'), error: to('error'), log: to('info') } as unknown as Console;
}

export const oomFailure = (message: string): CallFailure => new CallFailure('trap', `exceeded its memory cap (${message}); the plugin was stopped`);

/** Extism rejects with an Error for its own and host-function failures, with a plain object for worker traps. */
export function classify(error: unknown): CallFailure {
  if (error instanceof CallFailure) return error;
  if (error instanceof Error) {
    const m = /^Plugin-originated error: ([\s\S]*)$/.exec(error.message);
    if (m) return new CallFailure('plugin-error', m[1]!.trim() || 'failed (no reason given)');
    // A trap on our own thread is a WebAssembly.RuntimeError (or a RangeError for the stack).
    if (error.name === 'RuntimeError' || error.name === 'RangeError') return new CallFailure('trap', `trapped: ${error.message}`);
    return new CallFailure('worker-died', `instance failed: ${error.message}`);
  }
  const message = (error as { message?: unknown } | null)?.message;
  return new CallFailure('trap', `trapped: ${typeof message === 'string' ? message : String(error)}`);
}

/** The answer's bytes, copied out of the SDK's buffer only once its size is known to be allowed. */
export function takeAnswer(output: PluginOutput | null, maxBytes: number): Uint8Array | null {
  if (output === null) return null;
  // A DataView over the SDK's block (its d.ts does not say so without the DOM lib).
  const out = output as unknown as { buffer: ArrayBuffer; byteOffset: number; byteLength: number };
  if (out.byteLength > maxBytes) throw new CallFailure('too-large', `answer of ${out.byteLength} bytes is larger than ${maxBytes}`);
  return new Uint8Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
}
