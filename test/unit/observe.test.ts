import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/job/events.js';
import { RprError } from '../../src/errors/index.js';
import { createJobState } from '../../src/observe/state.js';
import { startHealthServer } from '../../src/observe/health.js';
import { createMetrics, DURATION_BUCKETS, startMetricsServer } from '../../src/observe/metrics.js';

const HOST = '127.0.0.1';
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((close) => close()));
});
async function started<T extends { close(): Promise<void> }>(p: Promise<T>): Promise<T> {
  const server = await p;
  cleanups.push(() => server.close());
  return server;
}

function result(run: number, over: Partial<RunResult> = {}): RunResult {
  const startWall = T0 + run * 1000;
  return {
    run,
    dueWall: startWall,
    startWall,
    endWall: startWall + 250,
    durationMs: 250,
    exitCode: 0,
    signal: null,
    timedOut: false,
    success: true,
    decidedBy: 'exit-code',
    ...over,
  };
}

const get = (port: number, path: string, init?: RequestInit) => fetch(`http://${HOST}:${port}${path}`, init);

describe('health server', () => {
  it('reports the job state as JSON and flips /ready 503 -> 200 -> 503', async () => {
    const state = createJobState('backup', '1.2.3', () => T0);
    const health = await started(startHealthServer({ host: HOST, port: 0, state, wallNow: () => T0 + 90_500 }));
    expect(health.port).toBeGreaterThan(0);

    expect((await get(health.port, '/ready')).status).toBe(503);
    expect((await get(health.port, '/live')).status).toBe(200);
    const before = await (await get(health.port, '/health')).json();
    expect(before).toMatchObject({ status: 'ok', state: 'starting', uptime_seconds: 0, runs: 0, last_run: null, next_run: null });

    state.observe({ type: 'job-start', wall: T0 + 500, name: 'backup' });
    expect((await get(health.port, '/ready')).status).toBe(200);

    state.observe({ type: 'next', run: 1, dueWall: T0 + 1000 });
    state.observe({ type: 'run-start', run: 1, dueWall: T0 + 1000, startWall: T0 + 1000 });
    state.observe({ type: 'run-end', result: result(1) });
    state.observe({ type: 'next', run: 2, dueWall: T0 + 2000 });
    state.observe({ type: 'run-start', run: 2, dueWall: T0 + 2000, startWall: T0 + 2000 });
    state.observe({ type: 'run-end', result: result(2, { success: false, exitCode: 3, durationMs: 40.000329999999434 }) });
    state.observe({ type: 'skipped', count: 2 });
    state.observe({ type: 'next', run: 3, dueWall: T0 + 5000 });

    const res = await get(health.port, '/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      status: 'failing',
      state: 'running',
      job: 'backup',
      version: '1.2.3',
      uptime_seconds: 90,
      runs: 2,
      successes: 1,
      failures: 1,
      timeouts: 0,
      skipped: 2,
      last_run: { time: new Date(T0 + 2000).toISOString(), exit_code: 3, success: false, duration_ms: 40 },
      next_run: new Date(T0 + 5000).toISOString(),
    });

    state.observe({ type: 'stopping', wall: T0 + 6000 });
    expect((await get(health.port, '/ready')).status).toBe(503);
    expect((await get(health.port, '/live')).status).toBe(200);
    state.observe({ type: 'job-end', reason: 'signal', exitCode: 143, wall: T0 + 7000 });
    const after = await (await get(health.port, '/health')).json();
    expect(after).toMatchObject({ state: 'stopped', next_run: null });
  });

  it('counts a timeout as a failure and clears next_run once that run starts', () => {
    const state = createJobState('j', '0');
    state.observe({ type: 'job-start', wall: T0, name: 'j' });
    state.observe({ type: 'next', run: 1, dueWall: T0 + 1000 });
    state.observe({ type: 'run-start', run: 1, dueWall: T0 + 1000, startWall: T0 + 1000 });
    expect(state.snapshot().nextDueWall).toBeNull();
    state.observe({ type: 'next', run: 2, dueWall: T0 + 2000 });
    state.observe({ type: 'run-end', result: result(1, { success: false, timedOut: true, exitCode: null, decidedBy: 'timeout' }) });
    expect(state.snapshot()).toMatchObject({ runs: 1, successes: 0, failures: 1, timeouts: 1, nextDueWall: T0 + 2000 });
  });

  it('answers 404 for unknown paths, 405 for other methods, and HEAD like GET', async () => {
    const health = await started(startHealthServer({ host: HOST, port: 0, state: createJobState('j', '0') }));
    expect((await get(health.port, '/nope')).status).toBe(404);
    const post = await get(health.port, '/health', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await get(health.port, '/live', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await get(health.port, '/health?verbose=1')).status).toBe(200);
  });
});

