// Filesystem permission: WASI is off unless a mapping is granted; inside a mapping, ../, symlinks
// and absolute paths cannot leave it (WASI errno 76, ENOTCAPABLE), the plugin cannot create a way
// out, and a mapping that already holds a symlink leading out is refused.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlugin } from '../../src/plugins/host/load.js';
import type { PluginHandle } from '../../src/plugins/host/handle.js';
import { fixture } from '../plugins/helpers.js';

const ENOTCAPABLE = 76;
let tmp: string;
let h: PluginHandle;

interface FsAnswer {
  ok: boolean;
  errno: number;
  content: string;
}

const grant = (dir: string) => ({ permissions: { grant: { filesystem: { '/data': dir } } } });

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'rpr-fs-'));
  for (const d of ['data', 'data/sub', 'outside', 'linked-dir', 'linked-file', 'dangling']) mkdirSync(path.join(tmp, d));
  writeFileSync(path.join(tmp, 'data', 'ok.txt'), 'inside');
  writeFileSync(path.join(tmp, 'outside', 'secret.txt'), 'secret');
  symlinkSync('ok.txt', path.join(tmp, 'data', 'inner-link'));
  symlinkSync('../outside', path.join(tmp, 'linked-dir', 'dirlink'));
  symlinkSync(path.join(tmp, 'outside', 'secret.txt'), path.join(tmp, 'linked-file', 'link'));
  symlinkSync('../../nowhere', path.join(tmp, 'dangling', 'later'));
  h = await loadPlugin(fixture('fs-probe'), grant(path.join(tmp, 'data')));
});

afterAll(async () => {
  await h?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const call = (args: Record<string, unknown>) => h.call<FsAnswer>('deliver', args);
const read = (p: string) => call({ op: 'read', path: p, follow: true });

describe('filesystem permission', () => {
  it('a module that imports WASI does not load without a filesystem grant', async () => {
    await expect(loadPlugin(fixture('fs-probe'))).rejects.toMatchObject({
      code: 'E_PLUGIN_DENIED',
      plugin: 'fs-probe',
      message: expect.stringContaining('uses WASI but has no filesystem permission'),
    });
  });

  it('reads inside the mapping, through symlinks that stay inside', async () => {
    expect(await read('ok.txt')).toEqual({ ok: true, errno: 0, content: 'inside' });
    expect(await read('inner-link')).toEqual({ ok: true, errno: 0, content: 'inside' });
  });

  it('refuses ../ and absolute paths with ENOTCAPABLE', async () => {
    expect(await read('../outside/secret.txt')).toMatchObject({ errno: ENOTCAPABLE, content: '' });
    expect(await read('sub/../../outside/secret.txt')).toMatchObject({ errno: ENOTCAPABLE, content: '' });
    expect(await read(path.join(tmp, 'outside', 'secret.txt'))).toMatchObject({ errno: ENOTCAPABLE, content: '' });
    expect(await read('/etc/passwd')).toMatchObject({ errno: ENOTCAPABLE, content: '' });
  });

  it('does not let the plugin create a symlink leading out', async () => {
    expect((await call({ op: 'symlink', target: '../outside', path: 'evil' })).errno).toBe(ENOTCAPABLE);
    expect((await call({ op: 'symlink', target: '/etc', path: 'evil2' })).errno).not.toBe(0);
    expect((await read('evil/secret.txt')).content).toBe('');
    expect((await read('evil2/passwd')).content).toBe('');
  });

  it.each([
    ['linked-dir', 'a symlinked directory'],
    ['linked-file', 'a symlink to a file'],
    ['dangling', 'a dangling symlink that would lead out'],
  ])('refuses a mapping holding %s leading out (%s)', async (dir) => {
    await expect(loadPlugin(fixture('fs-probe'), grant(path.join(tmp, dir)))).rejects.toMatchObject({
      code: 'E_PLUGIN_DENIED',
      plugin: 'fs-probe',
      message: expect.stringMatching(/is a symlink leading out of it/),
    });
  });

  it('refuses a mapping to a directory that does not exist', async () => {
    await expect(loadPlugin(fixture('fs-probe'), grant(path.join(tmp, 'missing')))).rejects.toMatchObject({ message: expect.stringContaining('does not exist') });
  });
});
