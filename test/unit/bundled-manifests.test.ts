// The shipped plugins-dist/: every bundled plugin (AssemblyScript or Rust) is found by discovery,
// its manifest is the template from plugins-src/ with the wasm's sha256 filled in, it describes itself exactly as its
// manifest says (the build generates describe from plugin.toml), and it asks for exactly the
// permissions documented in docs/bundled-plugins.md. (CI also runs `node scripts/build-plugins.mjs
// --check`, which rebuilds everything and compares bytes.)
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { describeWasm, discoverPlugins, type Permissions } from '../../src/plugins/index.js';
import { bundledIndexText, readBundledIndex } from '../../src/plugins/manifest/bundled-index.js';
import { VERSION } from '../../src/version.js';
import { DIST } from './bundled-helpers.js';

const SRC = fileURLToPath(new URL('../../plugins-src/', import.meta.url));
const DOCS = readFileSync(fileURLToPath(new URL('../../docs/bundled-plugins.md', import.meta.url)), 'utf8');

const none: Permissions = { network: [], filesystem: {}, exec: [], execEnv: [], hostFunctions: [], memoryMb: 16, timeoutMs: 1000, emit: [], subscribe: [] };
const EXPECTED: Record<string, { kind: string; permissions: Permissions }> = {
  exponential: { kind: 'scheduler', permissions: { ...none, hostFunctions: ['random'] } },
  fibonacci: { kind: 'scheduler', permissions: none },
  linear: { kind: 'scheduler', permissions: none },
  polynomial: { kind: 'scheduler', permissions: none },
  'decorrelated-jitter': { kind: 'scheduler', permissions: { ...none, hostFunctions: ['random'] } },
  adaptive: { kind: 'scheduler', permissions: none },
  'load-adaptive': { kind: 'scheduler', permissions: { ...none, hostFunctions: ['system-load'] } },
  predictive: { kind: 'scheduler', permissions: { ...none, hostFunctions: ['system-load'] } },
  'rate-limit': { kind: 'scheduler', permissions: none },
  'token-bucket': { kind: 'scheduler', permissions: none },
  chaos: { kind: 'scheduler', permissions: { ...none, hostFunctions: ['random'] } },
  docker: { kind: 'executor', permissions: { ...none, exec: ['docker'] } },
  ssh: { kind: 'executor', permissions: { ...none, exec: ['ssh'] } },
  slack: { kind: 'output', permissions: { ...none, network: ['hooks.slack.com'], timeoutMs: 10_000 } },
  elasticsearch: { kind: 'output', permissions: { ...none, memoryMb: 32, timeoutMs: 10_000 } },
  webhook: { kind: 'output', permissions: { ...none, timeoutMs: 10_000 } },
  alertmanager: { kind: 'output', permissions: { ...none, timeoutMs: 30_000 } },
};
const NAMES = Object.keys(EXPECTED);

describe('plugins-dist/', async () => {
  const found = await discoverPlugins({ bundledDir: DIST, env: { RPR_PLUGIN_DIR: path.join(DIST, 'no-user-plugins-here') } });

  it('discovery finds every bundled plugin, with no problems', () => {
    expect(found.problems).toEqual([]);
    for (const name of NAMES) expect(found.plugins.get(name)?.source, name).toBe('bundled');
  });

  it("the build's index of them (dist/plugins/bundled-index.json, what a job and the help read) is what the files say", () => {
    const built = fileURLToPath(new URL('../../dist/plugins/bundled-index.json', import.meta.url));
    const indexed = readBundledIndex(DIST, VERSION, built);
    expect(indexed, `${built}: npm run build writes it`).not.toBeNull();
    expect(indexed).toEqual([...found.plugins.values()].map((p) => p.manifest));
    // and it reads back wherever the package is
    const elsewhere = '/opt/somewhere/rpr/plugins-dist/';
    const moved = readBundledIndex(elsewhere, VERSION, built)!;
    expect(moved.find((m) => m.name === 'fibonacci')!.wasm).toBe(`${elsewhere}fibonacci/plugin.wasm`);
    // one made for another rpr is not used (its min_rpr_version checks were against that one)
    expect(readBundledIndex(DIST, '99.0.0', built)).toBeNull();
  });

  it('the index refuses what JSON would not give back as it was', () => {
    const m = found.plugins.get('fibonacci')!.manifest;
    const odd = { ...m, config: { x: { type: 'number' as const, help: '', default: Number.POSITIVE_INFINITY } } };
    expect(() => bundledIndexText(DIST, [odd])).toThrow(/cannot hold default = Infinity/);
  });

  it.each(NAMES)('%s: manifest = template + sha256; kind and permissions as documented', (name) => {
    const template = readFileSync(path.join(SRC, name, 'plugin.toml'), 'utf8');
    const shipped = readFileSync(path.join(DIST, name, 'plugin.toml'), 'utf8');
    const sha = createHash('sha256')
      .update(readFileSync(path.join(DIST, name, 'plugin.wasm')))
      .digest('hex');
    expect(shipped).toBe(template.replace('@SHA256@', sha));
    const m = found.plugins.get(name)!.manifest;
    expect(m.kind).toBe(EXPECTED[name]!.kind);
    expect(m.permissions).toEqual(EXPECTED[name]!.permissions);
    expect(m.minRprVersion).toBe('0.1.0');
    expect(DOCS, `docs/bundled-plugins.md has a section for ${name}`).toContain(`## ${name}`);
  });

  it.each(NAMES)('%s: the bare .wasm describes itself exactly as plugin.toml says', async (name) => {
    const d = await describeWasm(path.join(DIST, name, 'plugin.wasm'));
    const toml = parseToml(readFileSync(path.join(SRC, name, 'plugin.toml'), 'utf8')) as {
      plugin: { name: string; version: string; kind: string; description: string };
      config?: Record<string, unknown>;
    };
    expect(d).toEqual({ name: toml.plugin.name, version: toml.plugin.version, kind: toml.plugin.kind, abi: 1, description: toml.plugin.description, config: toml.config ?? {} });
    // Every setting is documented.
    for (const key of Object.keys(d.config)) expect(DOCS, `${name}: ${key}`).toContain(`\`${key}\``);
  });
});
