import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { defaultConfigPath, locateConfig } from '../../src/config/locate.js';
import { RprError } from '../../src/errors/index.js';

const root = mkdtempSync(join(tmpdir(), 'rpr-locate-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A fresh HOME and XDG_CONFIG_HOME, each optionally holding rpr/config.toml. */
function dirs(opts: { home?: boolean; xdg?: boolean } = {}) {
  const base = join(root, String(n++));
  const home = join(base, 'home');
  const xdg = join(base, 'xdg');
  mkdirSync(join(home, '.config', 'rpr'), { recursive: true });
  mkdirSync(join(xdg, 'rpr'), { recursive: true });
  if (opts.home) writeFileSync(join(home, '.config', 'rpr', 'config.toml'), '');
  if (opts.xdg) writeFileSync(join(xdg, 'rpr', 'config.toml'), '');
  const named = join(base, 'named.toml');
  writeFileSync(named, '[defaults]\ntimeout = "1s"\n');
  return { home, xdg, named, homeFile: join(home, '.config', 'rpr', 'config.toml'), xdgFile: join(xdg, 'rpr', 'config.toml') };
}

function thrown(fn: () => unknown): RprError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RprError);
    return error as RprError;
  }
  throw new Error('expected an error');
}

describe('locateConfig', () => {
  it('takes --config first, over RPR_CONFIG and the default files', () => {
    const d = dirs({ home: true, xdg: true });
    const env = { HOME: d.home, XDG_CONFIG_HOME: d.xdg, RPR_CONFIG: d.xdgFile };
    expect(locateConfig({ explicit: d.named, env })).toEqual({ path: d.named, origin: 'flag' });
  });

  it('then $RPR_CONFIG, over the default files', () => {
    const d = dirs({ home: true, xdg: true });
    expect(locateConfig({ env: { HOME: d.home, XDG_CONFIG_HOME: d.xdg, RPR_CONFIG: d.named } })).toEqual({ path: d.named, origin: 'env' });
  });

  it('then $XDG_CONFIG_HOME/rpr/config.toml, over ~/.config', () => {
    const d = dirs({ home: true, xdg: true });
    expect(locateConfig({ env: { HOME: d.home, XDG_CONFIG_HOME: d.xdg } })).toEqual({ path: d.xdgFile, origin: 'default' });
  });

  it('then ~/.config/rpr/config.toml when XDG_CONFIG_HOME is unset, empty or relative', () => {
    const d = dirs({ home: true });
    for (const xdg of [undefined, '', 'relative/dir']) {
      expect(locateConfig({ env: { HOME: d.home, XDG_CONFIG_HOME: xdg } })).toEqual({ path: d.homeFile, origin: 'default' });
    }
  });

  it('does not look in ~/.config when XDG_CONFIG_HOME is set (XDG: it replaces ~/.config)', () => {
    const d = dirs({ home: true });
    expect(locateConfig({ env: { HOME: d.home, XDG_CONFIG_HOME: d.xdg } })).toBeNull();
  });

  it('returns null when no file is named and the default one is missing', () => {
    const d = dirs();
    expect(locateConfig({ env: { HOME: d.home } })).toBeNull();
    expect(loadConfig({ env: { HOME: d.home } })).toBeNull();
  });

  it('treats an empty RPR_CONFIG or --config as unset', () => {
    const d = dirs({ home: true });
    expect(locateConfig({ explicit: '', env: { HOME: d.home, RPR_CONFIG: '' } })?.path).toBe(d.homeFile);
  });

  it('is an E_CONFIG error naming the path when --config names a missing file', () => {
    const d = dirs({ home: true });
    const missing = join(d.home, 'nope.toml');
    const error = thrown(() => locateConfig({ explicit: missing, env: { HOME: d.home } }));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toBe(`--config ${missing}: no such file`);
  });

  it('is an E_CONFIG error naming the variable when RPR_CONFIG names a missing file', () => {
    const d = dirs({ home: true });
    const missing = join(d.home, 'nope.toml');
    const error = thrown(() => locateConfig({ env: { HOME: d.home, RPR_CONFIG: missing } }));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toBe(`RPR_CONFIG=${missing}: no such file`);
    expect(error.hint).toMatch(/unset RPR_CONFIG/);
  });

  it('rejects a directory named as the config file', () => {
    const d = dirs();
    expect(thrown(() => locateConfig({ explicit: d.home, env: {} })).message).toMatch(/is a directory/);
  });

  it('loadConfig locates and loads in one call', () => {
    const d = dirs();
    expect(loadConfig({ explicit: d.named, env: {} })?.defaults).toEqual({ timeout: 1000 });
  });
});

describe('defaultConfigPath', () => {
  it('is under XDG_CONFIG_HOME, else HOME', () => {
    expect(defaultConfigPath({ XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe('/x/rpr/config.toml');
    expect(defaultConfigPath({ HOME: '/h' })).toBe('/h/.config/rpr/config.toml');
  });
});

describe('ignoring the default file', () => {
  it('RPR_CONFIG=/dev/null loads as an empty config', () => {
    const d = dirs({ home: true });
    expect(loadConfig({ env: { HOME: d.home, RPR_CONFIG: '/dev/null' } })).toMatchObject({ path: '/dev/null', defaults: {}, jobs: {} });
  });
});