describe('port errors', () => {
  it('rejects with E_PORT when the port is already in use', async () => {
    const taken = await started(startHealthServer({ host: HOST, port: 0, state: createJobState('j', '0') }));
    const error = await startHealthServer({ host: HOST, port: taken.port, state: createJobState('j', '0') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RprError);
    expect(error).toMatchObject({ code: 'E_PORT', message: `health: port ${taken.port} on ${HOST} is already in use` });
    expect((error as RprError).hint).toContain('--health-port');

    const metrics = createMetrics({ job: 'j' });
    await expect(startMetricsServer({ host: HOST, port: taken.port, metrics })).rejects.toMatchObject({
      code: 'E_PORT',
      message: `metrics: port ${taken.port} on ${HOST} is already in use`,
    });
  });

  it('rejects with E_PORT when a foreign socket holds the port or the port is invalid', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, HOST, resolve));
    cleanups.push(() => new Promise((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as { port: number }).port;
    await expect(startHealthServer({ host: HOST, port, state: createJobState('j', '0') })).rejects.toMatchObject({ code: 'E_PORT' });
    await expect(startHealthServer({ host: HOST, port: 70000, state: createJobState('j', '0') })).rejects.toMatchObject({
      code: 'E_PORT',
      message: 'health: port 70000 is not a valid port',
    });
  });
});

/** Parses Prometheus text into samples; enough for rpr's own output. */
function parse(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) throw new Error(`unparsable line: ${line}`);
      const labels: Record<string, string> = {};
      for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
      return { name: m[1]!, labels, value: Number(m[3] === '+Inf' ? Infinity : m[3]) };
    });
}

describe('metrics', () => {
  it('serves run counters, a cumulative histogram, skipped, next run and up', async () => {
    const metrics = createMetrics({ job: 'backup' });
    const server = await started(startMetricsServer({ host: HOST, port: 0, metrics }));
    const scrape = async () => {
      const res = await get(server.port, '/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(metrics.registry.contentType);
      return parse(await res.text());
    };
    const value = (samples: ReturnType<typeof parse>, name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

    let samples = await scrape();
    expect(value(samples, 'rpr_up', { job: 'backup' })).toBe(0);
    expect(value(samples, 'rpr_runs_total', { result: 'failure' })).toBe(0);

    metrics.observe({ type: 'job-start', wall: T0, name: 'backup' });
    const durations = [3, 200, 200, 2_000, 400_000]; // ms; the last is beyond the top bucket
    durations.forEach((durationMs, i) => metrics.observe({ type: 'run-end', result: result(i + 1, { durationMs }) }));
    metrics.observe({ type: 'run-end', result: result(6, { success: false, exitCode: 1 }) });
    metrics.observe({ type: 'run-end', result: result(7, { success: false, timedOut: true, exitCode: null }) });
    metrics.observe({ type: 'skipped', count: 3 });
    metrics.observe({ type: 'next', run: 8, dueWall: T0 + 60_000 });

    samples = await scrape();
    expect(value(samples, 'rpr_up')).toBe(1);
    expect(value(samples, 'rpr_runs_total', { job: 'backup', result: 'success' })).toBe(5);
    expect(value(samples, 'rpr_runs_total', { result: 'failure' })).toBe(1);
    expect(value(samples, 'rpr_runs_total', { result: 'timeout' })).toBe(1);
    expect(value(samples, 'rpr_skipped_runs_total', { job: 'backup' })).toBe(3);
    expect(value(samples, 'rpr_next_run_timestamp_seconds')).toBe((T0 + 60_000) / 1000);
    expect(value(samples, 'rpr_process_cpu_seconds_total', { job: 'backup' })).toBeGreaterThanOrEqual(0);

    const buckets = samples.filter((s) => s.name === 'rpr_run_duration_seconds_bucket');
    expect(buckets.map((b) => b.labels.le)).toEqual([...DURATION_BUCKETS.map(String), '+Inf']);
    expect(buckets.every((b) => b.labels.job === 'backup')).toBe(true);
    const counts = buckets.map((b) => b.value);
    counts.forEach((c, i) => expect(c).toBeGreaterThanOrEqual(counts[i - 1] ?? 0));
    const count = value(samples, 'rpr_run_duration_seconds_count');
    expect(count).toBe(7);
    expect(counts.at(-1)).toBe(count);
    expect(value(samples, 'rpr_run_duration_seconds_bucket', { le: '0.005' })).toBe(1);
    expect(value(samples, 'rpr_run_duration_seconds_bucket', { le: '0.25' })).toBe(5); // 3 ms, 2x200 ms, 2x250 ms
    expect(value(samples, 'rpr_run_duration_seconds_bucket', { le: '300' })).toBe(6);
    expect(value(samples, 'rpr_run_duration_seconds_sum')).toBeCloseTo((3 + 400 + 2_000 + 400_000 + 500) / 1000);

    metrics.observe({ type: 'stopping', wall: T0 + 70_000 });
    samples = await scrape();
    expect(value(samples, 'rpr_up')).toBe(0);
    expect((await get(server.port, '/')).status).toBe(404);
  });

  it('lets later code add metrics to the same registry with the job label', async () => {
    const metrics = createMetrics({ job: 'j' });
    metrics.counter('rpr_plugin_failures_total', 'Plugin calls that failed.', ['plugin']).inc({ plugin: 'slack' });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^rpr_plugin_failures_total\{plugin="slack",job="j"\} 1$/m);
    // Separate registries: a second job does not collide with the first.
    expect(() => createMetrics({ job: 'k' })).not.toThrow();
  });
});
