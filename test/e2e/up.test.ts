import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rpr } from '../helpers/cli.js';
import { liveProcesses, uniqueSleep } from '../helpers/processes.js';
import { freePort, HAVE_REDIS, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { eventually, startUp } from '../helpers/up.js';
import { alive } from './plugins-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'rpr-up-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
const get = async (port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  return { status: res.status, text: await res.text() };
};
const sample = (metrics: string, name: string, job: string): number => {
  const line = metrics.split('\n').find((l) => l.startsWith(name) && l.includes(`job="${job}"`) && !l.includes('le='));
  return line ? Number(line.split(' ').pop()) : NaN;
};

describe('rpr up: several jobs in one process', () => {
  let redis: RedisServer | undefined;
  let hook: Server;
  const hooked: { job: string; type: string }[] = [];
  let hookPort = 0;

  beforeAll(async () => {
    if (HAVE_REDIS) redis = await startRedis();
    else console.warn('skipping the coordinated job of rpr up: redis-server is not installed');
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        hooked.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    hookPort = (hook.address() as { port: number }).port;
  });
  afterAll(async () => {
    hook.close();
    await redis?.dispose();
  });

  it('runs interval, cron, plugin, output-plugin and coordinated jobs; reloads on change and SIGHUP; ends cleanly on SIGTERM', async () => {
    const file = join(dir, 'up.toml');
    const out = (name: string): string => join(dir, `${name}.out`);
    const marker = uniqueSleep().secs;
    const config = (extra: string, tickEvery = '300ms', tickOut = out('tick'), cr = true): string => `
[jobs.tick]
schedule = "interval"
every = "${tickEvery}"
command = ["sh", "-c", "echo x >> ${tickOut}"]

${cr ? `[jobs.cr]\nschedule = "cron"\ncron = "* * * * * *"\ncommand = ["sh", "-c", "echo x >> ${out('cr')}"]\n` : ''}
[jobs.fib]
schedule = "fibonacci"
initial = "100ms"
attempts = 2
command = ["sh", "-c", "echo x >> ${out('fib')}; exit 3"]

[jobs.hook]
schedule = "interval"
every = "400ms"
command = ["sh", "-c", "echo x >> ${out('hook')}"]
output = "webhook"

[jobs.slow]
schedule = "interval"
every = "1h"
command = ["sleep", "${marker}"]

[plugins.webhook]
url = "http://127.0.0.1:${hookPort}/"
events = "run-end"
[plugins.webhook.permissions]
network = ["127.0.0.1:${hookPort}"]
${
  redis
    ? `
[jobs.coord]
schedule = "interval"
every = "500ms"
coordinate = "${redis.url}"
name = "up-coord"
command = ["sh", "-c", "echo x >> ${out('coord')}"]
`
    : ''
}${extra}`;
    writeFileSync(file, config(''));
    const [metricsPort, healthPort] = await Promise.all([freePort(), freePort()]);
    const up = startUp(['--config', file, '--metrics-port', String(metricsPort), '--health-port', String(healthPort)]);
    try {
      await up.waitFor(/rpr: up: \d+ jobs from/);
      await eventually(
        () => lines(out('cr')).length,
        (n) => n >= 2,
      );
      await eventually(
        () => lines(out('tick')).length,
        (n) => n >= 3,
      );
      await eventually(
        () => hooked.filter((e) => e.job === 'hook').length,
        (n) => n >= 2,
      );
      if (redis)
        await eventually(
          () => lines(out('coord')).length,
          (n) => n >= 2,
        );
      // The plugin scheduler ran its attempts, then ended as finished (failed), not restarted.
      await up.waitFor(/rpr: fib: ended, exit 3/);
      expect(lines(out('fib'))).toHaveLength(2);

      const health = JSON.parse((await get(healthPort, '/health')).text);
      const names = health.jobs.map((j: { job: string }) => j.job).sort();
      expect(names).toEqual(['cr', 'fib', 'hook', 'slow', 'tick', ...(redis ? ['coord'] : [])].sort());
      expect(health.jobs.find((j: { job: string }) => j.job === 'fib').state).toBe('failed');

      const metrics = (await get(metricsPort, '/metrics')).text;
      // One family, one HELP, a series per job.
      expect(metrics.match(/^# HELP rpr_runs_total /gm)).toHaveLength(1);
      expect(sample(metrics, 'rpr_runs_total{result="success"', 'tick')).toBeGreaterThanOrEqual(3);
      expect(sample(metrics, 'rpr_runs_total{result="success"', 'cr')).toBeGreaterThanOrEqual(2);
      expect(sample(metrics, 'rpr_runs_total{result="failure"', 'fib')).toBe(2);
      if (spawnSync('promtool', ['--version']).status === 0) {
        const check = spawnSync('promtool', ['check', 'metrics'], { input: metrics });
        expect(check.stderr.toString()).toBe('');
        expect(check.status).toBe(0);
      }

      // The file changes: cr removed, tick changed, added job new, hook unchanged.
      const hookRunsBefore = hooked.filter((e) => e.job === 'hook').length;
      writeFileSync(file, config(`\n[jobs.new]\nschedule = "interval"\nevery = "300ms"\ncommand = ["sh", "-c", "echo x >> ${out('new')}"]\n`, '250ms', out('tick2'), false));
      await up.waitFor(/rpr: reload: new: added, starting/);
      await up.waitFor(/rpr: reload: cr: removed/);
      await up.waitFor(/rpr: reload: tick: changed \(command, every\), restarting at its next slot/);
      await up.waitFor(/rpr: reload: hook: unchanged/);
      await eventually(
        () => lines(out('new')).length,
        (n) => n >= 2,
      );
      await eventually(
        () => lines(out('tick2')).length,
        (n) => n >= 2,
      );
      const crDone = lines(out('cr')).length;
      const tickDone = lines(out('tick')).length;
      await new Promise((r) => setTimeout(r, 1500));
      expect(lines(out('cr')).length).toBe(crDone);
      expect(lines(out('tick')).length).toBe(tickDone);
      // The unchanged job was not restarted: its run numbers go on.
      const hookRuns = hooked.filter((e) => e.job === 'hook') as unknown as { run: number }[];
      expect(hookRuns.length).toBeGreaterThan(hookRunsBefore);
      expect(hookRuns.map((e) => e.run)).toEqual(hookRuns.map((_e, i) => i + 1));

      // A broken config is refused in one line; the old one keeps running.
      writeFileSync(file, `${config('', '250ms', out('tick2'), false)}\n[jobs.broken]\nschedule = "cron"\ncron = "61 * * * *"\ncommand = ["true"]\n`);
      await up.waitFor(/rpr: reload \(file changed\) refused, the running config stays: .*jobs\.broken\.cron/);
      const newRuns = lines(out('new')).length;
      await eventually(
        () => lines(out('new')).length,
        (n) => n > newRuns + 1,
      );

      // The file fixed (job new gone, cr back): the change is applied.
      writeFileSync(file, config('', '250ms', out('tick2')));
      await up.waitFor(/rpr: reload: cr: added, starting[\s\S]*rpr: reload: new: removed/);
      expect(liveProcesses(`sleep ${marker}`), up.stderr()).not.toHaveLength(0);
    } finally {
      const code = await up.stop('SIGTERM');
      // fib failed, so the status says some job failed.
      expect(code).toBe(1);
    }
    expect(up.stderr()).toMatch(/rpr: up: SIGTERM: ending every job/);
    expect(alive(liveProcesses(`sleep ${marker}`))).toEqual([]);
    expect(up.stderr()).not.toMatch(/\n\s+at /); // no stack trace
  }, 90_000);

  it('--check validates the whole config as up would run it', async () => {
    const good = join(dir, 'good.toml');
    writeFileSync(good, '[jobs.a]\nschedule = "interval"\nevery = "1s"\ncommand = ["true"]\n[jobs.b]\nschedule = "fibonacci"\ninitial = "1s"\ncommand = ["true"]\n');
    const ok = await rpr(['up', '--config', good, '--check']);
    expect(ok.stdout).toBe(`${good}: ok, 2 jobs: a, b\n`);
    expect(ok.code).toBe(0);
    const bad = join(dir, 'bad.toml');
    writeFileSync(
      bad,
      '[jobs.a]\nschedule = "cron"\ncron = "61 * * * *"\ncommand = ["true"]\n[jobs.b]\nschedule = "fibonaci"\ncommand = ["true"]\n[jobs.c]\nschedule = "interval"\nevery = "1s"\ncommand = ["no-such-command-rpr"]\n[jobs.d]\nschedule = "interval"\nevery = "1s"\nrestart = "sometimes"\ncommand = ["true"]\n',
    );
    const r = await rpr(['up', '--config', bad, '--check']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/restart: expected one of never, on-failure, always/);
    const good2 = join(dir, 'bad2.toml');
    writeFileSync(
      good2,
      '[jobs.a]\nschedule = "cron"\ncron = "61 * * * *"\ncommand = ["true"]\n[jobs.b]\nschedule = "fibonaci"\ncommand = ["true"]\n[jobs.c]\nschedule = "interval"\nevery = "1s"\ncommand = ["no-such-command-rpr"]\n',
    );
    const r2 = await rpr(['up', '--config', good2, '--check']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/jobs\.b\.schedule: unknown schedule "fibonaci".*fibonacci/);
    const r3 = await rpr(['up', '--config', good2, '--check', '--only', 'a,c']);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/jobs\.a\.cron/);
    expect(r3.stderr).toMatch(/no-such-command-rpr/);
    expect(r3.stderr).not.toMatch(/\n\s+at /);
  });

  it('SIGHUP reloads (--no-watch: only SIGHUP); a job name --only does not know is refused', async () => {
    const file = join(dir, 'hup.toml');
    const job = (every: string): string => `[jobs.a]\nschedule = "interval"\nevery = "${every}"\ncommand = ["true"]\n[jobs.b]\nschedule = "interval"\nevery = "1h"\ncommand = ["true"]\n`;
    writeFileSync(file, job('1h'));
    const up = startUp(['--config', file, '--no-watch']);
    try {
      await up.waitFor(/rpr: up: 2 jobs/);
      writeFileSync(file, job('2h'));
      await new Promise((r) => setTimeout(r, 800));
      expect(up.stderr()).not.toMatch(/reload/);
      up.child.kill('SIGHUP');
      await up.waitFor(/rpr: reload: a: changed \(every\), restarting at its next slot\nrpr: reload: b: unchanged\n/);
    } finally {
      expect(await up.stop('SIGINT')).toBe(0);
    }
    const typo = await rpr(['up', '--config', file, '--only', 'a,zz']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/--only: no job "zz" .*jobs: a, b/);
  }, 30_000);

  it('restart = "on-failure" starts a failed job again, not one that ended well', async () => {
    const file = join(dir, 'restart.toml');
    writeFileSync(
      file,
      `[jobs.flaky]\nschedule = "count"\ntimes = 1\nrestart = "on-failure"\ncommand = ["sh", "-c", "echo x >> ${join(dir, 'flaky.out')}; exit 1"]\n[jobs.ok]\nschedule = "count"\ntimes = 1\nrestart = "on-failure"\ncommand = ["sh", "-c", "echo x >> ${join(dir, 'ok.out')}"]\n`,
    );
    const up = startUp(['--config', file]);
    try {
      await up.waitFor(/rpr: flaky: ended, exit 1; starting again in 1s/);
      await up.waitFor(/rpr: flaky: ended, exit 1; starting again in 2s/, 10_000);
      await up.waitFor(/rpr: ok: ended, exit 0 \(restart = "on-failure": not started again\)/);
      expect(lines(join(dir, 'flaky.out')).length).toBeGreaterThanOrEqual(2);
      expect(lines(join(dir, 'ok.out'))).toHaveLength(1);
    } finally {
      await up.stop();
    }
  }, 30_000);
});

describe('rpr up: a removed job and its running run', () => {
  const dir2 = mkdtempSync(join(tmpdir(), 'rpr-up-rm-'));
  afterAll(() => rmSync(dir2, { recursive: true, force: true }));
  for (const policy of ['wait', 'kill'] as const) {
    it(`--on-reload ${policy}: the run ${policy === 'wait' ? 'finishes, then the job ends' : 'is stopped now'}`, async () => {
      const file = join(dir2, `${policy}.toml`);
      const done = join(dir2, `${policy}.done`);
      const started = join(dir2, `${policy}.started`);
      const keep = '[jobs.keep]\nschedule = "interval"\nevery = "1h"\ncommand = ["true"]\n';
      writeFileSync(file, `${keep}[jobs.long]\nschedule = "interval"\nevery = "1h"\ncommand = ["sh", "-c", "touch ${started}; sleep 1.5; echo done >> ${done}"]\n`);
      const up = startUp(['--config', file, '--on-reload', policy]);
      try {
        await eventually(
          () => existsSync(started),
          (x) => x,
        );
        writeFileSync(file, keep);
        await up.waitFor(policy === 'wait' ? /rpr: reload: long: removed, ending after its running run/ : /rpr: reload: long: removed, stopping now/);
        await new Promise((r) => setTimeout(r, 2500));
        expect(existsSync(done)).toBe(policy === 'wait');
      } finally {
        expect(await up.stop()).toBe(0);
      }
    }, 30_000);
  }
});

describe('rpr up: shutdown of a run that ignores SIGTERM', () => {
  const dir3 = mkdtempSync(join(tmpdir(), 'rpr-up-kill-'));
  afterAll(() => rmSync(dir3, { recursive: true, force: true }));
  it('SIGTERM while its jobs are still starting ends them all: exit 0, at once', async () => {
    // "up: N jobs" is said as the jobs start; each is resolved, then its loop begins (the launcher
    // first). A stop in between was lost, and rpr up waited for that job forever.
    const file = join(dir3, 'early.toml');
    writeFileSync(file, '[jobs.a]\nschedule = "interval"\nevery = "200ms"\ncommand = ["true"]\n[jobs.b]\nschedule = "interval"\nevery = "1h"\ncommand = ["true"]\n');
    // "now": sent from the stderr listener itself, as the line arrives. rpr used to say the line
    // before it listened for SIGTERM, and died by it when the sender was quicker (22 of 40 with
    // three busy loops beside it; loaded CI saw it as exit 143).
    for (const delayMs of ['now', 'now', 'now', 'now', 0, 10, 30] as const) {
      const up = startUp(['--config', file]);
      if (delayMs === 'now') {
        let sent = false;
        up.child.stderr!.on('data', () => {
          if (!sent && /rpr: up: 2 jobs/.test(up.stderr())) {
            sent = true;
            up.child.kill('SIGTERM');
          }
        });
      }
      await up.waitFor(/rpr: up: 2 jobs/);
      if (delayMs !== 'now') {
        await new Promise((r) => setTimeout(r, delayMs));
        up.child.kill('SIGTERM');
      }
      const ended = await Promise.race([up.exited, new Promise<string>((r) => setTimeout(() => r('still running 10 s after SIGTERM'), 10_000))]);
      if (typeof ended === 'string') up.child.kill('SIGKILL');
      expect(ended, `SIGTERM ${delayMs} ms after "up: 2 jobs"; stderr:\n${up.stderr()}`).toBe(0);
    }
  }, 60_000);

  it('SIGTERM waits for the grace; a second signal kills at once; nothing is left', async () => {
    const marker = uniqueSleep().secs;
    const started = join(dir3, 'started');
    const file = join(dir3, 'kill.toml');
    writeFileSync(
      file,
      `[jobs.stubborn]\nschedule = "interval"\nevery = "1h"\nkill_after = "20s"\ncommand = ["sh", "-c", "trap 'echo term' TERM; touch ${started}; sleep ${marker}; sleep ${marker}"]\n`,
    );
    const up = startUp(['--config', file]);
    await eventually(
      () => existsSync(started),
      (x) => x,
    );
    up.child.kill('SIGTERM');
    await up.waitFor(/rpr: up: SIGTERM: ending every job/);
    await new Promise((r) => setTimeout(r, 500));
    // Still in its grace: the run ignores SIGTERM.
    expect(up.child.exitCode).toBeNull();
    const t0 = Date.now();
    up.child.kill('SIGINT');
    await up.exited;
    expect(Date.now() - t0).toBeLessThan(5000);
    // Killed: at most a zombie no one reaps in a container without an init that does.
    expect(
      await eventually(
        async () => alive(liveProcesses(`sleep ${marker}`)),
        (left) => left.length === 0,
        5000,
      ),
    ).toEqual([]);
  }, 30_000);
});
