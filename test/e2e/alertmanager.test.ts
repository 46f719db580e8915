/**
 * The alertmanager output against a real Prometheus Alertmanager (Debian's prometheus-alertmanager,
 * started by the test on a loopback port with its own storage folder, clustering off), through the
 * built rpr: the alert is active in GET /api/v2/alerts while the job fails, with the right labels
 * and annotations, and gone (resolved, not expired: its endsAt was 40 s ahead) right after the job
 * recovers or ends; an HA pair gets it on both, and one of them stopped mid-job costs the job
 * nothing. Skipped, saying why, where Alertmanager is not installed.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ALERTMANAGER, startAlertmanager, stopAlertmanagers, type Alertmanager } from '../helpers/alertmanager.js';
import { cleanup, RPR, sleep, start, tempDir, waitUntil, writeFile } from './service-helpers.js';

if (!ALERTMANAGER) console.warn('alertmanager e2e: skipped: no prometheus-alertmanager on PATH (apt-get install prometheus-alertmanager)');
afterEach(async () => {
  await cleanup();
  await stopAlertmanagers();
});

/** A command that prints its start time and fails with a message until `flag` exists. */
const flaky = (flag: string) => ['sh', '-c', `date +%s%N; [ -e ${flag} ] && exit 0; echo "db: connection refused" >&2; exit 3`];
const stamps = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map((l) => Number(l) / 1e6);

/** A config file granting the Alertmanagers, with the plugin's settings. */
function config(dir: string, ams: Alertmanager[], extra = ''): string {
  return writeFile(
    dir,
    'rpr.toml',
    `[plugins.alertmanager]\nurl = "${ams.map((a) => a.url).join(',')}"\nresend = "10s"\ninstance = "e2e-box"\n${extra}` +
      `[plugins.alertmanager.permissions]\nnetwork = [${ams.map((a) => `"127.0.0.1:${a.port}"`).join(', ')}]\n`,
  );
}

const ours = { alertname: 'RprJobFailing', job: 'am-e2e' };

describe.skipIf(!ALERTMANAGER || !existsSync(RPR))('alertmanager output, real Alertmanager', () => {
  it('active while the job fails, with its labels and annotations; resolved at the first success', async () => {
    const am = await startAlertmanager();
    const dir = tempDir();
    const flag = path.join(dir, 'healthy');
    const job = start(
      ['--config', config(dir, [am], 'generator-url = "http://e2e-box:8081/health"\n'), 'interval', '--every', '200ms', '--name', 'am-e2e', '--output', 'alertmanager', '--', ...flaky(flag)],
      { timeoutMs: 40_000 },
    );
    const [alert] = await waitUntil(
      'the alert in Alertmanager',
      async () => {
        const list = await am.alerts(ours);
        return list.length > 0 && list[0]!.status.state === 'active' && list;
      },
      15_000,
      100,
    );
    expect(alert!.labels).toEqual({ alertname: 'RprJobFailing', job: 'am-e2e', instance: 'e2e-box' });
    expect(alert!.annotations).toMatchObject({ exit_code: '3', last_output: 'db: connection refused' });
    expect(alert!.annotations.summary).toMatch(/^rpr job am-e2e on e2e-box is failing: \d+ failed runs? in a row, the last \(run \d+\) ended with 3$/);
    expect(alert!.generatorURL).toBe('http://e2e-box:8081/health');
    // Held firing well past now (4 x resend past the next run): not about to expire on its own.
    expect(Date.parse(alert!.endsAt) - Date.now()).toBeGreaterThan(20_000);

    writeFileSync(flag, '');
    const recovered = Date.now();
    await waitUntil('the alert resolved', async () => (await am.alerts(ours)).length === 0, 10_000, 100);
    expect(Date.now() - recovered).toBeLessThan(10_000); // resolved by rpr, not expired (that takes 40 s)
    // The job goes on, healthy, and does not bring it back.
    await sleep(1000);
    expect(await am.alerts(ours)).toEqual([]);
    job.child.kill('SIGTERM');
    const done = await job.done;
    expect(done.code).toBe(143);
    expect(done.stderr).not.toMatch(/output .*alertmanager/);
  }, 60_000);

  it('resolved when the job ends while still failing', async () => {
    const am = await startAlertmanager();
    const dir = tempDir();
    const job = start(['--config', config(dir, [am]), 'interval', '--every', '200ms', '--times', '15', '--name', 'am-e2e', '--output', 'alertmanager', '--', 'sh', '-c', 'exit 4'], {
      timeoutMs: 40_000,
    });
    const seen = await waitUntil(
      'the alert in Alertmanager',
      async () => {
        const list = await am.alerts(ours);
        return list.length > 0 && list;
      },
      15_000,
      50,
    );
    expect(seen[0]!.annotations.exit_code).toBe('4');
    const done = await job.done;
    expect(done.code).toBe(1); // some run failed
    await waitUntil('the alert resolved', async () => (await am.alerts(ours)).length === 0, 5000, 100);
  }, 60_000);

  it('an HA pair gets it on both; one stopped mid-job costs the job nothing, the other is resolved', async () => {
    const [a, b] = [await startAlertmanager(), await startAlertmanager()];
    const dir = tempDir();
    const flag = path.join(dir, 'healthy');
    const job = start(['--config', config(dir, [a, b]), 'interval', '--every', '200ms', '--name', 'am-e2e', '--output', 'alertmanager', '--', ...flaky(flag)], { timeoutMs: 60_000 });
    await waitUntil('the alert on both', async () => (await a.alerts(ours)).length > 0 && (await b.alerts(ours)).length > 0, 15_000, 100);
    const before = stamps(job.stdout()).length;
    await a.stop();
    const stopped = Date.now();
    await sleep(3000);
    writeFileSync(flag, '');
    await waitUntil('the alert resolved on the one still up', async () => (await b.alerts(ours)).length === 0, 10_000, 100);
    await sleep(1000);
    job.child.kill('SIGTERM');
    const done = await job.done;
    expect(done.code).toBe(143);
    // The job kept its pace while one Alertmanager was gone: runs 200 ms apart, none held back.
    const t = stamps(done.stdout).filter((x) => x >= stopped - 500);
    const gaps = t.slice(1).map((x, i) => x - t[i]!);
    expect(stamps(done.stdout).length - before).toBeGreaterThan(15);
    expect(Math.max(...gaps), `gaps ${gaps.map(Math.round).join(' ')}`).toBeLessThan(200 + 400);
    // Said once, naming the one that is down, not the other.
    const said = done.stderr.split('\n').filter((l) => l.includes(`127.0.0.1:${a.port}`));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^rpr: output plugin "alertmanager" deliver: alertmanager: POST to 127\.0\.0\.1:\d+ failed.*\(the other Alertmanagers got it\)/);
  }, 90_000);
});
