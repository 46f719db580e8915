/**
 * Downloading a plugin: Node's fetch, redirects followed by hand (each hop checked again), a size cap
 * enforced while reading, one deadline for the whole download. https:// anywhere; http:// only to
 * this machine (127.0.0.1, ::1, localhost), for local mirrors and tests.
 */
import { RprError } from '../errors/index.js';
import { VERSION } from '../version.js';

export interface DownloadLimits {
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
}

export const DOWNLOAD_LIMITS: DownloadLimits = { maxBytes: 32 * 2 ** 20, timeoutMs: 60_000, maxRedirects: 5 };

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** The URL if rpr may download from it, else the reason it may not. */
export function checkSourceUrl(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not a URL`;
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return url;
  if (url.protocol === 'http:') return `${url.href}: plain http is only allowed to this machine (127.0.0.1, ::1, localhost); use https://`;
  return `${url.href}: only https:// URLs (or http:// to this machine) can be installed from`;
}

export const isUrl = (text: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(text);

const fail = (url: string, reason: string, hint?: string): RprError => new RprError('E_PLUGIN', `cannot download ${url}: ${reason}`, hint ? { hint } : {});

function networkReason(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out';
  const cause = e?.cause;
  if (cause?.code) return `${cause.code}${cause.message && !cause.message.includes(cause.code) ? ` (${cause.message})` : ''}`;
  return cause?.message ?? e?.message ?? String(error);
}

/**
 * The body at `url`, at most `limits.maxBytes`. With `optional`, a 404 answers null (for a
 * signature that may not exist) instead of failing.
 */
export async function download(url: string, limits: DownloadLimits = DOWNLOAD_LIMITS, optional = false): Promise<{ bytes: Buffer; url: string } | null> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let current = url;
  for (let hop = 0; ; hop++) {
    const checked = checkSourceUrl(current);
    if (typeof checked === 'string') throw fail(url, hop === 0 ? checked : `redirected to ${checked}`);
    let res: Response;
    try {
      res = await fetch(checked, { redirect: 'manual', signal, headers: { 'user-agent': `rpr/${VERSION}`, accept: 'application/octet-stream, */*' } });
    } catch (error) {
      throw fail(current, networkReason(error), 'check the URL and your connection; a self-signed certificate must be trusted (NODE_EXTRA_CA_CERTS)');
    }
    if ([301, 302, 303, 307, 308].includes(res.status)) {
      await res.body?.cancel().catch(() => {});
      const location = res.headers.get('location');
      if (!location) throw fail(current, `HTTP ${res.status} without a Location header`);
      if (hop >= limits.maxRedirects) throw fail(url, `more than ${limits.maxRedirects} redirects`);
      current = new URL(location, current).href;
      continue;
    }
    if (optional && res.status === 404) {
      await res.body?.cancel().catch(() => {});
      return null;
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw fail(current, `HTTP ${res.status} ${res.statusText}`.trim());
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      await res.body?.cancel().catch(() => {});
      throw fail(current, `it is ${declared} bytes, more than the ${limits.maxBytes} bytes a plugin may be`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body ?? []) {
        size += (chunk as Uint8Array).length;
        if (size > limits.maxBytes) {
          await res.body?.cancel().catch(() => {});
          throw fail(current, `it is more than the ${limits.maxBytes} bytes a plugin may be`);
        }
        chunks.push(Buffer.from(chunk as Uint8Array));
      }
    } catch (error) {
      if (error instanceof RprError) throw error;
      throw fail(current, networkReason(error));
    }
    return { bytes: Buffer.concat(chunks), url: current };
  }
}
