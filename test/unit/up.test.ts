import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMetrics, mergedExposition, processRegistry } from '../../src/observe/metrics.js';
import { createHistory, type RunRecord } from '../../src/up/history.js';
import { UpJob } from '../../src/up/job.js';
import type { JobModules } from '../../src/up/modules.js';
import { changedKeys } from '../../src/up/supervisor.js';
import type { JobConfig, LoadedConfig } from '../../src/config/types.js';

const dir = mkdtempSync(join(tmpdir(), 'rpr-up-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = (job: string, n: number, extra: Partial<RunRecord> = {}): RunRecord => ({
  job,
  run: n,
  outcome: 'ok',
  startWall: 1_700_000_000_000 + n,
  durationMs: 1,
  exitCode: 0,
  signal: null,
  ...extra,
});

describe('history', () => {
  it('keeps the last N runs per job and a bounded tail of each', () => {
    const h = createHistory({ perJob: 3, tailBytes: 10 });
    for (let i = 1; i <= 5; i++) h.record(run('a', i, { tail: 'line one\nline two\n' }));
    h.record(run('b', 1));
    expect(h.runs('a').map((r) => r.run)).toEqual([3, 4, 5]);
    expect(h.runs('a')[0]!.tail).toBe('line two\n');
    expect(h.runs('b')).toHaveLength(1);
    expect(h.runs('none')).toEqual([]);
  });

  it('reads its file back, skips unreadable lines, and compacts past its bound', () => {
    const file = join(dir, 'h.jsonl');
    const first = createHistory({ file, perJob: 50 });
    for (let i = 1; i <= 20; i++) first.record(run('a', i, { tail: 'x'.repeat(100) }));
    appendFileSync(file, 'not json\n{"job":"a","run":');
    const second = createHistory({ file, perJob: 50, maxFileBytes: 4000 });
    expect(second.corrupt).toBe(2);
    expect(second.runs('a').map((r) => r.run)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (let i = 21; i <= 40; i++) second.record(run('a', i, { tail: 'x'.repeat(100) }));
    // Compacted: never far past the bound, every line whole, the newest runs kept.
    expect(statSync(file).size).toBeLessThan(4000 + 300);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunRecord);
    expect(lines.at(-1)!.run).toBe(40);
    const third = createHistory({ file, perJob: 50 });
    expect(third.corrupt).toBe(0);
    expect(third.runs('a').at(-1)!.run).toBe(40);
  });
});

describe('metrics of several jobs as one exposition', () => {
  it('one HELP and TYPE per family, a series per job, the process gauges once', async () => {
    const a = createMetrics({ job: 'a', processMetrics: false });
    const b = createMetrics({ job: 'b', processMetrics: false });
    a.observe({ type: 'job-start', wall: 1, name: 'a' });
    a.observe({ type: 'run-end', result: { run: 1, dueWall: 1, startWall: 1, endWall: 2, durationMs: 1, exitCode: 0, signal: null, timedOut: false, success: true, decidedBy: 'exit-code' } });
    const text = await mergedExposition([processRegistry(), a.registry, b.registry]);
    expect(text.match(/^# HELP rpr_runs_total /gm)).toHaveLength(1);
    expect(text.match(/^# TYPE rpr_runs_total /gm)).toHaveLength(1);
    expect(text).toMatch(/^rpr_runs_total\{result="success",job="a"\} 1$/m);
    expect(text).toMatch(/^rpr_runs_total\{result="success",job="b"\} 0$/m);
    expect(text.match(/^# HELP rpr_process_cpu_seconds_total /gm)).toHaveLength(1);
    expect(text).not.toMatch(/rpr_process_cpu_seconds_total\{[^}]*job=/);
    // Every sample sits under its own family's TYPE.
    let family = '';
    for (const line of text.split('\n')) {
      const type = /^# TYPE (\S+)/.exec(line);
      if (type) family = type[1]!;
      else if (line && !line.startsWith('#')) expect(line.startsWith(family)).toBe(true);
    }
  });
});

describe('what changed in a job', () => {
  const file = (defaults: Record<string, unknown> = {}): LoadedConfig =>
    ({ path: 'f', defaults, observability: {}, jobs: {}, plugins: { entries: {} }, lineOf: () => undefined }) as unknown as LoadedConfig;
  const job = (options: Record<string, unknown>, extra: Partial<JobConfig> = {}): JobConfig => ({ name: 'j', schedule: 'interval', command: ['true'], shell: false, options, ...extra });
  it('names the keys as the file writes them', () => {
    expect(changedKeys(file(), job({ every: 1000, killAfter: 5 }), file(), job({ every: 2000, killAfter: 5 }))).toEqual(['every']);
    expect(changedKeys(file(), job({ untilMatch: { source: 'a', flags: '' } }), file(), job({ untilMatch: { source: 'b', flags: '' } }, { command: ['false'] }))).toEqual(['command', 'until_match']);
    expect(changedKeys(file({ timeout: 1 }), job({}), file({ timeout: 2 }), job({}))).toEqual(['[defaults]']);
    expect(changedKeys(file(), job({}, { schedule: 'fibonacci', pluginConfig: { initial: '1s' } }), file(), job({}, { schedule: 'fibonacci', pluginConfig: { initial: '2s' } }))).toEqual(['initial']);
  });
});

describe('a job of rpr up stopped while it starts', () => {
  // The window between resolveJob and the loop's start (the launcher, servers): a stop asked for
  // then had no loop to reach, and `rpr up` waited for the job forever after a SIGTERM.
  it('reaches the loop once it exists: the job ends, with the grace it was given', async () => {
    let openGate = (): void => {};
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const shutdowns: number[] = [];
    const jobs = {
      configJobRequest: () => ({ values: {} }),
      resolveJob: async () => ({ schedule: { describe: 'every 200ms' }, close: async () => undefined }),
      runJob: async (_job: unknown, supervised: { started(control: unknown): void }) => {
        await gate;
        return new Promise<number>((resolve) => {
          supervised.started({
            shutdown: (graceMs: number) => {
              shutdowns.push(graceMs);
              resolve(0);
            },
            kill: () => resolve(137),
            trigger: () => false,
          });
        });
      },
    } as unknown as JobModules;
    const history = createHistory({});
    const job = new UpJob('fast', { name: 'fast', schedule: 'interval', command: ['true'], shell: false, options: {} }, 'f', {} as LoadedConfig, {
      jobs,
      history,
      line: () => undefined,
      env: {},
      captureOutput: false,
    });
    await new Promise((r) => setImmediate(r));
    const stopped = job.stop(1234);
    openGate();
    const ended = await Promise.race([stopped.then(() => 'ended'), new Promise((r) => setTimeout(() => r('still running after 2 s'), 2000))]);
    expect(ended).toBe('ended');
    expect(shutdowns).toEqual([1234]);
    expect(job.status).toBe('stopped');
  });
});
