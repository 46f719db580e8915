// Hostile plugins through the real host, in both places a plugin can run (rpr's own thread, where
// schedulers run, and a worker thread, where plugins with network or files run): every failure is
// a PluginError naming plugin and function, the process stays responsive and bounded, and the same
// handle works again afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlugin } from '../../src/plugins/host/load.js';
import { encodeLeb } from '../../src/plugins/wasm/binary.js';
import type { PluginHandle } from '../../src/plugins/host/handle.js';
import { CALL_BYTES, LINE_BUDGET, LINE_BYTES } from '../../src/plugins/host/kernel-functions.js';
import { schedulerNext } from '../../src/plugins/kinds.js';
import { collect, fixture, state, type Collected } from '../plugins/helpers.js';
import { foregroundInstance } from '../plugins/raw-wasm.js';

const rssLimit = 600 * 2 ** 20;

// Three ways: rpr's own thread with the module metered (how schedulers run), rpr's own thread with
// node:vm's watchdog (modules the meter cannot rewrite; RPR_PLUGIN_METER=0), a worker thread.
const WAYS = [
  ['foreground, metered', { forceWorker: false, vmGuard: false }],
  ['foreground, node:vm guard', { forceWorker: false, vmGuard: true }],
  ['worker', { forceWorker: true, vmGuard: false }],
] as const;

