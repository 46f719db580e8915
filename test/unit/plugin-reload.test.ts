// Hot reload: a changed plugin on disk is used from the next call (checked against its manifest
// hash); a version that does not load keeps the old one and says so.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPlugin } from '../../src/plugins/host/load.js';
import type { PluginHandle } from '../../src/plugins/host/handle.js';
import { readManifest } from '../../src/plugins/manifest/parse.js';
import { schedulerNext } from '../../src/plugins/kinds.js';
import { collect, FIXTURES_DIST, ensureFixtures, state } from '../plugins/helpers.js';

let tmp: string | undefined;
let h: PluginHandle | undefined;
afterEach(async () => {
  await h?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Copies a fixture's files over `dir`, wasm first (as an editor or installer might). */
function install(fixtureName: string, dir: string): void {
  cpSync(path.join(FIXTURES_DIST, fixtureName, 'plugin.wasm'), path.join(dir, 'plugin.wasm'));
  cpSync(path.join(FIXTURES_DIST, fixtureName, 'plugin.toml'), path.join(dir, 'plugin.toml'));
}

async function setup(hotReload: boolean) {
  ensureFixtures();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'rpr-reload-'));
  install('good-scheduler', tmp);
  const c = collect();
  h = await loadPlugin(await readManifest(path.join(tmp, 'plugin.toml')), { hotReload, onLog: c.onLog });
  return { dir: tmp, handle: h, c };
}

const decide = (handle: PluginHandle) => schedulerNext(handle, state({ run: 1, consecutive_failures: 1 }));

describe('hot reload', () => {
  it('the next call uses the new version, with the config replayed', async () => {
    const { dir, handle, c } = await setup(true);
    expect(await decide(handle)).toEqual({ action: 'run', delay_ms: 100 });
    install('good-scheduler-v2', dir);
    expect(await decide(handle)).toEqual({ action: 'run', delay_ms: 200 });
    expect(handle.describe().version).toBe('2.0.0');
    expect(handle.stats.reloads).toBe(1);
    expect(c.logs).toContainEqual(expect.stringContaining('reloaded version 2.0.0 (was 1.0.0)'));
  });

  it('a wasm that does not match its manifest keeps the old version and says why', async () => {
    const { dir, handle } = await setup(false);
    writeFileSync(path.join(dir, 'plugin.wasm'), readFileSync(path.join(FIXTURES_DIST, 'good-scheduler-v2', 'plugin.wasm')));
    const result = await handle.reloadIfChanged();
    expect(result.reloaded).toBe(false);
    expect(result.error?.message).toMatch(/plugin\.toml: .*plugin\.wasm does not match runtime\.sha256/);
    expect(await decide(handle)).toEqual({ action: 'run', delay_ms: 100 });
    // The manifest arrives: now it loads.
    cpSync(path.join(FIXTURES_DIST, 'good-scheduler-v2', 'plugin.toml'), path.join(dir, 'plugin.toml'));
    expect(await handle.reloadIfChanged()).toEqual({ reloaded: true, version: '2.0.0' });
  });

  it('a version that fails to start keeps the old one', async () => {
    const { dir, handle } = await setup(false);
    writeFileSync(path.join(dir, 'plugin.wasm'), Buffer.from('not wasm at all'));
    const toml = readFileSync(path.join(dir, 'plugin.toml'), 'utf8').replace(/sha256 = "[0-9a-f]+"/, 'sha256 = "7b1ec73a6edf2b7ecb5ef8c9b5f47fcdd3b3c6f2e8f9a2c1c10e0cda0b9d8f1a"');
    writeFileSync(path.join(dir, 'plugin.toml'), toml);
    const result = await handle.reloadIfChanged();
    expect(result).toMatchObject({ reloaded: false, version: '1.0.0' });
    expect(await decide(handle)).toEqual({ action: 'run', delay_ms: 100 });
  });

  it('nothing changed: nothing happens', async () => {
    const { handle } = await setup(false);
    expect(await handle.reloadIfChanged()).toEqual({ reloaded: false, version: '1.0.0' });
  });
});
