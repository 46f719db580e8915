// The bundled http-aware scheduler (plugins-dist/http-aware), through the real plugin host: its
// manifest as rpr reads it, loadPlugin with the user's config, schedulerNext with the state rpr
// sends after a run. The output text is written as curl -si prints it (and, once, produced by a
// real curl against a local server).
//
// schedulerNext bounds output_tail to the contract's output_tail_bytes (4 KiB, the END of the
// text); --http-aware sends the HEAD of the output (16 KiB). Inputs longer than 4 KiB therefore go
// through handle.call('next') with the same state, and the answer is checked like schedulerNext does.
import { execFile, execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverPlugins, loadPlugin, readManifest, schedulerNext, type PluginHandle, type PluginManifest, type SchedulerState } from '../../src/plugins/index.js';

const MANIFEST = fileURLToPath(new URL('../../plugins-dist/http-aware/plugin.toml', import.meta.url));
/** 2026-10-21T07:26:00Z: two minutes before the example date of the docs. */
const NOW = Date.UTC(2026, 9, 21, 7, 26, 0);
const MIN = 1000;
const MAX = 30 * 60 * 1000;

let manifest: PluginManifest;
const handles: PluginHandle[] = [];

interface Loaded {
  h: PluginHandle;
  logs: string[];
}

async function load(config: Record<string, unknown> = {}): Promise<Loaded> {
  const logs: string[] = [];
  const h = await loadPlugin(manifest, { config, onLog: (level, message) => void logs.push(`${level}: ${message}`) });
  handles.push(h);
  return { h, logs };
}

function state(output: string, now = NOW): SchedulerState {
  return {
    run: 1,
    last_exit_code: 22,
    success: false,
    duration_ms: 40,
    consecutive_failures: 1,
    output_tail: output,
    now_ms: now,
    started_ms: now - 60_000,
  };
}

/** The delay the plugin answers for one run's output (through schedulerNext: outputs up to 4 KiB). */
async function delay(h: PluginHandle, output: string, now = NOW): Promise<number> {
  expect(Buffer.byteLength(output)).toBeLessThanOrEqual(4096);
  const d = await schedulerNext(h, state(output, now));
  expect(d.action).toBe('run');
  return (d as { delay_ms: number }).delay_ms;
}

/** Same, for outputs up to the 16 KiB head --http-aware sends (handle.call: not cut to 4 KiB). */
async function delayRaw(h: PluginHandle, output: string, now = NOW): Promise<number> {
  const raw = (await h.call('next', state(output, now))) as Record<string, unknown>;
  expect(raw.action).toBe('run');
  expect(typeof raw.delay_ms).toBe('number');
  const ms = raw.delay_ms as number;
  expect(Number.isFinite(ms) && ms >= 0).toBe(true);
  return ms;
}

/** A response as curl -si prints it: status line, headers, blank line, body; CRLF unless told. */
function resp(status: string, headers: string[] = [], body = '', eol = '\r\n'): string {
  return [status, ...headers].join(eol) + eol + eol + body;
}

/** The info lines the plugin logged (without the host's plugin "http-aware": prefix). */
const infos = (logs: string[]) => logs.filter((l) => l.startsWith('info: ')).map((l) => l.replace('info: plugin "http-aware": ', ''));

let d: Loaded;
/** Only for the tests that check log lines: the host lets a plugin log 50 lines at once, then 10 a second. */
let lg: Loaded;

beforeAll(async () => {
  // As rpr finds it: the bundled plugins only (no user directory), sha256 checked.
  const found = await discoverPlugins({ env: { RPR_PLUGIN_DIR: '/nonexistent/rpr-http-aware-test' } });
  const bundled = found.plugins.get('http-aware');
  expect(bundled?.source).toBe('bundled');
  manifest = bundled!.manifest;
  d = await load();
  lg = await load();
});
afterAll(async () => {
  await Promise.all(handles.map((h) => h.close()));
});

