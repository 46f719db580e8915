// Fuel metering (src/plugins/wasm/meter.ts, src/plugins/host/fuel.ts): a metered module computes
// what the original computes, pays for loops, calls, straight code and bulk memory before they run,
// and a foreground call of one is stopped at its limit whatever shape its loop takes. Modules the
// meter cannot rewrite (exception handling) keep node:vm's watchdog, and are stopped too.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { meterWasm } from '../../src/plugins/wasm/meter.js';
import { prepareWasm } from '../../src/plugins/wasm/prepare.js';
import { foregroundInstance, wat } from '../plugins/raw-wasm.js';

type Exports = Record<string, (...args: number[]) => number>;

/** What the host makes of a module on rpr's own thread: metered, then capped and rewritten. */
const prepareMetered = (bytes: Uint8Array) => prepareWasm(bytes, 256, meterWasm(bytes));

/** Instantiates the prepared module with `tick` (and env.add1); runs its start function, as the host does. */
function instantiate(bytes: Uint8Array, tick: () => number = () => 2 ** 20): { exports: Exports; memory: Uint8Array | undefined } {
  const prepared = prepareMetered(bytes);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(prepared.bytes), {
    env: { add1: (x: number) => x + 1 },
    ...(prepared.metered ? { 'rpr:meter': { tick } } : {}),
  });
  const exports = instance.exports as unknown as Exports & { memory?: WebAssembly.Memory };
  for (const fn of prepared.initExports) exports[fn]!();
  return { exports, memory: exports.memory ? new Uint8Array(exports.memory.buffer) : undefined };
}

/** A tick that hands out `fuel` each time and counts how often it was asked. */
function counter(fuel: number): { asked: number; tick: () => number } {
  const c = {
    asked: 0,
    tick: () => {
      c.asked++;
      return fuel;
    },
  };
  return c;
}

/** The original, instantiated as it is. */
function plain(bytes: Uint8Array): Exports {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { add1: (x: number) => x + 1 } });
  return instance.exports as unknown as Exports;
}

// Imports, a table filled by active and passive segments, ref.func in a global and a segment,
// call_indirect, tail calls, a start function: every place a function index is written.
const INDICES = wat(`(module
  (import "env" "add1" (func $add1 (param i32) (result i32)))
  (type $t (func (result i32)))
  (table $tab 4 funcref)
  (elem (i32.const 0) $seven $nine)
  (elem $late funcref (ref.func $eleven) (ref.func $add-at-start))
  (global $g (mut i32) (i32.const 0))
  (global $ref funcref (ref.func $nine))
  (func $seven (result i32) (i32.const 7))
  (func $nine (result i32) (i32.const 9))
  (func $eleven (result i32) (i32.const 11))
  (func $add-at-start (result i32) (global.get $g))
  (func $start (global.set $g (call $add1 (i32.const 41))))
  (start $start)
  (func (export "indirect") (param i32) (result i32) (call_indirect (type $t) (local.get 0)))
  (func (export "late") (param i32) (result i32)
    (table.init $tab $late (i32.const 2) (i32.const 0) (i32.const 2))
    (call_indirect (type $t) (local.get 0)))
  (func (export "via-global") (result i32)
    (table.set $tab (i32.const 3) (global.get $ref))
    (call_indirect (type $t) (i32.const 3)))
  (func $even (param i32) (result i32) (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1)) (else (return_call $odd (i32.sub (local.get 0) (i32.const 1))))))
  (func $odd (param i32) (result i32) (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0)) (else (return_call $even (i32.sub (local.get 0) (i32.const 1))))))
  (func (export "even") (param i32) (result i32) (call $even (local.get 0)))
  (func (export "sum") (param i32) (result i32) (local $s i32)
    (loop $l (local.set $s (i32.add (local.get $s) (local.get 0))) (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    (local.get $s))
  (func (export "simd") (result i32) (i32x4.extract_lane 1 (i32x4.add (v128.const i32x4 1 2 3 4) (v128.const i32x4 5 6 7 8))))
)`);

