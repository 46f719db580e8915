// plugin.toml parsing, config schema resolution, semver, and discovery (bundled + user dir,
// shadowing, broken manifests reported while the others load).
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverPlugins, userPluginDir } from '../../src/plugins/manifest/discover.js';
import { parseManifest } from '../../src/plugins/manifest/parse.js';
import { resolveConfig } from '../../src/plugins/manifest/schema.js';
import { compareSemver } from '../../src/plugins/manifest/semver.js';
import { ensureFixtures, FIXTURES_DIST } from '../plugins/helpers.js';

const SHA = 'a'.repeat(64);
const base = `
[plugin]
name = "fib"
version = "1.2.3"
kind = "scheduler"
description = "fibonacci backoff"
author = "me"

[runtime]
wasm = "fib.wasm"
sha256 = "${SHA}"

[config.initial]
type = "duration"
default = "1s"
help = "first delay"
aliases = ["base-delay"]

[config.jitter]
type = "string"
default = "none"
values = ["full", "equal", "none"]
help = "jitter"

[config.attempts]
type = "integer"
help = "runs at most"

[dependencies]
min_rpr_version = "0.1.0"

[permissions]
network = ["hooks.slack.com", "127.0.0.1:8080", "*.example.com:*"]
filesystem = { "/data" = "data" }
exec = ["docker"]
host_functions = ["time", "random"]
memory_mb = 8
timeout_ms = 250
emit = ["fib.tick"]
subscribe = ["load"]
`;