describe('manifest and config', () => {
  it('is a bundled scheduler with no permissions and the documented schema', async () => {
    expect(manifest.file).toBe(MANIFEST);
    expect(await readManifest(MANIFEST)).toEqual(manifest);
    expect(manifest.name).toBe('http-aware');
    expect(manifest.kind).toBe('scheduler');
    expect(manifest.permissions.network).toEqual([]);
    expect(manifest.permissions.hostFunctions).toEqual([]);
    expect(manifest.permissions.exec).toEqual([]);
    expect(Object.keys(manifest.permissions.filesystem)).toEqual([]);
    const config = d.h.describe().config;
    expect(Object.keys(config).sort()).toEqual(['custom_fields', 'max_delay', 'min_delay', 'parse_headers', 'parse_json', 'trust_client']);
    expect(d.h.config).toEqual({ min_delay: 1000, max_delay: 1_800_000, parse_json: true, parse_headers: true, trust_client: false, custom_fields: '' });
  });

  it('refuses max_delay below min_delay, a zero max_delay and an empty custom field part', async () => {
    await expect(load({ min_delay: '10s', max_delay: '5s' })).rejects.toThrow(/max_delay \(5s\) is less than min_delay \(10s\)/);
    await expect(load({ max_delay: '0' })).rejects.toThrow(/max_delay must be greater than 0/);
    await expect(load({ custom_fields: 'meta..wait' })).rejects.toThrow(/custom_fields: "meta\.\.wait" has an empty part/);
  });
});

describe('Retry-After', () => {
  it('seconds, with the info line saying which hint and the delay', async () => {
    const before = lg.logs.length;
    expect(await delay(lg.h, resp('HTTP/1.1 429 Too Many Requests', ['Content-Type: text/plain', 'Retry-After: 2'], 'slow down\n'))).toBe(2000);
    expect(infos(lg.logs.slice(before))).toEqual(['429: Retry-After 2 (header) -> 2000 ms']);
  });

  it('is case-insensitive and takes fractions', async () => {
    expect(await delay(lg.h, resp('HTTP/1.1 429 Too Many Requests', ['rEtRy-AfTeR:   7  ']))).toBe(7000);
    expect(await delay(lg.h, resp('HTTP/1.1 429 Too Many Requests', ['Retry-After :\t6']))).toBe(6000);
    expect(await delay(lg.h, resp('HTTP/1.1 503 Service Unavailable', ['Retry-After: 2.5']))).toBe(2500);
  });

  it('an IMF-fixdate counts from now_ms', async () => {
    const before = lg.logs.length;
    expect(await delay(lg.h, resp('HTTP/1.1 503 Service Unavailable', ['Retry-After: Wed, 21 Oct 2026 07:28:00 GMT']))).toBe(120_000);
    expect(infos(lg.logs.slice(before))).toEqual(['503: Retry-After Wed, 21 Oct 2026 07:28:00 GMT (header, 2m from now) -> 120000 ms']);
    // the same date seen 30.5 s before it
    expect(await delay(lg.h, resp('HTTP/1.1 429 Too Many Requests', ['retry-after: wed, 21 oct 2026 07:28:00 GMT']), Date.UTC(2026, 9, 21, 7, 27, 29, 500))).toBe(30_500);
    // leap year day
    expect(await delay(lg.h, resp('HTTP/1.1 429 x', ['Retry-After: Thu, 29 Feb 2028 00:00:10 GMT']), Date.UTC(2028, 1, 29))).toBe(10_000);
  });

  it('a date in the past is a hint of 0: min_delay', async () => {
    const before = lg.logs.length;
    expect(await delay(lg.h, resp('HTTP/1.1 429 Too Many Requests', ['Retry-After: Wed, 21 Oct 2026 07:00:00 GMT']))).toBe(MIN);
    expect(infos(lg.logs.slice(before))[0]).toMatch(/^429: Retry-After Wed, 21 Oct 2026 07:00:00 GMT \(header, 26m ago\) -> 1000 ms \(raised to min_delay 1s\)$/);
  });

  it('an unreadable value falls through to the next source', async () => {
    for (const bad of ['soon', '-5', '1e3', 'Wed, 31 Feb 2026 07:28:00 GMT', 'Wed, 21 Oct 2026 07:28:00 UTC', 'Wednesday, 21-Oct-26 07:28:00 GMT', '']) {
      expect(await delay(lg.h, resp('HTTP/1.1 429 Too Many Requests', [`Retry-After: ${bad}`, 'X-RateLimit-Reset: 9']))).toBe(9000);
    }
  });

  it('the first Retry-After header counts', async () => {
    expect(await delay(lg.h, resp('HTTP/1.1 429 Too Many Requests', ['Retry-After: 4', 'Retry-After: 8']))).toBe(4000);
  });
});

