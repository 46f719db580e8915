/**
 * Health and metrics end to end: the built rpr with --health-port and
 * --metrics-port on free ports of 127.0.0.1, real HTTP requests while its
 * runs happen, the Prometheus text parsed and checked (counts, cumulative
 * buckets, +Inf == _count, labels), /ready during a graceful shutdown, a port
 * already in use, servers gone once the job ends, and [observability] in the
 * config file. The servers' own unit tests are in test/unit/observe.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  busyPort,
  cleanup,
  connectResult,
  freePort,
  getJson,
  http,
  lines,
  liveProcesses,
  parseProm,
  run,
  sampleOf,
  STACK_LINE,
  start,
  tempDir,
  uniqueSleep,
  waitForFile,
  waitUntil,
  writeFile,
  type Sample,
} from './service-helpers.js';

afterEach(cleanup);

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

interface Health {
  status: string;
  state: string;
  job: string;
  version: string;
  uptime_seconds: number;
  runs: number;
  successes: number;
  failures: number;
  timeouts: number;
  skipped: number;
  last_run: { time: string; exit_code: number | null; success: boolean; duration_ms: number } | null;
  next_run: string | null;
}

const health = async (port: number): Promise<Health> => {
  const res = await getJson<Health>(port, '/health');
  expect(res.status).toBe(200);
  return res.json;
};

const scrape = async (port: number): Promise<Sample[]> => {
  const res = await http(port, '/metrics');
  expect(res.status).toBe(200);
  expect(String(res.headers['content-type'])).toMatch(/^text\/plain/);
  return parseProm(res.body).samples;
};

const DOCUMENTED_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, Infinity];

/** The histogram's invariants: documented buckets, cumulative, +Inf == _count; returns _count. */
function checkHistogram(samples: Sample[], job: string): number {
  const buckets = samples.filter((s) => s.name === 'rpr_run_duration_seconds_bucket');
  expect(buckets.map((b) => (b.labels.le === '+Inf' ? Infinity : Number(b.labels.le)))).toEqual(DOCUMENTED_BUCKETS);
  for (const b of buckets) expect(b.labels.job).toBe(job);
  for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value, `bucket le=${buckets[i]!.labels.le} is cumulative`).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
  const count = sampleOf(samples, 'rpr_run_duration_seconds_count', { job });
  expect(buckets.at(-1)!.value, '+Inf bucket == _count').toBe(count);
  return count;
}

