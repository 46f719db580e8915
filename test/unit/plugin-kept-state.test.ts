// The state a scheduler asks rpr to keep (decision.keep -> state.kept): bounded, checked, held by
// the host outside the plugin's instance, so that it survives the instance being thrown away after
// a trap (the hostile fixture, on both plugin paths) and being replaced by a hot reload (adaptive).
import { copyFileSync, cpSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { pluginSchedule } from '../../src/app/plugin-schedule.js';
import type { RunResult } from '../../src/job/events.js';
import { loadPlugin, readManifest, type PluginHandle } from '../../src/plugins/index.js';
import { checkDecision, schedulerState } from '../../src/plugins/messages.js';
import type { Schedule, SlotAnswer } from '../../src/schedule/types.js';
import { fixture } from '../plugins/helpers.js';
import { DIST, T0 } from './bundled-helpers.js';

const open: PluginHandle[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function result(run: number, over: Partial<RunResult> = {}): RunResult {
  const start = T0 + run * 1000;
  return { run, dueWall: start, startWall: start, endWall: start + 10, durationMs: 10, exitCode: 0, signal: null, timedOut: false, success: true, decidedBy: 'exit-code', ...over };
}

/** The delay of a slot answer (the schedule's clock starts at 0). */
const delayOf = (answer: SlotAnswer, now: number): number => {
  if (!answer || 'end' in answer) throw new Error(`not a slot: ${JSON.stringify(answer)}`);
  return answer.due.at - now;
};

describe('decision.keep is checked', () => {
  it('passes any JSON value through; null means forget; left out means nothing to change', () => {
    expect(checkDecision('p', { action: 'run', delay_ms: 1, keep: { a: [1, 'x'] } })).toEqual({ action: 'run', delay_ms: 1, keep: { a: [1, 'x'] } });
    expect(checkDecision('p', { action: 'run', delay_ms: 1, keep: null })).toEqual({ action: 'run', delay_ms: 1, keep: null });
    expect(checkDecision('p', { action: 'run', delay_ms: 1 })).not.toHaveProperty('keep');
    expect(checkDecision('p', { action: 'stop', reason: 'r', keep: 3 })).toEqual({ action: 'stop', reason: 'r', keep: 3 });
  });

  it('is nested at most 64 deep (deeper would overflow the stack that writes it back)', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 64; i++) deep = [deep];
    expect(checkDecision('p', { action: 'run', delay_ms: 0, keep: deep }).keep).toBe(deep);
    expect(() => checkDecision('p', { action: 'run', delay_ms: 0, keep: { a: [deep] } })).toThrow('plugin "p" next: answer is not a decision: its keep is nested more than 64 deep');
  });

  it('is at most 64 KiB of compact UTF-8 JSON', () => {
    const fits = 'é'.repeat((65536 - 2) / 2); // 2 bytes each, plus the quotes
    expect(checkDecision('p', { action: 'run', delay_ms: 0, keep: fits }).keep).toBe(fits);
    expect(() => checkDecision('p', { action: 'run', delay_ms: 0, keep: `${fits}x` })).toThrow('plugin "p" next: answer is not a decision: its keep is 65537 bytes of JSON, at most 65536 are kept');
  });

  it('the state always carries kept (null before anything was kept)', () => {
    const base = { run: 0, last_exit_code: null, success: false, duration_ms: 0, consecutive_failures: 0, output_tail: '', now_ms: 0, started_ms: 0 };
    expect(schedulerState(base).kept).toBeNull();
    expect(schedulerState({ ...base, kept: { n: 1 } }).kept).toEqual({ n: 1 });
  });
});

