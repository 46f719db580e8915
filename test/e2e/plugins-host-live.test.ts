/**
 * A running job with plugins, through the CLI:
 * - hot reload: an installed plugin replaced while the job runs (good-scheduler 1.0.0 -> 2.0.0,
 *   which doubles every delay) decides from the next call on; a broken replacement keeps the old
 *   version and says so;
 * - responsiveness: Ctrl-C (SIGINT) ends rpr promptly with 130 and leaves no process behind, even
 *   when a scheduler plugin is stuck in a loop; a memory bomb ends the job (exit 1) with rpr's
 *   memory bounded by the plugin's cap.
 * The gated command waits for a file named after its run number, so the test decides when each
 * run ends (no sleeps racing a loaded machine). A delay announced by --verbose ("next run N ... in
 * X") is the plugin's answer less the time the call took (a reload takes a few hundred ms), so it
 * is never more than the answer: "more than what 1.0.0 would answer" proves 2.0.0 answered.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES_DIST } from '../plugins/helpers.js';
import { cleanup, sleep, start, tempDir } from './core-helpers.js';
import { alive, announcedDelays, configFile, descendants, errLines, pluginDir, watchPeakRss, withPlugins } from './plugins-helpers.js';

afterEach(cleanup);

/** sh -c script: wait (at most ~10 s) for $0/go$RPR_RUN, then fail. */
const GATED = 'i=0; while [ ! -e "$0/go$RPR_RUN" ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i+1)); done; exit 1';

/** Replaces a file the way an installer should: write beside it, then rename over it. */
function replaceFile(to: string, bytes: Buffer): void {
  const tmp = `${to}.new`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, to);
}

/** Installs another build over the installed good-scheduler: wasm first, then the manifest. */
function installOver(installed: string, fixture: string): void {
  replaceFile(path.join(installed, 'plugin.wasm'), readFileSync(path.join(FIXTURES_DIST, fixture, 'plugin.wasm')));
  replaceFile(path.join(installed, 'plugin.toml'), readFileSync(path.join(FIXTURES_DIST, fixture, 'plugin.toml')));
}

describe('hot reload of an installed plugin while a job runs', () => {
  it('good-scheduler 1.0.0 -> 2.0.0: the next decision comes from 2.0.0', async () => {
    const dir = pluginDir('good-scheduler');
    const gate = tempDir();
    const go = (run: number): void => writeFileSync(path.join(gate, `go${run}`), '');
    go(1);
    const job = start(['good-scheduler', '--delay', '300ms', '--attempts', '3', '-v', '--', 'sh', '-c', GATED, gate], { env: withPlugins(dir) });
    await job.waitFor('stderr', /run 2 started/);
    installOver(path.join(dir, 'good-scheduler'), 'good-scheduler-v2');
    go(2);
    await job.waitFor('stderr', /run 3 started/);
    go(3);
    const r = await job.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('job ended (attempts exhausted), exit 1');
    const reloads = errLines(r.stderr).filter((l) => l.includes('reloaded'));
    expect(reloads).toEqual(['rpr: plugin "good-scheduler": reloaded version 2.0.0 (was 1.0.0)']);
    const delays = announcedDelays(r.stderr);
    // after 1 failure, by 1.0.0: 300 ms (2.0.0 would say 600)
    expect(delays.get(2)).toBeGreaterThan(150);
    expect(delays.get(2)).toBeLessThanOrEqual(300);
    // after 2 failures, by 2.0.0: 1200 ms; 1.0.0 would say 600, and can never be announced as more
    expect(delays.get(3)).toBeGreaterThan(600);
    expect(delays.get(3)).toBeLessThanOrEqual(1200);
  });

  it('a broken replacement keeps the old version and says so; a good one later is taken', async () => {
    const dir = pluginDir('good-scheduler');
    const installed = path.join(dir, 'good-scheduler');
    const gate = tempDir();
    const go = (run: number): void => writeFileSync(path.join(gate, `go${run}`), '');
    go(1);
    const job = start(['good-scheduler', '--delay', '300ms', '--attempts', '4', '-v', '--', 'sh', '-c', GATED, gate], { env: withPlugins(dir) });
    await job.waitFor('stderr', /run 2 started/);
    // 2.0.0's wasm under 1.0.0's manifest: the sha256 does not match
    replaceFile(path.join(installed, 'plugin.wasm'), readFileSync(path.join(FIXTURES_DIST, 'good-scheduler-v2', 'plugin.wasm')));
    go(2);
    await job.waitFor('stderr', /run 3 started/);
    installOver(installed, 'good-scheduler-v2');
    go(3);
    await job.waitFor('stderr', /run 4 started/);
    go(4);
    const r = await job.done;
    expect(r.code).toBe(1);
    const kept = errLines(r.stderr).filter((l) => l.includes('does not load'));
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatch(/^rpr: plugin "good-scheduler": the changed plugin does not load, keeping version 1\.0\.0: .*sha256/);
    expect(errLines(r.stderr).filter((l) => l.includes('reloaded'))).toEqual(['rpr: plugin "good-scheduler": reloaded version 2.0.0 (was 1.0.0)']);
    const delays = announcedDelays(r.stderr);
    expect(delays.get(2)).toBeLessThanOrEqual(300); // 1.0.0: 300
    expect(delays.get(3)).toBeGreaterThan(300); // still 1.0.0: 600 (2.0.0: 1200)
    expect(delays.get(3)).toBeLessThanOrEqual(600);
    expect(delays.get(4)).toBeGreaterThan(900); // 2.0.0: 1800 (1.0.0: 900, never announced as more)
    expect(delays.get(4)).toBeLessThanOrEqual(1800);
    // the broken replacement is reported before run 3, the good one after it
    expect(r.stderr.indexOf('does not load')).toBeLessThan(r.stderr.indexOf('run 3 started'));
    expect(r.stderr.indexOf('reloaded version')).toBeGreaterThan(r.stderr.indexOf('run 3 started'));
  });
});

