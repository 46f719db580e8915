// Long runs, in-process (issue 7):
// - an hour-long job compressed with the fake clock, through startJob with every observer a real
//   job has (stats, verbose, json, health state, metrics, output plugins: one failing at once, one
//   that never answers): the heap after a full GC stays flat, the output backlog stays bounded and
//   what it cannot hold is counted;
// - a plugin instance rebuilt after a trap, again and again (hostile fixture): memory and worker
//   threads stay bounded.
// RPR_LONG=1 runs the long sizes (1000 rebuilds).
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { OUTPUT_BACKLOG, outputObserver } from '../../src/app/plugin-outputs.js';
import { FakeClock } from '../helpers/fake-clock.js';
import type { JobEvent, JobObserver } from '../../src/job/events.js';
import { startJob, type JobOutcome } from '../../src/job/loop.js';
import type { JobSpec } from '../../src/job/spec.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { createJobState } from '../../src/observe/state.js';
import { PluginError } from '../../src/plugins/errors.js';
import { WIRE_EVENT_TYPES } from '../../src/plugins/messages.js';
import type { PluginHandle } from '../../src/plugins/host/handle.js';
import { loadPlugin } from '../../src/plugins/host/load.js';
import { schedulerNext } from '../../src/plugins/kinds.js';
import { jsonReporter } from '../../src/report/json.js';
import { createStats } from '../../src/report/stats.js';
import { verboseReporter } from '../../src/report/verbose.js';
import type { ActiveRun, RunOutcome, RunPlan } from '../../src/run/execute.js';
import { intervalSchedule } from '../../src/schedule/interval.js';
import { fixture, state } from '../plugins/helpers.js';

const LONG = process.env.RPR_LONG === '1';

// A full GC on demand (vitest's workers do not run with --expose-gc).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heapAfterGc = (): number => {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
};
const MB = 1024 * 1024;

function spec(): JobSpec {
  return {
    name: 'hour',
    argv: ['true'],
    shell: false,
    overlap: 'skip',
    maxParallel: 4,
    jitterMs: 0,
    killAfterMs: 100,
    io: { sinks: {}, passthrough: { stdout: true, stderr: true } },
    stop: { forKill: false, untilSuccess: false, untilFailure: false, untilChanges: false, forMs: 3_600_000 },
    wantsOutputTail: true,
  };
}

/** A run that takes `ms` on the fake clock and keeps nothing about itself. */
function fakeRunner(clock: FakeClock, ms: number) {
  return (plan: RunPlan): ActiveRun => {
    const abort = new AbortController();
    const started = clock.now();
    const done = clock.sleep(ms, abort.signal).then(
      (): RunOutcome => ({
        exitCode: plan.run % 7 === 0 ? 1 : 0,
        signal: null,
        spawnError: null,
        timedOut: false,
        durationMs: clock.now() - started,
        capture: { matched: [], stdoutHash: null, tail: `output of run ${plan.run}\n`, head: '', truncated: false },
      }),
    );
    return { pid: 1, done, terminate: async () => abort.abort(), kill: () => abort.abort() };
  };
}

/** An output plugin as the host sees it: every delivery fails at once, or never answers. */
function fakeOutput(name: string, behaviour: 'fail' | 'hang'): PluginHandle {
  return {
    name,
    kind: 'output',
    call: () => (behaviour === 'fail' ? Promise.reject(new PluginError(name, 'deliver', 'plugin-error', 'endpoint down: connection refused')) : new Promise(() => {})),
  } as unknown as PluginHandle;
}

