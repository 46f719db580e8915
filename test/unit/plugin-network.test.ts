// Network permission through the real host and real HTTP servers on 127.0.0.1: host:port on every
// request and every redirect hop, size cap, timeout; a refusal is a response the plugin reads, the
// instance survives it, and the denial names the plugin and the address.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadPlugin } from '../../src/plugins/host/load.js';
import type { PluginHandle } from '../../src/plugins/host/handle.js';
import { collect, fixture, serve, type Collected, type TestServer } from '../plugins/helpers.js';

let allowed: TestServer;
let other: TestServer;
let redirector: TestServer;
let h: PluginHandle;
let c: Collected;

interface HttpAnswer {
  ok: boolean;
  status: number;
  body: string;
}

beforeAll(async () => {
  other = await serve((_req, res) => res.end('other'));
  allowed = await serve((req, res) => {
    if (req.url === '/big') {
      res.end('x'.repeat(2 * 2 ** 20));
    } else if (req.url === '/hang') {
      // never answers
    } else if (req.url === '/to-other') {
      res.writeHead(302, { location: `${other.url}/stolen` }).end();
    } else if (req.url === '/to-localhost') {
      res.writeHead(301, { location: `http://localhost:${allowed.port}/` }).end();
    } else if (req.url === '/to-self') {
      res.writeHead(307, { location: '/hello' }).end();
    } else if (req.url === '/loop') {
      res.writeHead(302, { location: '/loop' }).end();
    } else {
      res.end(`hello ${req.method}`);
    }
  });
  redirector = await serve((_req, res) => res.writeHead(302, { location: `${allowed.url}/hello` }).end());
  c = collect();
  h = await loadPlugin(fixture('probe', { network: [`127.0.0.1:${allowed.port}`], timeoutMs: 2000 }), { onDenied: c.onDenied, onLog: c.onLog });
});

afterAll(async () => {
  await h?.close();
  await Promise.all([allowed, other, redirector].map((s) => s?.close()));
});

const get = (url: string, method = 'GET') => h.call<HttpAnswer>('deliver', { op: 'http', url, method });

describe('network permission', () => {
  it('lets a declared host:port through', async () => {
    expect(await get(`${allowed.url}/hello`)).toEqual({ ok: true, status: 200, body: 'hello GET' });
    expect(await get(`${allowed.url}/hello`, 'POST')).toMatchObject({ status: 200, body: 'hello POST' });
  });

  it('refuses the declared host on another port, and says so', async () => {
    const answer = await get(`${other.url}/x`);
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body).error).toContain(`network access to 127.0.0.1:${other.port} denied for plugin "probe"`);
    expect(other.hits).toEqual([]);
    const denial = c.denials.find((d) => d.message.includes(`127.0.0.1:${other.port}`));
    expect(denial).toMatchObject({ code: 'E_PLUGIN_DENIED', plugin: 'probe', fn: 'network' });
    expect(denial!.message).toMatch(/^plugin "probe" network: network access to 127\.0\.0\.1:\d+ denied/);
  });

  it('refuses an undeclared host name for the same address', async () => {
    expect((await get(`http://localhost:${allowed.port}/`)).status).toBe(403);
  });

  it('checks every redirect hop', async () => {
    const answer = await get(`${allowed.url}/to-other`);
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body).error).toContain(`redirected to ${other.url}/stolen`);
    expect(other.hits).toEqual([]);
    expect((await get(`${allowed.url}/to-localhost`)).status).toBe(403);
  });

  it('follows redirects that stay allowed', async () => {
    expect(await get(`${allowed.url}/to-self`)).toMatchObject({ status: 200, body: 'hello GET' });
  });

  it('refuses a request to an allowed target that starts at an undeclared one', async () => {
    expect((await get(`${redirector.url}/`)).status).toBe(403);
    expect(redirector.hits).toEqual([]);
  });

  it('stops redirect loops', async () => {
    const answer = await get(`${allowed.url}/loop`);
    expect(answer.status).toBe(502);
    expect(answer.body).toContain('redirects');
  });

  it('caps the response size', async () => {
    const answer = await get(`${allowed.url}/big`);
    expect(answer.status).toBe(507);
    expect(answer.body).toContain('larger than 1048576 bytes');
  });

  it('times a request out before the call itself times out', async () => {
    const t0 = Date.now();
    const answer = await get(`${allowed.url}/hang`);
    expect(answer.status).toBe(504);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('refuses other schemes without killing the instance', async () => {
    expect((await get('file:///etc/passwd')).status).toBe(403);
    expect((await get('data:text/plain,hi')).status).toBe(403);
  });

  it('every refusal above left the instance alive', async () => {
    expect(h.stats.rebuilds).toBe(0);
    expect(await get(`${allowed.url}/hello`)).toMatchObject({ status: 200 });
  });

  it('a malformed request kills only that instance; the next call gets a fresh one', async () => {
    await expect(h.call('deliver', { op: 'http-garbage' })).rejects.toMatchObject({ plugin: 'probe', fn: 'deliver', failure: 'worker-died' });
    expect(await get(`${allowed.url}/hello`)).toMatchObject({ status: 200 });
    expect(h.stats.rebuilds).toBe(1);
  });
});

