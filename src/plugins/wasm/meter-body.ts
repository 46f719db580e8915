/**
 * What metering (meter.ts) puts into a function body: a charge at its entry, at every loop head and
 * before every call to an import or through a table; a length charge before every bulk memory or
 * table operation; and every function index (call, return_call, ref.func) renumbered.
 */
import { encodeLeb, Reader, type Writer } from './binary.js';
import { BULK, IMMEDIATES, MEMARG, NONE, ONE, readInstruction, UnsupportedInstruction } from './instructions.js';

/** Where a module's metering lives: its tick import and fuel global, and the code that calls them. */
export interface Meter {
  /** Imported functions: indices at or above this move up by one. */
  imported: number;
  tick: number;
  fuel: number;
  sequences: Sequences;
}

/** Where function `index` of a module with `imported` imported functions is once it is metered. */
export const meteredIndex = (index: number, imported: number): number => (index >= imported ? index + 1 : index);

export const renumbered = (m: Meter, index: number): number => meteredIndex(index, m.imported);

/**
 * The instructions the rewrite puts in, encoded once per module (writing them byte by byte, ~30
 * times per loop and function of the module, is what took the time before V8 optimises it).
 */
interface Sequences {
  /** global.get fuel; i32.const (the weight follows) */
  chargeHead: Uint8Array;
  /** i32.sub; global.set fuel; then refill: global.get fuel; i32.const 0; i32.le_s; if; call tick; global.set fuel; end */
  chargeTail: Uint8Array;
  /** global.get fuel; local.get (the scratch local follows) */
  lengthHead: Uint8Array;
  /** i32.const 6; i32.shr_u; i32.sub; global.set fuel; then refill */
  lengthTail: Uint8Array;
}

export function sequences(m: Omit<Meter, 'sequences'>): Sequences {
  const encode = (...parts: (number | number[])[]): Uint8Array => Uint8Array.from(parts.flat());
  const fuel = encodeLeb(m.fuel);
  const refill = [0x23, ...fuel, 0x41, 0x00, 0x4c, 0x04, 0x40, 0x10, ...encodeLeb(m.tick), 0x24, ...fuel, 0x0b];
  return {
    chargeHead: encode(0x23, fuel, 0x41),
    chargeTail: encode(0x6b, 0x24, fuel, refill),
    lengthHead: encode(0x23, fuel, 0x20),
    lengthTail: encode(0x41, 0x06, 0x76, 0x6b, 0x24, fuel, refill),
  };
}

/** fuel -= weight, then refill. */
function charge(w: Writer, q: Sequences, weight: number): void {
  w.bytes(q.chargeHead);
  w.sleb(weight);
  w.bytes(q.chargeTail);
}

/** The length on top of the stack stays there (local.tee); fuel -= length / 64, then refill. */
function chargeLength(w: Writer, q: Sequences, scratch: number): void {
  w.u8(0x22);
  w.leb(scratch);
  w.bytes(q.lengthHead);
  w.leb(scratch);
  w.bytes(q.lengthTail);
}

const weight = (bytes: number): number => 1 + (bytes >> 5);
/**
 * A call to an import, or through a table (which may hold imports), pays this much before it is
 * made: a tick every 64 such calls. Host functions of rpr's check the deadline themselves
 * (fuel.ts), but Extism's own (var_get copies up to 1 MiB) only this way.
 */
const HOST_CALL = 2 ** 14;
/** memory.init, memory.copy, memory.fill, table.init, table.copy, table.fill: the length is on top. */
const BY_LENGTH = new Set([8, 10, 11, 12, 14, 17].map((sub) => BULK | sub));

const CHARGE = 0;
const RENUMBER = 1;
const LENGTH = 2;

/** What goes in at `at` (and replaces up to `end`): a charge of `value`, a function index, a length charge. */
interface Point {
  kind: typeof CHARGE | typeof RENUMBER | typeof LENGTH;
  at: number;
  end: number;
  value: number;
}