describe.each([
  ["on rpr's own thread", false],
  ['in a worker', true],
])('what a scheduler keeps survives a trap that rebuilds its instance (%s)', (_where, forceWorker) => {
  it("counts on across the rebuild, while the instance's own global starts again", async () => {
    const handle = await loadPlugin(fixture('hostile'), { forceWorker });
    open.push(handle);
    const said: string[] = [];
    const schedule: Schedule = pluginSchedule(handle, (line) => said.push(line));
    let now = 0;
    const step = async (run: number, tail: string) => {
      now += 1000;
      return schedule.after({ at: now } as never, { nowAt: now, nowWall: T0 + now, last: result(run, { outputTail: tail }) });
    };
    expect(delayOf(await schedule.first({ nowAt: 0, nowWall: T0 }), 0)).toBe(5); // plain mode keeps nothing
    expect(delayOf(await step(1, 'count'), now)).toBe(1);
    expect(delayOf(await step(2, 'count'), now)).toBe(2);
    await expect(step(3, 'trap')).rejects.toMatchObject({ failure: 'trap' });
    expect(handle.stats.rebuilds).toBe(1);
    expect(delayOf(await step(4, 'count'), now)).toBe(3);
    expect(delayOf(await step(5, 'count'), now)).toBe(4);
    expect(said).toEqual(['rpr: n=1 instance calls=1', 'rpr: n=2 instance calls=2', 'rpr: n=3 instance calls=1', 'rpr: n=4 instance calls=2']);
  });

  it('an oversized or too deep keep fails that call (malformed, no crash) and leaves what was kept as it was', async () => {
    const handle = await loadPlugin(fixture('hostile'), { forceWorker });
    open.push(handle);
    const schedule = pluginSchedule(handle);
    let now = 0;
    const step = async (run: number, tail: string) => {
      now += 1000;
      return schedule.after({ at: now } as never, { nowAt: now, nowWall: T0 + now, last: result(run, { outputTail: tail }) });
    };
    await schedule.first({ nowAt: 0, nowWall: T0 });
    expect(delayOf(await step(1, 'count'), now)).toBe(1);
    await expect(step(2, 'keep-huge')).rejects.toThrow(/its keep is \d+ bytes of JSON, at most 65536 are kept/);
    expect(delayOf(await step(3, 'count'), now)).toBe(2);
    await expect(step(4, 'keep-deep')).rejects.toMatchObject({ failure: 'malformed', message: expect.stringMatching(/its keep is nested more than 64 deep$/) });
    expect(delayOf(await step(5, 'count'), now)).toBe(3);
  });
});

describe('adaptive keeps its model with rpr', () => {
  /** Runs adaptive through pluginSchedule: successes, then failures; returns the delays. */
  async function drive(handle: PluginHandle, outcomes: boolean[], between?: (run: number) => void): Promise<number[]> {
    const schedule = pluginSchedule(handle);
    let now = 0;
    const delays = [delayOf(await schedule.first({ nowAt: 0, nowWall: T0 }), 0)];
    for (let run = 1; run <= outcomes.length; run++) {
      between?.(run);
      now += 1000;
      const ok = outcomes[run - 1]!;
      delays.push(delayOf(await schedule.after({ at: now } as never, { nowAt: now, nowWall: T0 + now, last: result(run, { success: ok, exitCode: ok ? 0 : 1, durationMs: 20 }) }), now));
    }
    return delays;
  }
  const outcomes = [true, false, false, true, false, true, true];

  it('a hot reload in the middle of the job (a new instance) changes none of its decisions', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rpr-kept-'));
    dirs.push(dir);
    cpSync(path.join(DIST, 'adaptive'), dir, { recursive: true });
    const config = { 'base-interval': '1s', step: '100ms' };
    const steady = await loadPlugin(await readManifest(path.join(dir, 'plugin.toml')), { config });
    const reloading = await loadPlugin(await readManifest(path.join(dir, 'plugin.toml')), { config, hotReload: true });
    open.push(steady, reloading);
    const want = await drive(steady, outcomes);
    // After run 3 the wasm is replaced (same bytes, a new file): the next call builds a new instance.
    const wasm = path.join(dir, 'plugin.wasm');
    const got = await drive(reloading, outcomes, (run) => {
      if (run !== 4) return;
      copyFileSync(wasm, `${wasm}.new`);
      renameSync(`${wasm}.new`, wasm);
    });
    expect(reloading.stats.reloads).toBe(1);
    expect(want).toEqual([0, 900, 1800, 3600, 3500, 7000, 6900, 6800]);
    expect(got).toEqual(want);
  });

  it('without what rpr kept, a new instance would start from base-interval again (what kept prevents)', async () => {
    const h = await loadPlugin(await readManifest(path.join(DIST, 'adaptive', 'plugin.toml')), { config: { 'base-interval': '1s', step: '100ms' } });
    open.push(h);
    const state = { run: 4, last_exit_code: 0, success: true, duration_ms: 20, consecutive_failures: 0, output_tail: '', now_ms: T0, started_ms: T0 };
    expect(((await h.call('next', { ...state, kept: null })) as { delay_ms: number }).delay_ms).toBe(900);
    const kept = { v: 1, interval: 3600, average: 20, success_rate: 0.5, runs: 3, failures: 2, recorded: 3 };
    const answer = (await h.call('next', { ...state, kept })) as { delay_ms: number; keep: Record<string, number> };
    expect(answer.delay_ms).toBe(3500);
    expect(answer.keep).toMatchObject({ v: 1, interval: 3500, runs: 4, failures: 2, recorded: 4 });
  });
});
