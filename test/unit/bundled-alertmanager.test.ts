// alertmanager through the real host, against HTTP servers on 127.0.0.1 standing in for Alertmanager
// (the real one is in test/e2e/alertmanager.test.ts): the exact alert, when it fires, is sent again
// and resolves, what an HA pair with one member down gets, and settings. Time is the events' own.
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobEvent, RunResult } from '../../src/job/events.js';
import { outputDeliver, type PluginError, type PluginHandle } from '../../src/plugins/index.js';
import { freePort } from '../helpers/redis-server.js';
import { serve, type TestServer } from '../plugins/helpers.js';
import { loadBundled, loadError, T0 } from './bundled-helpers.js';

interface Posted {
  url: string;
  alert: { labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string; generatorURL?: string };
}
interface Fake extends TestServer {
  posts: Posted[];
}

const S = 1000;
const M = 60 * S;
const servers: Fake[] = [];
const open: PluginHandle[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** An Alertmanager stand-in: records each alert POSTed to /api/v2/alerts, answers 200. */
async function alertmanager(): Promise<Fake> {
  const posts: Posted[] = [];
  const s = await serve((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const list = JSON.parse(body) as Posted['alert'][];
      for (const alert of list) posts.push({ url: `${req.method} ${req.url}`, alert });
      res.end('');
    });
  });
  const fake = { ...s, posts };
  servers.push(fake);
  return fake;
}

async function load(config: Record<string, unknown>, network: string[], extra = {}): Promise<PluginHandle> {
  const h = await loadBundled('alertmanager', config, { permissions: { grant: { network } }, ...extra });
  open.push(h);
  return h;
}

const iso = (ms: number) => new Date(ms).toISOString();
const start = (name = 'backup'): JobEvent => ({ type: 'job-start', wall: T0, name });
/** Run `run` starts at T0 + run x 10 s and lasts 1.5 s. */
function end(run: number, ok: boolean, over: Partial<RunResult> = {}): JobEvent {
  const at = T0 + run * 10 * S;
  return {
    type: 'run-end',
    result: { run, dueWall: at, startWall: at, endWall: at + 1500, durationMs: 1500, exitCode: ok ? 0 : 2, signal: null, timedOut: false, success: ok, decidedBy: 'exit-code', ...over },
  };
}
const next = (run: number): JobEvent => ({ type: 'next', run, dueWall: T0 + run * 10 * S });
const jobEnd = (wall: number): JobEvent => ({ type: 'job-end', reason: 'times', exitCode: 2, wall });

/** Delivers a run's end (with its output) and the next run's due time, as rpr does. */
async function runs(h: PluginHandle, from: number, to: number, ok: boolean, tail = 'ERROR: connection refused\n') {
  for (let run = from; run <= to; run++) {
    await outputDeliver(h, end(run, ok), tail);
    await outputDeliver(h, next(run + 1));
  }
}