describe('a running job with --health-port and --metrics-port', () => {
  it('/health changes as runs happen and agrees with /metrics; /ready, /live; servers gone at the end', async () => {
    const dir = tempDir();
    const [hp, mp] = [await freePort(), await freePort()];
    // Run 1 passes, 2 fails (exit 3), 3 times out (and skips slots), 4 passes,
    // 5 holds until the test has looked (or its timeout ends it).
    const script = ['case $RPR_RUN in', '1) exit 0;;', '2) exit 3;;', '3) sleep 5;;', '4) exit 0;;', `5) touch ${dir}/r5; while [ ! -e ${dir}/go ]; do sleep 0.02; done;;`, 'esac'].join('\n');
    const job = start([
      'interval',
      '--every',
      '400ms',
      '--timeout',
      '1500ms',
      '--kill-after',
      '200ms',
      '--times',
      '5',
      '--name',
      'probe',
      '--health-port',
      String(hp),
      '--metrics-port',
      String(mp),
      '--',
      'sh',
      '-c',
      script,
    ]);

    // Poll /health from the start: the counts only ever grow, and each run is seen.
    const seen: Health[] = [];
    const readiness: { status: number; state: string }[] = [];
    await waitUntil(
      'run 5 to start',
      async () => {
        try {
          const [h, r] = await Promise.all([health(hp), http(hp, '/ready')]);
          seen.push(h);
          readiness.push({ status: r.status, state: (JSON.parse(r.body) as { state: string }).state });
        } catch (error) {
          if (job.child.exitCode !== null) throw new Error(`rpr exited early: ${job.stderr()}`);
          if (!/ECONNREFUSED/.test(String(error))) throw error;
        }
        return existsSync(join(dir, 'r5'));
      },
      15_000,
      30,
    );
    const h = await health(hp);
    const samples = await scrape(mp);
    const [ready, live] = await Promise.all([http(hp, '/ready'), http(hp, '/live')]);
    const [notFound, post] = await Promise.all([http(hp, '/nope'), http(hp, '/health', 'POST')]);
    writeFileSync(join(dir, 'go'), '');
    const done = await job.done;

    // The snapshot while run 5 holds: 4 runs finished, known outcomes.
    expect(h).toMatchObject({ status: 'ok', state: 'running', job: 'probe', version: VERSION, runs: 4, successes: 2, failures: 2, timeouts: 1 });
    expect(h.last_run).toMatchObject({ exit_code: 0, success: true });
    expect(Date.parse(h.last_run!.time)).toBeGreaterThan(Date.now() - 10_000);
    expect(h.uptime_seconds).toBeGreaterThan(1.5);
    expect(h.skipped).toBeGreaterThanOrEqual(1);

    for (let i = 1; i < seen.length; i++) {
      for (const k of ['runs', 'successes', 'failures', 'timeouts', 'skipped'] as const) expect(seen[i]![k]).toBeGreaterThanOrEqual(seen[i - 1]![k]);
      expect(seen[i]!.uptime_seconds).toBeGreaterThanOrEqual(seen[i - 1]!.uptime_seconds);
    }
    for (const s of seen) expect(s.runs).toBe(s.successes + s.failures);
    // The numbers moved while we watched, and each snapshot's last run fits its counts.
    expect(new Set(seen.map((s) => s.runs)).size).toBeGreaterThanOrEqual(3);
    const afterFirst = seen.find((s) => s.runs === 1);
    if (afterFirst) expect(afterFirst.last_run).toMatchObject({ exit_code: 0, success: true });
    const afterSecond = seen.find((s) => s.runs === 2);
    if (afterSecond) {
      expect(afterSecond.status).toBe('failing');
      expect(afterSecond.last_run).toMatchObject({ exit_code: 3, success: false });
    }
    const afterThird = seen.find((s) => s.runs === 3);
    if (afterThird) expect(afterThird).toMatchObject({ status: 'failing', timeouts: 1, last_run: { success: false } });
    // Between runs, next_run is the next slot: after the last run started, on the 400 ms grid.
    const waiting = seen.filter((s) => s.next_run !== null && s.last_run !== null && s.runs < 4);
    expect(waiting.length, 'some snapshot between runs shows next_run').toBeGreaterThan(0);
    for (const s of waiting) {
      const ahead = Date.parse(s.next_run!) - Date.parse(s.last_run!.time);
      expect(ahead).toBeGreaterThan(0);
      expect(ahead).toBeLessThanOrEqual(2400);
    }
    // /ready is 503 while starting, 200 once running (seen by every poll, whatever it caught).
    for (const r of readiness) expect(r.status, `ready while ${r.state}`).toBe(r.state === 'running' ? 200 : 503);
    expect(readiness.filter((r) => r.status === 200).length).toBeGreaterThan(0);
    // Before the first run there is nothing to report.
    const before = seen.find((s) => s.runs === 0);
    if (before) expect(before).toMatchObject({ status: 'ok', last_run: null });

    // Metrics at the same moment: the same counts.
    for (const s of samples.filter((x) => x.name.startsWith('rpr_'))) expect(s.labels.job, s.name).toBe('probe');
    expect(sampleOf(samples, 'rpr_runs_total', { result: 'success' })).toBe(2);
    expect(sampleOf(samples, 'rpr_runs_total', { result: 'failure' })).toBe(1);
    expect(sampleOf(samples, 'rpr_runs_total', { result: 'timeout' })).toBe(1);
    expect(checkHistogram(samples, 'probe')).toBe(4);
    // The timed-out run took ~1.5 s: in the 2.5 bucket, not the 1 bucket; the quick ones under 0.5 s.
    expect(sampleOf(samples, 'rpr_run_duration_seconds_bucket', { le: '1' })).toBe(3);
    expect(sampleOf(samples, 'rpr_run_duration_seconds_bucket', { le: '2.5' })).toBe(4);
    expect(sampleOf(samples, 'rpr_run_duration_seconds_sum')).toBeGreaterThan(1.4);
    expect(sampleOf(samples, 'rpr_skipped_runs_total')).toBe(h.skipped);
    expect(sampleOf(samples, 'rpr_up')).toBe(1);
    const nextDue = sampleOf(samples, 'rpr_next_run_timestamp_seconds');
    expect(nextDue * 1000).toBeGreaterThan(Date.now() - 5000);
    expect(nextDue * 1000).toBeLessThan(Date.now() + 1000);
    expect(samples.some((s) => s.name.startsWith('rpr_process_'))).toBe(true);
    expect(samples.some((s) => s.name.startsWith('rpr_nodejs_'))).toBe(true);

    expect(ready.status).toBe(200);
    expect(live.status).toBe(200);
    expect(notFound.status).toBe(404);
    expect(post.status).toBe(405);

    // The job ended (a run failed: exit 1), and both servers are gone with it.
    expect(done.code, done.stderr).toBe(1);
    expect(await connectResult(hp)).toBe('ECONNREFUSED');
    expect(await connectResult(mp)).toBe('ECONNREFUSED');
  });

  it('the job label defaults to the command name; /health says the same', async () => {
    const dir = tempDir();
    const [hp, mp] = [await freePort(), await freePort()];
    const job = start(['count', '--times', '1', '--health-port', String(hp), '--metrics-port', String(mp), '--', '/bin/sh', '-c', `touch ${dir}/up; while [ ! -e ${dir}/go ]; do sleep 0.02; done`]);
    await waitForFile(join(dir, 'up'));
    const [h, samples] = await Promise.all([health(hp), scrape(mp)]);
    writeFileSync(join(dir, 'go'), '');
    expect((await job.done).code).toBe(0);
    expect(h.job).toBe('sh');
    expect(sampleOf(samples, 'rpr_up', { job: 'sh' })).toBe(1);
    expect(checkHistogram(samples, 'sh')).toBe(0);
    for (const result of ['success', 'failure', 'timeout']) expect(sampleOf(samples, 'rpr_runs_total', { job: 'sh', result })).toBe(0);
  });

  it('SIGTERM: /ready turns 503 and rpr_up 0 while the run is given its grace period, /live stays 200', async () => {
    const dir = tempDir();
    const { secs, marker } = uniqueSleep();
    const [hp, mp] = [await freePort(), await freePort()];
    // The run ignores SIGTERM (so does its sleep), so rpr must wait --kill-after before SIGKILL.
    const job = start([
      'interval',
      '--every',
      '10s',
      '--kill-after',
      '2s',
      '--health-port',
      String(hp),
      '--metrics-port',
      String(mp),
      '--',
      'sh',
      '-c',
      `trap "" TERM; touch ${dir}/up; sleep ${secs}`,
    ]);
    await waitForFile(join(dir, 'up'));
    await waitUntil('the child sleep', () => liveProcesses(marker).length > 0);
    expect((await http(hp, '/ready')).status).toBe(200);

    const termAt = Date.now();
    job.child.kill('SIGTERM');
    const h = await waitUntil(
      'state stopping',
      async () => {
        const x = await health(hp);
        return x.state === 'stopping' ? x : undefined;
      },
      1500,
      20,
    );
    const [ready, live, samples] = await Promise.all([http(hp, '/ready'), http(hp, '/live'), scrape(mp)]);
    const lookedWithin = Date.now() - termAt;
    const done = await job.done;

    expect(lookedWithin, 'we looked inside the grace window').toBeLessThan(1900);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: false });
    expect(live.status).toBe(200);
    expect(h.next_run).toBeNull();
    expect(sampleOf(samples, 'rpr_up')).toBe(0);
    expect(sampleOf(samples, 'rpr_next_run_timestamp_seconds')).toBe(0);
    // rpr waited for --kill-after, then killed the run and exited as stopped by SIGTERM.
    expect(done.code, done.stderr).toBe(143);
    expect(done.ms).toBeGreaterThan(2000);
    expect(liveProcesses(marker)).toEqual([]);
    expect(await connectResult(hp)).toBe('ECONNREFUSED');
    expect(await connectResult(mp)).toBe('ECONNREFUSED');
  });
});