describe('closing a plugin', () => {
  it('ends its request in flight at once: the connection closes then, not at the request timeout', async () => {
    const closedAt: number[] = [];
    // Never answers; says when the connection ends.
    const hang = await serve((req) => req.socket.once('close', () => closedAt.push(Date.now())));
    const probe = await loadPlugin(fixture('probe', { network: [`127.0.0.1:${hang.port}`], timeoutMs: 10_000 }));
    try {
      const call = probe.call('deliver', { op: 'http', url: `${hang.url}/hang`, method: 'GET' }).catch((error: unknown) => error);
      await vi.waitFor(() => expect(hang.hits).toHaveLength(1), { timeout: 5000 });
      const closing = Date.now();
      await probe.close();
      await call;
      // Before, the request went on after its worker was gone, for up to its timeout (5 s), and kept
      // rpr from exiting: a job whose output never answered ended 12 s after its last run.
      await vi.waitFor(() => expect(closedAt).toHaveLength(1), { timeout: 8000 });
      expect(closedAt[0]! - closing).toBeLessThan(1000);
    } finally {
      await probe.close();
      await hang.close();
    }
  }, 20_000);
});

describe('network grants', () => {
  it('a plugin that declares nothing reaches nothing', async () => {
    const bare = await loadPlugin(fixture('probe'));
    try {
      expect((await bare.call<HttpAnswer>('deliver', { op: 'http', url: `${allowed.url}/hello` })).status).toBe(403);
    } finally {
      await bare.close();
    }
  });

  it('an explicit user grant opens exactly that address; narrowing takes it away', async () => {
    const granted = await loadPlugin(fixture('probe'), { permissions: { grant: { network: [`127.0.0.1:${other.port}`] } } });
    const narrowed = await loadPlugin(fixture('probe', { network: [`127.0.0.1:${other.port}`, `127.0.0.1:${allowed.port}`] }), {
      permissions: { narrow: { network: [`127.0.0.1:${allowed.port}`] } },
    });
    try {
      expect((await granted.call<HttpAnswer>('deliver', { op: 'http', url: `${other.url}/` })).status).toBe(200);
      expect((await granted.call<HttpAnswer>('deliver', { op: 'http', url: `${allowed.url}/` })).status).toBe(403);
      expect(narrowed.permissions.network).toEqual([`127.0.0.1:${allowed.port}`]);
      expect((await narrowed.call<HttpAnswer>('deliver', { op: 'http', url: `${other.url}/` })).status).toBe(403);
      expect((await narrowed.call<HttpAnswer>('deliver', { op: 'http', url: `${allowed.url}/` })).status).toBe(200);
    } finally {
      await Promise.all([granted.close(), narrowed.close()]);
    }
  });
});
