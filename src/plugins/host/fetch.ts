/**
 * The fetch Extism's http_request goes through (it runs on the main thread even in worker mode).
 * Extism's own allowedHosts ignores ports and follows redirects anywhere, so the host gives Extism
 * a match-everything list and enforces the plugin's network permission here, on every hop:
 * redirects are followed by hand (redirect: 'manual') and each Location is checked again. It also
 * caps the response size and the time.
 *
 * It never throws: in worker mode an exception from a host function kills the plugin's instance.
 * Every refusal or failure is a made-up response the plugin can read (status + JSON body).
 */
import { CONTRACT } from '../contract.js';
import { matchesUrl, parseNetworkPattern, urlTarget, type NetworkPattern } from '../permissions/network.js';

export interface GuardedFetchOptions {
  plugin: string;
  network: readonly string[];
  maxBytes?: number;
  timeoutMs?: number;
  maxRedirects?: number;
  /** Milliseconds left before the current call's watchdog fires; requests end before it. */
  remainingMs?: () => number;
  onDenied?: (target: string, url: string) => void;
  /**
   * Aborted when the plugin is closed: a request still in flight ends then, not at its timeout. (Its
   * worker is gone by then, and the open connection would keep rpr from exiting until the timeout.)
   */
  closed?: AbortSignal;
  /** Counts requests in flight (the instance needs it when it is torn down). */
  onStart?: () => void;
  onEnd?: () => void;
  /** The real fetch (tests may pass another). */
  fetch?: typeof fetch;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const { http_errors: STATUS, limits } = CONTRACT;

function made(status: number, error: string): Response {
  return new Response(JSON.stringify({ error }), {
    status,
    headers: { 'content-type': 'application/json', 'x-rpr-error': '1' },
  });
}

class TooLarge extends Error {}

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (response.body) {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      total += chunk.length;
      if (total > maxBytes) throw new TooLarge();
      chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks);
}

export function createGuardedFetch(options: GuardedFetchOptions): typeof fetch {
  const patterns = options.network.map(parseNetworkPattern).filter((p): p is NetworkPattern => typeof p !== 'string');
  const maxBytes = options.maxBytes ?? limits.http_response_bytes;
  const maxRedirects = options.maxRedirects ?? limits.http_redirects;
  // Node's global fetch is undici, loaded on first touch (~12-25 ms): only a request may touch it.
  const realFetch: typeof fetch = options.fetch ?? ((input, init) => fetch(input, init));
  const allowed = (url: URL) => patterns.some((p) => matchesUrl(p, url));

  async function guarded(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    let url: URL;
    try {
      url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    } catch {
      return made(STATUS.invalid, `rpr: not a URL: ${String(input).slice(0, 200)}`);
    }
    const method = (init.method ?? 'GET').toUpperCase();
    const body = init.body ?? null;
    const headers = new Headers(init.headers);
    // The URL decides where a request goes; a Host header must not say otherwise.
    headers.delete('host');
    // End before the call's watchdog, with time left for the plugin to read the answer and return.
    const budget = Math.min(options.timeoutMs ?? limits.http_timeout_ms, Math.max(1, (options.remainingMs?.() ?? Infinity) - 150));
    // One controller per request, ended by its timeout or by the plugin's close; the listener on the
    // plugin's long-lived signal is removed when the request ends (AbortSignal.any kept composites
    // alive on some Node 20 releases).
    const request = new AbortController();
    const timer = setTimeout(() => request.abort(new DOMException('request timed out', 'TimeoutError')), budget);
    const onClosed = (): void => request.abort(new DOMException('plugin closed', 'AbortError'));
    options.closed?.addEventListener('abort', onClosed, { once: true });
    try {
      return await hops(url, method, body, headers, request.signal);
    } finally {
      clearTimeout(timer);
      options.closed?.removeEventListener('abort', onClosed);
    }
  }

  async function hops(first: URL, firstMethod: string, firstBody: RequestInit['body'], headers: Headers, signal: AbortSignal): Promise<Response> {
    let url = first;
    let method = firstMethod;
    let body = firstBody ?? null;
    for (let hop = 0; ; hop++) {
      if (!allowed(url)) {
        const target = url.protocol === 'http:' || url.protocol === 'https:' ? urlTarget(url) : url.protocol;
        options.onDenied?.(target, url.href);
        const via = hop > 0 ? ` (redirected to ${url.href})` : '';
        return made(STATUS.denied, `rpr: network access to ${target} denied for plugin "${options.plugin}"${via}`);
      }
      const response = await realFetch(url, { method, headers, body, redirect: 'manual', signal });
      const location = response.headers.get('location');
      if (REDIRECTS.has(response.status) && location !== null) {
        await response.body?.cancel();
        if (hop >= maxRedirects) return made(STATUS.failed, `rpr: more than ${maxRedirects} redirects`);
        url = new URL(location, url);
        if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
          method = 'GET';
          body = null;
        }
        continue;
      }
      let bytes: Uint8Array;
      try {
        bytes = await readCapped(response, maxBytes);
      } catch (error) {
        if (!(error instanceof TooLarge)) throw error;
        await response.body?.cancel().catch(() => {});
        return made(STATUS.too_large, `rpr: response from ${urlTarget(url)} is larger than ${maxBytes} bytes`);
      }
      const out = new Headers(response.headers);
      out.delete('content-encoding');
      out.delete('content-length');
      return new Response(NULL_BODY.has(response.status) ? null : bytes, { status: response.status, headers: out });
    }
  }

  return (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    options.onStart?.();
    try {
      return await guarded(input, init);
    } catch (error) {
      const name = (error as Error)?.name;
      if (name === 'TimeoutError' || name === 'AbortError') return made(STATUS.timeout, 'rpr: request timed out');
      const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
      return made(STATUS.failed, `rpr: request failed: ${cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error)}`);
    } finally {
      options.onEnd?.();
    }
  }) as typeof fetch;
}
