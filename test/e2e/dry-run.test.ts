import { createServer } from 'node:http';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rpr } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rpr-dry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The numbered start times a dry run printed, as epoch ms. */
const starts = (stdout: string): number[] => [...stdout.matchAll(/^ {2}\d+\. (\S+)$/gm)].map((m) => Date.parse(m[1]!));
const gaps = (times: number[]): number[] => times.slice(1).map((t, i) => t - times[i]!);

describe('--dry-run prints the resolved job and runs nothing', () => {
  it('interval: five starts on the grid of --every, no run', async () => {
    const marker = join(dir, 'interval-ran');
    const before = Date.now();
    const r = await rpr(['interval', '--every', '90s', '--timeout', '5s', '--dry-run', '--', 'touch', marker]);
    expect(r.code).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(r.stdout).toContain('schedule:     every 1m30s');
    expect(r.stdout).toMatch(/command: +touch .*\(\/usr\/bin\/touch\)/);
    expect(r.stdout).toContain('timeout 5s, then SIGKILL after 5s');
    const times = starts(r.stdout);
    expect(times).toHaveLength(5);
    expect(gaps(times)).toEqual([90_000, 90_000, 90_000, 90_000]);
    expect(times[0]).toBeGreaterThanOrEqual(before - 1000);
    expect(times[0]).toBeLessThan(Date.now() + 1000);
    expect(r.stdout).toContain('executor:     this machine');
    expect(r.stdout).toContain('plugins:      none');
  });

  it('count stops the list at --times, and --delay-first moves the first start', async () => {
    const r = await rpr(['count', '--times', '2', '--every', '10s', '--delay-first', '1m', '--dry-run', '--', 'true']);
    expect(r.code).toBe(0);
    const times = starts(r.stdout);
    expect(times).toHaveLength(2);
    expect(times[0]! - Date.now()).toBeGreaterThan(50_000);
    expect(gaps(times)).toEqual([10_000]);
    expect(r.stdout).toContain('then none: --times 2: no more runs');
  });

  it('cron: the same fire times as --next, in the zone with its offset', async () => {
    const args = ['cron', '--cron', '17 */2 * * *', '--tz', 'America/New_York'];
    const [dry, next] = await Promise.all([rpr([...args, '--dry-run', '--', 'true']), rpr([...args, '--next', '5'])]);
    expect(dry.code).toBe(0);
    expect(next.code).toBe(0);
    const listed = [...dry.stdout.matchAll(/^ {2}\d+\. (\S+)$/gm)].map((m) => m[1]);
    expect(`${listed.join('\n')}\n`).toBe(next.stdout);
    expect(dry.stdout).toContain('cron "17 */2 * * *" in America/New_York');
  });

  it('a scheduler plugin is asked with a simulated clock: fibonacci backoff, no run', async () => {
    const marker = join(dir, 'fib-ran');
    const r = await rpr(['fibonacci', '--initial', '2s', '--dry-run', '--', 'touch', marker]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(existsSync(marker)).toBe(false);
    // Fibonacci delays after each failed run: 1, 1, 2, 3 times --initial.
    expect(gaps(starts(r.stdout))).toEqual([2000, 2000, 4000, 6000]);
    expect(r.stdout).toMatch(/fibonacci \(scheduler, version [\d.]+\):\n {4}network: +none/);
  });

  it('a plugin that ends the job ends the list: --attempts 3', async () => {
    const r = await rpr(['exponential', '--initial', '1s', '--attempts', '3', '--dry-run', '--', 'true']);
    expect(r.code).toBe(0);
    expect(starts(r.stdout)).toHaveLength(3);
    expect(r.stdout).toMatch(/then none: the schedule ends the job/);
  });

  it('rpr run NAME: outputs and executor with their effective permissions (the grant included), nothing sent', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const marker = join(dir, 'job-ran');
    const file = join(dir, 'dry.toml');
    writeFileSync(
      file,
      `[jobs.report]\nschedule = "interval"\nevery = "1h"\ncommand = ["touch", "${marker}"]\noutput = "webhook"\nexecutor = "ssh"\n\n[plugins.webhook]\nurl = "http://127.0.0.1:${port}/hook"\n[plugins.webhook.permissions]\nnetwork = ["127.0.0.1:${port}"]\n\n[plugins.ssh]\nhost = "deploy@192.0.2.1"\n`,
    );
    try {
      const r = await rpr(['--config', file, 'run', 'report', '--dry-run']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`job:          report ([jobs.report] of ${file})`);
      expect(r.stdout).toContain('executor:     plugin "ssh"');
      expect(r.stdout).toContain('outputs:      stdout and stderr passed through; plugin "webhook"');
      expect(r.stdout).toMatch(new RegExp(`webhook \\(output, version [\\d.]+\\):\\n {4}network: +127\\.0\\.0\\.1:${port}`));
      expect(r.stdout).toMatch(/ssh \(executor, version [\d.]+\):[\s\S]*exec: +ssh/);
      expect(gaps(starts(r.stdout))).toEqual([3_600_000, 3_600_000, 3_600_000, 3_600_000]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(requests).toBe(0);
      expect(existsSync(marker)).toBe(false);
    } finally {
      server.close();
    }
  });

  it('bad input is still refused in one line, exit 2', async () => {
    const r = await rpr(['interval', '--dry-run', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('interval needs --every');
  });
});
