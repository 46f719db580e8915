/**
 * --allow PLUGIN=HOST[:PORT] (issue 15): a network grant from the command line, the README's
 * webhook example run as written against a real HTTP server, and the last line of a job whose
 * outputs all failed.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, run } from './core-helpers.js';
import { errLines } from './plugins-helpers.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) s.close();
  await cleanup();
});

/** A real HTTP server on 127.0.0.1 that records the JSON bodies POSTed to it. */
async function hookServer(): Promise<{ port: number; bodies: { type: string }[] }> {
  const bodies: { type: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(body) as { type: string });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { port: (server.address() as AddressInfo).port, bodies };
}

/** The README's webhook example, as written. */
function readmeWebhookLine(): string[] {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
  const line = readme.split('\n').find((l) => l.startsWith('rpr interval') && l.includes('--output webhook'));
  expect(line, 'the README has a webhook example').toBeDefined();
  return line!
    .replace(/\s+#.*$/, '')
    .trim()
    .split(/\s+/)
    .slice(1);
}

describe('--allow', () => {
  it("the README's webhook example delivers every event to the server it names", async () => {
    const { port, bodies } = await hookServer();
    // As written, with the test server's port for 9000, one run, and a command that exists here.
    const args = readmeWebhookLine().map((a) => a.replaceAll('127.0.0.1:9000', `127.0.0.1:${port}`));
    const dashdash = args.indexOf('--');
    const r = await run([...args.slice(0, dashdash), '--times', '1', '--', 'true']);
    expect(errLines(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
    expect(bodies.map((b) => b.type)).toEqual(['job-start', 'next', 'run-start', 'run-end', 'job-end']);
  });

  it('without it every delivery is denied: the hint names --allow, the last line says every output failed', async () => {
    const { port, bodies } = await hookServer();
    const r = await run(['count', '--times', '1', '--output', 'webhook', '--set', `webhook.url=http://127.0.0.1:${port}/hook`, '--', 'true']);
    expect(bodies).toEqual([]);
    const err = errLines(r.stderr);
    expect(err).toContainEqual(
      expect.stringContaining(`(hint: grant it with --allow webhook=127.0.0.1:${port}, or network = ["127.0.0.1:${port}"] in [plugins.webhook.permissions] if you trust the plugin)`),
    );
    expect(err.at(-1)).toMatch(/^rpr: job ended \(times\): every output failed \(webhook: \d+ events not delivered\); exit 0$/);
  });

  it('grants only what it names: another port stays denied', async () => {
    const { port, bodies } = await hookServer();
    const r = await run([
      'count',
      '--times',
      '1',
      '--output',
      'webhook',
      '--set',
      `webhook.url=http://127.0.0.1:${port}/hook`,
      '--allow',
      `webhook=127.0.0.1:${port === 1 ? 2 : port - 1}`,
      '--',
      'true',
    ]);
    expect(bodies).toEqual([]);
    expect(r.stderr).toMatch(/network access to 127\.0\.0\.1:\d+ denied/);
  });

  it('a bad pattern, or a plugin the job does not use, is a usage error', async () => {
    const bad = await run(['count', '--times', '1', '--allow', 'webhook=http://x/', '--', 'true']);
    expect(bad.code).toBe(2);
    expect(errLines(bad.stderr)).toEqual([expect.stringMatching(/^rpr: --allow "webhook=http:\/\/x\/": .* \(hint: e\.g\. --allow webhook=127\.0\.0\.1:9000\)$/)]);
    const unused = await run(['count', '--times', '1', '--allow', 'webhok=127.0.0.1:9', '--', 'true']);
    expect(unused.code).toBe(2);
    expect(errLines(unused.stderr)).toEqual(['rpr: --allow webhok=127.0.0.1:9: this job uses no plugin "webhok" (hint: it uses no plugin)']);
  });

  it('is shown in --help', async () => {
    const r = await run(['interval', '--help']);
    expect(r.stdout).toMatch(/--allow <plugin=host:port>/);
  });
});