describe.each(WAYS)('hostile scheduler, %s', (way, { forceWorker, vmGuard }) => {
  const placement = forceWorker ? 'worker' : 'foreground';
  let h: PluginHandle;
  let c: Collected;

  beforeAll(async () => {
    c = collect();
    h = await loadPlugin(fixture('hostile'), { onLog: c.onLog, forceWorker, vmGuard });
    expect(h.placement).toBe(placement);
    expect(h.metered).toBe(way === 'foreground, metered');
  });
  afterAll(async () => {
    await h?.close();
  });

  const next = (mode: string) => schedulerNext(h, state({ output_tail: mode }));
  const expectRecovers = async (): Promise<void> => {
    expect(await next('')).toEqual({ action: 'run', delay_ms: 5 });
  };

  it('an infinite loop is stopped at its timeout; timers and signal handlers run right after', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const t0 = Date.now();
    const error = await next('spin').catch((e: unknown) => e);
    const elapsed = Date.now() - t0;
    expect(error).toMatchObject({ name: 'PluginError', code: 'E_PLUGIN', plugin: 'hostile', fn: 'next', failure: 'timeout' });
    expect(String((error as Error).message)).toMatch(/plugin "hostile" next: did not answer within 1500 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(1490);
    expect(elapsed).toBeLessThan(6000);
    // In a worker, timers fire all along; on rpr's own thread they wait for the limit, then fire.
    const before = ticks;
    await new Promise((r) => setTimeout(r, 150));
    clearInterval(timer);
    expect(ticks - before).toBeGreaterThanOrEqual(2);
    if (placement === 'worker') expect(before).toBeGreaterThan(5);
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
    await expectRecovers();
    await next('log-flood');
    const lines = c.logs.slice(before);
    // 5000 lines asked; a burst of 50 plus the 10/s refill while they arrive.
    expect(lines.filter((l) => l.includes('flood')).length).toBeLessThan(80);
  });

  it('1 MiB log lines in a loop: cut off at the timeout, lines cut short, memory bounded', async () => {
    // A handle of its own: the earlier flood used up the shared one's rate limit.
    const logs = collect();
    const flood = await loadPlugin(fixture('hostile'), { onLog: logs.onLog, forceWorker, vmGuard });
    try {
      const t0 = Date.now();
      let ticks = 0;
      const timer = setInterval(() => ticks++, 20);
      await expect(schedulerNext(flood, state({ output_tail: 'log-flood-mb' }))).rejects.toMatchObject({ plugin: 'hostile', fn: 'next', failure: 'timeout' });
      const elapsed = Date.now() - t0;
      await new Promise((r) => setTimeout(r, 100));
      clearInterval(timer);
      // The watchdog fired on time (before the fix, the worker's messages starved it for good).
      expect(elapsed).toBeLessThan(1500 + 2500);
      expect(ticks).toBeGreaterThanOrEqual(2);
      expect(process.memoryUsage.rss()).toBeLessThan(rssLimit);
      // The flood's lines are 1 MiB blocks of NUL bytes (made as fast as the plugin can), cut short.
      const lines = logs.logs.filter((l) => l.includes('\u0000'));
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.length).toBeLessThanOrEqual(Math.ceil(CALL_BYTES / LINE_BYTES));
      for (const line of lines) expect(line.length).toBeLessThan(LINE_BYTES + 200);
      expect(lines[0]).toContain(`...(${1 << 20} bytes)`);
      expect(LINE_BUDGET).toBeGreaterThan(0);
    } finally {
      await flood.close();
    }
  });

  it('a 300 KB error with control characters: bounded, escaped', async () => {
    const error = (await next('error-huge').catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ plugin: 'hostile', fn: 'next', failure: 'plugin-error' });
    expect(error.message.length).toBeLessThan(1200);
    expect(error.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(error.message).toContain('\\x85\\x9b2J\\x1b[31mred');
    expect(error.message).toMatch(/\.\.\.\(307\d{3} characters\)$/);
    await expectRecovers();
  });

  it('a 100 MB answer under a 512 MB grant is refused before it is copied', async () => {
    const big = await loadPlugin(fixture('hostile', { memoryMb: 512, timeoutMs: 5000 }), { forceWorker, vmGuard });
    try {
      const rss0 = process.memoryUsage.rss();
      const error = await schedulerNext(big, state({ output_tail: 'answer-big' })).catch((e: unknown) => e);
      expect(error).toMatchObject({ plugin: 'hostile', fn: 'next', failure: 'trap', message: expect.stringContaining('exceeded its memory cap') });
      // The plugin's own 100 MB and little else: four copies of the answer were ~400 MB.
      expect(process.memoryUsage.rss() - rss0).toBeLessThan(260 * 2 ** 20);
    } finally {
      await big.close();
    }
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

describe.each(WAYS)('hostile at load, %s', (_way, { forceWorker, vmGuard }) => {
  it('a loop in the start function fails the load with a timeout, not a hang', async () => {
    const t0 = Date.now();
    await expect(loadPlugin(fixture('hostile'), { config: { mode: 'spin-start' }, forceWorker, vmGuard })).rejects.toMatchObject({ plugin: 'hostile', failure: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it('a trap in init fails the load naming init', async () => {
    await expect(loadPlugin(fixture('hostile'), { config: { mode: 'trap-init' }, forceWorker, vmGuard })).rejects.toMatchObject({ plugin: 'hostile', fn: 'init', failure: 'trap' });
  });

  it('hs_init, which Extism runs while it instantiates: a loop there is stopped at the limit', async () => {
    const t0 = Date.now();
    await expect(loadPlugin(fixture('hostile-init'), { config: { mode: 'spin' }, forceWorker, vmGuard })).rejects.toMatchObject({ plugin: 'hostile-init', failure: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(6000);
  });

  it('hs_init trapping fails the load with one error, not an uncaught exception', async () => {
    await expect(loadPlugin(fixture('hostile-init'), { config: { mode: 'trap' }, forceWorker, vmGuard })).rejects.toMatchObject({ plugin: 'hostile-init', failure: 'trap' });
    const ok = await loadPlugin(fixture('hostile-init'), { forceWorker, vmGuard });
    expect(await schedulerNext(ok, state())).toEqual({ action: 'run', delay_ms: 5 });
    await ok.close();
  });

  it('an _initialize that is not a function is refused at load', async () => {
    await expect(loadPlugin(fixture('hostile-global'), { forceWorker, vmGuard })).rejects.toMatchObject({
      plugin: 'hostile-global',
      failure: 'abi',
      message: expect.stringContaining('exports "_initialize" as a global'),
    });
  });
});

describe('closed while a call goes on', () => {
  it('in a worker: the call fails at once, and nothing is rebuilt or said about rebuilding', async () => {
    const logs = collect();
    const p = await loadPlugin(fixture('hostile'), { onLog: logs.onLog, forceWorker: true });
    const pending = schedulerNext(p, state({ output_tail: 'spin' })).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    await p.close();
    expect(await pending).toMatchObject({ name: 'PluginError', plugin: 'hostile' });
    expect(p.stats.rebuilds).toBe(0);
    expect(logs.logs.filter((l) => /rebuilding/.test(l))).toEqual([]);
  });
});

describe("on rpr's own thread, a module that catches the refusal of its allocation", () => {
  // (func $next (loop (try (do (drop (call $alloc (i64.const 16777216)))) (catch_all)) (br 0)) (i32.const 0))
  // WebAssembly exception handling catches a JavaScript exception thrown by an import (catch_all):
  // throwing alone cannot stop such a module, so alloc must refuse without creating the block.
  const body = [0x00, 0x03, 0x40, 0x06, 0x40, 0x42, 0x80, 0x80, 0x80, 0x08, 0x10, 0x00, 0x1a, 0x19, 0x0b, 0x0c, 0x00, 0x0b, 0x41, 0x00, 0x0b];
  const sec = (id: number, content: number[]) => [id, ...encodeLeb(content.length), ...content];
  const name = (s: string) => [...encodeLeb(s.length), ...Buffer.from(s)];
  const bytes = Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...sec(1, [2, 0x60, 1, 0x7e, 1, 0x7e, 0x60, 0, 1, 0x7f]),
    ...sec(2, [1, ...name('extism:host/env'), ...name('alloc'), 0x00, 0]),
    ...sec(3, [1, 1]),
    ...sec(5, [1, 0x00, 1]),
    ...sec(7, [2, ...name('next'), 0x00, 1, ...name('memory'), 0x02, 0]),
    ...sec(10, [1, ...encodeLeb(body.length), ...body]),
  ]);

  it('keeps being refused (no block is made), memory stays bounded, the call fails at its limit', async () => {
    const { instance, metered, kernel } = await foregroundInstance(bytes, { limitMs: 500 });
    // With exception handling it could catch the meter's stop: node:vm's watchdog stops it instead.
    expect(metered).toBe(false);
    const buffers0 = process.memoryUsage().arrayBuffers;
    await expect(instance.call('next', '', 500)).rejects.toMatchObject({ kind: 'timeout' });
    // Before: every caught refusal left a 16 MiB block behind (Extism keeps what it refuses).
    expect(process.memoryUsage().arrayBuffers - buffers0).toBeLessThan(64 * 2 ** 20);
    expect(kernel.overCap()).toMatch(/memory limit exceeded/);
  });
});