describe('meterModule', () => {
  it('a metered module computes what the original computes', () => {
    const { exports: metered } = instantiate(INDICES);
    const original = plain(INDICES);
    const calls: [string, number[]][] = [
      ['indirect', [0]],
      ['indirect', [1]],
      ['late', [2]],
      ['late', [3]],
      ['via-global', []],
      ['even', [1001]],
      ['even', [1000]],
      ['sum', [100]],
      ['simd', []],
    ];
    for (const [fn, args] of calls) expect([fn, metered[fn]!(...args)]).toEqual([fn, original[fn]!(...args)]);
    // The start function ran (through add1, an import: 42), and the metered module imports tick.
    expect(metered.late!(3)).toBe(42);
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(prepareMetered(INDICES).bytes));
    expect(imports.map((i) => `${i.module} ${i.name}`)).toEqual(['env add1', 'rpr:meter tick']);
  });

  it('every loop iteration and every call pays, tail calls included', () => {
    // One unit of fuel at a time: every metering point that is reached asks for more.
    const c = counter(1);
    const { exports } = instantiate(INDICES, c.tick);
    c.asked = 0;
    exports.sum!(1000);
    expect(c.asked).toBeGreaterThanOrEqual(1000);
    c.asked = 0;
    exports.even!(500);
    expect(c.asked).toBeGreaterThanOrEqual(500);
  });

  it.each([
    ['directly', '(call $add1 (local.get $n))'],
    ['through a table', '(call_indirect (type $t) (local.get $n) (i32.const 0))'],
  ])('a call to an import pays 2^14 before it is made (%s)', (_how, call) => {
    const c = counter(2 ** 16);
    const { exports } = instantiate(
      wat(`(module (import "env" "add1" (func $add1 (param i32) (result i32)))
        (type $t (func (param i32) (result i32))) (table 1 funcref) (elem (i32.const 0) $add1)
        (func (export "run") (param $n i32) (loop $l (drop ${call}) (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))`),
      c.tick,
    );
    c.asked = 0;
    exports.run!(400);
    // 400 calls at 2^14 each, 2^16 a tick: at least 100 ticks (the loop's own charges add a few).
    expect(c.asked).toBeGreaterThanOrEqual(100);
    expect(c.asked).toBeLessThan(110);
  });

  it('straight code pays by its length: a long loop body asks for fuel far more often', () => {
    const loop = (body: string) =>
      wat(`(module (func (export "run") (param $n i32) (local $x i32)
        (loop $l ${body} (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))`);
    const ticksFor = (bytes: Uint8Array) => {
      const c = counter(10_000);
      const { exports } = instantiate(bytes, c.tick);
      c.asked = 0;
      exports.run!(100_000);
      return c.asked;
    };
    const short = ticksFor(loop('(local.set $x (i32.add (local.get $x) (i32.const 1)))'));
    const long = ticksFor(loop('(local.set $x (i32.add (local.get $x) (i32.const 1)))'.repeat(400)));
    expect(short).toBeLessThan(30);
    expect(long).toBeGreaterThan(short * 50);
  });

  it('a bulk memory operation pays before it runs: refused fuel leaves the memory untouched', () => {
    const fill = wat(`(module (memory (export "memory") 64)
      (func (export "fill") (memory.fill (i32.const 0) (i32.const 171) (i32.const 4194304))))`);
    const { exports, memory } = instantiate(fill, () => {
      throw new Error('out of time');
    });
    expect(() => exports.fill!()).toThrow('out of time');
    expect(memory![0]).toBe(0);
    expect(memory![4194303]).toBe(0);
    // What the charge stands for: 4 MiB is 65536 units, more than a tick's worth of small ones.
    const c = counter(1000);
    const paid = instantiate(fill, c.tick);
    paid.exports.fill!();
    // Now the fuel left covers the function's entry, not the fill.
    c.asked = 0;
    paid.exports.fill!();
    expect(c.asked).toBe(1);
    expect(paid.memory![4194303]).toBe(171);
  });

  it('every bundled plugin is metered, and still compiles', async () => {
    const dist = fileURLToPath(new URL('../../plugins-dist/', import.meta.url));
    const names = readdirSync(dist).filter((name) => !name.startsWith('.'));
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) {
      const prepared = prepareMetered(readFileSync(path.join(dist, name, 'plugin.wasm')));
      expect([name, prepared.metered]).toEqual([name, true]);
      await WebAssembly.compile(prepared.bytes);
    }
  });

  it("the build's metered bundled plugins (dist/plugins/metered/) are what metering makes of them now", () => {
    const dist = fileURLToPath(new URL('../../plugins-dist/', import.meta.url));
    const built = fileURLToPath(new URL('../../dist/plugins/metered/', import.meta.url));
    const names = readdirSync(dist).filter((name) => !name.startsWith('.'));
    for (const name of names) {
      const bytes = readFileSync(path.join(dist, name, 'plugin.wasm'));
      const sha = createHash('sha256').update(bytes).digest('hex');
      expect([name, Buffer.from(readFileSync(path.join(built, `${sha}.wasm`))).equals(Buffer.from(meterWasm(bytes)!))]).toEqual([name, true]);
    }
    expect(readdirSync(built).length).toBe(names.length);
  });

  it('an invalid module is not metered: once metered, it could set the fuel global it names', async () => {
    // (func $spin (loop (global.set 0 (i32.const 1000000)) (br 0))) in a module with no global: invalid
    // as it is; metering adds global 0 (the fuel), which would make it valid and never stopped.
    const body = [0x00, 0x03, 0x40, 0x41, 0xc0, 0x84, 0x3d, 0x24, 0x00, 0x0c, 0x00, 0x0b, 0x0b];
    const sec = (id: number, content: number[]) => [id, content.length, ...content];
    const refill = Uint8Array.from([
      ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
      ...sec(1, [1, 0x60, 0, 0]),
      ...sec(3, [1, 0]),
      ...sec(5, [1, 0x00, 1]),
      ...sec(7, [2, 4, ...Buffer.from('spin'), 0x00, 0, 6, ...Buffer.from('memory'), 0x02, 0]),
      ...sec(10, [1, body.length, ...body]),
    ]);
    expect(WebAssembly.validate(refill)).toBe(false);
    expect(meterWasm(refill)).toBeNull();
    // Left as it is, it does not compile, and the load says so (rather than running it unstopped).
    await expect(foregroundInstance(refill)).rejects.toThrow(/does not compile/);
  });

  it('a module with exception handling is left as it is (it could catch the host stopping it)', () => {
    const eh = wat(`(module (tag $e) (func (export "spin") (loop $l (try (do (br $l)) (catch_all)))))`);
    const prepared = prepareMetered(eh);
    expect(prepared.metered).toBe(false);
    expect(prepared.bytes).toEqual(prepareWasm(eh, 256).bytes);
  });
});

