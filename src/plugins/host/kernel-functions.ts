/**
 * Extism kernel functions (module extism:host/env) that rpr replaces for plugins on its own thread.
 *
 * Logging. Extism's log_* decode a whole line before handing it on (1 MiB lines in a loop cost
 * that much each). These look at the block's size first and decode at most LINE_BYTES, within the
 * call's log budget (log-budget.js); what is over is dropped and counted, and one line at the end
 * of the call says how much. (In a worker, the same budget is applied inside the worker by
 * worker-preload.js, before anything is posted.)
 *
 * Memory on rpr's own thread. Extism's alloc creates a block before it checks the cap (and keeps
 * it), and reports the refusal by a log line on which the host used to throw: a module built with
 * WebAssembly exception handling can catch a JavaScript exception (measured: catch_all does) and
 * keep allocating. Here alloc refuses before anything is created, counting the blocks the plugin
 * made in this call that are still there (blocks are dropped between calls), and then throws to
 * end the call at once; a plugin that catches that can only go on being refused until its time
 * limit, and the instance fails anyway.
 *
 * HTTP on rpr's own thread. Extism's foreground http_request only logs "not enabled" and returns
 * 0. A foreground plugin has no network permission, so rpr answers exactly as its fetch does in a
 * worker for a host that is not granted: status 403 and a JSON body, the denial reported once.
 */
import { CONTRACT } from '../contract.js';
import { urlTarget } from '../permissions/network.js';
import { CALL_BYTES, droppedLine, LINE_BUDGET, LINE_BYTES } from './log-budget.js';
import { kernelAccess, type CallContext } from './extism.js';
import type { HostFn, LogLevel, LogSink } from './instance.js';

export { CALL_BYTES, LINE_BUDGET, LINE_BYTES };

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];
const rank = (level: LogLevel): number => (level === 'silent' ? Infinity : LEVELS.indexOf(level));

export interface KernelOptions {
  plugin: string;
  log: LogSink;
  logLevel: LogLevel;
  /** On rpr's own thread: replace the log functions, alloc, and http_request & co. (no network there). */
  foreground: boolean;
  /** The cap on Extism's blocks in one call, in bytes (the foreground alloc enforces it). */
  kernelBytes: number;
  onNetworkDenied: (target: string, url: string) => void;
}

export interface Kernel {
  functions: Record<string, HostFn>;
  /** Opens a call's log budget. */
  begin(): void;
  /** Closes it, saying what was dropped. */
  end(): void;
  /** Why the call went over the kernel cap (foreground alloc), if it did; cleared by begin(). */
  overCap(): string | undefined;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Ends a call that went over the kernel cap (rpr's own thread: a throw from an import unwinds the wasm). */
class KernelCapExceeded extends Error {}

export function buildKernel(options: KernelOptions): Kernel {
  const threshold = rank(options.logLevel);
  let lines = 0;
  let bytes = 0;
  let droppedLines = 0;
  let droppedBytes = 0;
  /** Blocks the plugin made in this call: address -> size (freed ones are found and dropped when it matters). */
  const made = new Map<bigint, number>();
  let allocated = 0;
  let overCap: string | undefined;

  const alloc: HostFn = (ctx, length) => {
    const size = Number(length);
    // Refused once, refused for the rest of the call: Extism keeps a block it refuses itself.
    if (overCap !== undefined) throw new KernelCapExceeded(overCap);
    if (Number.isSafeInteger(size) && size >= 0 && allocated + size > options.kernelBytes) {
      const kernel = kernelAccess(ctx);
      for (const [addr, bytes] of made) {
        if (kernel.live(addr)) continue;
        made.delete(addr);
        allocated -= bytes;
      }
    }
    if (!Number.isSafeInteger(size) || size < 0 || allocated + size > options.kernelBytes) {
      overCap ??= `memory limit exceeded: a block of ${length} bytes asked for, ${Math.max(0, options.kernelBytes - allocated)} of ${options.kernelBytes} left`;
      throw new KernelCapExceeded(overCap);
    }
    // CallContext's own method: the env table's alloc is this function (rpr's replacements are
    // written into the very object Extism gives the module on rpr's thread).
    const addr = ctx.alloc(length!);
    if (addr === 0n) {
      // Extism's own cap (it counts what the host stored too) refused it, and kept the block.
      overCap ??= `memory limit exceeded: a block of ${length} bytes refused`;
      throw new KernelCapExceeded(overCap);
    }
    allocated += size;
    made.set(addr, size);
    return addr;
  };

  const logFn =
    (level: Level): HostFn =>
    (ctx, addr) => {
      try {
        const kernel = kernelAccess(ctx);
        const size = kernel.length(addr!);
        if (rank(level) >= threshold && size > 0) {
          if (lines >= LINE_BUDGET || bytes >= CALL_BYTES) {
            droppedLines++;
            droppedBytes += size;
          } else {
            const head = kernel.head(addr!, Math.min(LINE_BYTES, CALL_BYTES - bytes));
            lines++;
            bytes += head?.length ?? 0;
            const cut = size > (head?.length ?? 0) ? ` ...(${size} bytes)` : '';
            if (head) options.log(level, decoder.decode(head) + cut);
          }
        }
        kernel.free(addr!);
      } catch {
        // A bad address or a block already freed: nothing to log, and never a throw (it would kill a worker).
      }
    };

  const functions: Record<string, HostFn> = options.foreground
    ? {
        log_trace: logFn('trace'),
        log_debug: logFn('debug'),
        log_info: logFn('info'),
        log_warn: logFn('warn'),
        log_error: logFn('error'),
        alloc,
        ...deniedHttp(options),
      }
    : {};

  return {
    functions,
    begin: () => {
      lines = bytes = droppedLines = droppedBytes = allocated = 0;
      made.clear();
      overCap = undefined;
    },
    overCap: () => overCap,
    end: () => {
      if (droppedLines > 0) options.log('warn', droppedLine(droppedLines, droppedBytes));
      droppedLines = droppedBytes = 0;
    },
  };
}

function deniedHttp(options: KernelOptions): Record<string, HostFn> {
  let status = 0;
  const deny = (ctx: CallContext, requestAddr: bigint): string => {
    let url: URL;
    try {
      const head = kernelAccess(ctx).head(requestAddr, 16 * 1024);
      url = new URL(String((JSON.parse(decoder.decode(head ?? new Uint8Array())) as { url?: unknown }).url));
    } catch {
      status = CONTRACT.http_errors.invalid;
      return 'rpr: not a URL';
    }
    const target = url.protocol === 'http:' || url.protocol === 'https:' ? urlTarget(url) : url.protocol;
    options.onNetworkDenied(target, url.href);
    status = CONTRACT.http_errors.denied;
    return `rpr: network access to ${target} denied for plugin "${options.plugin}"`;
  };
  return {
    http_request: (ctx, requestAddr) => ctx.store(JSON.stringify({ error: deny(ctx, requestAddr!) })),
    http_status_code: () => status,
    http_headers: (ctx) => ctx.store(JSON.stringify({ 'content-type': 'application/json', 'x-rpr-error': '1' })),
  };
}
