// The bundled plugins through the real command line (the built dist/cli/bin.js, as `npm test`
// builds it): gaps between runs measured by the command itself, stop on success, --attempts and the
// exit code, the rate limiter's window over real start times, and outputs reaching a local server
// only when granted. Skipped when rpr is not built.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RPR, rpr } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rpr-bundled-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A command that prints its start time (ms) and exits with `code` (or fails its first `failures` runs). */
function stamp(code: number | { failures: number }): string[] {
  if (typeof code === 'number') return ['sh', '-c', `date +%s%N; exit ${code}`];
  const counter = path.join(dir, `count-${Math.random().toString(36).slice(2)}`);
  return ['sh', '-c', `date +%s%N; n=$(cat ${counter} 2>/dev/null || echo 0); echo $((n+1)) > ${counter}; [ $n -ge ${code.failures} ]`];
}
const times = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map((l) => Number(l) / 1e6);
const gaps = (t: number[]) => t.slice(1).map((x, i) => x - t[i]!);

/** Each gap at least its expected value (less 5 ms of clock reading) and at most `slack` more. */
function expectGaps(actual: number[], expected: number[], slack = 250): void {
  expect(actual, `gaps ${actual.map(Math.round).join(' ')}`).toHaveLength(expected.length);
  actual.forEach((g, i) => {
    expect(g, `gap ${i + 1} of ${actual.map(Math.round).join(' ')}`).toBeGreaterThanOrEqual(expected[i]! - 5);
    expect(g, `gap ${i + 1} of ${actual.map(Math.round).join(' ')}`).toBeLessThanOrEqual(expected[i]! + slack);
  });
}

describe.skipIf(!existsSync(RPR))('bundled schedulers through the CLI', () => {
  it('fibonacci --attempts 5: gaps 100 100 200 300, exit code of the last run', async () => {
    const r = await rpr(['fibonacci', '--initial', '100ms', '--attempts', '5', '--', ...stamp(3)]);
    expect(r.code).toBe(3);
    expectGaps(gaps(times(r.stdout)), [100, 100, 200, 300]);
  });

  it('exponential stops at the first success (exit 0); base-delay/max-delay spellings', async () => {
    const r = await rpr(['exponential', '--base-delay', '100ms', '--max-delay', '150ms', '--', ...stamp({ failures: 2 })]);
    expect(r.code).toBe(0);
    expectGaps(gaps(times(r.stdout)), [100, 150]);
  });

  it('linear, polynomial and decorrelated-jitter waits', async () => {
    const lin = await rpr(['linear', '--increment', '50ms', '-a', '4', '--', ...stamp(1)]);
    expectGaps(gaps(times(lin.stdout)), [50, 100, 150]);
    const poly = await rpr(['polynomial', '--initial', '30ms', '--exponent', '2', '-a', '4', '--', ...stamp(1)]);
    expectGaps(gaps(times(poly.stdout)), [30, 120, 270]);
    const dj = await rpr(['decorrelated-jitter', '--initial', '50ms', '--max', '200ms', '-a', '6', '--', ...stamp(1)]);
    const g = gaps(times(dj.stdout));
    expect(g).toHaveLength(5);
    for (const x of g) expect(x).toBeGreaterThanOrEqual(45);
    for (const x of g) expect(x).toBeLessThanOrEqual(200 + 250);
    expect(dj.code).toBe(1);
  });

  it('--continuous goes on after a success until --times', async () => {
    const r = await rpr(['fibonacci', '--initial', '50ms', '--continuous', '--times', '4', '--', ...stamp(0)]);
    expect(r.code).toBe(0);
    expectGaps(gaps(times(r.stdout)), [50, 50, 50]);
  });

  it('adaptive backs off from failures', async () => {
    const r = await rpr(['adaptive', '-b', '100ms', '--times', '4', '--', ...stamp(1)]);
    expectGaps(gaps(times(r.stdout)), [200, 400, 800]);
  });

  it('rate-limit: never more than N starts in any window of the real run, sub-second included', async () => {
    const r = await rpr(['rate-limit', '--rate', '3/400ms', '--times', '10', '--', ...stamp(0)]);
    const t = times(r.stdout);
    expect(t).toHaveLength(10);
    // The 4th start after any start is a window later. The limiter counts the moments rpr starts
    // the runs; the command reads the clock a few ms after that, more for the first (cold) run on a
    // busy machine: allow 70 ms for that, still far from no limit (back to back, ~20 ms apart).
    for (let i = 0; i + 3 < t.length; i++) expect(t[i + 3]! - t[i]!, `starts ${t.map((x) => Math.round(x - t[0]!)).join(' ')}`).toBeGreaterThanOrEqual(330);
    // ...and not much later: the next allowed time is computed, not probed.
    expect(t[9]! - t[0]!).toBeLessThan(3 * 400 + 400);
  });

  it('rate-limit --retry-pattern re-runs a failed run at its offset', async () => {
    // 2/1s: a new run must leave room for its own retry, so the retry of the first comes first.
    const r = await rpr(['rate-limit', '--rate', '2/1s', '--retry-pattern', '0,300ms', '--times', '2', '--', ...stamp({ failures: 1 })]);
    // The offset counts from when rpr started the run; the first (cold) run reads its clock up to
    // ~60 ms after that on a busy machine (see the rate-limit test above), so measure from there.
    const [gap] = gaps(times(r.stdout));
    expect(gap).toBeGreaterThanOrEqual(300 - 70);
    expect(gap).toBeLessThan(300 + 250);
  });

  it('token-bucket: --burst back to back, then WINDOW/N apart', async () => {
    const r = await rpr(['token-bucket', '--rate', '10/1s', '--burst', '2', '--times', '5', '--', ...stamp(0)]);
    const t = times(r.stdout);
    // two at once (the second as soon as the first has ended), then a token every 100 ms
    expect(t).toHaveLength(5);
    expect(t[1]! - t[0]!).toBeLessThan(250);
    expect(t[4]! - t[0]!).toBeGreaterThanOrEqual(300 - 50); // (see the rate-limit test on clock readings)
    expect(t[4]! - t[0]!).toBeLessThan(300 + 250);
  });
});

