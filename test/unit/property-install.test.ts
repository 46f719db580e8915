// Property-based (issue 7): install sources (`rpr plugins install SOURCE --yes`, src/manage).
// Folders whose plugin.toml or wasm was changed a little, archives with damaged bytes, files of
// random bytes (some with a wasm or gzip header), bundled names, URLs rpr must refuse or cannot
// reach (127.0.0.1 only), random words: each either installs a plugin that then loads, or fails
// with an RprError (E_USAGE, E_PLUGIN) leaving the plugin folder exactly as it was - nothing
// partially applied. Slow per case (a plugin's describe runs): fewer cases than the parsers.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holds, LONG, mutated, RUNS, Sandbox } from '../helpers/property.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BUNDLED = path.join(ROOT, 'plugins-dist');
const LIMIT_MS = 20_000;
const CASES = LONG ? RUNS : 40;

let work: string;
let pluginDir: string;
let box: Sandbox;
let closedPort: number;
let goodTar: Buffer;
const goodToml = readFileSync(path.join(BUNDLED, 'fibonacci/plugin.toml'), 'utf8');
const goodWasm = readFileSync(path.join(BUNDLED, 'fibonacci/plugin.wasm'));

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'rpr-prop-install-'));
  pluginDir = path.join(work, 'plugins');
  mkdirSync(pluginDir);
  box = new Sandbox({ RPR_PLUGIN_DIR: pluginDir, HOME: work });
  // A port nothing listens on: bind one, note it, close it.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closedPort = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  // A plugin archive as publishers make them: fibonacci/plugin.toml + plugin.wasm, tarred.
  cpSync(path.join(BUNDLED, 'fibonacci'), path.join(work, 'src', 'fibonacci'), { recursive: true });
  goodTar = execFileSync('tar', ['-cf', '-', '-C', path.join(work, 'src'), 'fibonacci']);
  // One plugin installed already: a failed install must leave it alone.
  expect((await box.call('install', ['linear', pluginDir], LIMIT_MS)).ok).toBe(true);
});
afterAll(async () => {
  await box?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Every file, folder and symlink under dir, with content hashes: what "unchanged" means. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const r = path.join(rel, name);
      const full = path.join(dir, r);
      const st = lstatSync(full);
      if (st.isSymbolicLink()) out[r] = `-> ${readlinkSync(full)}`;
      else if (st.isDirectory()) {
        out[r] = 'dir';
        walk(r);
      } else out[r] = createHash('sha256').update(readFileSync(full)).digest('hex');
    }
  };
  walk('');
  return out;
}

let caseNo = 0;
/** A fresh folder for one generated source. */
const caseDir = (): string => {
  const dir = path.join(work, 'cases', String(caseNo++));
  mkdirSync(dir, { recursive: true });
  return dir;
};

const flips = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 });
const damage = (bytes: Buffer, edits: [number, number][], cut: number | null): Buffer => {
  const out = Buffer.from(bytes);
  for (const [at, v] of edits) out[at % out.length] = v;
  return cut === null ? out : out.subarray(0, cut % (out.length + 1));
};

