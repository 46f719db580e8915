// Host functions and the topic bus: undeclared ones answer the denied value and are reported once
// (naming plugin and function); granted ones work; misuse never kills the instance.
import { afterEach, describe, expect, it } from 'vitest';
import { TopicBus } from '../../src/plugins/host/bus.js';
import { loadPlugin } from '../../src/plugins/host/load.js';
import type { PluginHandle } from '../../src/plugins/host/handle.js';
import { collect, fixture } from '../plugins/helpers.js';

interface Answer {
  ok: boolean;
  value: unknown;
}

const open: PluginHandle[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});
async function load(...args: Parameters<typeof loadPlugin>): Promise<PluginHandle> {
  const h = await loadPlugin(...args);
  open.push(h);
  return h;
}

const fakeLoad = () => ({ cpu_percent: 12.5, memory_percent: 40, load1: 0.5, load5: 0.4, load15: 0.3, cores: 2 });

describe('host functions', () => {
  it('undeclared: denied values, each reported once, instance intact', async () => {
    const c = collect();
    const h = await load(fixture('probe'), { onDenied: c.onDenied, systemLoad: fakeLoad });
    const op = async (name: string, extra = {}) => (await h.call<Answer>('deliver', { op: name, ...extra })).value;
    expect(await op('time')).toBe(-1);
    expect(await op('time')).toBe(-1);
    expect(await op('random')).toBe(-1);
    expect(await op('load')).toEqual({ error: expect.stringContaining('denied') });
    expect(await op('emit', { topic: 'ticks', payload: { n: 1 } })).toBe(-1);
    expect(c.denials.map((d) => [d.code, d.plugin, d.fn])).toEqual([
      ['E_PLUGIN_DENIED', 'probe', 'rpr_time_ms'],
      ['E_PLUGIN_DENIED', 'probe', 'rpr_random'],
      ['E_PLUGIN_DENIED', 'probe', 'rpr_system_load'],
      ['E_PLUGIN_DENIED', 'probe', 'rpr_emit'],
    ]);
    expect(c.denials[0]!.message).toBe('plugin "probe" rpr_time_ms: host function rpr_time_ms denied: permission "time" is not granted');
    expect(h.denials()).toContainEqual({ message: expect.stringContaining('rpr_time_ms'), count: 2 });
    expect(h.stats.rebuilds).toBe(0);
  });

  it('granted: real values; system load comes from the injected source', async () => {
    const h = await load(fixture('probe', { hostFunctions: ['time', 'random', 'system-load'] }), { systemLoad: fakeLoad });
    const t = (await h.call<Answer>('deliver', { op: 'time' })).value as number;
    expect(Math.abs(t - Date.now())).toBeLessThan(5000);
    const r = (await h.call<Answer>('deliver', { op: 'random' })).value as number;
    expect(r).toBeGreaterThanOrEqual(0);
    expect(r).toBeLessThan(1);
    expect((await h.call<Answer>('deliver', { op: 'load' })).value).toEqual(fakeLoad());
  });

  it('the real system load source answers plausible numbers', async () => {
    const h = await load(fixture('probe', { hostFunctions: ['system-load'] }));
    const v = (await h.call<Answer>('deliver', { op: 'load' })).value as ReturnType<typeof fakeLoad>;
    expect(v.cores).toBeGreaterThan(0);
    expect(v.memory_percent).toBeGreaterThan(0);
    expect(v.memory_percent).toBeLessThanOrEqual(100);
  });

  it('misuse (bad offsets) is an error value and a warning, not a crash', async () => {
    const c = collect();
    const h = await load(fixture('probe', { hostFunctions: ['emit'], emit: ['ticks'] }), { onLog: c.onLog });
    expect((await h.call<Answer>('deliver', { op: 'emit-garbage' })).value).toBe(-2);
    expect(c.logs.some((l) => l.includes('misused rpr_emit'))).toBe(true);
    expect(h.stats.rebuilds).toBe(0);
  });
});

describe('topic bus', () => {
  const waitFor = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 100; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('condition not met');
  };

  it('delivers a published message to subscribers; topics outside the emit list are denied', async () => {
    const bus = new TopicBus();
    const c = collect();
    const emitter = await load(fixture('probe', { hostFunctions: ['emit'], emit: ['ticks'] }), { bus, onDenied: c.onDenied });
    const listener = await load(fixture('listener'), { bus });
    expect((await emitter.call<Answer>('deliver', { op: 'emit', topic: 'ticks', payload: { n: 7 } })).value).toBe(0);
    await waitFor(async () => (await listener.call<{ seen: number }>('deliver', {})).seen === 1);
    expect(await listener.call('deliver', {})).toEqual({ ok: true, seen: 1, last: '{"n":7}' });
    expect((await emitter.call<Answer>('deliver', { op: 'emit', topic: 'secrets', payload: 1 })).value).toBe(-1);
    expect(c.denials.at(-1)?.message).toContain('emit on topic "secrets" denied');
  });

  it('two plugins echoing each other stop at the hop limit', async () => {
    const bus = new TopicBus(4);
    const dropped: number[] = [];
    bus.onDrop = (_m, hops) => dropped.push(hops);
    const emitter = await load(fixture('probe', { hostFunctions: ['emit'], emit: ['ticks'] }), { bus });
    const a = await load(fixture('listener'), { bus, config: { echo: true } });
    const b = await load(fixture('listener'), { bus, config: { echo: true } });
    await emitter.call('deliver', { op: 'emit', topic: 'ticks', payload: 'ping' });
    await waitFor(async () => dropped.length > 0);
    await new Promise((r) => setTimeout(r, 200));
    const seenA = (await a.call<{ seen: number }>('deliver', {})).seen;
    const seenB = (await b.call<{ seen: number }>('deliver', {})).seen;
    // Hops 1..4 delivered to both, each delivery echoing: bounded, not endless.
    expect(seenA + seenB).toBeGreaterThan(2);
    expect(seenA + seenB).toBeLessThan(64);
    expect(Math.min(...dropped)).toBe(5);
  });
});
