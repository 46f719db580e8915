/**
 * The immediates of every instruction Node 20's V8 runs by default (MVP, sign extension, saturating
 * truncation, bulk memory, reference types, multi-value, tail calls, SIMD, atomics), enough to walk
 * a function body instruction by instruction. Exception handling and anything newer is refused with
 * UnsupportedInstruction: the caller then leaves the module as it is (meter.ts).
 */
import type { Reader } from './binary.js';

export class UnsupportedInstruction extends Error {}

/** Prefixed opcodes come back as prefix << 16 | sub-opcode. */
export const BULK = 0xfc << 16;
const SIMD = 0xfd << 16;
const ATOMIC = 0xfe << 16;

/** Skips a LEB128 number, signed or not: only its length matters here. */
function skipLeb(r: Reader): void {
  for (let i = 0; i < 10; i++) if ((r.u8() & 0x80) === 0) return;
  throw new UnsupportedInstruction('LEB128 number too long');
}

function skipMemarg(r: Reader): void {
  const align = r.leb();
  // Bit 6 of the alignment says a memory index follows (multi-memory).
  if (align & 0x40) skipLeb(r);
  skipLeb(r);
}

/** How each one-byte opcode's immediates are laid out, for walkers that skip them inline. */
export const IMMEDIATES = new Uint8Array(256).fill(3);
/** No immediates. */
export const NONE = 0;
/** One LEB128 number (an index, a constant or a block type). */
export const ONE = 1;
/** A memarg (alignment, offset) without a memory index. */
export const MEMARG = 2;
// 3: anything else, read with readInstruction.

/** Opcodes 0x45-0xc4 (numeric) and these take no immediates. */
const PLAIN = new Set([0x00, 0x01, 0x05, 0x0b, 0x0f, 0x1a, 0x1b, 0xd1]);
/** Opcodes followed by one LEB128 index (or, for the consts, one signed LEB128 number). */
const ONE_INDEX = new Set([0x0c, 0x0d, 0x10, 0x12, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x3f, 0x40, 0x41, 0x42, 0xd0, 0xd2]);

for (const op of PLAIN) IMMEDIATES[op] = NONE;
for (let op = 0x45; op <= 0xc4; op++) IMMEDIATES[op] = NONE;
for (const op of ONE_INDEX) IMMEDIATES[op] = ONE;
for (const op of [0x02, 0x03, 0x04]) IMMEDIATES[op] = ONE;
// An alignment with bit 6 set is followed by a memory index: readInstruction handles those.
for (let op = 0x28; op <= 0x3e; op++) IMMEDIATES[op] = MEMARG;

/**
 * Reads one instruction at r's offset, immediates included, and returns its opcode. Block types
 * (a value type, 0x40 or a type index) are all one signed LEB128 number.
 */
export function readInstruction(r: Reader): number {
  const op = r.u8();
  if (PLAIN.has(op) || (op >= 0x45 && op <= 0xc4)) return op;
  if (ONE_INDEX.has(op) || op === 0x02 || op === 0x03 || op === 0x04) {
    skipLeb(r);
    return op;
  }
  if (op >= 0x28 && op <= 0x3e) {
    skipMemarg(r);
    return op;
  }
  switch (op) {
    case 0x0e: // br_table
      for (let n = r.leb() + 1; n > 0; n--) skipLeb(r);
      return op;
    case 0x11: // call_indirect, return_call_indirect: type, table
    case 0x13:
      skipLeb(r);
      skipLeb(r);
      return op;
    case 0x1c: // select with types
      for (let n = r.leb(); n > 0; n--) skipLeb(r);
      return op;
    case 0x43:
      r.take(4);
      return op;
    case 0x44:
      r.take(8);
      return op;
    case 0xfc:
      return readBulk(r);
    case 0xfd:
      return readSimd(r);
    case 0xfe:
      return readAtomic(r);
    default:
      throw new UnsupportedInstruction(`opcode 0x${op.toString(16)}`);
  }
}

/** Immediates of 0xfc 8-17, by sub-opcode: how many LEB128 indices follow. */
const BULK_INDICES = [2, 1, 2, 1, 2, 1, 2, 1, 1, 1];

function readBulk(r: Reader): number {
  const sub = r.leb();
  if (sub > 17) throw new UnsupportedInstruction(`opcode 0xfc ${sub}`);
  for (let n = sub < 8 ? 0 : BULK_INDICES[sub - 8]!; n > 0; n--) skipLeb(r);
  return BULK | sub;
}

function readSimd(r: Reader): number {
  const sub = r.leb();
  if (sub > 0xff) throw new UnsupportedInstruction(`opcode 0xfd ${sub}`);
  if (sub <= 11 || sub === 92 || sub === 93) skipMemarg(r);
  else if (sub === 12 || sub === 13) r.take(16);
  else if (sub >= 21 && sub <= 34) r.take(1);
  else if (sub >= 84 && sub <= 91) {
    skipMemarg(r);
    r.take(1);
  }
  return SIMD | sub;
}

function readAtomic(r: Reader): number {
  const sub = r.leb();
  if (sub > 0x4e) throw new UnsupportedInstruction(`opcode 0xfe ${sub}`);
  if (sub === 0x03)
    r.take(1); // atomic.fence
  else skipMemarg(r);
  return ATOMIC | sub;
}
