import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { rpr } from '../helpers/cli.js';

/** A loopback server answering each request from a script, recording when requests arrive. */
async function scriptedServer(answers: ((n: number) => { status: number; headers?: Record<string, string>; body?: string })[]) {
  const arrivals: number[] = [];
  const server: Server = createServer((_req, res) => {
    arrivals.push(performance.now());
    const answer = (answers[arrivals.length - 1] ?? answers.at(-1)!)(arrivals.length);
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body ?? '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, arrivals };
}

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

const gaps = (times: number[]): number[] => times.slice(1).map((t, i) => t - times[i]!);
const ok = () => ({ status: 200, body: '{"ok":true}' });

describe('--http-aware (curl -si against a loopback server)', () => {
  it('waits for Retry-After seconds after a 429, then returns to the normal interval', async () => {
    const srv = await scriptedServer([() => ({ status: 429, headers: { 'retry-after': '2' } }), ok]);
    const r = await rpr(['interval', '--every', '300ms', '--times', '3', '--http-aware', '--verbose', '--quiet', '--', 'curl', '-si', srv.url]);
    expect(r.code).toBe(0);
    const [afterHint, normal] = gaps(srv.arrivals);
    expect(afterHint).toBeGreaterThanOrEqual(1950);
    expect(afterHint).toBeLessThan(2000 + 700);
    expect(normal).toBeGreaterThan(150);
    expect(normal).toBeLessThan(1000);
    expect(r.stderr).toMatch(/http-aware: .*2000 ms|http-aware: .*2s/);
  });

  it('reads an HTTP-date in Retry-After', async () => {
    const srv = await scriptedServer([() => ({ status: 503, headers: { 'retry-after': new Date(Date.now() + 3000).toUTCString() } }), ok]);
    const r = await rpr(['interval', '--every', '200ms', '--times', '2', '--http-aware', '--quiet', '--', 'curl', '-si', srv.url]);
    expect(r.code).toBe(0);
    // The date has whole-second resolution: the wait is between 2 and 3 seconds.
    expect(gaps(srv.arrivals)[0]).toBeGreaterThanOrEqual(1900);
    expect(gaps(srv.arrivals)[0]).toBeLessThan(3000 + 700);
  });

  it('reads a hint from a JSON body', async () => {
    const srv = await scriptedServer([() => ({ status: 429, body: '{"error":{"retry_after":1.5}}' }), ok]);
    const r = await rpr(['interval', '--every', '200ms', '--times', '2', '--http-aware', '--quiet', '--', 'curl', '-si', srv.url]);
    expect(r.code).toBe(0);
    expect(gaps(srv.arrivals)[0]).toBeGreaterThanOrEqual(1450);
    expect(gaps(srv.arrivals)[0]).toBeLessThan(1500 + 700);
  });

  it('finds the headers of a response whose body is larger than the plugin state tail (6 KB)', async () => {
    const srv = await scriptedServer([() => ({ status: 429, headers: { 'retry-after': '1' }, body: JSON.stringify({ filler: 'x'.repeat(6000) }) }), ok]);
    const r = await rpr(['interval', '--every', '200ms', '--times', '2', '--http-aware', '--quiet', '--', 'curl', '-si', srv.url]);
    expect(r.code).toBe(0);
    expect(gaps(srv.arrivals)[0]).toBeGreaterThanOrEqual(950);
  });

  it('clamps a hint above --http-max-delay', async () => {
    const srv = await scriptedServer([() => ({ status: 429, headers: { 'retry-after': '100' } }), ok]);
    const r = await rpr(['interval', '--every', '200ms', '--times', '2', '--http-aware', '--http-max-delay', '1s', '--quiet', '--', 'curl', '-si', srv.url]);
    expect(r.code).toBe(0);
    expect(gaps(srv.arrivals)[0]).toBeGreaterThanOrEqual(950);
    expect(gaps(srv.arrivals)[0]).toBeLessThan(1000 + 700);
  });

  it('ignores headers with --http-no-parse-headers', async () => {
    const srv = await scriptedServer([() => ({ status: 429, headers: { 'retry-after': '5' } }), ok]);
    const r = await rpr(['interval', '--every', '200ms', '--times', '2', '--http-aware', '--http-no-parse-headers', '--http-min-delay', '300ms', '--quiet', '--', 'curl', '-si', srv.url]);
    expect(r.code).toBe(0);
    expect(gaps(srv.arrivals)[0]).toBeLessThan(2000);
  });

  it('counts applied delays in the metrics', async () => {
    const srv = await scriptedServer([() => ({ status: 429, headers: { 'retry-after': '1' } }), ok]);
    const metrics = await scriptedServer([ok]); // only to reserve a free port number
    const port = Number(new URL(metrics.url).port);
    servers.pop()!.close();
    const scrapes: string[] = [];
    let polling = true;
    const poll = async (): Promise<void> => {
      while (polling) {
        try {
          scrapes.push(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
        } catch {
          // not listening yet, or already gone
        }
        await new Promise((r) => setTimeout(r, 150));
      }
    };
    const r = await rpr(['interval', '--every', '100ms', '--times', '4', '--http-aware', '--metrics-port', String(port), '--quiet', '--', 'sh', '-c', `curl -si ${srv.url}; sleep 0.3`], {
      onSpawn: () => void poll(),
    });
    polling = false;
    expect(r.code).toBe(0);
    const scraped = scrapes.filter((text) => /rpr_http_delay_hints_total/.test(text)).at(-1) ?? '';
    expect(scraped).toMatch(/^rpr_http_delay_hints_total\{[^}]*\} 1$/m);
  });
});
