/**
 * The sandbox through the CLI: host functions only when declared or granted; and the network, with the bundled webhook output plugin and HTTP servers on
 * 127.0.0.1: deny by default (the request never arrives; stderr names the plugin and host:port),
 * delivered when the user grants the host:port in [plugins.webhook.permissions], denied for the
 * same host on another port and for a redirect to a host that was not granted. The job itself is
 * never affected: exit 0, every run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, run } from './core-helpers.js';
import { configFile, errLines, pluginDir, withPlugins } from './plugins-helpers.js';

interface Hit {
  method: string;
  url: string;
  body: string;
  contentType: string | undefined;
}

interface Server {
  port: number;
  url: string;
  hits: Hit[];
  close(): Promise<void>;
}

const servers: Server[] = [];

/** An HTTP server on 127.0.0.1 (random port) recording every request with its body. */
async function server(handler: (req: http.IncomingMessage, res: http.ServerResponse, port: number) => void = (_q, res) => res.end('ok')): Promise<Server> {
  const hits: Hit[] = [];
  let port = 0;
  const s = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      hits.push({ method: req.method ?? '', url: req.url ?? '', body, contentType: req.headers['content-type'] });
      handler(req, res, port);
    });
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  port = (s.address() as AddressInfo).port;
  const made: Server = {
    port,
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        s.closeAllConnections();
        s.close(() => resolve());
      }),
  };
  servers.push(made);
  return made;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await cleanup();
});

const JOB = ['count', '--times', '2', '--output', 'webhook'];
const COMMAND = ['--', 'sh', '-c', 'echo run $RPR_RUN'];
const EVENTS = ['job-start', 'next', 'run-start', 'run-end', 'next', 'run-start', 'run-end', 'job-end'];
const grant = (port: number, extra = ''): string => `[plugins.webhook.permissions]\nnetwork = ["127.0.0.1:${port}"]\n${extra}`;