describe('Ctrl-C and a misbehaving scheduler plugin', () => {
  it('SIGINT while a plugin scheduler waits between runs: exit 130 at once', async () => {
    const job = start(['good-scheduler', '--delay', '20s', '-v', '--', 'false'], { env: withPlugins(pluginDir('good-scheduler')) });
    await job.waitFor('stderr', /next run 2 at/);
    const kids = descendants(job.child.pid!);
    const sent = Date.now();
    job.child.kill('SIGINT');
    const r = await job.done;
    expect(r.code).toBe(130);
    expect(r.exitWall - sent).toBeLessThan(1500);
    expect(alive(kids)).toEqual([]);
  });

  /** A job whose plugin loops in its start function (timeout granted up to 20 s), 1.5 s into its load. */
  async function startStuckInLoad() {
    const config = configFile('[plugins.hostile.permissions]\ntimeout_ms = 20000\n');
    const job = start(['hostile', '--config', config, '--mode', 'spin-start', '--', 'echo', 'ran'], { env: withPlugins(pluginDir('hostile')), timeoutMs: 10_000 });
    await sleep(1500);
    expect(job.child.exitCode, 'still loading').toBeNull();
    return { job, kids: descendants(job.child.pid!) };
  }

  it('SIGINT while the plugin loops in its start function (at load): rpr ends promptly, nothing left', async () => {
    // only Ctrl-C can end this in time
    const { job, kids } = await startStuckInLoad();
    const sent = Date.now();
    job.child.kill('SIGINT');
    const r = await job.done;
    // 130, or killed by SIGINT itself (the shell shows 130 either way)
    expect(r.code === 130 || r.signal === 'SIGINT', `code ${r.code} signal ${r.signal}`).toBe(true);
    expect(r.exitWall - sent).toBeLessThan(2000);
    expect(r.stdout).toBe('');
    expect(alive(kids)).toEqual([]);
  });

  it('SIGINT during the plugin load ends the run launcher started ahead before rpr ends, even one that is not reading', async () => {
    // The launcher (python3, its own session: Ctrl-C does not reach it) is started before the CLI
    // loads. Stopped here, it cannot see EOF when rpr goes: only rpr ending it leaves nothing behind.
    const { job, kids } = await startStuckInLoad();
    const launchers = kids.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('launcher.py');
      } catch {
        return false;
      }
    });
    expect(launchers, 'the launcher, started ahead').toHaveLength(1);
    process.kill(launchers[0]!, 'SIGSTOP');
    job.child.kill('SIGINT');
    const r = await job.done;
    // rpr ends by the signal itself, as it would without handlers
    expect(r.signal, `code ${r.code} signal ${r.signal}`).toBe('SIGINT');
    expect(r.stdout).toBe('');
    const left = alive(kids);
    for (const pid of left) process.kill(pid, 'SIGKILL'); // a failed check leaves nothing stopped behind
    expect(left).toEqual([]);
  });

  // A 20 s timeout_ms puts the plugin in a worker thread (docs/plugin-host.md). The loop watches for
  // a stop while it waits on the schedule's answer (src/job/loop.ts), and closing the plugin ends
  // the worker's call in flight instead of waiting out its limit: Ctrl-C ends the job at once, as
  // the shell expects (130).
  it('SIGINT while a scheduler plugin is stuck in an infinite loop: exit 130 promptly, no process left', async () => {
    const config = configFile('[plugins.hostile.permissions]\ntimeout_ms = 20000\n');
    const job = start(['hostile', '--config', config, '-v', '--', 'printf', 'spin'], { env: withPlugins(pluginDir('hostile')), timeoutMs: 5000 });
    await job.waitFor('stderr', /run 1 ok/);
    await sleep(300); // next() is looping now
    const kids = descendants(job.child.pid!);
    const sent = Date.now();
    job.child.kill('SIGINT');
    const r = await job.done;
    expect(r.code).toBe(130);
    expect(r.exitWall - sent).toBeLessThan(2000);
    expect(alive(kids)).toEqual([]);
  });
});

describe('a memory bomb in a scheduler plugin', () => {
  // Without the cap the bomb grows the plugin's memory to 4 GiB; with it (16 MiB, or 64 granted)
  // rpr stays around its usual ~100 MB.
  const LIMIT_KB = 350 * 1024;
  for (const [mode, grant, reason] of [
    ['bomb', '', /trapped/],
    ['kernel-bomb', '', /exceeded its memory cap/],
    ['bomb', 'memory_mb = 64', /trapped/],
  ] as const) {
    it(`${mode}${grant ? ` (${grant} granted)` : ''}: exit 1, one line, rpr's memory bounded`, async () => {
      const args = grant ? ['--config', configFile(`[plugins.hostile.permissions]\n${grant}\n`)] : [];
      const job = start(['hostile', ...args, '--', 'printf', mode], { env: withPlugins(pluginDir('hostile')) });
      const rss = watchPeakRss(job.child.pid!);
      const r = await job.done;
      const peakKb = rss.stop();
      expect(r.code).toBe(1);
      const err = errLines(r.stderr);
      expect(err, r.stderr).toHaveLength(1);
      expect(err[0]).toMatch(/^rpr: plugin "hostile" next: /);
      expect(err[0]).toMatch(reason);
      expect(peakKb).toBeGreaterThan(0);
      expect(peakKb, `peak RSS ${Math.round(peakKb / 1024)} MB`).toBeLessThan(LIMIT_KB);
    });
  }
});