/** A constant expression (global initialiser, segment offset or element) with its ref.funcs renumbered. */
export function constExpr(m: Meter, r: Reader, w: Writer): void {
  let copied = r.offset;
  for (;;) {
    const at = r.offset;
    const op = readInstruction(r);
    if (op === 0xd2) {
      w.bytes(r.bytes.subarray(copied, at + 1));
      w.leb(renumbered(m, new Reader(r.bytes, at + 1).leb()));
      copied = r.offset;
    }
    if (op === 0x0b) break;
  }
  w.bytes(r.bytes.subarray(copied, r.offset));
}

/**
 * Finds where a body is charged and renumbered. Runs once per instruction of every function, mostly
 * before V8 has optimised it: the common immediates are skipped inline, without calls.
 */
function pointsOf(r: Reader, code: number, imported: number): { points: Point[]; usesScratch: boolean } {
  const bytes = r.bytes;
  const entry: Point = { kind: CHARGE, at: code, end: code, value: 0 };
  const points: Point[] = [entry];
  // Open blocks; a metered one (the body, a loop) carries the point its weight goes into.
  const open: { start: number; point: Point | undefined }[] = [{ start: code, point: entry }];
  let usesScratch = false;
  let pos = code;
  while (open.length > 0) {
    if (pos >= bytes.length) throw new UnsupportedInstruction('a function without its end');
    const at = pos;
    const op = bytes[pos++]!;
    const layout = IMMEDIATES[op];
    if (layout === NONE) {
      if (op === 0x0b) {
        const closed = open.pop()!;
        if (closed.point) closed.point.value = weight(pos - closed.start);
      }
      continue;
    }
    if (layout === ONE) {
      while (bytes[pos++]! & 0x80);
      if (op === 0x02 || op === 0x04) open.push({ start: at, point: undefined });
      else if (op === 0x03) {
        const point: Point = { kind: CHARGE, at: pos, end: pos, value: 0 };
        points.push(point);
        open.push({ start: pos, point });
      } else if (op === 0x10 || op === 0x12 || op === 0xd2) {
        const index = new Reader(bytes, at + 1).leb();
        if (op !== 0xd2 && index < imported) points.push({ kind: CHARGE, at, end: at, value: HOST_CALL });
        points.push({ kind: RENUMBER, at: at + 1, end: pos, value: index });
      }
      continue;
    }
    if (layout === MEMARG && (bytes[pos]! & 0x40) === 0) {
      while (bytes[pos++]! & 0x80);
      while (bytes[pos++]! & 0x80);
      continue;
    }
    r.offset = at;
    const prefixed = readInstruction(r);
    pos = r.offset;
    if (BY_LENGTH.has(prefixed)) {
      usesScratch = true;
      points.push({ kind: LENGTH, at, end: at, value: 0 });
    }
    // call_indirect, return_call_indirect: a table may hold imports too.
    if (prefixed === 0x11 || prefixed === 0x13) points.push({ kind: CHARGE, at, end: at, value: HOST_CALL });
  }
  if (pos !== bytes.length) throw new UnsupportedInstruction('code after the end of a function');
  return { points, usesScratch };
}

export function meterBody(m: Meter, body: Uint8Array, params: number, w: Writer): void {
  const r = new Reader(body);
  const groups = r.leb();
  const declared = r.offset;
  let locals = 0;
  for (let n = groups; n > 0; n--) {
    locals += r.leb();
    r.u8();
  }
  const code = r.offset;
  const { points, usesScratch } = pointsOf(r, code, m.imported);
  const scratch = params + locals;
  if (usesScratch) {
    // A local for the lengths of bulk operations, after the others: no local changes its index.
    w.leb(groups + 1);
    w.bytes(body.subarray(declared, code));
    w.u8(0x01);
    w.u8(0x7f);
  } else w.bytes(body.subarray(0, code));
  let copied = code;
  for (const point of points) {
    w.bytes(body.subarray(copied, point.at));
    if (point.kind === CHARGE) charge(w, m.sequences, point.value);
    else if (point.kind === LENGTH) chargeLength(w, m.sequences, scratch);
    else w.leb(renumbered(m, point.value));
    copied = point.end;
  }
  w.bytes(body.subarray(copied));
}
