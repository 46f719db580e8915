/**
 * cli/code-cache.ts: chunks of one folder compiled from the V8 code cache beside them, everything
 * else left to require(). Ground truth for "the cache was used": V8 checks a cache against its
 * source's length only, so a cache made from another source of the same length runs that source's
 * code. (That is also why the build keys a cache by the chunk's file name, which holds its content's
 * hash, and writes dist/ anew.)
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileWithCodeCache } from '../../src/cli/code-cache.js';

const loader = Module as unknown as { _extensions: Record<string, unknown> };
const loadJs = loader._extensions['.js'];
const coverage = process.env.NODE_V8_COVERAGE;
let dir: string;
let other: string;
const requireHere = createRequire(import.meta.url);

/** A CommonJS file, and optionally a cache for it ('cli') made from `cacheFrom` (a source of the same length). */
function chunk(folder: string, name: string, source: string, cacheFrom?: string): string {
  const file = path.join(folder, name);
  writeFileSync(file, source);
  if (cacheFrom !== undefined) {
    expect(cacheFrom.length).toBe(source.length);
    writeFileSync(`${file}.cli.cache`, new vm.Script(Module.wrap(cacheFrom), { filename: file }).createCachedData());
  }
  return file;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rpr-code-cache-'));
  other = mkdtempSync(path.join(os.tmpdir(), 'rpr-code-cache-other-'));
  // The hook stands aside under V8 coverage (vitest's own provider does not set it; npm test may).
  delete process.env.NODE_V8_COVERAGE;
});

afterEach(() => {
  loader._extensions['.js'] = loadJs;
  if (coverage === undefined) delete process.env.NODE_V8_COVERAGE;
  else process.env.NODE_V8_COVERAGE = coverage;
  for (const file of Object.keys(requireHere.cache)) if (file.startsWith(dir) || file.startsWith(other)) delete requireHere.cache[file];
  rmSync(dir, { recursive: true, force: true });
  rmSync(other, { recursive: true, force: true });
});

describe('compileWithCodeCache', () => {
  it("a chunk with a cache runs the cache's code, with require, module, __filename and __dirname as require() gives them", () => {
    chunk(dir, 'chunk-b.js', 'exports.b = "b";');
    const a = chunk(
      dir,
      'chunk-a.js',
      'module.exports = { v: "A", b: require("./chunk-b.js").b, f: __filename, d: __dirname };',
      'module.exports = { v: "Z", b: require("./chunk-b.js").b, f: __filename, d: __dirname };',
    );
    compileWithCodeCache(dir, 'cli');
    expect(requireHere(a)).toEqual({ v: 'Z', b: 'b', f: a, d: dir });
  });

  it('a chunk changed after its cache was made (an edit by hand) compiles from its source', () => {
    const a = chunk(dir, 'chunk-a.js', 'exports.v = "A";', 'exports.v = "Z";');
    const later = new Date(Date.now() + 5000);
    utimesSync(a, later, later);
    compileWithCodeCache(dir, 'cli');
    expect(requireHere(a).v).toBe('A');
  });

  it("a job reads a chunk's job cache, not the one made for the rest of the CLI", () => {
    const a = chunk(dir, 'chunk-a.js', 'exports.v = "A";', 'exports.v = "C";');
    writeFileSync(`${a}.job.cache`, new vm.Script(Module.wrap('exports.v = "J";'), { filename: a }).createCachedData());
    compileWithCodeCache(dir, 'job');
    expect(requireHere(a).v).toBe('J');
  });

  it('a cache V8 refuses (garbage, a truncated file) is only slower: the source runs', () => {
    const a = chunk(dir, 'chunk-a.js', 'exports.v = "A";');
    writeFileSync(`${a}.cli.cache`, Buffer.from('not a code cache'));
    const b = chunk(dir, 'chunk-b.js', 'exports.v = "B";', 'exports.v = "Y";');
    writeFileSync(`${b}.cli.cache`, new vm.Script(Module.wrap('exports.v = "Y";'), { filename: b }).createCachedData().subarray(0, 40));
    compileWithCodeCache(dir, 'cli');
    expect(requireHere(a).v).toBe('A');
    expect(requireHere(b).v).toBe('B');
  });

  it("a file outside the bundle's folder is left to require(), even with a cache beside it", () => {
    const o = chunk(other, 'chunk-o.js', 'exports.v = "O";', 'exports.v = "X";');
    compileWithCodeCache(dir, 'cli');
    expect(requireHere(o).v).toBe('O');
  });

  it("a chunk's error is thrown at require() as Node's loader throws it, its stack naming the chunk", () => {
    const a = chunk(dir, 'chunk-a.js', 'throw new Error("boom");', 'throw new Error("moob");');
    compileWithCodeCache(dir, 'cli');
    expect(() => requireHere(a)).toThrow(/^moob$/);
    try {
      requireHere(a);
    } catch (error) {
      expect((error as Error).stack).toContain(`${a}:1`);
    }
  });

  it('under V8 coverage, every chunk is left to require() (Node maps coverage through its own loader)', () => {
    process.env.NODE_V8_COVERAGE = other;
    const a = chunk(dir, 'chunk-a.js', 'exports.v = "A";', 'exports.v = "Z";');
    compileWithCodeCache(dir, 'cli');
    expect(loader._extensions['.js']).toBe(loadJs);
    expect(requireHere(a).v).toBe('A');
  });
});
