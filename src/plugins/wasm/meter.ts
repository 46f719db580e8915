/**
 * Fuel metering, so that a plugin on rpr's own thread can be stopped at its time limit without a
 * watchdog thread per call (node:vm's timeout starts and joins one every time: ~0.5 ms, most of a
 * decision's p99). The module is rewritten to count its own work:
 * - a mutable i32 global holds the fuel left, and an import `rpr:meter` `tick` () -> i32 refills it;
 * - every function entry and every loop head subtracts a weight: 1 + a 32nd of the bytes of the code
 *   that can run before the next metering point (the function's or the loop's body), so straight
 *   code, however long, is paid for too;
 * - bulk memory and table operations pay a 64th of their length first (one memory.fill may cover the
 *   whole memory), and a call to an import or through a table pays 2^14 (the host's work is not
 *   the module's code);
 * - when the fuel is spent, tick is called: the host compares the clock with the call's deadline
 *   and throws past it. A JavaScript exception unwinds every wasm frame: nothing in the module can
 *   catch it, as long as the module has no exception handling.
 * Left unmetered (null), for the host to keep node:vm's guard: modules with exception handling, an
 * instruction this walker does not know, or that are not valid (see meterWasm).
 * Adding an imported function moves every defined function's index up by one: calls, ref.func,
 * exports, element segments and the start section are renumbered, and the name section (debug
 * names by index) is dropped.
 */
import { encodeLeb, encodeName, Reader, readSections, SECTION, WasmFormatError, withSection, Writer, writeSections, type Section } from './binary.js';
import { UnsupportedInstruction } from './instructions.js';
import { inspectSections, readTypes } from './inspect.js';
import { constExpr, type Meter, meterBody, renumbered, sequences } from './meter-body.js';

export { meteredIndex } from './meter-body.js';
import { validWasm } from './runtime.js';

export const METER_MODULE = 'rpr:meter';
export const METER_TICK = 'tick';
/** The fuel: (global (mut i32) (i32.const 0)), after the module's own globals. */
const FUEL_GLOBAL = Uint8Array.of(0x7f, 0x01, 0x41, 0x00, 0x0b);

/** A vector section, each entry passed through `entry`, with `extra` entries appended. */
function vector(body: Uint8Array, entry: (r: Reader, w: Writer, index: number) => void, extra: Uint8Array[] = []): Uint8Array {
  const r = new Reader(body);
  const count = r.leb();
  const w = new Writer();
  w.leb(count + extra.length);
  for (let i = 0; i < count; i++) entry(r, w, i);
  if (!r.done) throw new UnsupportedInstruction('a section is longer than its entries');
  for (const e of extra) w.bytes(e);
  return w.result;
}

/** Copies what `read` reads. */
function copy(r: Reader, w: Writer, read: () => unknown): void {
  const start = r.offset;
  read();
  w.bytes(r.bytes.subarray(start, r.offset));
}

/** A vector section's entries as they are, with one appended. */
function append(body: Uint8Array | undefined, extra: Uint8Array): Uint8Array {
  const r = new Reader(body ?? Uint8Array.of(0));
  const w = new Writer();
  w.leb(r.leb() + 1);
  w.bytes(r.bytes.subarray(r.offset));
  w.bytes(extra);
  return w.result;
}

function element(m: Meter, r: Reader, w: Writer): void {
  const flags = r.leb();
  if (flags > 7) throw new UnsupportedInstruction(`element segment flags ${flags}`);
  w.leb(flags);
  if ((flags & 3) === 2) copy(r, w, () => r.leb());
  if ((flags & 1) === 0) constExpr(m, r, w);
  if ((flags & 3) !== 0) copy(r, w, () => r.u8());
  const count = r.leb();
  w.leb(count);
  for (let n = count; n > 0; n--) {
    if (flags & 4) constExpr(m, r, w);
    else w.leb(renumbered(m, r.leb()));
  }
}

function rewrite(m: Meter, s: Section, types: ReturnType<typeof readTypes>, funcTypes: number[]): Section[] {
  const rebuilt = (body: Uint8Array): Section[] => [{ id: s.id, body }];
  switch (s.id) {
    case SECTION.custom:
      return new Reader(s.body).name() === 'name' ? [] : [s];
    case SECTION.global: {
      const global = (r: Reader, w: Writer): void => {
        copy(r, w, () => r.take(2)); // value type, mutability
        constExpr(m, r, w);
      };
      return rebuilt(vector(s.body, global, [FUEL_GLOBAL]));
    }
    case SECTION.export:
      return rebuilt(
        vector(s.body, (r, w) => {
          copy(r, w, () => r.take(r.leb()));
          const kind = r.u8();
          w.u8(kind);
          w.leb(kind === 0 ? renumbered(m, r.leb()) : r.leb());
        }),
      );
    case SECTION.start: {
      const w = new Writer();
      w.leb(renumbered(m, new Reader(s.body).leb()));
      return rebuilt(w.result);
    }
    case SECTION.element:
      return rebuilt(vector(s.body, (r, w) => element(m, r, w)));
    case SECTION.code: {
      const body = new Writer();
      return rebuilt(
        vector(s.body, (r, w, i) => {
          const params = types[funcTypes[i]!]?.params.length;
          if (params === undefined) throw new UnsupportedInstruction('a function without a type');
          const size = r.leb();
          body.length = 0;
          meterBody(m, r.take(size), params, body);
          w.leb(body.length);
          w.bytes(body.result);
        }),
      );
    }
    default:
      return [s];
  }
}

function typeIndices(body: Uint8Array | undefined): number[] {
  if (!body) return [];
  const r = new Reader(body);
  return Array.from({ length: r.leb() }, () => r.leb());
}

/**
 * The module metered (see above), or null if it uses what the walker does not know, or imports
 * anything but functions (prepare.ts refuses those), or is not valid. An invalid module could name
 * what metering adds - `global.set` of the fuel global's index, say, which does not exist yet - and
 * be valid once it is added: a loop that refills its own fuel would never be stopped.
 */
export function meterWasm(original: Uint8Array): Uint8Array | null {
  if (!validWasm(original)) return null;
  try {
    const sections = readSections(original);
    const { imports } = inspectSections(sections);
    return imports.some((imp) => imp.kind !== 'function') ? null : writeSections(meterModule(sections, imports.length));
  } catch (error) {
    // What the walker does not know; or what this parser refuses and V8 took: left as it is.
    if (error instanceof UnsupportedInstruction || error instanceof WasmFormatError) return null;
    throw error;
  }
}

function meterModule(sections: Section[], imported: number): Section[] {
  const body = (id: number) => sections.find((s) => s.id === id)?.body;
  const types = readTypes(body(SECTION.type) ?? Uint8Array.of(0));
  const globals = body(SECTION.global) ? new Reader(body(SECTION.global)!).leb() : 0;
  const at = { imported, tick: imported, fuel: globals };
  const m: Meter = { ...at, sequences: sequences(at) };
  const funcTypes = typeIndices(body(SECTION.function));
  let out = sections.flatMap((s) => rewrite(m, s, types, funcTypes));
  const tick = Uint8Array.from([...encodeName(METER_MODULE), ...encodeName(METER_TICK), 0x00, ...encodeLeb(types.length)]);
  out = withSection(out, { id: SECTION.type, body: append(body(SECTION.type), Uint8Array.of(0x60, 0x00, 0x01, 0x7f)) });
  out = withSection(out, { id: SECTION.import, body: append(body(SECTION.import), tick) });
  if (!body(SECTION.global)) out = withSection(out, { id: SECTION.global, body: append(undefined, FUEL_GLOBAL) });
  return out;
}
