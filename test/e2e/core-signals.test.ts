/**
 * Real signals sent to the rpr process itself, timeouts with a grace period,
 * and process groups: whatever happens, no child or grandchild outlives rpr.
 * Children are `sleep` with a unique duration, found again in /proc.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, liveProcesses, run, sleep, start, uniqueSleep } from './core-helpers.js';

afterEach(cleanup);

/** Waits until `marker` processes exist (the run has really started). */
async function until(marker: string, count = 1, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (liveProcesses(marker).length < count) {
    if (Date.now() > deadline) throw new Error(`no ${marker} process appeared`);
    await sleep(20);
  }
}

describe('stop signals sent to rpr', () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    it(`${signal} -> exit ${code}, the running child and grandchild are gone, promptly`, async () => {
      const a = uniqueSleep();
      const b = uniqueSleep();
      const job = start(['interval', '-e', '10s', '--', 'sh', '-c', `sleep ${a.secs} & sleep ${b.secs}; echo never`], { watch: [a.marker, b.marker] });
      await until(a.marker);
      await until(b.marker);
      const sent = Date.now();
      job.child.kill(signal);
      const r = await job.done;
      expect(r.code).toBe(code);
      expect(r.leftAtExit[a.marker], 'background grandchild').toEqual([]);
      expect(r.leftAtExit[b.marker], 'foreground child').toEqual([]);
      expect(r.stdout).not.toContain('never');
      // Both die of SIGTERM at once: no need to wait for the 5 s grace period.
      expect(r.exitWall - sent).toBeLessThan(2500);
    });
  }

  it('SIGTERM while waiting between runs: exit 143 at once', async () => {
    const job = start(['interval', '-e', '10s', '--', 'echo', 'ran']);
    await job.waitFor('stdout', /ran\n/);
    await sleep(100);
    const sent = Date.now();
    job.child.kill('SIGTERM');
    const r = await job.done;
    expect(r.code).toBe(143);
    expect(r.exitWall - sent).toBeLessThan(500);
    expect(r.stdout).toBe('ran\n');
  });

  it('a child that ignores SIGTERM is killed after --kill-after', async () => {
    const s = uniqueSleep();
    // `trap "" TERM` is inherited by sleep: neither goes on SIGTERM.
    const job = start(['interval', '-e', '10s', '--kill-after', '700ms', '--', 'sh', '-c', `trap "" TERM; sleep ${s.secs}`], { watch: [s.marker] });
    await until(s.marker);
    await sleep(150);
    const sent = Date.now();
    job.child.kill('SIGINT');
    // Still there during the grace period ...
    await sleep(350);
    expect(liveProcesses(s.marker).length, 'alive during the grace period').toBe(1);
    const r = await job.done;
    // ... and SIGKILLed after it.
    expect(r.code).toBe(130);
    expect(r.exitWall - sent).toBeGreaterThanOrEqual(650);
    expect(r.exitWall - sent).toBeLessThan(3000);
    expect(r.leftAtExit[s.marker]).toEqual([]);
  });

  it('a second SIGINT kills at once, without waiting for the grace period', async () => {
    const s = uniqueSleep();
    const job = start(['interval', '-e', '10s', '--kill-after', '20s', '--', 'sh', '-c', `trap "" TERM INT; sleep ${s.secs}`], { watch: [s.marker] });
    await until(s.marker);
    await sleep(150);
    job.child.kill('SIGINT');
    await sleep(300);
    expect(job.child.exitCode, 'still waiting for the child after the first SIGINT').toBeNull();
    const second = Date.now();
    job.child.kill('SIGINT');
    const r = await job.done;
    expect(r.code).toBe(130);
    expect(r.exitWall - second).toBeLessThan(2500);
    expect(r.leftAtExit[s.marker]).toEqual([]);
  });

  it('SIGTERM with runs overlapping (--on-overlap allow): every run is stopped', async () => {
    const s = uniqueSleep();
    const job = start(['interval', '-e', '100ms', '--on-overlap', 'allow', '--max-parallel', '3', '--', 'sleep', s.secs], { watch: [s.marker] });
    await until(s.marker, 3);
    job.child.kill('SIGTERM');
    const r = await job.done;
    expect(r.code).toBe(143);
    expect(r.leftAtExit[s.marker]).toEqual([]);
  });
});

