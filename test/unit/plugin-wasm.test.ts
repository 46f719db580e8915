// The module rewrite before instantiation: memory cap, one memory only, no imported memory, start
// function and _initialize moved out of instantiation; and the import/export checks against wit/.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkExports, checkImports } from '../../src/plugins/host/abi-check.js';
import { encodeLeb, encodeName, readSections, SECTION, writeSections } from '../../src/plugins/wasm/binary.js';
import { inspectWasm } from '../../src/plugins/wasm/inspect.js';
import { INITIALIZE_EXPORT, prepareWasm, START_EXPORT } from '../../src/plugins/wasm/prepare.js';
import { ensureFixtures, FIXTURES_DIST } from '../plugins/helpers.js';

const section = (id: number, body: number[]) => ({ id, body: Uint8Array.from(body) });
const vec = (items: number[][]) => [...encodeLeb(items.length), ...items.flat()];
const module = (...sections: { id: number; body: Uint8Array }[]) => writeSections(sections);

// (type 0: () -> ()) (type 1: () -> i32)
const types = section(
  SECTION.type,
  vec([
    [0x60, 0, 0],
    [0x60, 0, 1, 0x7f],
  ]),
);
const funcs = (n: number) => section(SECTION.function, vec(Array.from({ length: n }, () => [0])));
const code = (n: number) => section(SECTION.code, vec(Array.from({ length: n }, () => [2, 0, 0x0b])));
const memory = (...limits: number[][]) => section(SECTION.memory, vec(limits));
/** Limits bytes: flags, min, max (LEB128). */
const lim = (min: number, max?: number) => (max === undefined ? [0x00, ...encodeLeb(min)] : [0x01, ...encodeLeb(min), ...encodeLeb(max)]);
const exports = (...e: [string, number, number][]) => section(SECTION.export, vec(e.map(([n, k, i]) => [...encodeName(n), k, ...encodeLeb(i)])));

describe('prepareWasm', () => {
  it('sets the memory maximum to the cap (no max, or a larger one)', () => {
    for (const [max, expected] of [
      [undefined, 4],
      [65536, 4],
      [3, 3],
    ] as const) {
      const out = prepareWasm(module(types, memory(lim(1, max))), 4);
      expect(inspectWasm(out.bytes).memories).toEqual([{ min: 1, max: expected, shared: false, memory64: false }]);
    }
  });

  it('refuses a module whose initial memory is above the cap', () => {
    expect(() => prepareWasm(module(types, memory(lim(300))), 256)).toThrow(/needs 300 memory pages at start, more than its cap of 256 \(16 MiB\)/);
  });

  it('refuses imported memory, several memories, shared and 64-bit memory', () => {
    const importMemory = section(SECTION.import, vec([[...encodeName('env'), ...encodeName('memory'), 0x02, 0x00, 1]]));
    expect(() => prepareWasm(module(types, importMemory), 16)).toThrow(/imports its memory \("env" "memory"\)/);
    expect(() => prepareWasm(module(types, memory([0, 1], [0, 1])), 16)).toThrow(/declares 2 memories/);
    expect(() => prepareWasm(module(types, memory([0x03, 1, 2])), 16)).toThrow(/shared memory/);
    expect(() => prepareWasm(module(types, memory([0x04, 1])), 16)).toThrow(/64-bit memory/);
    const importGlobal = section(SECTION.import, vec([[...encodeName('env'), ...encodeName('g'), 0x03, 0x7f, 0]]));
    expect(() => prepareWasm(module(types, importGlobal), 16)).toThrow(/imports a global/);
  });

  it('moves the start function and _initialize out of instantiation, in that order', () => {
    const bytes = module(types, funcs(2), memory([0, 1]), exports(['_initialize', 0, 1]), section(SECTION.start, [0]), code(2));
    const out = prepareWasm(bytes, 16);
    expect(out.initExports).toEqual([START_EXPORT, INITIALIZE_EXPORT]);
    const info = inspectWasm(out.bytes);
    expect(info.start).toBeUndefined();
    expect(info.exports.map((e) => [e.name, e.index])).toEqual([
      [INITIALIZE_EXPORT, 1],
      [START_EXPORT, 0],
    ]);
    expect(readSections(out.bytes).some((s) => s.id === SECTION.start)).toBe(false);
  });

  it('adds an export section where the spec orders it when there was none', () => {
    const out = prepareWasm(module(types, funcs(1), memory([0, 1]), section(SECTION.start, [0]), code(1)), 16);
    expect(readSections(out.bytes).map((s) => s.id)).toEqual([SECTION.type, SECTION.function, SECTION.memory, SECTION.export, SECTION.code]);
    expect(inspectWasm(out.bytes).exports[0]).toMatchObject({ name: START_EXPORT, kind: 'function', params: [], results: [] });
  });

  it('refuses commands (_start) and reserved names', () => {
    expect(() => prepareWasm(module(types, funcs(1), exports(['_start', 0, 0]), code(1)), 16)).toThrow(/exports _start/);
    expect(() => prepareWasm(module(types, funcs(1), exports(['__rpr_start', 0, 0]), code(1)), 16)).toThrow(/reserved/);
  });

  it('refuses what is not wasm', () => {
    expect(() => prepareWasm(Buffer.from('hello world'), 16)).toThrow(/not a WebAssembly module/);
  });

  it('a rewritten fixture still compiles and keeps its exports', async () => {
    ensureFixtures();
    const bytes = readFileSync(path.join(FIXTURES_DIST, 'good-scheduler', 'plugin.wasm'));
    const out = prepareWasm(bytes, 128);
    await expect(WebAssembly.compile(out.bytes)).resolves.toBeDefined();
    expect(out.initExports).toEqual([START_EXPORT]);
    expect(inspectWasm(out.bytes).memories[0]?.max).toBe(128);
  });
});

describe('ABI checks', () => {
  ensureFixtures();
  const info = (name: string) => inspectWasm(readFileSync(path.join(FIXTURES_DIST, name, 'plugin.wasm')));

  it('accepts the fixtures against their kinds', () => {
    expect(() => checkImports('x', info('good-scheduler'), false)).not.toThrow();
    expect(() => checkExports('x', 'scheduler', info('good-scheduler'))).not.toThrow();
    expect(() => checkExports('x', 'output', info('probe'))).not.toThrow();
  });

  it('refuses a module of another kind, naming the missing export', () => {
    expect(() => checkExports('x', 'executor', info('good-scheduler'))).toThrow(/plugin "x" load: an executor plugin must export the function "plan"/);
  });

  it('refuses imports outside the ABI and wrong signatures', () => {
    const base = info('good-scheduler');
    const foreign = { ...base, imports: [...base.imports, { module: 'env', name: 'abort', kind: 'function' as const, params: [], results: [] }] };
    expect(() => checkImports('x', foreign, false)).toThrow(/import "env" "abort" is not part of the rpr plugin ABI 1/);
    const wrong = { ...base, imports: [{ module: 'extism:host/user', name: 'rpr_time_ms', kind: 'function' as const, params: [], results: ['i32' as const] }] };
    expect(() => checkImports('x', wrong, false)).toThrow(/has signature \(\) -> \(i32\), the ABI says \(\) -> \(i64\)/);
  });
});