describe('alertmanager', () => {
  it('fires RprJobFailing at the first failed run: labels, bounded annotations, startsAt, an endsAt past the next run', async () => {
    const am = await alertmanager();
    const h = await load({ url: `${am.url}/`, resend: '1m', 'generator-url': 'http://rpr.example:8081/health' }, [`127.0.0.1:${am.port}`]);
    await outputDeliver(h, start());
    await runs(h, 1, 2, true);
    expect(am.posts).toEqual([]);
    await outputDeliver(h, end(3, false), `starting\n${'x'.repeat(300)}\n\n`);
    expect(am.posts).toHaveLength(1);
    expect(am.posts[0]).toEqual({
      url: 'POST /api/v2/alerts',
      alert: {
        labels: { alertname: 'RprJobFailing', job: 'backup', instance: hostname() },
        annotations: {
          summary: `rpr job backup on ${hostname()} is failing: 1 failed run in a row, the last (run 3) ended with 2`,
          exit_code: '2',
          last_output: `${'x'.repeat(255)}…`,
          failed_runs: '1',
          run: '3',
        },
        startsAt: iso(T0 + 30 * S),
        // the last due time it was told is past: 4 x resend past the run's end
        endsAt: iso(T0 + 31.5 * S + 4 * M),
        generatorURL: 'http://rpr.example:8081/health',
      },
    });
  });

  it('is sent again while failing, at most every resend, and resolved (endsAt) by the first success', async () => {
    const am = await alertmanager();
    const h = await load({ url: am.url, resend: '1m' }, [`127.0.0.1:${am.port}`]);
    await outputDeliver(h, start());
    await runs(h, 1, 20, false); // 20 failed runs, 10 s apart: 200 s
    const firing = am.posts.map((p) => p.alert);
    // At run 1, then at the first event a minute or more after the last send.
    expect(firing.map((a) => a.annotations.run)).toEqual(['1', '7', '13', '19']);
    expect(new Set(firing.map((a) => a.startsAt))).toEqual(new Set([iso(T0 + 10 * S)]));
    expect(firing.at(-1)!.annotations.failed_runs).toBe('19');
    for (const a of firing) expect(Date.parse(a.endsAt)).toBeGreaterThan(Date.parse(a.startsAt) + 4 * M);
    await runs(h, 21, 23, true);
    expect(am.posts).toHaveLength(5);
    expect(am.posts[4]!.alert).toMatchObject({ startsAt: iso(T0 + 10 * S), endsAt: iso(T0 + 211.5 * S), labels: { alertname: 'RprJobFailing' } });
  });

  it('resolved when the job ends while failing', async () => {
    const am = await alertmanager();
    const h = await load({ url: am.url }, [`127.0.0.1:${am.port}`]);
    await outputDeliver(h, start());
    await runs(h, 1, 2, false);
    await outputDeliver(h, jobEnd(T0 + 25 * S));
    expect(am.posts.map((p) => p.alert.endsAt).at(-1)).toBe(iso(T0 + 25 * S));
    expect(am.posts).toHaveLength(2);
  });

  it('an endsAt that would lapse before the next run is due is extended at once (long intervals)', async () => {
    const am = await alertmanager();
    const h = await load({ url: am.url, resend: '1m' }, [`127.0.0.1:${am.port}`]);
    await outputDeliver(h, start());
    await outputDeliver(h, end(1, false));
    await outputDeliver(h, { type: 'next', run: 2, dueWall: T0 + 3_600_000 });
    expect(am.posts.map((p) => p.alert.endsAt)).toEqual([iso(T0 + 11.5 * S + 4 * M), iso(T0 + 3_600_000 + 4 * M)]);
  });

  it('on = "consecutive:3" fires at the third failure in a row, from the first one\'s start', async () => {
    const am = await alertmanager();
    const h = await load({ url: am.url, on: 'consecutive:3' }, [`127.0.0.1:${am.port}`]);
    await outputDeliver(h, start());
    await runs(h, 1, 2, false);
    await runs(h, 3, 3, true);
    await runs(h, 4, 5, false);
    expect(am.posts).toEqual([]);
    await runs(h, 6, 6, false);
    expect(am.posts.map((p) => [p.alert.startsAt, p.alert.annotations.failed_runs])).toEqual([[iso(T0 + 40 * S), '3']]);
  });

  it('on = "change" sends at once when the failure changes; "failure" waits for resend', async () => {
    for (const [on, want] of [
      ['change', 3],
      ['failure', 1],
    ] as const) {
      const am = await alertmanager();
      const h = await load({ url: am.url, on }, [`127.0.0.1:${am.port}`]);
      await outputDeliver(h, start());
      await outputDeliver(h, end(1, false));
      await outputDeliver(h, end(2, false, { exitCode: 7 }));
      await outputDeliver(h, end(3, false, { exitCode: null, timedOut: true, signal: 'SIGTERM' }));
      expect(am.posts, on).toHaveLength(want);
      if (on === 'change') expect(am.posts.map((p) => p.alert.annotations.exit_code)).toEqual(['2', '7', 'timeout']);
    }
  });

  it('an HA pair: both get every alert; one down neither stops the other nor is tried at every event', async () => {
    const up = await alertmanager();
    const other = await alertmanager();
    const dead = await freePort();
    const h = await load({ url: `http://127.0.0.1:${dead}, ${up.url}`, resend: '1m', retries: 0 }, [`127.0.0.1:${dead}`, `127.0.0.1:${up.port}`]);
    await outputDeliver(h, start());
    const error = (await outputDeliver(h, end(1, false)).catch((e: PluginError) => e)) as PluginError;
    expect(error.failure).toBe('plugin-error');
    expect(error.message).toMatch(new RegExp(`alertmanager: POST to 127\\.0\\.0\\.1:${dead} failed: HTTP 502: rpr: request failed: ECONNREFUSED \\(the other Alertmanagers got it\\)$`));
    expect(up.posts).toHaveLength(1);
    // Failing runs 10 s apart: the dead one is left alone for a minute, the live one goes on as usual.
    for (let run = 2; run <= 8; run++) await outputDeliver(h, end(run, false)).catch(() => {});
    expect(up.posts).toHaveLength(2);
    await outputDeliver(h, end(9, true)).catch(() => {});
    expect(up.posts.at(-1)!.alert.endsAt).toBe(iso(T0 + 91.5 * S));
    expect(h.stats.rebuilds).toBe(0);
    // Both get everything when both are up.
    const pair = await load({ url: `${up.url},${other.url}` }, [`127.0.0.1:${up.port}`, `127.0.0.1:${other.port}`]);
    await outputDeliver(pair, start());
    await outputDeliver(pair, end(1, false));
    await outputDeliver(pair, end(2, true));
    expect(other.posts.map((p) => p.alert.endsAt)).toEqual(up.posts.slice(-2).map((p) => p.alert.endsAt));
  });

  it('a hung Alertmanager (accepts, never answers) costs the others at most one wait, and is tried after them', async () => {
    const up = await alertmanager();
    const hung = await serve(() => {}); // never answers: each try waits out the 10 s request limit
    servers.push({ ...hung, posts: [] });
    const h = await load({ url: `${hung.url},${up.url}`, resend: '1m', retries: 0 }, [`127.0.0.1:${hung.port}`, `127.0.0.1:${up.port}`]);
    await outputDeliver(h, start());
    const fired = await outputDeliver(h, end(1, false)).catch((e: PluginError) => e);
    expect(String(fired)).toMatch(/POST to 127\.0\.0\.1:\d+ failed: HTTP 504: rpr: request timed out \(the other Alertmanagers got it\)/);
    expect(up.posts).toHaveLength(1);
    // A minute of event time later the hung one is due again: it now goes after the one that works.
    const t0 = Date.now();
    let resolvedAt = 0;
    const watching = setInterval(() => {
      if (!resolvedAt && up.posts.length === 2) resolvedAt = Date.now();
    }, 5);
    await outputDeliver(h, end(8, true)).catch(() => {});
    clearInterval(watching);
    expect(up.posts.at(-1)!.alert.endsAt).toBe(iso(T0 + 81.5 * S));
    expect(resolvedAt - t0, 'the live one got the resolve before the hung one was tried').toBeLessThan(2000);
    expect(hung.hits).toHaveLength(2);
  }, 40_000);

  it('instance, alertname and more labels from the settings', async () => {
    const am = await alertmanager();
    const h = await load({ url: am.url, instance: 'web-1', alertname: 'BackupFailing', labels: 'severity=page, team=ops' }, [`127.0.0.1:${am.port}`]);
    await outputDeliver(h, start('nightly'));
    await outputDeliver(h, end(1, false, { exitCode: null, signal: 'SIGKILL' }));
    expect(am.posts[0]!.alert.labels).toEqual({ alertname: 'BackupFailing', job: 'nightly', instance: 'web-1', severity: 'page', team: 'ops' });
    expect(am.posts[0]!.alert.annotations.exit_code).toBe('SIGKILL');
  });

  it('no network by default: the user grants each Alertmanager', async () => {
    const am = await alertmanager();
    const h = await load({ url: am.url }, []);
    expect(h.permissions.network).toEqual([]);
    await outputDeliver(h, start());
    await expect(outputDeliver(h, end(1, false))).rejects.toThrow(/alertmanager: POST to 127\.0\.0\.1:\d+ failed: HTTP 403/);
    expect(am.posts).toEqual([]);
  });

  it('refuses settings that cannot work', async () => {
    expect(await loadError('alertmanager', {})).toMatch(/setting "url" is required/);
    expect(await loadError('alertmanager', { url: 'http://a:9093,ftp://b' })).toMatch(/url must be an http:\/\/ or https:\/\/ URL with a host \(each of the comma-separated URLs\)/);
    expect(await loadError('alertmanager', { url: 'http://a:9093', on: 'sometimes' })).toMatch(/on: "sometimes" is not failure, consecutive:N/);
    expect(await loadError('alertmanager', { url: 'http://a:9093', on: 'consecutive:0' })).toMatch(/on: "consecutive:0" is not/);
    expect(await loadError('alertmanager', { url: 'http://a:9093', resend: '10ms' })).toMatch(/resend must be at least 1s/);
    expect(await loadError('alertmanager', { url: 'http://a:9093', labels: 'job=x' })).toMatch(/labels: job is set by the plugin/);
    expect(await loadError('alertmanager', { url: 'http://a:9093', labels: '1x=y' })).toMatch(/labels: "1x=y" is not name=value/);
  });
});