describe('an hour-long job, compressed with the fake clock', () => {
  it('runs every 250 ms for an hour (14,400 runs: the slot due at the deadline is past the job): heap flat, output backlog bounded, drops counted', async () => {
    const clock = new FakeClock();
    const stats = createStats();
    const health = createJobState('hour', '0.0.0', () => clock.wallNow());
    const metrics = createMetrics({ job: 'hour' });
    const reported: string[] = [];
    const outputs = outputObserver([fakeOutput('down', 'fail'), fakeOutput('stuck', 'hang')], (line) => reported.push(line));
    let written = 0;
    let events = 0;
    // Events output plugins are given (job-start, next, run-start, run-end, ..., job-end).
    const count: JobObserver = (e: JobEvent) => void (events += WIRE_EVENT_TYPES.has(e.type) ? 1 : 0);
    const observers: JobObserver[] = [
      stats.observe,
      verboseReporter(
        (line) => void (written += line.length),
        () => clock.wallNow(),
      ),
      jsonReporter((line) => void (written += line.length)),
      health.observe,
      metrics.observe,
      outputs.observer,
      count,
    ];
    const job = startJob(spec(), { clock, schedule: intervalSchedule(250), startRun: fakeRunner(clock, 40), observers });
    let outcome: JobOutcome | undefined;
    void job.done.then((o) => (outcome = o));

    const heap: number[] = [];
    for (let minute = 1; minute <= 60 && !outcome; minute++) {
      await clock.advance(60_000);
      if (minute === 6 || minute === 60) heap.push(heapAfterGc());
    }
    await clock.advance(1000);
    expect(outcome?.reason).toBe('for');
    // 0 ms, 250 ms, ..., 3,599,750 ms: the slot due exactly when --for ends is past the job.
    const runs = 3_600_000 / 250;
    expect(outcome?.runs).toBe(runs);
    expect(stats.summary().runs).toBe(runs);
    expect(health.snapshot().runs).toBe(runs);
    expect(written).toBeGreaterThan(0);

    // Flat: what the 6th minute held, within 1 MB, after 54 more minutes (12,960 runs, ~39,000
    // events to each output plugin). Measured noise is about 0.2 MB; a leak of ~80 bytes per run shows.
    const [at6, at60] = heap as [number, number];
    expect((at60 - at6) / MB, `heap ${(at6 / MB).toFixed(2)} MB at 6 min, ${(at60 / MB).toFixed(2)} MB at 60 min`).toBeLessThan(1);

    // The failing output: every event tried, every one failed, reported once.
    const down = outputs.stats.get('down')!;
    expect(down).toEqual({ delivered: 0, failed: events, dropped: 0 });
    expect(reported.filter((l) => l.includes('"down"'))).toHaveLength(1);
    // The stuck output: one event in its hands, OUTPUT_BACKLOG waiting, every other one dropped and counted.
    const stuck = outputs.stats.get('stuck')!;
    expect(stuck.delivered + stuck.failed).toBe(0);
    expect(stuck.dropped).toBe(events - 1 - OUTPUT_BACKLOG);
    // At the end the job waits a bounded time, then counts the rest as dropped: all accounted for.
    const drained = outputs.drain(50);
    await new Promise((r) => setTimeout(r, 60));
    await drained;
    expect(outputs.stats.get('stuck')).toEqual({ delivered: 0, failed: 0, dropped: events });
    // The metrics saw every run (every 7th failed).
    const text = await metrics.registry.metrics();
    expect(text).toMatch(new RegExp(`rpr_runs_total\\{[^}]*result="success"[^}]*\\} ${runs - Math.floor(runs / 7)}$`, 'm'));
  }, 180_000);
});

describe('a plugin instance rebuilt after failures', () => {
  const REBUILDS = LONG ? 1000 : 200;
  let h: PluginHandle | undefined;
  afterAll(async () => h?.close());

  it(
    `a trap, then a good answer, ${REBUILDS} times: every call answers, memory and worker threads stay bounded`,
    async () => {
      h = await loadPlugin(fixture('hostile'));
      const next = (mode: string) => schedulerNext(h!, state({ output_tail: mode }));
      const workers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Worker' || r === 'MessagePort').length;
      const cycle = async (): Promise<void> => {
        await expect(next('trap')).rejects.toMatchObject({ failure: 'trap' });
        expect(await next('')).toEqual({ action: 'run', delay_ms: 5 });
      };
      // Warm up: caches, the compiled module, the JIT.
      for (let i = 0; i < 20; i++) await cycle();
      const rebuildsBefore = h.stats.rebuilds;
      const workersBefore = workers();
      const heapBefore = heapAfterGc();
      const rssBefore = process.memoryUsage.rss();
      const t0 = performance.now();
      for (let i = 0; i < REBUILDS; i++) await cycle();
      const ms = performance.now() - t0;
      const heapAfter = heapAfterGc();
      const rssAfter = process.memoryUsage.rss();
      expect(h.stats.rebuilds - rebuildsBefore).toBe(REBUILDS);
      expect(workers()).toBeLessThanOrEqual(workersBefore + 1);
      const detail = `${REBUILDS} rebuilds in ${(ms / 1000).toFixed(1)} s (${(ms / REBUILDS).toFixed(0)} ms each); heap ${(heapBefore / MB).toFixed(1)} -> ${(heapAfter / MB).toFixed(1)} MB, RSS ${(rssBefore / MB).toFixed(0)} -> ${(rssAfter / MB).toFixed(0)} MB`;
      console.log(detail);
      // Each instance has its own wasm memory (16 MB cap here) and a worker thread: a leaked instance
      // would add megabytes per rebuild. Bounds: generous against allocator noise, far below a leak.
      expect((heapAfter - heapBefore) / MB, detail).toBeLessThan(8);
      expect((rssAfter - rssBefore) / MB, detail).toBeLessThan(LONG ? 200 : 120);
    },
    LONG ? 600_000 : 240_000,
  );
});
