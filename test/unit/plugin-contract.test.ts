// wit/ is the one contract. This test fails if the host's function table, the prose .wit, the
// Extism SDK's kernel, or any bundled plugin's / fixture's actual wasm exports and imports differ
// from wit/contract.json.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allowedExports, CONTRACT, requiredExports, type PluginKind } from '../../src/plugins/contract.js';
import { checkExports, checkImports } from '../../src/plugins/host/abi-check.js';
import { buildHostFunctions } from '../../src/plugins/host/host-functions.js';
import type { CallContext } from '../../src/plugins/host/extism.js';
import { BUNDLED_PLUGIN_DIR } from '../../src/plugins/manifest/discover.js';
import { parseManifest } from '../../src/plugins/manifest/parse.js';
import { inspectWasm } from '../../src/plugins/wasm/inspect.js';
import { ensureFixtures, FIXTURES_DIST } from '../plugins/helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const wit = readFileSync(path.join(ROOT, 'wit/rpr-plugin.wit'), 'utf8');
const kebab = (s: string) => s.replace(/_/g, '-');

describe('wit/rpr-plugin.wit and wit/contract.json', () => {
  it('agree on the ABI version, exports and host functions', () => {
    expect(wit).toContain(`package rpr:plugin@${CONTRACT.abi}.0.0;`);
    const exportNames = new Set([...CONTRACT.exports.all, ...CONTRACT.exports.scheduler, ...CONTRACT.exports.executor, ...CONTRACT.exports.output, ...CONTRACT.exports.optional].map((e) => e.name));
    for (const name of exportNames) if (name !== '_initialize') expect(wit).toMatch(new RegExp(`\\b${kebab(name)}: func\\(`));
    for (const f of CONTRACT.host_functions.functions) expect(wit).toMatch(new RegExp(`\\b${kebab(f.name)}: func\\(`));
    for (const kind of CONTRACT.kinds) expect(wit).toMatch(new RegExp(`interface ${kind} \\{`));
  });
});

describe("the host's function table", () => {
  const denied: string[] = [];
  const table = buildHostFunctions({
    plugin: 't',
    permissions: { network: [], filesystem: {}, exec: [], execEnv: [], hostFunctions: [], memoryMb: 1, timeoutMs: 1, emit: [], subscribe: [] },
    systemLoad: () => ({ cpu_percent: 0, memory_percent: 0, load1: 0, load5: 0, load15: 0, cores: 1 }),
    publish: () => {},
    denied: (_fn, detail) => void denied.push(detail),
    misuse: () => {},
    enter: () => {},
    leave: () => {},
  });
  const ctx = { read: () => null, store: () => 1n << 48n } as unknown as CallContext;

  it('has exactly the contract host functions', () => {
    expect(Object.keys(table).sort()).toEqual(CONTRACT.host_functions.functions.map((f) => f.name).sort());
  });

  it.each(CONTRACT.host_functions.functions.map((f) => [f.name, f] as const))('%s: denied without its permission, with the result type of its signature', (name, spec) => {
    const result = table[name]!(ctx, ...spec.params.map(() => 0n));
    expect(typeof result).toBe(spec.results[0] === 'i64' ? 'bigint' : 'number');
    expect(denied.at(-1)).toContain(`permission "${spec.permission}"`);
    if (/^-?\d+$/.test(spec.denied)) expect(String(result)).toBe(spec.denied);
  });

  it('the Extism kernel of the pinned SDK provides every env function the contract lists', () => {
    // Read, not imported: only src/plugins/host/ imports the SDK.
    const entry = createRequire(import.meta.url).resolve('@extism/extism');
    const source = readFileSync(path.join(path.dirname(entry), '..', 'esm', 'mod.js'), 'utf8');
    for (const { name } of CONTRACT.extism_env.functions) expect(source, name).toMatch(new RegExp(`\\b${name}: `));
  });
});

const OUTSIDE_CONTRACT: Record<string, string[]> = { 'hostile-init': ['hs_init'], 'hostile-global': ['_initialize'] };

/** Every built plugin to check: the bundled ones (plugins-dist/) and the test fixtures. */
function plugins(): { dir: string; label: string }[] {
  ensureFixtures();
  const list = (root: string, label: string) =>
    existsSync(root)
      ? readdirSync(root, { withFileTypes: true })
          .filter((d) => d.isDirectory() && existsSync(path.join(root, d.name, 'plugin.toml')))
          .map((d) => ({ dir: path.join(root, d.name), label: `${label}/${d.name}` }))
      : [];
  return [...list(BUNDLED_PLUGIN_DIR, 'plugins-dist'), ...list(FIXTURES_DIST, 'fixture')];
}

describe('built plugins against the contract', () => {
  it.each(plugins().map((p) => [p.label, p.dir]))('%s', (_label, dir) => {
    const file = path.join(dir, 'plugin.toml');
    const manifest = parseManifest(readFileSync(file, 'utf8'), file);
    const bytes = readFileSync(manifest.wasm);
    const info = inspectWasm(bytes);
    // Our parser and the engine see the same imports and exports.
    const engine = new WebAssembly.Module(bytes);
    expect(info.imports.map((i) => `${i.module}/${i.name}/${i.kind}`)).toEqual(WebAssembly.Module.imports(engine).map((i) => `${i.module}/${i.name}/${i.kind}`));
    expect(info.exports.map((e) => `${e.name}/${e.kind}`)).toEqual(WebAssembly.Module.exports(engine).map((e) => `${e.name}/${e.kind}`));

    checkImports(manifest.name, info, Object.keys(manifest.permissions.filesystem).length > 0 || manifest.name === 'fs-probe');
    checkExports(manifest.name, manifest.kind, info);
    const allowed = allowedExports(manifest.kind as PluginKind);
    // Hostile fixtures export what Extism runs at instantiation (hs_init, an _initialize global) on purpose.
    const extra = OUTSIDE_CONTRACT[manifest.name] ?? [];
    for (const e of info.exports) expect(allowed.has(e.name) || extra.includes(e.name), `unexpected export "${e.name}"`).toBe(true);
    for (const r of requiredExports(manifest.kind)) expect(info.exports.map((e) => e.name)).toContain(r.name);
  });
});