/** The one denial line and the one delivery-failure line, each exactly once, then the job's last line. */
function expectDeniedOnce(stderr: string, target: string): void {
  const err = errLines(stderr);
  expect(err, stderr).toHaveLength(3);
  expect(err[2]).toMatch(/^rpr: job ended \(times\): every output failed \(webhook: \d+ events? not delivered\); exit 0$/);
  expect(err[0]).toMatch(new RegExp(`^rpr: plugin "webhook" network: network access to ${target.replaceAll('.', '\\.')} denied`));
  expect(err[0]).toContain(`(hint: grant it with --allow webhook=${target}, or network = ["${target}"] in [plugins.webhook.permissions] if you trust the plugin)`);
  expect(err[1]).toMatch(/^rpr: output plugin "webhook" deliver: .*403.*\(the job goes on/);
  expect(err[1]).toContain(target);
}

describe('host functions: only those declared or granted', () => {
  it('a scheduler whose manifest does not declare "time" gets -1 from rpr_time_ms; granting it in config works', async () => {
    // good-scheduler stops with "no clock" (exit 1) when rpr_time_ms() is denied
    const dir = pluginDir('good-scheduler');
    const toml = path.join(dir, 'good-scheduler', 'plugin.toml');
    const text = readFileSync(toml, 'utf8');
    expect(text).toContain('host_functions = ["time"]\n');
    writeFileSync(toml, text.replace('host_functions = ["time"]\n', ''));
    const denied = await run(['good-scheduler', '-v', '--', 'echo', 'ran'], { env: withPlugins(dir) });
    expect(denied.code).toBe(1);
    expect(denied.stdout).toBe('');
    expect(denied.stderr).toContain(
      'rpr: plugin "good-scheduler" rpr_time_ms: host function rpr_time_ms denied: permission "time" is not granted (hint: grant it with host_functions = ["time"] in [plugins.good-scheduler.permissions] if you trust the plugin)',
    );
    expect(denied.stderr).toContain('job ended (no clock), exit 1');
    const config = configFile('[plugins.good-scheduler.permissions]\nhost_functions = ["time"]\n');
    const granted = await run(['good-scheduler', '--config', config, '--', 'echo', 'ran'], { env: withPlugins(dir) });
    expect(granted.stderr).toBe('');
    expect(granted.code).toBe(0);
    expect(granted.stdout).toBe('ran\n');
  });
});

describe('webhook output and the network permission', () => {
  it('not granted: denied, the request never arrives, the job is unaffected, stderr says so once', async () => {
    const s = await server();
    const r = await run([...JOB, '--set', `webhook.url=${s.url}/hook`, ...COMMAND], { env: withPlugins(pluginDir()) });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('run 1\nrun 2\n');
    expect(s.hits).toEqual([]);
    expectDeniedOnce(r.stderr, `127.0.0.1:${s.port}`);
  });

  it('granted in [plugins.webhook.permissions], url in [plugins.webhook]: every event arrives, in order, as JSON', async () => {
    const s = await server();
    const config = configFile(`[plugins.webhook]\nurl = "${s.url}/from-config"\n${grant(s.port)}`);
    const r = await run([...JOB, '--config', config, ...COMMAND], { env: withPlugins(pluginDir()) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('run 1\nrun 2\n');
    expect(s.hits.map((h) => `${h.method} ${h.url}`)).toEqual(EVENTS.map(() => 'POST /from-config'));
    const bodies = s.hits.map((h) => JSON.parse(h.body) as { type: string; run?: number; exit_code?: number });
    expect(bodies.map((b) => b.type)).toEqual(EVENTS);
    expect(bodies.filter((b) => b.type === 'run-end').map((b) => [b.run, b.exit_code])).toEqual([
      [1, 0],
      [2, 0],
    ]);
    expect(s.hits[0]!.contentType).toMatch(/^application\/json/);
  });

  it("--set webhook.url=... beats the config file's url", async () => {
    const s = await server();
    const config = configFile(`[plugins.webhook]\nurl = "${s.url}/from-config"\nevents = "run-end"\n${grant(s.port)}`);
    const r = await run([...JOB, '--config', config, '--set', `webhook.url=${s.url}/from-set`, ...COMMAND], { env: withPlugins(pluginDir()) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(s.hits.map((h) => `${h.method} ${h.url}`)).toEqual(['POST /from-set', 'POST /from-set']);
  });

  it('granted 127.0.0.1:A, url on 127.0.0.1:B: denied, neither server sees a request', async () => {
    const a = await server();
    const b = await server();
    const config = configFile(grant(a.port));
    const r = await run([...JOB, '--config', config, '--set', `webhook.url=${b.url}/other-port`, ...COMMAND], { env: withPlugins(pluginDir()) });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('run 1\nrun 2\n');
    expect(a.hits).toEqual([]);
    expect(b.hits).toEqual([]);
    expectDeniedOnce(r.stderr, `127.0.0.1:${b.port}`);
  });

  it('a redirect from the granted host to one that is not granted is not followed', async () => {
    // 127.0.0.1:PORT is granted; `localhost` is another host name (the same server, if followed).
    const s = await server((req, res, port) => {
      if (req.url === '/redirect') res.writeHead(307, { location: `http://localhost:${port}/landed` }).end();
      else res.end('ok');
    });
    const config = configFile(grant(s.port));
    const r = await run([...JOB, '--config', config, '--set', `webhook.url=${s.url}/redirect`, ...COMMAND], { env: withPlugins(pluginDir()) });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('run 1\nrun 2\n');
    expect(s.hits.length).toBeGreaterThan(0);
    expect(s.hits.filter((h) => h.url !== '/redirect')).toEqual([]);
    expectDeniedOnce(r.stderr, `localhost:${s.port}`);
    expect(r.stderr).toContain('redirected to');
  });

  it('several outputs get every event in order; a failing one does not disturb the other', async () => {
    const s = await server();
    const config = configFile(`[plugins.webhook]\nurl = "${s.url}/hook"\n${grant(s.port)}`);
    const r = await run(['count', '--times', '2', '--output', 'sink,webhook', '--set', 'sink.mode=trap', '--config', config, ...COMMAND], {
      env: withPlugins(pluginDir('sink')),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('run 1\nrun 2\n');
    expect(s.hits.map((h) => (JSON.parse(h.body) as { type: string }).type)).toEqual(EVENTS);
    expect(errLines(r.stderr)).toEqual([expect.stringMatching(/^rpr: output plugin "sink" deliver: trapped: unreachable/)]);
  });

  it('an output that is only slow: the job ends on time and says once how many events were not delivered', async () => {
    // Each POST takes 1.5 s: 8 events would take 12 s; rpr waits 5 s for its outputs at the end.
    const s = await server((_req, res) => void setTimeout(() => res.end('ok'), 1500));
    const config = configFile(`[plugins.webhook]\nurl = "${s.url}/slow"\n${grant(s.port)}`);
    const r = await run([...JOB, '--config', config, ...COMMAND], { env: withPlugins(pluginDir()), timeoutMs: 20_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('run 1\nrun 2\n');
    expect(r.ms).toBeLessThan(11_000);
    const err = errLines(r.stderr);
    expect(err, r.stderr).toHaveLength(1);
    expect(err[0]).toMatch(/^rpr: output plugin "webhook": \d+ events? not delivered \(still busy 5000 ms after the job ended\)$/);
    // what did arrive came in order
    expect(s.hits.map((h) => (JSON.parse(h.body) as { type: string }).type)).toEqual(EVENTS.slice(0, s.hits.length));
  });
});