describe("a metered call on rpr's own thread is stopped at its limit, whatever its loop", () => {
  const spins: [string, string][] = [
    ['loop br 0', '(func (export "spin") (loop $l (br $l)))'],
    ['mutual tail calls', '(func $a (export "spin") (return_call $b)) (func $b (return_call $a))'],
    ['memory.fill of all its memory, again and again', '(func (export "spin") (loop $l (memory.fill (i32.const 0) (i32.const 1) (i32.const 16777216)) (br $l)))'],
    ['a loop of 2000 instructions', `(func (export "spin") (local $x i32) (loop $l ${'(local.set $x (i32.mul (local.get $x) (i32.const 3)))'.repeat(1000)} (br $l)))`],
    [
      'a call in a loop to a long function',
      `(func $long (local $x i32) ${'(local.set $x (i32.add (local.get $x) (i32.const 3)))'.repeat(1000)}) (func (export "spin") (loop $l (call $long) (br $l)))`,
    ],
  ];

  it.each(spins)('%s', async (_shape, funcs) => {
    const { instance, metered } = await foregroundInstance(wat(`(module (memory (export "memory") 256 256) ${funcs})`), { limitMs: 300 });
    expect(metered).toBe(true);
    const t0 = performance.now();
    await expect(instance.call('spin', '', 300)).rejects.toMatchObject({ kind: 'timeout' });
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(295);
    // node:vm's watchdog, for comparison, stops such a loop within a few ms of the limit; a loaded
    // machine may add more.
    expect(elapsed).toBeLessThan(300 + 1500);
    expect(instance.dead).toBe(true);
  });

  it("a loop of Extism's own host calls (alloc, store_u8, var_get, free) is stopped at the limit too", async () => {
    // var_get frees the key it is given: each iteration makes the key again.
    const key = '(local.set $key (call $alloc (i64.const 1))) (call $store_u8 (local.get $key) (i32.const 107))';
    const { instance, metered } = await foregroundInstance(
      wat(`(module
        (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
        (import "extism:host/env" "free" (func $free (param i64)))
        (import "extism:host/env" "var_set" (func $var_set (param i64 i64)))
        (import "extism:host/env" "var_get" (func $var_get (param i64) (result i64)))
        (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
        (memory (export "memory") 1)
        (func (export "spin") (local $key i64)
          ${key}
          (call $var_set (local.get $key) (call $alloc (i64.const 100000)))
          (loop $l ${key} (call $free (call $var_get (local.get $key))) (br $l))))`),
      { limitMs: 300 },
    );
    expect(metered).toBe(true);
    const t0 = performance.now();
    await expect(instance.call('spin', '', 300)).rejects.toMatchObject({ kind: 'timeout' });
    expect(performance.now() - t0).toBeLessThan(300 + 1500);
  });

  it('a module that would catch the stop is not metered: node:vm stops it instead', async () => {
    const eh = wat(`(module (memory (export "memory") 1) (tag $e) (func (export "spin") (loop $l (try (do (br $l)) (catch_all)))))`);
    const { instance, metered } = await foregroundInstance(eh, { limitMs: 300 });
    expect(metered).toBe(false);
    const t0 = performance.now();
    await expect(instance.call('spin', '', 300)).rejects.toMatchObject({ kind: 'timeout' });
    expect(performance.now() - t0).toBeLessThan(300 + 1500);
  });

  it("a module that metering would take over V8's limit (50,000 locals) runs unmetered, under node:vm", async () => {
    const full = wat(`(module (memory (export "memory") 1)
      (func (export "spin") (local ${'i32 '.repeat(50_000)}) (loop $l (memory.fill (i32.const 0) (i32.const 0) (i32.const 16)) (br $l))))`);
    expect(prepareMetered(full).metered).toBe(true);
    await expect(WebAssembly.compile(prepareMetered(full).bytes)).rejects.toThrow();
    const { instance, metered } = await foregroundInstance(full, { limitMs: 300 });
    expect(metered).toBe(false);
    await expect(instance.call('spin', '', 300)).rejects.toMatchObject({ kind: 'timeout' });
  });

  it('a call that ends in time answers, and the instance stays', async () => {
    const { instance } = await foregroundInstance(
      wat(
        `(module (memory (export "memory") 1) (func (export "work") (result i32) (local $n i32) (local.set $n (i32.const 1000000)) (loop $l (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))) (i32.const 0)))`,
      ),
    );
    await instance.call('work', '', 2000);
    await instance.call('work', '', 2000);
    expect(instance.dead).toBe(false);
  });
});