describe.skipIf(!existsSync(RPR))('bundled outputs through the CLI', () => {
  async function server(): Promise<{ port: number; bodies: string[]; close: () => Promise<void> }> {
    const bodies: string[] = [];
    const srv = http.createServer((req, res) => {
      let b = '';
      req.on('data', (d) => (b += d));
      req.on('end', () => {
        bodies.push(b);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    return { port: (srv.address() as AddressInfo).port, bodies, close: () => new Promise((resolve) => srv.close(() => resolve())) };
  }

  it('webhook and slack post to a granted local server; the job is unaffected', async () => {
    const s = await server();
    try {
      const config = path.join(dir, 'outputs.toml');
      writeFileSync(
        config,
        `[plugins.webhook]\nurl = "http://127.0.0.1:${s.port}/hook"\nevents = "run-end,job-end"\n` +
          `[plugins.webhook.permissions]\nnetwork = ["127.0.0.1:${s.port}"]\n` +
          `[plugins.slack]\nwebhook_url = "http://127.0.0.1:${s.port}/slack"\non = "always"\ntemplate = "{job} {run} {status}"\n` +
          `[plugins.slack.permissions]\nnetwork = ["127.0.0.1:${s.port}"]\n`,
      );
      const r = await rpr(['--config', config, 'count', '--times', '2', '--name', 'nightly', '--output', 'webhook,slack', '--', 'true']);
      expect(r.code).toBe(0);
      const parsed = s.bodies.map((b) => JSON.parse(b) as Record<string, unknown>);
      expect(parsed.filter((b) => b.type === 'run-end').map((b) => b.run)).toEqual([1, 2]);
      expect(parsed.filter((b) => b.type === 'job-end')).toHaveLength(1);
      expect(parsed.filter((b) => 'text' in b).map((b) => b.text)).toEqual(['nightly 1 succeeded', 'nightly 2 succeeded']);
    } finally {
      await s.close();
    }
  });

  it('without the grant nothing is sent, the job still succeeds, and stderr says what was denied', async () => {
    const s = await server();
    try {
      const r = await rpr(['count', '--times', '1', '--output', 'webhook', '--set', `webhook.url=http://127.0.0.1:${s.port}/`, '--', 'true']);
      expect(r.code).toBe(0);
      expect(s.bodies).toEqual([]);
      expect(r.stderr).toMatch(/denied/);
    } finally {
      await s.close();
    }
  });

  it('elasticsearch sends the bulk request at the end of the job', async () => {
    const s = await server();
    try {
      const config = path.join(dir, 'es.toml');
      writeFileSync(config, `[plugins.elasticsearch]\nurl = "http://127.0.0.1:${s.port}"\nindex = "ci"\n[plugins.elasticsearch.permissions]\nnetwork = ["127.0.0.1:${s.port}"]\n`);
      const r = await rpr(['--config', config, 'count', '--times', '3', '--output', 'elasticsearch', '--', 'echo', 'ünïcode']);
      expect(r.code).toBe(0);
      expect(s.bodies).toHaveLength(1);
      const lines = s.bodies[0]!.trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.filter((_, i) => i % 2 === 0)).toEqual([{ index: { _index: 'ci' } }, { index: { _index: 'ci' } }, { index: { _index: 'ci' } }]);
      expect(lines.filter((_, i) => i % 2 === 1).map((d) => [d.run, d.success, d.exit_code])).toEqual([
        [1, true, 0],
        [2, true, 0],
        [3, true, 0],
      ]);
    } finally {
      await s.close();
    }
  });
});
