// slack, elasticsearch and webhook through the real host, against HTTP servers on 127.0.0.1 with
// the network permission granted as a user would ([plugins.NAME.permissions] network): the exact
// bodies, retries on 5xx, and what a dead, refusing or ungranted endpoint does (the delivery fails
// with a reason, the plugin keeps working, nothing secret is printed).
import http from 'node:http';
import { hostname } from 'node:os';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobEvent, RunResult } from '../../src/job/events.js';
import { outputDeliver, type PluginError, type PluginHandle } from '../../src/plugins/index.js';
import { loadBundled, loadError, T0 } from './bundled-helpers.js';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Server {
  port: number;
  origin: string;
  received: Received[];
  /** Statuses to answer, in order; then 200. */
  statuses: number[];
  /** Body to answer with (default: "ok"). */
  reply: (r: Received) => string;
  close: () => Promise<void>;
}

const servers: Server[] = [];
const open: PluginHandle[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(): Promise<Server> {
  const s: Server = { port: 0, origin: '', received: [], statuses: [], reply: () => 'ok', close: async () => {} };
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      s.received.push(r);
      res.statusCode = s.statuses.shift() ?? 200;
      res.end(s.reply(r));
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  s.port = (srv.address() as net.AddressInfo).port;
  s.origin = `http://127.0.0.1:${s.port}`;
  s.close = () => new Promise((resolve) => srv.close(() => resolve()));
  servers.push(s);
  return s;
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

async function load(name: string, config: Record<string, unknown>, network: string[] = [], extra = {}): Promise<PluginHandle> {
  const h = await loadBundled(name, config, { permissions: { grant: { network } }, ...extra });
  open.push(h);
  return h;
}

const jobStart = (name = 'backup'): JobEvent => ({ type: 'job-start', wall: T0, name });
function runEnd(run: number, over: Partial<RunResult> = {}): JobEvent {
  const start = T0 + run * 10_000;
  return {
    type: 'run-end',
    result: { run, dueWall: start, startWall: start, endWall: start + 1500, durationMs: 1500, exitCode: 0, signal: null, timedOut: false, success: true, decidedBy: 'exit-code', ...over },
  };
}
const failed = (run: number, over: Partial<RunResult> = {}) => runEnd(run, { exitCode: 2, success: false, ...over });
const jobEnd: JobEvent = { type: 'job-end', reason: 'times', exitCode: 0, wall: T0 + 100_000 };

describe('slack', () => {
  it('on=failure (default): one post per failed run, with the exact payload', async () => {
    const s = await server();
    const h = await load('slack', { webhook_url: `${s.origin}/services/T0/B0/secret` }, [`127.0.0.1:${s.port}`]);
    await outputDeliver(h, jobStart('nightly backup ✓'));
    await outputDeliver(h, runEnd(1));
    await outputDeliver(h, failed(2), 'disk full\n');
    await outputDeliver(h, runEnd(3));
    await outputDeliver(h, jobEnd);
    expect(s.received).toHaveLength(1);
    const [r] = s.received;
    expect(r).toMatchObject({ method: 'POST', url: '/services/T0/B0/secret' });
    expect(r!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r!.body).toBe('{"text":":x: nightly backup ✓: run 2 failed (exit 2, 1.5s)"}');
  });

  it('on=change posts when the outcome changes (a first failure, then the recovery); on=always every run', async () => {
    const s = await server();
    const h = await load('slack', { url: `${s.origin}/hook`, on: 'change', template: '{run} {status}' }, [`127.0.0.1:${s.port}`]);
    for (const e of [jobStart(), runEnd(1), failed(2), failed(3), runEnd(4), runEnd(5), failed(6, { exitCode: null, signal: 'SIGKILL', timedOut: true })]) await outputDeliver(h, e);
    expect(s.received.map((r) => JSON.parse(r.body).text)).toEqual(['2 failed', '4 succeeded', '6 timed out']);
    const t = await server();
    const all = await load('slack', { url: `${t.origin}/hook`, on: 'always', template: '{run}' }, [`127.0.0.1:${t.port}`]);
    for (const e of [jobStart(), runEnd(1), failed(2), runEnd(3)]) await outputDeliver(all, e);
    expect(t.received).toHaveLength(3);
  });

  it('template placeholders, channel and username', async () => {
    const s = await server();
    const h = await load(
      'slack',
      {
        webhook_url: `${s.origin}/hook`,
        template: '{icon}|{job}|{run}|{status}|{exit_code}|{signal}|{duration}|{duration_ms}|{time}|{output}|{unknown}',
        channel: '#ops',
        username: 'rpr',
      },
      [`127.0.0.1:${s.port}`],
    );
    await outputDeliver(h, jobStart('db'));
    await outputDeliver(h, failed(7, { exitCode: null, signal: 'SIGTERM', durationMs: 61_000, endWall: Date.UTC(2024, 1, 29, 23, 59, 59, 5) }), 'line "1"\nline 2 — ünïcödé 🎉\n');
    expect(JSON.parse(s.received[0]!.body)).toEqual({
      text: ':x:|db|7|failed|SIGTERM|SIGTERM|1m1s|61000|2024-02-29T23:59:59.005Z|line "1"\nline 2 — ünïcödé 🎉\n|{unknown}',
      channel: '#ops',
      username: 'rpr',
    });
  });

  it("retries a 5xx, up to `retries` times, then reports the failure without the URL's secret path", async () => {
    const s = await server();
    s.statuses = [500, 503];
    const h = await load('slack', { webhook_url: `${s.origin}/services/T0/B0/secret` }, [`127.0.0.1:${s.port}`]);
    await outputDeliver(h, failed(1));
    expect(s.received).toHaveLength(3); // two 5xx, then 200
    s.received = [];
    s.statuses = [502, 502, 502, 502];
    const error = (await outputDeliver(h, failed(2)).catch((e: PluginError) => e)) as PluginError;
    expect(s.received).toHaveLength(3);
    expect(error.failure).toBe('plugin-error');
    expect(error.message).toMatch(/slack: posting to 127\.0\.0\.1:\d+ failed after 3 tries: HTTP 502/);
    expect(error.message).not.toContain('secret');
    // A 4xx is not retried.
    s.received = [];
    s.statuses = [404];
    s.reply = () => 'no_service';
    await expect(outputDeliver(h, failed(3))).rejects.toThrow(/failed: HTTP 404: no_service/);
    expect(s.received).toHaveLength(1);
  });

  it('by default may only reach hooks.slack.com: another host is refused by rpr, not reached', async () => {
    const s = await server();
    const h = await load('slack', { webhook_url: `${s.origin}/hook` });
    expect(h.permissions.network).toEqual(['hooks.slack.com']);
    await expect(outputDeliver(h, failed(1))).rejects.toThrow(/HTTP 403: rpr: network access to 127\.0\.0\.1:\d+ denied/);
    expect(s.received).toHaveLength(0);
  });

  it('refuses a webhook_url that is not an http(s) URL, or holds credentials', async () => {
    expect(await loadError('slack', {})).toMatch(/setting "webhook_url" is required/);
    expect(await loadError('slack', { webhook_url: 'hooks.slack.com/x' })).toMatch(/must be an http:\/\/ or https:\/\/ URL/);
    expect(await loadError('slack', { webhook_url: 'https://u:p@hooks.slack.com/x' })).toMatch(/must not contain credentials/);
    expect(await loadError('slack', { webhook_url: 'https://hooks.slack.com/x', on: 'sometimes' })).toMatch(/one of failure, change, always/);
  });
});

describe('elasticsearch', () => {
  const bulkOk = (r: Received) =>
    JSON.stringify({
      took: 1,
      errors: false,
      items: r.body
        .split('\n')
        .filter((_, i) => i % 2 === 0 && _)
        .map(() => ({ index: { status: 201 } })),
    });

  it('batches documents and sends them with the bulk API (NDJSON), the rest at job end', async () => {
    const s = await server();
    s.reply = bulkOk;
    const h = await load('elasticsearch', { url: `${s.origin}/`, index: 'jobs', 'batch-size': 2, 'flush-interval': '1h' }, [`127.0.0.1:${s.port}`]);
    await outputDeliver(h, jobStart('etl'));
    await outputDeliver(h, runEnd(1), 'ok\n');
    expect(s.received).toHaveLength(0);
    await outputDeliver(h, failed(2, { exitCode: null, signal: 'SIGTERM', timedOut: true }), 'tail "quoted" ✓');
    expect(s.received).toHaveLength(1);
    const [r] = s.received;
    expect(r).toMatchObject({ method: 'POST', url: '/_bulk' });
    expect(r!.headers['content-type']).toBe('application/x-ndjson');
    expect(r!.headers.authorization).toBeUndefined();
    expect(r!.body).toBe(
      '{"index":{"_index":"jobs"}}\n' +
        `{"@timestamp":"${new Date(T0 + 10_000).toISOString()}","job":"etl","run":1,"exit_code":0,"signal":null,"timed_out":false,"duration_ms":1500,"success":true,"output_tail":"ok\\n"}\n` +
        '{"index":{"_index":"jobs"}}\n' +
        `{"@timestamp":"${new Date(T0 + 20_000).toISOString()}","job":"etl","run":2,"exit_code":null,"signal":"SIGTERM","timed_out":true,"duration_ms":1500,"success":false,"output_tail":"tail \\"quoted\\" ✓"}\n`,
    );
    await outputDeliver(h, runEnd(3));
    expect(s.received).toHaveLength(1);
    await outputDeliver(h, jobEnd);
    expect(s.received).toHaveLength(2);
    expect(
      s.received[1]!.body.split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    ).toMatchObject([{ index: { _index: 'jobs' } }, { run: 3, job: 'etl' }]);
  });

  it('flushes early when the next run is further away than flush-interval, or documents have waited that long', async () => {
    const s = await server();
    s.reply = bulkOk;
    const h = await load('elasticsearch', { url: s.origin, 'flush-interval': '30s' }, [`127.0.0.1:${s.port}`]);
    await outputDeliver(h, jobStart());
    await outputDeliver(h, runEnd(1)); // ends at T0 + 11.5 s
    await outputDeliver(h, { type: 'next', run: 2, dueWall: T0 + 20_000 });
    expect(s.received).toHaveLength(0); // next run soon: keep batching
    await outputDeliver(h, runEnd(2)); // T0 + 21.5 s
    await outputDeliver(h, runEnd(5)); // T0 + 51.5 s: the first waited 40 s
    expect(s.received).toHaveLength(1);
    expect(s.received[0]!.body.match(/"run":/g)).toHaveLength(3);
    await outputDeliver(h, runEnd(6));
    await outputDeliver(h, { type: 'next', run: 7, dueWall: T0 + 3_600_000 }); // an hour away: send now
    expect(s.received).toHaveLength(2);
  });

  it('auth: ApiKey or Basic, sent but never printed', async () => {
    const s = await server();
    s.reply = bulkOk;
    const key = await load('elasticsearch', { url: s.origin, api_key: 'S3CRET-KEY', 'batch-size': 1 }, [`127.0.0.1:${s.port}`]);
    await outputDeliver(key, runEnd(1));
    expect(s.received[0]!.headers.authorization).toBe('ApiKey S3CRET-KEY');
    const basic = await load('elasticsearch', { url: s.origin, username: 'élastic', password: 'p@ss:wörd', 'batch-size': 1 }, [`127.0.0.1:${s.port}`]);
    await outputDeliver(basic, runEnd(1));
    expect(s.received[1]!.headers.authorization).toBe(`Basic ${Buffer.from('élastic:p@ss:wörd').toString('base64')}`);
    s.statuses = [401];
    s.reply = () => JSON.stringify({ error: { type: 'security_exception', reason: 'unable to authenticate' } });
    const error = (await outputDeliver(key, runEnd(2)).catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(/bulk request to 127\.0\.0\.1:\d+ failed: HTTP 401/);
    expect(error.message).not.toContain('S3CRET');
    expect(await loadError('elasticsearch', { url: 'https://elastic:S3CRET@es:9200' })).not.toContain('S3CRET');
    expect(await loadError('elasticsearch', { url: s.origin, api_key: 'k', username: 'u' })).toMatch(/either api_key or username/);
  });

  it('retries 5xx; keeps documents it could not send for the next flush; reports rejected documents', async () => {
    const s = await server();
    s.reply = bulkOk;
    s.statuses = [503];
    const h = await load('elasticsearch', { url: s.origin, 'batch-size': 1, retries: 1 }, [`127.0.0.1:${s.port}`]);
    await outputDeliver(h, runEnd(1));
    expect(s.received).toHaveLength(2);
    s.received = [];
    s.statuses = [500, 500];
    await expect(outputDeliver(h, runEnd(2))).rejects.toThrow(/failed after 2 tries: HTTP 500.*; 1 documents kept for the next flush/);
    await outputDeliver(h, runEnd(3));
    expect(s.received.at(-1)!.body.match(/"run":(\d+)/g)).toEqual(['"run":2', '"run":3']);
    s.reply = () => JSON.stringify({ errors: true, items: [{ index: { status: 400, error: { type: 'mapper_parsing_exception', reason: 'failed to parse' } } }] });
    await expect(outputDeliver(h, runEnd(4))).rejects.toThrow(/1 of 1 documents were rejected \(mapper_parsing_exception: failed to parse\)/);
  });
});

describe('webhook', () => {
  it('POSTs every event as JSON with the job name, in order', async () => {
    const s = await server();
    const h = await load('webhook', { url: `${s.origin}/events?x=1`, authorization: 'Bearer T0KEN' }, [`127.0.0.1:${s.port}`]);
    await outputDeliver(h, jobStart('sync'));
    await outputDeliver(h, { type: 'run-start', run: 1, dueWall: T0, startWall: T0 + 1 });
    await outputDeliver(h, failed(1), 'oops');
    await outputDeliver(h, jobEnd);
    expect(s.received.map((r) => r.url)).toEqual(['/events?x=1', '/events?x=1', '/events?x=1', '/events?x=1']);
    expect(s.received[0]!.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', authorization: 'Bearer T0KEN' });
    expect(s.received.map((r) => JSON.parse(r.body))).toEqual([
      { job: 'sync', type: 'job-start', name: 'sync', wall_ms: T0, host: hostname() },
      { job: 'sync', type: 'run-start', run: 1, due_ms: T0, start_ms: T0 + 1 },
      {
        job: 'sync',
        type: 'run-end',
        run: 1,
        due_ms: T0 + 10_000,
        start_ms: T0 + 10_000,
        end_ms: T0 + 11_500,
        duration_ms: 1500,
        exit_code: 2,
        signal: null,
        timed_out: false,
        success: false,
        decided_by: 'exit-code',
        output_tail: 'oops',
      },
      { job: 'sync', type: 'job-end', reason: 'times', exit_code: 0, wall_ms: T0 + 100_000 },
    ]);
  });

  it('events= narrows what is sent', async () => {
    const s = await server();
    const h = await load('webhook', { url: s.origin, events: 'run-end, job-end' }, [`127.0.0.1:${s.port}`]);
    for (const e of [jobStart(), runEnd(1), { type: 'next', run: 2, dueWall: T0 } as JobEvent, jobEnd]) await outputDeliver(h, e);
    expect(s.received.map((r) => JSON.parse(r.body).type)).toEqual(['run-end', 'job-end']);
    expect(await loadError('webhook', { url: s.origin, events: 'run-end,lunch' })).toMatch(/"lunch" is not an event type/);
  });

  it("no network by default: the user must grant the URL's host", async () => {
    const s = await server();
    const denials: PluginError[] = [];
    const h = await load('webhook', { url: s.origin }, [], { onDenied: (e: PluginError) => denials.push(e) });
    expect(h.permissions.network).toEqual([]);
    await expect(outputDeliver(h, jobStart())).rejects.toThrow(/webhook: POST to 127\.0\.0\.1:\d+ failed: HTTP 403/);
    expect(s.received).toHaveLength(0);
    expect(denials[0]?.message).toMatch(/network access to 127\.0\.0\.1:\d+ denied/);
  });

  it('a dead endpoint fails the delivery quickly with a reason; the plugin keeps working', async () => {
    const port = await deadPort();
    const h = await load('webhook', { url: `http://127.0.0.1:${port}/`, retries: 2 }, [`127.0.0.1:${port}`]);
    const t0 = Date.now();
    const error = (await outputDeliver(h, jobStart()).catch((e: PluginError) => e)) as PluginError;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(error.failure).toBe('plugin-error'); // the plugin's report, not a crash
    expect(error.message).toMatch(/failed after 3 tries: HTTP 502: rpr: request failed: ECONNREFUSED/);
    // The instance is kept (a reported error is not a crash) and goes on answering.
    await expect(outputDeliver(h, runEnd(1))).rejects.toMatchObject({ failure: 'plugin-error' });
    expect(h.stats.rebuilds).toBe(0);
  });
});

describe('every output, against a dead endpoint', () => {
  it.each([
    ['slack', (u: string) => ({ webhook_url: u })],
    ['elasticsearch', (u: string) => ({ url: u, 'batch-size': 1 })],
    ['webhook', (u: string) => ({ url: u })],
  ] as const)('%s: the delivery is refused with a reason (never a trap or a hang)', async (name, config) => {
    const port = await deadPort();
    const h = await load(name, config(`http://127.0.0.1:${port}/x`), [`127.0.0.1:${port}`]);
    const result = await outputDeliver(h, failed(1)).then(
      () => 'delivered',
      (e: PluginError) => e.failure,
    );
    expect(result).toBe('plugin-error');
    expect(h.stats.rebuilds).toBe(0);
  });
});