describe('promtool', () => {
  const promtool = spawnSync('promtool', ['--version']).status === 0;
  if (!promtool) console.error('SKIP promtool check metrics: promtool is not installed (Debian package prometheus; .ci/run installs it)');

  it.skipIf(!promtool)('promtool check metrics passes on /metrics with every series rpr has (runs, skips, http-aware, outputs)', async () => {
    const dir = tempDir();
    const port = await freePort();
    const job = start([
      'count',
      '-t',
      '3',
      '--every',
      '50ms',
      '--http-aware',
      '--output',
      'webhook',
      '--set',
      'webhook.url=http://127.0.0.1:9/x',
      '--metrics-port',
      String(port),
      '--',
      'sh',
      '-c',
      `[ -e ${dir}/up ] || touch ${dir}/up; [ "$RPR_RUN" = 3 ] && while [ ! -e ${dir}/go ]; do sleep 0.02; done; true`,
    ]);
    await waitUntil('the third run', async () => (await http(port, '/metrics').catch(() => null))?.body.includes('rpr_runs_total{') && existsSync(join(dir, 'up')));
    const res = await http(port, '/metrics');
    writeFileSync(join(dir, 'go'), '');
    await job.done;
    const check = spawnSync('promtool', ['check', 'metrics'], { input: res.body, encoding: 'utf8' });
    expect(`${check.stdout}${check.stderr}`.trim(), 'promtool check metrics').toBe('');
    expect(check.status).toBe(0);
  });
});