describe('--timeout and --kill-after', () => {
  it('a timed-out run gets SIGTERM and is a failure', async () => {
    const s = uniqueSleep();
    const r = await run(['count', '-t', '1', '--timeout', '300ms', '--', 'sleep', s.secs], { watch: [s.marker] });
    expect(r.code).toBe(1);
    expect(r.ms).toBeGreaterThanOrEqual(300);
    expect(r.ms).toBeLessThan(2500);
    expect(r.leftAtExit[s.marker]).toEqual([]);
  });

  it('a child that traps and ignores SIGTERM is SIGKILLed after the grace period', async () => {
    const s = uniqueSleep();
    const job = start(['count', '-t', '1', '--timeout', '200ms', '--kill-after', '800ms', '--verbose', '--', 'sh', '-c', `trap "" TERM; sleep ${s.secs}`], {
      watch: [s.marker],
    });
    await until(s.marker);
    const seen = Date.now();
    // After the timeout (200 ms) the child ignores SIGTERM: still alive well into the grace period.
    await sleep(600);
    expect(liveProcesses(s.marker).length, 'alive between SIGTERM and SIGKILL').toBe(1);
    const r = await job.done;
    expect(r.code).toBe(1);
    expect(r.exitWall - seen).toBeGreaterThanOrEqual(200 + 800 - 100);
    expect(r.exitWall - seen).toBeLessThan(200 + 800 + 2000);
    expect(r.leftAtExit[s.marker]).toEqual([]);
    expect(r.stderr).toMatch(/timed out|timeout/i);
  });

  it('a grandchild that ignores SIGTERM is SIGKILLed after the grace period even though its parent died', async () => {
    const s = uniqueSleep();
    // The shell dies of the timeout's SIGTERM; its background child ignores it.
    const job = start(['interval', '-e', '5s', '--timeout', '200ms', '--kill-after', '500ms', '--', 'sh', '-c', `(trap "" TERM; exec sleep ${s.secs}) & wait`], {
      watch: [s.marker],
    });
    await until(s.marker);
    const seen = Date.now();
    // Timeout at 200 ms, SIGKILL at 700 ms: look at 1.6 s, long before the next run at 5 s.
    await sleep(1600 - (Date.now() - seen));
    const left = liveProcesses(s.marker);
    job.child.kill('SIGTERM');
    await job.done;
    expect(left, 'grandchild still alive 1.4 s after --kill-after expired').toEqual([]);
  });

  it('a timeout reaches the whole process group: sh -c "sleep A & sleep B" leaves nothing', async () => {
    const a = uniqueSleep();
    const b = uniqueSleep();
    const r = await run(['count', '-t', '2', '--timeout', '250ms', '--', 'sh', '-c', `sleep ${a.secs} & sleep ${b.secs}`], { watch: [a.marker, b.marker] });
    expect(r.code).toBe(1);
    expect(r.leftAtExit[a.marker]).toEqual([]);
    expect(r.leftAtExit[b.marker]).toEqual([]);
    expect(r.ms).toBeLessThan(5000);
  });

  it('a background grandchild left by a finished run does not outlive rpr', async () => {
    const a = uniqueSleep();
    const r = await run(['count', '-t', '1', '--', 'sh', '-c', `sleep ${a.secs} >/dev/null 2>&1 & echo started`], { watch: [a.marker] });
    expect(r.stdout).toBe('started\n');
    expect(r.code).toBe(0);
    expect(r.leftAtExit[a.marker]).toEqual([]);
    expect(r.ms).toBeLessThan(5000);
  });

  it('a background grandchild holding stdout does not hang rpr', async () => {
    const a = uniqueSleep();
    const r = await run(['count', '-t', '2', '--prefix', '> ', '--', 'sh', '-c', `sleep ${a.secs} & echo started`], { watch: [a.marker] });
    expect(r.stdout).toBe('> started\n> started\n');
    expect(r.leftAtExit[a.marker]).toEqual([]);
    expect(r.ms).toBeLessThan(5000);
  });

  it('rpr exits promptly once a run and its background grandchild have died', async () => {
    // The grandchild is orphaned (re-parented to init); once it is dead, nothing is left to wait for,
    // whenever init gets round to reaping it.
    const a = uniqueSleep();
    const b = uniqueSleep();
    const r = await run(['count', '-t', '1', '--timeout', '200ms', '--', 'sh', '-c', `date +%s%N; sleep ${a.secs} & sleep ${b.secs}; true`], {
      watch: [a.marker, b.marker],
    });
    expect(r.code).toBe(1);
    expect(r.leftAtExit[a.marker]).toEqual([]);
    expect(r.leftAtExit[b.marker]).toEqual([]);
    // Timed out 200 ms after it started; everything dies of SIGTERM at once, so rpr is gone a moment later.
    const started = Number(BigInt(r.stdout.trim()) / 1_000_000n);
    expect(r.exitWall - (started + 200)).toBeLessThan(700);
  });

  it('rpr exits promptly after a timed-out child is gone (not after --kill-after)', async () => {
    const s = uniqueSleep();
    const r = await run(['count', '-t', '1', '--timeout', '200ms', '--kill-after', '10s', '--', 'sleep', s.secs], { watch: [s.marker] });
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(2000);
  });
});
