// Hostile plugins through the real host: every failure is a PluginError naming plugin and function,
// the process stays responsive and bounded, and the same handle works again afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlugin } from '../../src/plugins/host/load.js';
import type { PluginHandle } from '../../src/plugins/host/handle.js';
import { schedulerNext } from '../../src/plugins/kinds.js';
import { collect, fixture, state, type Collected } from '../plugins/helpers.js';

let h: PluginHandle;
let c: Collected;
const rssLimit = 600 * 2 ** 20;

beforeAll(async () => {
  c = collect();
  h = await loadPlugin(fixture('hostile'), { onLog: c.onLog });
});
afterAll(async () => {
  await h?.close();
});

const next = (mode: string) => schedulerNext(h, state({ output_tail: mode }));

async function expectRecoversFrom(mode: string): Promise<void> {
  expect(await next(mode)).toEqual({ action: 'run', delay_ms: 5 });
}

async function expectRecovers(): Promise<void> {
  expect(await next('')).toEqual({ action: 'run', delay_ms: 5 });
}

describe('hostile scheduler', () => {
  it('an infinite loop is stopped at its timeout while the event loop keeps running', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const t0 = Date.now();
    const error = await next('spin').catch((e: unknown) => e);
    const elapsed = Date.now() - t0;
    clearInterval(timer);
    expect(error).toMatchObject({ name: 'PluginError', code: 'E_PLUGIN', plugin: 'hostile', fn: 'next', failure: 'timeout' });
    expect(String((error as Error).message)).toMatch(/plugin "hostile" next: did not answer within 1500 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(1490);
    expect(elapsed).toBeLessThan(6000);
    // Ctrl-C would be handled: timers fired all along.
    expect(ticks).toBeGreaterThan(5);
    await expectRecovers();
    expect(h.stats.rebuilds).toBeGreaterThanOrEqual(1);
  });

  it('a loop of host calls is stopped too, and leaves nothing running behind', async () => {
    const workers = () => process.getActiveResourcesInfo().filter((r) => r === 'Worker' || r === 'MessagePort').length;
    const before = workers();
    await expect(next('host-spin')).rejects.toMatchObject({ plugin: 'hostile', fn: 'next', failure: 'timeout' });
    await expectRecovers();
    expect(workers()).toBeLessThanOrEqual(before + 1);
  });

  it('a memory bomb traps at the memory cap, RSS stays bounded', async () => {
    await expect(next('bomb')).rejects.toMatchObject({ plugin: 'hostile', fn: 'next', failure: 'trap' });
    expect(process.memoryUsage.rss()).toBeLessThan(rssLimit);
    await expectRecovers();
  });

  it.each(['kernel-bomb', 'kernel-bomb-small'])('%s: Extism kernel allocations past the cap stop the plugin at once', async (mode) => {
    // A trap, not the 1500 ms timeout: the first refused allocation ends it.
    await expect(next(mode)).rejects.toMatchObject({ plugin: 'hostile', fn: 'next', failure: 'trap', message: expect.stringContaining('exceeded its memory cap') });
    expect(process.memoryUsage.rss()).toBeLessThan(rssLimit);
    await expectRecovers();
  });

  it('a flood of log lines is rate-limited', async () => {
    const before = c.logs.length;
    await expectRecoversFrom('log-flood');
    const lines = c.logs.slice(before);
    // 5000 lines asked; a burst of 50 plus the 10/s refill while they arrive.
    expect(lines.filter((l) => l.includes('flood')).length).toBeLessThan(80);
  });

  it.each([
    ['trap', 'trap', /trapped: .*unreachable/],
    ['abort', 'trap', /trapped/],
    ['stack', 'trap', /trapped/],
    ['malformed', 'malformed', /answer is not JSON: "\{not json"/],
    ['bad-utf8', 'malformed', /not UTF-8/],
    ['huge', 'too-large', /answer of \d+ bytes is larger than 1048576/],
  ])('%s -> PluginError %s, then works again', async (mode, failure, message) => {
    const error = await next(mode).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'PluginError', code: 'E_PLUGIN', plugin: 'hostile', fn: 'next', failure });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/^plugin "hostile" next: /);
    await expectRecovers();
  });

  it("an abort's reason reaches the log", async () => {
    await next('abort').catch(() => {});
    expect(c.logs.some((l) => l.includes('hostile assert'))).toBe(true);
  });

  it('an error the plugin reports itself keeps the instance', async () => {
    const rebuilds = h.stats.rebuilds;
    await expect(next('error')).rejects.toMatchObject({ plugin: 'hostile', fn: 'next', failure: 'plugin-error', message: expect.stringContaining('hostile says no') });
    expect(h.stats.rebuilds).toBe(rebuilds);
    await expectRecovers();
  });

  it('rejects a call to an export outside the contract', async () => {
    await expect(h.call('__rpr_start')).rejects.toMatchObject({ failure: 'abi' });
    await expect(h.call('deliver', {})).rejects.toMatchObject({ failure: 'abi' });
  });
});

describe('hostile at load', () => {
  it('a loop in the start function fails the load with a timeout, not a hang', async () => {
    const t0 = Date.now();
    await expect(loadPlugin(fixture('hostile'), { config: { mode: 'spin-start' } })).rejects.toMatchObject({
      plugin: 'hostile',
      failure: 'timeout',
    });
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it('a trap in init fails the load naming init', async () => {
    await expect(loadPlugin(fixture('hostile'), { config: { mode: 'trap-init' } })).rejects.toMatchObject({
      plugin: 'hostile',
      fn: 'init',
      failure: 'trap',
    });
  });
});

describe('closed while a call goes on', () => {
  it('the call fails, and nothing is rebuilt or said about rebuilding', async () => {
    const logs = collect();
    const p = await loadPlugin(fixture('hostile'), { onLog: logs.onLog });
    const pending = schedulerNext(p, state({ output_tail: 'spin' })).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    await p.close();
    expect(await pending).toMatchObject({ name: 'PluginError', plugin: 'hostile' });
    expect(p.stats.rebuilds).toBe(0);
    expect(logs.logs.filter((l) => /rebuilding/.test(l))).toEqual([]);
  });
});