const parse = (text: string) => parseManifest(text, '/plugins/fib/plugin.toml');
const error = (text: string) => {
  try {
    parse(text);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('parsed');
};

describe('parseManifest', () => {
  it('reads every section', () => {
    const m = parse(base);
    expect(m).toMatchObject({
      name: 'fib',
      version: '1.2.3',
      kind: 'scheduler',
      description: 'fibonacci backoff',
      author: 'me',
      wasm: '/plugins/fib/fib.wasm',
      sha256: SHA,
      abi: 1,
      minRprVersion: '0.1.0',
      file: '/plugins/fib/plugin.toml',
      dir: '/plugins/fib',
    });
    expect(m.config.initial).toEqual({ type: 'duration', default: 1000, help: 'first delay', aliases: ['base-delay'] });
    expect(m.permissions).toEqual({
      network: ['hooks.slack.com', '127.0.0.1:8080', '*.example.com:*'],
      filesystem: { '/data': '/plugins/fib/data' },
      exec: ['docker'],
      execEnv: [],
      hostFunctions: ['time', 'random'],
      memoryMb: 8,
      timeoutMs: 250,
      emit: ['fib.tick'],
      subscribe: ['load'],
    });
  });

  it('reads_output: a scheduler gets what runs print only when it says so', () => {
    expect(parse(base).readsOutput).toBeUndefined();
    expect(parse(base.replace('kind = "scheduler"', 'kind = "scheduler"\nreads_output = true')).readsOutput).toBe(true);
  });

  it('denies by default: no [permissions] means nothing but the default caps', () => {
    const m = parse(base.slice(0, base.indexOf('[permissions]')));
    expect(m.permissions).toEqual({ network: [], filesystem: {}, exec: [], execEnv: [], hostFunctions: [], memoryMb: 32, timeoutMs: 1000, emit: [], subscribe: [] });
  });

  it.each([
    ['not toml', 'name = ', /plugin\.toml: not valid TOML/],
    ['unknown section', `${base}\n[extra]\nx = 1`, /unknown key manifest\.extra/],
    ['misspelt permission', base.replace('exec = ', 'exex = '), /unknown key permissions\.exex/],
    ['bad kind', base.replace('kind = "scheduler"', 'kind = "daemon"'), /plugin\.kind "daemon" must be one of scheduler, executor, output/],
    ['bad name', base.replace('name = "fib"', 'name = "Fib!"'), /plugin\.name "Fib!"/],
    ['bad version', base.replace('version = "1.2.3"', 'version = "1.2"'), /not a semver version/],
    ['escaping wasm path', base.replace('wasm = "fib.wasm"', 'wasm = "../x.wasm"'), /runtime\.wasm "\.\.\/x\.wasm" must be a file inside/],
    ['bad sha', base.replace(SHA, 'abc'), /runtime\.sha256 must be 64 hex digits/],
    ['other abi', base.replace('[runtime]', '[runtime]\nabi = 2'), /runtime\.abi 2 is not supported/],
    ['bad network pattern', base.replace('"127.0.0.1:8080"', '"127.0.0.1:99999"'), /permissions\.network: "127\.0\.0\.1:99999": port must be/],
    ['bad host function', base.replace('"random"]', '"exec"]'), /"exec" is not a host function/],
    ['relative guest path', base.replace('"/data" = "data"', '"data" = "data"'), /guest path "data" must be absolute/],
    ['huge memory', base.replace('memory_mb = 8', 'memory_mb = 100000'), /permissions\.memory_mb must be an integer from 1 to 4096/],
    ['bad default', base.replace('default = "1s"', 'default = "soon"'), /config\.initial\.default: .*not a duration/],
    ['alias clash', base.replace('aliases = ["base-delay"]', 'aliases = ["jitter"]'), /"jitter" is already used/],
    ['missing help', base.replace('help = "jitter"\n', ''), /config\.jitter\.help must be a non-empty string/],
    ['reads_output not a boolean', base.replace('kind = "scheduler"', 'kind = "scheduler"\nreads_output = "yes"'), /plugin\.reads_output must be true or false/],
    [
      'reads_output on an output',
      base.replace('kind = "scheduler"', 'kind = "output"\nreads_output = true').replace(/\[config\.[\s\S]*?(?=\[permissions\])/, ''),
      /plugin\.reads_output is for scheduler plugins/,
    ],
  ])('%s: the error names the file and the reason', (_what, text, reason) => {
    const message = error(text);
    expect(message).toMatch(/^\/plugins\/fib\/plugin\.toml: /);
    expect(message).toMatch(reason);
  });
});

describe('resolveConfig', () => {
  const m = parse(base);
  it('applies defaults, coerces CLI text, accepts aliases and either dash style', () => {
    expect(resolveConfig('fib', m.config, { 'base-delay': '2s', jitter: 'full', attempts: '5' })).toEqual({ initial: 2000, jitter: 'full', attempts: 5 });
    expect(resolveConfig('fib', m.config, { base_delay: 1500, attempts: 1 })).toEqual({ initial: 1500, jitter: 'none', attempts: 1 });
  });
  it('rejects unknown keys, wrong types, values outside the list; names plugin and key', () => {
    expect(() => resolveConfig('fib', m.config, { attempts: 1, colour: 'red' })).toThrow(/plugin "fib": unknown setting "colour"/);
    expect(() => resolveConfig('fib', m.config, { attempts: '1.5' })).toThrow(/setting "attempts": expected integer/);
    expect(() => resolveConfig('fib', m.config, { attempts: 1, jitter: 'some' })).toThrow(/one of full, equal, none/);
    expect(() => resolveConfig('fib', { ...m.config, attempts: { ...m.config.attempts!, required: true } }, {})).toThrow(/setting "attempts" is required/);
  });
});

describe('compareSemver', () => {
  it('orders x.y.z and pre-releases', () => {
    expect(compareSemver('0.1.0', '0.1.0')).toBe(0);
    expect(compareSemver('0.10.0', '0.9.9')).toBe(1);
    expect(compareSemver('1.0.0-rc1', '1.0.0')).toBe(-1);
    expect(compareSemver('1.0.0', '2.0.0')).toBe(-1);
    // Numeric pre-release parts compare as numbers (a comparison of text put rc.10 before rc.9).
    expect(compareSemver('1.0.0-rc.10', '1.0.0-rc.9')).toBe(1);
    expect(compareSemver('1.0.0-alpha', '1.0.0-alpha.1')).toBe(-1);
    expect(compareSemver('1.0.0+build.5', '1.0.0')).toBe(0);
    expect(() => compareSemver('1.0', '1.0.0')).toThrow(/not a semver version: 1\.0/);
  });
});

describe('discoverPlugins', () => {
  let tmp: string;
  let bundled: string;
  let user: string;
  beforeAll(() => {
    ensureFixtures();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'rpr-discover-'));
    bundled = path.join(tmp, 'bundled');
    user = path.join(tmp, 'user');
    const copy = (name: string, to: string) => cpSync(path.join(FIXTURES_DIST, name), to, { recursive: true });
    copy('good-scheduler', path.join(bundled, 'good-scheduler'));
    copy('probe', path.join(bundled, 'probe'));
    copy('good-scheduler-v2', path.join(user, 'schedulers', 'good-scheduler'));
    copy('executor', path.join(user, 'executors', 'executor'));
    // broken: not TOML
    mkdirSync(path.join(user, 'broken'));
    writeFileSync(path.join(user, 'broken', 'plugin.toml'), '[plugin\nname=');
    // broken: wasm does not match
    copy('listener', path.join(user, 'tampered'));
    writeFileSync(path.join(user, 'tampered', 'plugin.wasm'), 'x');
    // broken: needs a newer rpr
    copy('hostile', path.join(user, 'future'));
    const f = path.join(user, 'future', 'plugin.toml');
    writeFileSync(f, readFileSync(f, 'utf8').replace('[permissions]', '[dependencies]\nmin_rpr_version = "99.0.0"\n\n[permissions]'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("a job's discovery parses manifests but does not hash wasm: the tampered one is found at its load", async () => {
    const d = await discoverPlugins({ bundledDir: bundled, env: { RPR_PLUGIN_DIR: user } });
    expect([...d.plugins.keys()].sort()).toEqual(['executor', 'good-scheduler', 'listener', 'probe']);
    expect(d.problems.map((p) => p.message).sort()).toEqual([
      expect.stringMatching(/broken\/plugin\.toml: not valid TOML/),
      expect.stringMatching(/future\/plugin\.toml: needs rpr 99\.0\.0 or later/),
    ]);
  });

  it('with verifyFiles: loads bundled and user plugins; the user one shadows with a notice; broken ones are reported', async () => {
    const d = await discoverPlugins({ bundledDir: bundled, env: { RPR_PLUGIN_DIR: user }, verifyFiles: true });
    expect([...d.plugins.keys()].sort()).toEqual(['executor', 'good-scheduler', 'probe']);
    expect(d.plugins.get('good-scheduler')).toMatchObject({ source: 'user', manifest: { version: '2.0.0' }, shadows: { version: '1.0.0' } });
    expect(d.plugins.get('probe')?.source).toBe('bundled');
    expect(d.notices).toEqual([expect.stringMatching(/plugin "good-scheduler" from .*user\/schedulers\/good-scheduler\/plugin\.toml shadows the bundled one/)]);
    const problems = d.problems.map((p) => p.message).sort();
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/broken\/plugin\.toml: not valid TOML/);
    expect(problems[1]).toMatch(/future\/plugin\.toml: needs rpr 99\.0\.0 or later; this is rpr /);
    expect(problems[2]).toMatch(/tampered\/plugin\.toml: plugin\.wasm does not match runtime\.sha256/);
  });

  it('skips disabled plugins with a notice', async () => {
    const d = await discoverPlugins({ bundledDir: bundled, env: {}, configDir: user, disabled: ['probe'] });
    expect(d.plugins.has('probe')).toBe(false);
    expect(d.notices.some((n) => n.includes('plugin "probe"') && n.includes('disabled'))).toBe(true);
  });

  it('user dir: RPR_PLUGIN_DIR, else the config, else ~/.repeater/plugins', () => {
    expect(userPluginDir({ env: { RPR_PLUGIN_DIR: '/x' }, configDir: '/y', home: '/h' })).toBe('/x');
    expect(userPluginDir({ env: {}, configDir: '/y', home: '/h' })).toBe('/y');
    expect(userPluginDir({ env: {}, home: '/h' })).toBe('/h/.repeater/plugins');
  });

  it('a missing directory is simply empty', async () => {
    const d = await discoverPlugins({ bundledDir: path.join(tmp, 'nope'), env: { RPR_PLUGIN_DIR: path.join(tmp, 'nope2') } });
    expect(d.plugins.size).toBe(0);
    expect(d.problems).toEqual([]);
  });
});