describe('ports', () => {
  it('a port already in use is exit 2 before anything runs (health, metrics)', async () => {
    const dir = tempDir();
    const busy = await busyPort();
    const marker = (n: number): string => join(dir, `ran${n}`);
    const results = await Promise.all([
      run(['count', '-t', '1', '--health-port', String(busy), '--', 'touch', marker(1)]),
      run(['count', '-t', '1', '--metrics-port', String(busy), '--', 'touch', marker(2)]),
    ]);
    results.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(lines(r.stderr), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(/in use/);
      expect(r.stderr).toContain(String(busy));
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(r.stdout).toBe('');
      expect(existsSync(marker(i + 1)), 'the command must not run').toBe(false);
    });
    expect(results[0]!.stderr).toMatch(/health/);
    expect(results[1]!.stderr).toMatch(/metrics/);
  });

  it('the same port for health and metrics is one server answering both (it was "already in use", by rpr itself)', async () => {
    const dir = tempDir();
    const port = await freePort();
    const job = start([
      'count',
      '-t',
      '1',
      '--name',
      'one-port',
      '--health-port',
      String(port),
      '--metrics-port',
      String(port),
      '--',
      'sh',
      '-c',
      `touch ${dir}/up; while [ ! -e ${dir}/go ]; do sleep 0.02; done`,
    ]);
    await waitForFile(join(dir, 'up'));
    const [h, samples] = await Promise.all([health(port), scrape(port)]);
    writeFileSync(join(dir, 'go'), '');
    const done = await job.done;
    expect(done.code, done.stderr).toBe(0);
    expect(h).toMatchObject({ job: 'one-port', state: 'running' });
    expect(sampleOf(samples, 'rpr_up', { job: 'one-port' })).toBe(1);
  });

  it('[observability] in the config file; RPR_HEALTH_PORT beats it; a flag beats both', async () => {
    const dir = tempDir();
    const busy = await busyPort();
    const [hp, mp] = [await freePort(), await freePort()];
    const file = writeFile(dir, 'rpr.toml', `[observability]\nhealth_port = ${hp}\nmetrics_port = ${mp}\n`);
    const job = start(['--config', file, 'count', '-t', '1', '--name', 'from-file', '--', 'sh', '-c', `touch ${dir}/up; while [ ! -e ${dir}/go ]; do sleep 0.02; done`]);
    await waitForFile(join(dir, 'up'));
    const [h, samples] = await Promise.all([health(hp), scrape(mp)]);
    writeFileSync(join(dir, 'go'), '');
    expect((await job.done).code).toBe(0);
    expect(h).toMatchObject({ job: 'from-file', state: 'running' });
    expect(sampleOf(samples, 'rpr_up', { job: 'from-file' })).toBe(1);

    // Which layer wins is shown by which port rpr tries: the busy one fails with exit 2.
    const busyFile = writeFile(dir, 'busy.toml', `[observability]\nhealth_port = ${busy}\n`);
    const other = await freePort();
    const [fileOnly, envOverFile, envBusy, flagOverEnv] = await Promise.all([
      run(['--config', busyFile, 'count', '-t', '1', '--', 'true']),
      run(['--config', busyFile, 'count', '-t', '1', '--', 'true'], { env: { RPR_HEALTH_PORT: String(other) } }),
      run(['count', '-t', '1', '--', 'true'], { env: { RPR_HEALTH_PORT: String(busy) } }),
      run(['count', '-t', '1', '--health-port', '0', '--', 'true'], { env: { RPR_HEALTH_PORT: String(busy) } }),
    ]);
    expect(fileOnly.code, fileOnly.stderr).toBe(2);
    expect(fileOnly.stderr).toContain(String(busy));
    expect(envOverFile.code, envOverFile.stderr).toBe(0);
    expect(envBusy.code, envBusy.stderr).toBe(2);
    expect(flagOverEnv.code, flagOverEnv.stderr).toBe(0);
  });
});