describe('rate-limit reset headers', () => {
  it('RateLimit-Reset and X-RateLimit-Reset in delta seconds', async () => {
    expect(await delay(lg.h, resp('HTTP/1.1 429 Too Many Requests', ['RateLimit-Limit: 10', 'RateLimit-Remaining: 0', 'RateLimit-Reset: 12']))).toBe(12_000);
    expect(await delay(lg.h, resp('HTTP/1.1 429 Too Many Requests', ['x-ratelimit-reset: 3']))).toBe(3000);
  });

  it('a value above 1e9 is epoch seconds', async () => {
    const before = lg.logs.length;
    const epoch = NOW / 1000 + 45;
    expect(await delay(lg.h, resp('HTTP/1.1 429 Too Many Requests', ['X-RateLimit-Remaining: 0', `X-RateLimit-Reset: ${epoch}`]))).toBe(45_000);
    expect(infos(lg.logs.slice(before))).toEqual([`429: X-RateLimit-Reset ${epoch} (header, epoch seconds, 45s from now) -> 45000 ms`]);
    // already past: as soon as allowed
    expect(await delay(d.h, resp('HTTP/1.1 429 Too Many Requests', [`RateLimit-Reset: ${NOW / 1000 - 100}`]))).toBe(MIN);
  });

  it('is not a hint while the matching Remaining header says requests are left', async () => {
    // GitHub: every answer carries X-RateLimit-Reset; a 403 for a missing permission is not a rate limit.
    const github = resp('HTTP/2 403 ', ['x-ratelimit-limit: 5000', 'x-ratelimit-remaining: 4999', `x-ratelimit-reset: ${NOW / 1000 + 3000}`], '{"message":"Resource not accessible by integration"}');
    expect(await delay(d.h, github)).toBe(0);
    const limited = github.replace('x-ratelimit-remaining: 4999', 'x-ratelimit-remaining: 0');
    expect(await delay(d.h, limited)).toBe(Math.min(3_000_000, MAX));
    // a 429 whose reset header does not count still gets min_delay
    expect(await delay(d.h, resp('HTTP/1.1 429 Too Many Requests', ['RateLimit-Remaining: 3', 'RateLimit-Reset: 50']))).toBe(MIN);
    // each Reset pairs with its own Remaining
    expect(await delay(d.h, resp('HTTP/1.1 429 Too Many Requests', ['RateLimit-Remaining: 3', 'RateLimit-Reset: 50', 'X-RateLimit-Reset: 6']))).toBe(6000);
  });
});

