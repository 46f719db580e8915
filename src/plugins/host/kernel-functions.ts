/**
 * Extism kernel functions (module extism:host/env) that rpr replaces for plugins on its own thread.
 *
 * Logging. Extism's log_* decode a whole line before handing it on (1 MiB lines in a loop cost
 * that much each). These look at the block's size first and decode at most LINE_BYTES, within the
 * call's log budget (log-budget.js); what is over is dropped and counted, and one line at the end
 * of the call says how much. (In a worker, the same budget is applied inside the worker by
 * worker-preload.js, before anything is posted.)
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
  /** On rpr's own thread: replace the log functions, and http_request & co. (no network there). */
  foreground: boolean;
  onNetworkDenied: (target: string, url: string) => void;
}

export interface Kernel {
  functions: Record<string, HostFn>;
  /** Opens a call's log budget. */
  begin(): void;
  /** Closes it, saying what was dropped. */
  end(): void;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

export function buildKernel(options: KernelOptions): Kernel {
  const threshold = rank(options.logLevel);
  let lines = 0;
  let bytes = 0;
  let droppedLines = 0;
  let droppedBytes = 0;

  const logFn = (level: Level): HostFn => (ctx, addr) => {
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
        ...deniedHttp(options),
      }
    : {};

  return {
    functions,
    begin: () => {
      lines = bytes = droppedLines = droppedBytes = 0;
    },
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
