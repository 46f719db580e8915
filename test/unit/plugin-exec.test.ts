// Exec permission: an executor's plan is checked against its exec list before anything runs.
import { afterEach, describe, expect, it } from 'vitest';
import { loadPlugin } from '../../src/plugins/host/load.js';
import type { PluginHandle } from '../../src/plugins/host/handle.js';
import { executorPlan } from '../../src/plugins/kinds.js';
import { checkPlan } from '../../src/plugins/permissions/exec.js';
import { fixture } from '../plugins/helpers.js';

const open: PluginHandle[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});
async function load(...args: Parameters<typeof loadPlugin>): Promise<PluginHandle> {
  const h = await loadPlugin(...args);
  open.push(h);
  return h;
}

const command = { argv: ['date', '+%s'], cwd: '/tmp', run: 1 };

describe('executor plans', () => {
  it('a plan for a declared program passes', async () => {
    const h = await load(fixture('executor'));
    expect(await executorPlan(h, command)).toEqual({ argv: ['echo', 'date', '+%s'], env: { RPR_EXECUTOR: 'fixture' }, cwd: '/tmp' });
  });

  it('a plan for an undeclared program is denied, naming plugin and program', async () => {
    const h = await load(fixture('executor'), { config: { program: 'rm' } });
    await expect(executorPlan(h, command)).rejects.toMatchObject({
      name: 'PluginError',
      code: 'E_PLUGIN_DENIED',
      plugin: 'executor',
      fn: 'plan',
      message: 'plugin "executor" plan: exec of "rm" denied: the plugin may run "echo"',
      hint: expect.stringContaining('exec = ["rm"]'),
    });
  });

  it('an explicit grant allows it; narrowing removes the declared one', async () => {
    const granted = await load(fixture('executor'), { config: { program: 'rm' }, permissions: { grant: { exec: ['rm'] } } });
    expect((await executorPlan(granted, command)).argv[0]).toBe('rm');
    const narrowed = await load(fixture('executor'), { permissions: { narrow: { exec: [] } } });
    await expect(executorPlan(narrowed, command)).rejects.toMatchObject({ code: 'E_PLUGIN_DENIED' });
  });

  it('matches argv[0] exactly: a path is not the program name', () => {
    const plan = { argv: ['/tmp/evil/echo'], env: {}, cwd: '/' };
    expect(() => checkPlan('x', plan, { exec: ['echo'], execEnv: [] })).toThrow(/exec of "\/tmp\/evil\/echo" denied/);
    expect(checkPlan('x', { ...plan, argv: ['/bin/echo'] }, { exec: ['/bin/echo'], execEnv: [] })).toBeTruthy();
  });
});