describe('JSON body', () => {
  const json = (body: unknown, status = 'HTTP/1.1 429 Too Many Requests') => resp(status, ['Content-Type: application/json'], JSON.stringify(body));

  it('each standard field, numbers and numeric strings, fractions', async () => {
    expect(await delay(d.h, json({ retry_after: 3 }))).toBe(3000);
    expect(await delay(d.h, json({ retryAfter: '4.25' }))).toBe(4250);
    expect(await delay(d.h, json({ error: { code: 'rate_limited', retry_after: 5 } }))).toBe(5000);
    expect(await delay(d.h, json({ rate_limit: { limit: 10, reset_in: 6.5 } }))).toBe(6500);
  });

  it('in priority order: retry_after, retryAfter, error.retry_after, rate_limit.reset_in', async () => {
    const all = { rate_limit: { reset_in: 40 }, error: { retry_after: 30 }, retryAfter: 20, retry_after: 10 };
    expect(await delay(d.h, json(all))).toBe(10_000);
    expect(await delay(d.h, json({ ...all, retry_after: undefined }))).toBe(20_000);
    expect(await delay(d.h, json({ ...all, retry_after: undefined, retryAfter: undefined }))).toBe(30_000);
    expect(await delay(d.h, json({ rate_limit: { reset_in: 40 } }))).toBe(40_000);
  });

  it('skips values that are not seconds', async () => {
    expect(await delay(d.h, json({ retry_after: 'later', retryAfter: -3, error: { retry_after: null }, rate_limit: { reset_in: '7' } }))).toBe(7000);
    expect(await delay(d.h, json({ retry_after: [5], retryAfter: { s: 5 }, error: 'retry_after' }))).toBe(MIN);
  });

  it('headers come before the body', async () => {
    const body = JSON.stringify({ retry_after: 40 });
    expect(await delay(d.h, resp('HTTP/1.1 429 Too Many Requests', ['Retry-After: 3', 'RateLimit-Reset: 10', 'X-RateLimit-Reset: 20'], body))).toBe(3000);
    expect(await delay(d.h, resp('HTTP/1.1 429 Too Many Requests', ['RateLimit-Reset: 10', 'X-RateLimit-Reset: 20'], body))).toBe(10_000);
    expect(await delay(d.h, resp('HTTP/1.1 429 Too Many Requests', ['X-RateLimit-Reset: 20'], body))).toBe(20_000);
    expect(await delay(d.h, resp('HTTP/1.1 429 Too Many Requests', [], body))).toBe(40_000);
  });

  it('the body may be followed by stderr lines; it must start with {', async () => {
    expect(await delay(d.h, `${json({ retry_after: 3 })}\ncurl: (22) The requested URL returned error: 429\n`)).toBe(3000);
    expect(await delay(d.h, resp('HTTP/1.1 429 Too Many Requests', [], '<html>{"retry_after": 3}</html>'))).toBe(MIN);
    expect(await delay(d.h, resp('HTTP/1.1 429 Too Many Requests', [], '{"retry_after": 3'))).toBe(MIN);
  });

  it('custom_fields first, nested with dots, then the standard ones', async () => {
    const c = await load({ custom_fields: ' meta.wait , retry ,' });
    const before = c.logs.length;
    expect(await delay(c.h, json({ retry_after: 50, retry: 20, meta: { wait: 3 } }))).toBe(3000);
    expect(infos(c.logs.slice(before))).toEqual(['429: meta.wait 3 (json, custom_fields) -> 3000 ms']);
    expect(await delay(c.h, json({ retry_after: 50, retry: '20', meta: { wait: 'x' } }))).toBe(20_000);
    expect(await delay(c.h, json({ retry_after: 50, meta: {} }))).toBe(50_000);
    // a deeper path
    const deep = await load({ custom_fields: 'a.b.c.d' });
    expect(await delay(deep.h, json({ a: { b: { c: { d: 9 } } }, retry_after: 1 }))).toBe(9000);
    // not custom: the default plugin does not read "retry"
    expect(await delay(d.h, json({ retry: 20 }))).toBe(MIN);
  });
});

