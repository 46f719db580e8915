// The retry family (exponential, fibonacci, linear, polynomial, decorrelated-jitter) through the
// real plugin host: the waits they ask for, their caps, stop on success, --continuous, --attempts
// and the exit code, flag spellings, and the settings they refuse.
import { afterEach, describe, expect, it } from 'vitest';
import { schedulerNext, type PluginHandle } from '../../src/plugins/index.js';
import { loadBundled, loadError, simulate, T0 } from './bundled-helpers.js';

const open: PluginHandle[] = [];
async function load(name: string, config: Record<string, unknown>): Promise<PluginHandle> {
  const h = await loadBundled(name, config);
  open.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

const fail = { exit: 1 };
const ok = { exit: 0 };

describe('waits after each failure', () => {
  it('fibonacci: 0, then initial x 1, 1, 2, 3, 5, 8', async () => {
    const h = await load('fibonacci', { initial: '100ms' });
    const { delays } = await simulate(h, [fail], 6);
    expect(delays).toEqual([0, 100, 100, 200, 300, 500, 800]);
  });

  it('exponential: initial x multiplier^(n-1)', async () => {
    const h = await load('exponential', { initial: '100ms', multiplier: 3 });
    expect((await simulate(h, [fail], 4)).delays).toEqual([0, 100, 300, 900, 2700]);
  });

  it('linear: n x increment; --initial is the same setting', async () => {
    const a = await load('linear', { increment: '100ms' });
    expect((await simulate(a, [fail], 4)).delays).toEqual([0, 100, 200, 300, 400]);
    const b = await load('linear', { initial: '250ms' });
    expect((await simulate(b, [fail], 3)).delays).toEqual([0, 250, 500, 750]);
  });

  it('polynomial: initial x n^exponent', async () => {
    const h = await load('polynomial', { initial: '100ms' });
    expect((await simulate(h, [fail], 4)).delays).toEqual([0, 100, 400, 900, 1600]);
    const cubic = await load('polynomial', { initial: '10ms', exponent: 3 });
    expect((await simulate(cubic, [fail], 3)).delays).toEqual([0, 10, 80, 270]);
  });

  it('decorrelated-jitter: initial, then uniform in [initial, previous x multiplier), capped at max', async () => {
    const h = await load('decorrelated-jitter', { initial: '100ms', max: '5s' });
    const { delays } = await simulate(h, [fail], 300);
    expect(delays[0]).toBe(0);
    expect(delays[1]).toBe(100);
    for (let i = 2; i < delays.length; i++) {
      expect(delays[i]).toBeGreaterThanOrEqual(100);
      // Whole ms, rounded up: at most one more than the bound.
      expect(delays[i]).toBeLessThanOrEqual(Math.min(delays[i - 1]! * 3, 5000) + 1);
    }
    expect(new Set(delays).size).toBeGreaterThan(50); // really random
    expect(Math.max(...delays)).toBeGreaterThan(3000); // and it does reach toward the cap
  });

  it('every strategy is capped at --max (alias --max-delay)', async () => {
    const exp = await load('exponential', { initial: '1s', max: '5s' });
    expect((await simulate(exp, [fail], 6)).delays).toEqual([0, 1000, 2000, 4000, 5000, 5000, 5000]);
    const fib = await load('fibonacci', { 'base-delay': '1s', 'max-delay': '4s' });
    expect((await simulate(fib, [fail], 6)).delays).toEqual([0, 1000, 1000, 2000, 3000, 4000, 4000]);
    const lin = await load('linear', { inc: '1s', max: '2500ms' });
    expect((await simulate(lin, [fail], 4)).delays).toEqual([0, 1000, 2000, 2500, 2500]);
    const poly = await load('polynomial', { initial: '1s', max: '3s' });
    expect((await simulate(poly, [fail], 3)).delays).toEqual([0, 1000, 3000, 3000]);
  });

  it('a very long failure streak stays capped (no overflow to Infinity or NaN)', async () => {
    for (const name of ['exponential', 'fibonacci', 'polynomial', 'linear']) {
      const h = await load(name, { initial: '1s', max: '1m' });
      const answer = await schedulerNext(h, { run: 5000, last_exit_code: 1, success: false, duration_ms: 0, consecutive_failures: 5000, output_tail: '', now_ms: T0, started_ms: T0 });
      expect(answer, name).toEqual({ action: 'run', delay_ms: 60_000 });
    }
  });
});

describe('exponential --jitter', () => {
  it('none is exact; full is in [0, d); equal is in [d/2, d)', async () => {
    const none = await load('exponential', { initial: '100ms', jitter: 'none' });
    expect((await simulate(none, [fail], 3)).delays).toEqual([0, 100, 200, 400]);
    for (const [mode, low] of [
      ['full', 0],
      ['equal', 0.5],
    ] as const) {
      const h = await load('exponential', { initial: '1s', max: '8s', jitter: mode });
      const { delays } = await simulate(h, [fail], 60);
      for (let n = 1; n < delays.length; n++) {
        const d = Math.min(1000 * 2 ** (n - 1), 8000);
        expect(delays[n]).toBeGreaterThanOrEqual(Math.floor(d * low));
        expect(delays[n]).toBeLessThanOrEqual(d);
      }
      expect(new Set(delays.slice(5)).size, mode).toBeGreaterThan(20);
    }
  });
});

describe('stop on success, --continuous, --attempts', () => {
  it('stops at the first success with exit code 0', async () => {
    for (const name of ['exponential', 'fibonacci', 'linear', 'polynomial', 'decorrelated-jitter']) {
      const h = await load(name, { initial: '10ms' });
      const r = await simulate(h, [fail, fail, ok, fail], 10);
      expect(r.starts, name).toHaveLength(3);
      expect(r.stop, name).toEqual({ action: 'stop', reason: 'succeeded on run 3', exit_code: 0 });
    }
  });

  it('a first run that succeeds is the only run', async () => {
    const h = await load('exponential', { initial: '100ms', attempts: 5 });
    const r = await simulate(h, [ok], 10);
    expect(r.starts).toHaveLength(1);
    expect(r.stop?.exit_code).toBe(0);
  });

  it('--attempts N: N runs, then the exit code of the last', async () => {
    const h = await load('fibonacci', { initial: '100ms', a: 5 });
    const r = await simulate(h, [{ exit: 3 }], 50);
    expect(r.delays).toEqual([0, 100, 100, 200, 300]);
    expect(r.stop).toEqual({ action: 'stop', reason: 'failed 5 times (--attempts 5)', exit_code: 3 });
    const killed = await load('linear', { increment: '1ms', attempts: 2 });
    const s = await simulate(killed, [{ exit: null }], 50);
    expect(s.stop?.exit_code).toBe(1); // ended by a signal: no code of its own
    const patterned = await load('linear', { increment: '1ms', attempts: 1 });
    // failed by a failure pattern although it exited 0: still a failure
    expect((await simulate(patterned, [{ exit: 0, success: false }], 50)).stop?.exit_code).toBe(1);
  });

  it('--continuous: a success resets the waits and the job goes on', async () => {
    const h = await load('exponential', { initial: '100ms', continuous: true });
    const r = await simulate(h, [fail, fail, ok, fail, fail, ok, ok], 7);
    expect(r.stop).toBeUndefined();
    expect(r.delays).toEqual([0, 100, 200, 100, 100, 200, 100, 100]);
    const dj = await load('decorrelated-jitter', { initial: '100ms', continuous: true });
    const d = await simulate(dj, [fail, fail, fail, ok, fail], 5);
    expect(d.delays[4]).toBe(100); // after the success: initial again
    expect(d.delays[5]).toBe(100); // first failure after it: initial
  });

  it("--continuous with --attempts: stops after N runs with the last one's code", async () => {
    const h = await load('fibonacci', { initial: '10ms', continuous: true, attempts: 3 });
    expect((await simulate(h, [fail, ok, ok], 10)).stop).toEqual({ action: 'stop', reason: 'ran 3 times (--attempts 3)', exit_code: 0 });
    const g = await load('fibonacci', { initial: '10ms', continuous: true, attempts: 3 });
    expect((await simulate(g, [ok, ok, { exit: 4 }], 10)).stop?.exit_code).toBe(4);
  });
});

describe('settings', () => {
  it('describe matches plugin.toml, and the typed host call accepts the decisions', async () => {
    const h = await load('exponential', { initial: '100ms' });
    expect(h.describe()).toMatchObject({ name: 'exponential', kind: 'scheduler', abi: 1, version: h.manifest.version });
    expect(h.describe().config.initial).toEqual({ type: 'duration', default: '1s', help: 'wait after the first failure', aliases: ['base-delay', 'initial-delay'] });
    const first = await schedulerNext(h, { run: 0, last_exit_code: null, success: false, duration_ms: 0, consecutive_failures: 0, output_tail: '', now_ms: T0, started_ms: T0 });
    expect(first).toEqual({ action: 'run', delay_ms: 0 });
  });

  it('refuses settings that make no sense, naming them', async () => {
    expect(await loadError('exponential', { initial: '2m', max: '1m' })).toMatch(/max \(1m\) is less than the first delay \(2m\)/);
    expect(await loadError('exponential', { multiplier: 0.5 })).toMatch(/multiplier must be 1 or more/);
    expect(await loadError('exponential', { jitter: 'lots' })).toMatch(/jitter.*one of none, full, equal/);
    expect(await loadError('polynomial', { exponent: 11 })).toMatch(/exponent must be greater than 0 and at most 10/);
    expect(await loadError('decorrelated-jitter', { multiplier: 1 })).toMatch(/multiplier must be greater than 1/);
    expect(await loadError('fibonacci', { initial: '0' })).toMatch(/initial must be greater than 0/);
    expect(await loadError('linear', { attempts: -1 })).toMatch(/attempts must be 0/);
    expect(await loadError('fibonacci', { bogus: 1 })).toMatch(/unknown setting "bogus"/);
  });
});