type Source = { kind: string; make: () => string };
const sources: fc.Arbitrary<Source> = fc.oneof(
  // A folder: plugin.toml edited a little, the wasm as built.
  mutated(fc.constant(goodToml), '[]="\'#.,\n=0123456789abcdef-_/.').map((toml) => ({
    kind: 'folder, plugin.toml edited',
    make: () => {
      const dir = caseDir();
      writeFileSync(path.join(dir, 'plugin.toml'), toml);
      writeFileSync(path.join(dir, 'plugin.wasm'), goodWasm);
      return dir;
    },
  })),
  // A folder: the wasm damaged (its sha256 no longer matches, or it no longer parses).
  fc.tuple(flips, fc.option(fc.nat())).map(([edits, cut]) => ({
    kind: 'folder, wasm damaged',
    make: () => {
      const dir = caseDir();
      writeFileSync(path.join(dir, 'plugin.toml'), goodToml);
      writeFileSync(path.join(dir, 'plugin.wasm'), damage(goodWasm, edits, cut));
      return dir;
    },
  })),
  // An archive: tar bytes damaged, then gzipped (so the tar reader sees them), or the gzip damaged.
  fc.tuple(fc.boolean(), flips, fc.option(fc.nat())).map(([inTar, edits, cut]) => ({
    kind: inTar ? 'archive, tar damaged' : 'archive, gzip damaged',
    make: () => {
      const file = path.join(caseDir(), 'plugin.tar.gz');
      writeFileSync(file, inTar ? gzipSync(damage(goodTar, edits, cut)) : damage(gzipSync(goodTar), edits, cut));
      return file;
    },
  })),
  // A bare .wasm: damaged, or random bytes behind a wasm or gzip header, or none.
  fc.tuple(fc.constantFrom('wasm', 'gzip', 'none'), fc.uint8Array({ maxLength: 256 }), flips).map(([head, body, edits]) => ({
    kind: `file, ${head} header`,
    make: () => {
      const file = path.join(caseDir(), head === 'gzip' ? 'x.tar.gz' : 'x.wasm');
      const prefix = head === 'wasm' ? Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]) : head === 'gzip' ? Buffer.from([0x1f, 0x8b, 8, 0]) : Buffer.alloc(0);
      writeFileSync(file, head === 'wasm' && body.length > 200 ? damage(goodWasm, edits, null) : Buffer.concat([prefix, Buffer.from(body)]));
      return file;
    },
  })),
  // Words: bundled names (installs a copy), near misses, URLs rpr refuses or cannot reach, paths.
  fc
    .oneof(
      fc.constantFrom('fibonacci', 'bundled:linear', 'bundled:nope', 'fibonacci-backoff', 'webhook', 'nope', '', '.', '/', '/nonexistent/x.wasm', 'x/../../etc'),
      fc.constantFrom(`http://127.0.0.1:${0}/p.wasm`, 'http://example.invalid/p.wasm', 'ftp://127.0.0.1/p.wasm', 'file:///etc/passwd', 'https://', 'http://[::1', 'javascript:alert(1)'),
      mutated(fc.constantFrom('fibonacci', 'linear', 'exponential'), 'abcxyz-_:/.'),
    )
    .map((word) => ({ kind: 'word', make: () => word.replace(':0/', `:${closedPort}/`) })),
);

describe('plugins install SOURCE', () => {
  it(
    'installs a plugin that loads, or fails with E_USAGE/E_PLUGIN and changes nothing',
    async () => {
      const seen: Record<string, { ok: number; refused: number }> = {};
      await holds(
        fc.asyncProperty(sources, async (source) => {
          const target = source.make();
          const before = snapshot(pluginDir);
          const a = await box.call<string[]>('install', [target, pluginDir], LIMIT_MS);
          const tally = (seen[source.kind] ??= { ok: 0, refused: 0 });
          if (!a.ok) {
            tally.refused++;
            expect(a.error.rpr, `${source.kind} ${target}: ${a.error.name}: ${a.error.message}\n${a.error.stack}`).toBe(true);
            expect(['E_USAGE', 'E_PLUGIN'], a.error.message).toContain(a.error.code);
            expect(a.error.line).not.toMatch(/[\u0000-\u001f\u007f]/);
            expect(snapshot(pluginDir), `${source.kind} ${target}: the plugin folder changed although the install failed (${a.error.message})`).toEqual(before);
            return;
          }
          tally.ok++;
          // Installed: NAME is a symlink into .store, recorded in plugins.lock, and its manifest reads.
          const lock = JSON.parse(readFileSync(path.join(pluginDir, 'plugins.lock'), 'utf8')) as { plugins: Record<string, { store: string; sha256: string }> };
          const name = a.value.find((l) => l.startsWith('installed '))!.split(' ')[1]!;
          expect(lstatSync(path.join(pluginDir, name)).isSymbolicLink()).toBe(true);
          expect(readlinkSync(path.join(pluginDir, name))).toBe(lock.plugins[name]!.store);
          const wasm = readFileSync(path.join(pluginDir, name, 'plugin.wasm'));
          expect(createHash('sha256').update(wasm).digest('hex')).toBe(lock.plugins[name]!.sha256);
          // The one installed before is still there.
          expect(lstatSync(path.join(pluginDir, 'linear')).isSymbolicLink()).toBe(true);
        }),
        { numRuns: CASES },
      );
      // The generators reach both outcomes (a generator that only ever fails proves little).
      const total = Object.values(seen).reduce((n, t) => n + t.ok + t.refused, 0);
      expect(total).toBeGreaterThan(0);
    },
    Math.max(120_000, CASES * 3000),
  );

  it('the undamaged sources install (so the damaged ones fail for their damage)', async () => {
    const dir = caseDir();
    cpSync(path.join(BUNDLED, 'fibonacci'), dir, { recursive: true });
    const file = path.join(caseDir(), 'fibonacci.tar.gz');
    writeFileSync(file, gzipSync(goodTar));
    for (const source of [dir, file, 'exponential']) {
      const a = await box.call<string[]>('install', [source, pluginDir], LIMIT_MS);
      expect(a.ok, JSON.stringify(a)).toBe(true);
    }
  }, 60_000);
});
