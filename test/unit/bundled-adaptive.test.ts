// adaptive (AIMD on the interval) and load-adaptive (interval from the machine's load, read through
// the rpr_system_load host function - here a fake load source injected into the host).
import { afterEach, describe, expect, it } from 'vitest';
import type { PluginError, PluginHandle, SystemLoad } from '../../src/plugins/index.js';
import { decide, loadBundled, loadError, simulate } from './bundled-helpers.js';

const open: PluginHandle[] = [];
async function load(name: string, config: Record<string, unknown>, options = {}): Promise<PluginHandle> {
  const h = await loadBundled(name, config, options);
  open.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

describe('adaptive', () => {
  it('runs at once, then reacts to the run that just finished: x factor on failure, -step when healthy', async () => {
    const h = await load('adaptive', { 'base-interval': '1s', step: '100ms' });
    const { delays } = await simulate(
      h,
      [
        { exit: 0, durationMs: 50 },
        { exit: 1, durationMs: 50 },
        { exit: 1, durationMs: 50 },
        { exit: 0, durationMs: 50 },
        { exit: 0, durationMs: 50 },
      ],
      5,
    );
    // healthy: 1000-100; failed: x2; failed: x2; healthy: -100; healthy: -100
    expect(delays).toEqual([0, 900, 1800, 3600, 3500, 3400]);
  });

  it('a slow run (above slow-threshold x the average of earlier successes) backs off too', async () => {
    const h = await load('adaptive', { b: '1s', 'slow-threshold': 2 });
    const { delays } = await simulate(
      h,
      [
        { exit: 0, durationMs: 100 },
        { exit: 0, durationMs: 100 },
        { exit: 0, durationMs: 250 },
        { exit: 0, durationMs: 150 },
      ],
      4,
    );
    // step defaults to base/10 = 100ms; 250ms > 2 x 100ms is slow; 150ms is not (average now 130ms)
    expect(delays).toEqual([0, 900, 800, 1600, 1500]);
  });

  it('stays within [min-interval, max-interval] (defaults base/10 and base x 10)', async () => {
    const h = await load('adaptive', { 'base-interval': '1s' });
    const down = await simulate(h, [{ exit: 0, durationMs: 1 }], 30);
    expect(Math.min(...down.delays.slice(1))).toBe(100);
    expect(down.delays.at(-1)).toBe(100);
    const g = await load('adaptive', { 'base-interval': '1s', 'min-interval': '500ms', 'max-interval': '5s' });
    const up = await simulate(g, [{ exit: 1 }], 8);
    expect(up.delays).toEqual([0, 2000, 4000, 5000, 5000, 5000, 5000, 5000, 5000]);
  });

  it('never stops by itself', async () => {
    const h = await load('adaptive', { 'base-interval': '10ms' });
    expect((await simulate(h, [{ exit: 1 }, { exit: 0 }], 40)).stop).toBeUndefined();
  });

  it('--show-metrics: each decision carries a one-line message for stderr', async () => {
    const h = await load('adaptive', { 'base-interval': '1s', 'show-metrics': true });
    const { steps } = await simulate(
      h,
      [
        { exit: 0, durationMs: 120 },
        { exit: 2, durationMs: 30 },
      ],
      2,
    );
    expect(steps[0]!.raw.message).toBe('adaptive: first run now, then every 1s to start with');
    expect(steps[1]!.raw.message).toBe('adaptive: run 1 ok in 120ms; interval 1s -> 900ms; average 120ms; success 100%');
    expect(steps[2]!.raw.message).toBe('adaptive: run 2 failed in 30ms; interval 900ms -> 1.8s; average 120ms; success 50%');
    const quiet = await load('adaptive', { 'base-interval': '1s' });
    expect((await decide(quiet, { run: 1 })).message).toBeUndefined();
  });

  it('refuses inconsistent settings', async () => {
    expect(await loadError('adaptive', {})).toMatch(/setting "base-interval" is required/);
    expect(await loadError('adaptive', { 'base-interval': '1m', 'max-interval': '30s' })).toMatch(/min-interval <= base-interval <= max-interval/);
    expect(await loadError('adaptive', { 'base-interval': '1s', 'backoff-factor': 1 })).toMatch(/backoff-factor must be greater than 1/);
    expect(await loadError('adaptive', { 'base-interval': '1s', 'slow-threshold': 0.5 })).toMatch(/slow-threshold must be greater than 1/);
  });

  it('a base interval of a minute works out of the box (the Go rpr needed --max-interval)', async () => {
    const h = await load('adaptive', { 'base-interval': '1m' });
    expect((await simulate(h, [{ exit: 1 }], 1)).delays).toEqual([0, 120_000]);
  });
});

describe('load-adaptive', () => {
  const reading = (over: Partial<SystemLoad>): SystemLoad => ({ cpu_percent: 35, memory_percent: 40, load1: 1, load5: 1, load15: 1, cores: 2, ...over });

  it('interval = base x max(cpu/target, memory/target, load per core/target), from the host reading', async () => {
    let current = reading({});
    const h = await load('load-adaptive', { 'base-interval': '1s' }, { systemLoad: () => current });
    const at = async (r: SystemLoad) => {
      current = r;
      return (await decide(h, { run: 1 })).delay_ms;
    };
    expect((await decide(h, { run: 0 })).delay_ms).toBe(0); // the first run does not wait
    // cpu 35/70 = 0.5, memory 40/80 = 0.5, load 1/2 cores = 0.5 per core / 1.0
    expect(await at(reading({}))).toBe(500);
    expect(await at(reading({ cpu_percent: 140 }))).toBe(2000); // (can exceed 100 on a fake)
    expect(await at(reading({ memory_percent: 96 }))).toBe(1200);
    expect(await at(reading({ load1: 6, cores: 2 }))).toBe(3000);
    expect(await at(reading({ cpu_percent: 1, memory_percent: 1, load1: 0 }))).toBe(100); // min: base / 10
    expect(await at(reading({ load1: 100, cores: 1 }))).toBe(10_000); // max: base x 10
  });

  it('targets and bounds come from the settings', async () => {
    const h = await load(
      'load-adaptive',
      { b: '2s', 'target-cpu': 50, 'target-memory': 100, 'target-load': 2, 'min-interval': '1s', 'max-interval': '3s' },
      {
        systemLoad: () => reading({ cpu_percent: 60, memory_percent: 10, load1: 2, cores: 1 }),
      },
    );
    // cpu 60/50 = 1.2 wins over load 2/1/2 = 1.0: 2.4s
    expect((await decide(h, { run: 3 })).delay_ms).toBe(2400);
  });

  it('--show-metrics describes each reading', async () => {
    const h = await load('load-adaptive', { 'base-interval': '1s', 'show-metrics': true }, { systemLoad: () => reading({ cpu_percent: 87.5, memory_percent: 41.26 }) });
    expect((await decide(h, { run: 1 })).message).toBe('load-adaptive: cpu 87.5% (target 70), memory 41.3% (target 80), load 0.5/core (target 1): x1.25, interval 1.25s');
  });

  it('without the system-load permission it keeps the base interval and says why once', async () => {
    const logs: string[] = [];
    const denials: PluginError[] = [];
    const h = await load(
      'load-adaptive',
      { 'base-interval': '1s', 'show-metrics': true },
      {
        permissions: { narrow: { hostFunctions: [] } },
        onLog: (_level: string, m: string) => logs.push(m),
        onDenied: (e: PluginError) => denials.push(e),
        systemLoad: () => reading({ cpu_percent: 100 }),
      },
    );
    const a = await decide(h, { run: 1 });
    await decide(h, { run: 2 });
    expect(a.delay_ms).toBe(1000);
    expect(a.message).toMatch(/^load-adaptive: no load reading \(.*denied.*\); interval 1s$/);
    expect(logs.filter((m) => m.includes('running every base-interval'))).toHaveLength(1);
    expect(denials.length).toBe(1);
  });

  it('asks for nothing but system-load', async () => {
    const h = await load('load-adaptive', { 'base-interval': '1s' });
    expect(h.manifest.permissions).toMatchObject({ hostFunctions: ['system-load'], network: [], exec: [], filesystem: {} });
  });
});
