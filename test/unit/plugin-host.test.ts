// The host with a well-behaved plugin: load, describe, init with config, calls, close.
import { afterEach, describe, expect, it } from 'vitest';
import { loadPlugin } from '../../src/plugins/host/load.js';
import type { PluginHandle } from '../../src/plugins/host/handle.js';
import { schedulerNext } from '../../src/plugins/kinds.js';
import { collect, fixture, state } from '../plugins/helpers.js';

const open: PluginHandle[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

async function load(...args: Parameters<typeof loadPlugin>): Promise<PluginHandle> {
  const h = await loadPlugin(...args);
  open.push(h);
  return h;
}

describe('a well-behaved scheduler', () => {
  it('loads, describes itself and decides', async () => {
    const c = collect();
    const h = await load(fixture('good-scheduler'), { config: { delay: '250ms', attempts: '4' }, onLog: c.onLog });
    expect(h.describe()).toMatchObject({ name: 'good-scheduler', version: '1.0.0', kind: 'scheduler', abi: 1 });
    expect(h.config).toEqual({ delay: 250, attempts: 4 });
    expect(await schedulerNext(h, state({ run: 0, last_exit_code: null, consecutive_failures: 0 }))).toEqual({ action: 'run', delay_ms: 0 });
    expect(await schedulerNext(h, state({ run: 1, consecutive_failures: 2 }))).toEqual({ action: 'run', delay_ms: 500 });
    expect(await schedulerNext(h, state({ run: 2, success: true, last_exit_code: 0 }))).toEqual({ action: 'stop', reason: 'succeeded', exit_code: 0 });
    expect(await schedulerNext(h, state({ run: 4, last_exit_code: 7 }))).toEqual({ action: 'stop', reason: 'attempts exhausted', exit_code: 7 });
    expect(h.stats.failures).toBe(0);
    expect(c.logs).toEqual([]);
  });

  it('rejects config the plugin refuses in init, naming the plugin', async () => {
    await expect(loadPlugin(fixture('good-scheduler'), { config: { attempts: 0 } })).rejects.toMatchObject({
      code: 'E_PLUGIN',
      plugin: 'good-scheduler',
      fn: 'init',
      failure: 'plugin-error',
      message: expect.stringContaining('attempts must be at least 1'),
    });
  });

  it('refuses a plugin that needs a later rpr at load, unless its index checked it already (versionChecked)', async () => {
    // good-scheduler needs rpr 0.1.0: this rpr is taken to be older.
    await expect(loadPlugin(fixture('good-scheduler'), { rprVersion: '0.0.9' })).rejects.toMatchObject({ message: expect.stringContaining('needs rpr 0.1.0 or later; this is rpr 0.0.9') });
    const h = await load(fixture('good-scheduler'), { rprVersion: '0.0.9', versionChecked: true, config: { delay: '1s', attempts: '2' } });
    expect(h.describe().name).toBe('good-scheduler');
  });

  it('rejects unknown and mistyped settings before starting anything', async () => {
    await expect(loadPlugin(fixture('good-scheduler'), { config: { dealy: '1s' } })).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringContaining('unknown setting "dealy"') });
    await expect(loadPlugin(fixture('good-scheduler'), { config: { delay: 'soon' } })).rejects.toMatchObject({ code: 'E_CONFIG' });
  });
});