describe('finding the response', () => {
  it('HTTP/2 and HTTP/3 status lines, lower-case headers, no reason phrase', async () => {
    expect(await delay(d.h, resp('HTTP/2 429 ', ['date: Wed, 21 Oct 2026 07:26:00 GMT', 'retry-after: 5']))).toBe(5000);
    expect(await delay(d.h, resp('HTTP/2 503', ['retry-after: 6']))).toBe(6000);
    expect(await delay(d.h, resp('HTTP/3 429', ['retry-after: 8']))).toBe(8000);
    expect(await delay(d.h, resp('HTTP/1.0 503 Service Unavailable', ['Retry-After: 9']))).toBe(9000);
  });

  it('LF-only line ends', async () => {
    expect(await delay(d.h, resp('HTTP/1.1 429 Too Many Requests', ['Retry-After: 2'], '{"retry_after": 50}', '\n'))).toBe(2000);
    expect(await delay(d.h, resp('HTTP/1.1 429 Too Many Requests', ['X-Other: 1'], '{"retry_after": 50}\n', '\n'))).toBe(50_000);
  });

  it('the LAST response counts: 100 Continue, redirects, two requests', async () => {
    const cont = resp('HTTP/1.1 100 Continue') + resp('HTTP/1.1 429 Too Many Requests', ['Retry-After: 3']);
    expect(await delay(d.h, cont)).toBe(3000);
    const redirected = resp('HTTP/1.1 301 Moved Permanently', ['Location: /v2', 'Retry-After: 99']) + resp('HTTP/2 429 ', ['retry-after: 4'], '{"retry_after": 60}');
    expect(await delay(d.h, redirected)).toBe(4000);
    // limited, then fine: the job goes back to its normal interval
    const recovered = resp('HTTP/1.1 429 Too Many Requests', ['Retry-After: 30'], '{"retry_after": 30}\n') + resp('HTTP/1.1 200 OK', ['Content-Type: application/json'], '{"ok": true}\n');
    expect(await delay(d.h, recovered)).toBe(0);
    // the headers of an earlier response never leak into the last one
    const earlier = resp('HTTP/1.1 503 Service Unavailable', ['Retry-After: 30']) + resp('HTTP/1.1 429 Too Many Requests', []);
    expect(await delay(d.h, earlier)).toBe(MIN);
  });

  it('a status-like line inside a body is not a response unless headers follow it', async () => {
    const body = 'See the spec:\nHTTP/1.1 200 OK\nis what a good answer looks like\n';
    expect(await delay(d.h, resp('HTTP/1.1 429 Too Many Requests', ['Retry-After: 3'], body))).toBe(3000);
  });

  it('folded header lines are part of the header block, but not as its first line', async () => {
    expect(await delay(d.h, resp('HTTP/1.1 429 Too Many Requests', ['X-Long: a', '  b', 'Retry-After: 4']))).toBe(4000);
    expect(await delay(d.h, resp('HTTP/1.1 429 Too Many Requests', ['  b', 'Retry-After: 4']))).toBe(0);
  });

  it('a long body: the hint is in the first lines of the 16 KiB head', async () => {
    const big = resp('HTTP/1.1 429 Too Many Requests', ['Retry-After: 5'], JSON.stringify({ items: 'x'.repeat(15_000), retry_after: 9 }).slice(0, 16_000));
    expect(await delayRaw(d.h, big)).toBe(5000);
  });

  it('text before the response (curl -w, echo) is ignored', async () => {
    expect(await delay(d.h, `calling the API...\n${resp('HTTP/1.1 429 Too Many Requests', ['Retry-After: 3'])}`)).toBe(3000);
  });

  it('no status line: no hint, even with a JSON hint (curl -s)', async () => {
    expect(await delay(d.h, '{"retry_after": 30}\n')).toBe(0);
    expect(await delay(d.h, 'Retry-After: 30\n')).toBe(0);
    expect(await delay(d.h, '')).toBe(0);
    expect(await delay(d.h, ' HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\n\r\n')).toBe(0);
    expect(await delay(d.h, 'HTTP/1.1 42 Too Many\r\nRetry-After: 3\r\n\r\n')).toBe(0);
    expect(await delay(d.h, 'HTTPS/1.1 429 x\r\nRetry-After: 3\r\n\r\n')).toBe(0);
  });

  it('a real curl -si against a local server', async () => {
    let hasCurl = true;
    try {
      execFileSync('curl', ['--version'], { stdio: 'ignore' });
    } catch {
      hasCurl = false;
    }
    if (!hasCurl) return;
    let n = 0;
    const server = http.createServer((req, res) => {
      if (req.url === '/start') {
        res.writeHead(302, { Location: '/api' }).end();
      } else if (++n <= 2) {
        res.writeHead(429, { 'Retry-After': '2', 'Content-Type': 'application/json' }).end('{"error": {"retry_after": 40}}');
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok": true}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      // async: the server answers from this process
      const curl = async (path: string) => (await promisify(execFile)('curl', ['-si', '-L', '--noproxy', '*', '-m', '10', url + path], { encoding: 'utf8' })).stdout;
      const limited = await curl('/start');
      expect(limited).toMatch(/^HTTP\/1\.1 302 Found\r\n/);
      expect(await delay(d.h, limited)).toBe(2000);
      const noHeaders = await load({ parse_headers: false });
      expect(await delay(noHeaders.h, await curl('/api'))).toBe(40_000);
      expect(await delay(d.h, await curl('/api'))).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('status gate', () => {
  it('2xx and 3xx never, whatever they carry', async () => {
    for (const status of ['HTTP/1.1 200 OK', 'HTTP/2 204', 'HTTP/1.1 301 Moved Permanently', 'HTTP/1.1 304 Not Modified', 'HTTP/1.1 100 Continue']) {
      expect(await delay(d.h, resp(status, ['Retry-After: 30', 'X-RateLimit-Remaining: 0', 'X-RateLimit-Reset: 30'], '{"retry_after": 30}'))).toBe(0);
    }
  });

  it('429 and 503 without any hint: min_delay, said in the log', async () => {
    const c = await load();
    expect(await delay(c.h, resp('HTTP/1.1 429 Too Many Requests', [], 'Too many requests\n'))).toBe(MIN);
    expect(await delay(c.h, resp('HTTP/2 503', []))).toBe(MIN);
    expect(infos(c.logs)).toEqual(['429: no timing hint -> 1000 ms (min_delay)', '503: no timing hint -> 1000 ms (min_delay)']);
  });

  it('403 only when it carries timing', async () => {
    expect(await delay(d.h, resp('HTTP/1.1 403 Forbidden', [], '{"message": "forbidden"}'))).toBe(0);
    expect(await delay(d.h, resp('HTTP/1.1 403 Forbidden', ['Retry-After: 60']))).toBe(60_000);
    expect(await delay(d.h, resp('HTTP/1.1 403 Forbidden', [], '{"error": {"retry_after": 15}}'))).toBe(15_000);
  });

  it('other 4xx only with trust_client (and then only with timing)', async () => {
    const bad = resp('HTTP/1.1 400 Bad Request', ['Retry-After: 5'], '{"retry_after": 6}');
    const notFound = resp('HTTP/1.1 404 Not Found', [], '{"retryAfter": 7}');
    expect(await delay(d.h, bad)).toBe(0);
    expect(await delay(d.h, notFound)).toBe(0);
    const t = await load({ trust_client: true });
    expect(await delay(t.h, bad)).toBe(5000);
    expect(await delay(t.h, notFound)).toBe(7000);
    expect(await delay(t.h, resp('HTTP/1.1 409 Conflict', []))).toBe(0);
    expect(await delay(t.h, resp('HTTP/1.1 200 OK', ['Retry-After: 5']))).toBe(0);
  });

  it('other 5xx only when they carry timing', async () => {
    expect(await delay(d.h, resp('HTTP/1.1 500 Internal Server Error', []))).toBe(0);
    expect(await delay(d.h, resp('HTTP/1.1 502 Bad Gateway', ['Retry-After: 12']))).toBe(12_000);
    expect(await delay(d.h, resp('HTTP/1.1 504 Gateway Timeout', [], '{"retry_after": 11}'))).toBe(11_000);
  });
});

describe('parse flags', () => {
  it('parse_headers = false ignores headers; the status line still gates', async () => {
    const c = await load({ parse_headers: false });
    expect(await delay(c.h, resp('HTTP/1.1 429 Too Many Requests', ['Retry-After: 3'], '{"retry_after": 8}'))).toBe(8000);
    expect(await delay(c.h, resp('HTTP/1.1 429 Too Many Requests', ['Retry-After: 3', 'X-RateLimit-Reset: 4']))).toBe(MIN);
    expect(await delay(c.h, resp('HTTP/1.1 403 Forbidden', ['Retry-After: 3']))).toBe(0);
    expect(await delay(c.h, resp('HTTP/1.1 200 OK', [], '{"retry_after": 8}'))).toBe(0);
  });

  it('parse_json = false ignores the body', async () => {
    const c = await load({ parse_json: false, custom_fields: 'wait' });
    expect(await delay(c.h, resp('HTTP/1.1 429 Too Many Requests', [], '{"retry_after": 8, "wait": 9}'))).toBe(MIN);
    expect(await delay(c.h, resp('HTTP/1.1 429 Too Many Requests', ['Retry-After: 3'], '{"retry_after": 8}'))).toBe(3000);
    expect(await delay(c.h, resp('HTTP/1.1 403 Forbidden', [], '{"retry_after": 8}'))).toBe(0);
  });

  it('both off: 429 and 503 still get min_delay, nothing else is read', async () => {
    const c = await load({ parse_json: false, parse_headers: false });
    expect(await delay(c.h, resp('HTTP/1.1 503 Service Unavailable', ['Retry-After: 3'], '{"retry_after": 8}'))).toBe(MIN);
    expect(await delay(c.h, resp('HTTP/1.1 502 Bad Gateway', ['Retry-After: 3'], '{"retry_after": 8}'))).toBe(0);
  });
});

describe('clamping', () => {
  it('to [min_delay, max_delay] with the defaults (1s, 30m)', async () => {
    const c = await load();
    expect(await delay(c.h, resp('HTTP/1.1 429 Too Many Requests', ['Retry-After: 0']))).toBe(MIN);
    expect(await delay(c.h, resp('HTTP/1.1 429 Too Many Requests', ['Retry-After: 0.2']))).toBe(MIN);
    expect(await delay(c.h, resp('HTTP/1.1 429 Too Many Requests', ['Retry-After: 7200']))).toBe(MAX);
    expect(infos(c.logs)).toEqual([
      '429: Retry-After 0 (header) -> 1000 ms (raised to min_delay 1s)',
      '429: Retry-After 0.2 (header) -> 1000 ms (raised to min_delay 1s)',
      '429: Retry-After 7200 (header) -> 1800000 ms (clamped to max_delay 30m)',
    ]);
  });

  it('with other bounds, both ways, for every source', async () => {
    const c = await load({ min_delay: '5s', max_delay: '10s' });
    expect(await delay(c.h, resp('HTTP/1.1 429 x', ['Retry-After: 2']))).toBe(5000);
    expect(await delay(c.h, resp('HTTP/1.1 429 x', ['Retry-After: 7']))).toBe(7000);
    expect(await delay(c.h, resp('HTTP/1.1 429 x', ['Retry-After: 60']))).toBe(10_000);
    expect(await delay(c.h, resp('HTTP/1.1 429 x', ['Retry-After: Wed, 21 Oct 2026 08:00:00 GMT']))).toBe(10_000);
    expect(await delay(c.h, resp('HTTP/1.1 429 x', ['X-RateLimit-Reset: 1']))).toBe(5000);
    expect(await delay(c.h, resp('HTTP/1.1 429 x', [], '{"retry_after": 3600}'))).toBe(10_000);
    expect(await delay(c.h, resp('HTTP/1.1 429 x', []))).toBe(5000);
  });

  it('min_delay 0: a zero hint answers 0 (no extra wait)', async () => {
    const c = await load({ min_delay: '0', max_delay: '1m' });
    expect(await delay(c.h, resp('HTTP/1.1 429 x', ['Retry-After: 0']))).toBe(0);
    expect(await delay(c.h, resp('HTTP/1.1 429 x', ['Retry-After: 0.25']))).toBe(250);
    expect(await delay(c.h, resp('HTTP/1.1 429 x', []))).toBe(0);
  });

  it('enormous values are clamped, not overflowed', async () => {
    expect(await delay(d.h, resp('HTTP/1.1 429 x', [`Retry-After: ${'9'.repeat(400)}`]))).toBe(MAX);
    expect(await delay(d.h, resp('HTTP/1.1 429 x', ['Retry-After: 99999999999999999999.5']))).toBe(MAX);
    expect(await delay(d.h, resp('HTTP/1.1 429 x', [], '{"retry_after": 1e308}'))).toBe(MAX);
    expect(await delay(d.h, resp('HTTP/1.1 429 x', [], '{"retry_after": 1e999999}'))).toBe(MAX);
    expect(await delay(d.h, resp('HTTP/1.1 429 x', [], `{"retry_after": "${'1'.repeat(1000)}"}`))).toBe(MAX);
    expect(await delay(d.h, resp('HTTP/1.1 429 x', ['X-RateLimit-Reset: 99999999999999999999']))).toBe(MAX);
    expect(await delay(d.h, resp('HTTP/1.1 429 x', [], '{"retry_after": 1e-400}'))).toBe(MIN);
  });
});

describe('untrusted input', () => {
  const HEAD = 16 * 1024;
  const fill = (prefix: string, unit: string, suffix = '') => {
    let s = prefix;
    while (s.length + unit.length + suffix.length <= HEAD) s += unit;
    return s + suffix;
  };

  const hostile: Record<string, string> = {
    'deep JSON nesting': resp('HTTP/1.1 429 x', [], fill('', '{"a":')),
    'deep JSON nesting, closed': resp('HTTP/1.1 429 x', [], `{"retry_after":${'['.repeat(8000)}${']'.repeat(8000)}}`),
    'a 16 KiB number': resp('HTTP/1.1 429 x', [], `{"retry_after": ${'7'.repeat(HEAD - 60)}}`),
    'a 16 KiB exponent': resp('HTTP/1.1 429 x', [], `{"retry_after": 1e${'9'.repeat(HEAD - 60)}}`),
    'a 16 KiB Retry-After': resp('HTTP/1.1 429 x', [`Retry-After: ${'9'.repeat(HEAD - 60)}`]),
    'a 16 KiB fraction': resp('HTTP/1.1 429 x', [`Retry-After: 1.${'9'.repeat(HEAD - 60)}`]),
    'status lines only': fill('', 'HTTP/1.1 429 x\n'),
    'status lines with broken headers': fill('', 'HTTP/1.1 429 x\r\nRetry-After: 1\r\nbroken line\r\n'),
    'headers only': fill('HTTP/1.1 429 x\r\n', `X-A: ${'b'.repeat(50)}\r\n`),
    'many tiny responses': fill('', 'HTTP/2 429\n\n'),
    'many Retry-After headers': fill('HTTP/1.1 429 x\r\n', 'Retry-After: soon\r\n', '\r\n'),
    'a wide JSON object': resp('HTTP/1.1 429 x', [], fill('{', '"k":[0,0,0],', '"retry_after":3}')),
    'a JSON string full of escapes': resp('HTTP/1.1 429 x', [], fill('{"x":"', '\\u0000\\n', '","retry_after":3}')),
    'CR and NUL soup': fill('HTTP/1.1 429 x\r\n', '\r\0\r\n\0'),
    'unicode and lone surrogates': resp('HTTP/1.1 429 ✓', ['Retry-After: ３'], fill('{"é":"', '😀\ud800', '"}')),
    binary: Buffer.from(Array.from({ length: HEAD }, (_, i) => (i * 7919 + 13) % 256)).toString('latin1'),
  };

  for (const [name, text] of Object.entries(hostile)) {
    it(`${name}: answers within the call timeout, without trapping`, async () => {
      const t0 = performance.now();
      const ms = await delayRaw(d.h, text);
      expect(ms === 0 || (ms >= MIN && ms <= MAX)).toBe(true);
      expect(performance.now() - t0).toBeLessThan(manifest.permissions.timeoutMs);
    });
  }

  it('hostile inputs answered what they ask when it can be read', async () => {
    expect(await delayRaw(d.h, hostile['a wide JSON object']!)).toBe(3000);
    expect(await delayRaw(d.h, hostile['a JSON string full of escapes']!)).toBe(3000);
    expect(await delayRaw(d.h, hostile['a 16 KiB number']!)).toBe(MAX);
    expect(await delayRaw(d.h, hostile['a 16 KiB Retry-After']!)).toBe(MAX);
    expect(await delayRaw(d.h, hostile['a 16 KiB fraction']!)).toBe(2000); // 1.999999999 s, rounded up to whole ms
    expect(await delayRaw(d.h, hostile['deep JSON nesting']!)).toBe(MIN);
    // not one well-formed response in it
    expect(await delayRaw(d.h, hostile['status lines with broken headers']!)).toBe(0);
  });

  it('through schedulerNext too (the host cuts the text to its end), and the instance was never rebuilt', async () => {
    for (const text of Object.values(hostile)) {
      const decision = await schedulerNext(d.h, state(text));
      expect(decision.action).toBe('run');
    }
    expect(d.h.stats.failures).toBe(0);
    expect(d.h.stats.rebuilds).toBe(0);
    expect(d.logs.filter((l) => l.startsWith('error') || l.includes('rebuilding'))).toEqual([]);
  });

  it('random curl-like text always gets a valid answer: 0 or within [min_delay, max_delay]', async () => {
    const c = await load({ min_delay: '2s', max_delay: '1m', trust_client: true, custom_fields: 'meta.wait' });
    const piece = fc.oneof(
      fc.constantFrom('HTTP/1.1 ', 'HTTP/2 ', 'HTTP/1.0 ', '429', '503', '403', '200', '400', ' OK', '\r\n', '\n', '\r\n\r\n', '\n\n', ': ', ' '),
      fc.constantFrom('Retry-After', 'retry-after', 'RateLimit-Reset', 'X-RateLimit-Reset', 'X-RateLimit-Remaining', 'Wed, 21 Oct 2026 07:28:00 GMT'),
      fc.constantFrom('{', '}', '[', ']', '"retry_after"', '"meta"', '"wait"', '"error"', ':', ',', '"'),
      fc.integer({ min: -5, max: 2_000_000_000 }).map(String),
      fc.double({ noNaN: true }).map(String),
      fc.string({ maxLength: 8 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 60 }), async (parts) => {
        const ms = await delay(c.h, parts.join(''));
        return ms === 0 || (ms >= 2000 && ms <= 60_000);
      }),
      { numRuns: 300 },
    );
    expect(c.h.stats.failures).toBe(0);
  });
});
