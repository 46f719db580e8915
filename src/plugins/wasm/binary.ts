/**
 * Just enough of the WebAssembly binary format to inspect a plugin's imports/exports with their
 * signatures and to rewrite a few sections before instantiation. Hand-written (about 100 lines)
 * because the checks must run on bytes we have not yet handed to any runtime.
 */

export class WasmFormatError extends Error {}

export class Reader {
  offset: number;
  constructor(
    readonly bytes: Uint8Array,
    offset = 0,
    readonly end = bytes.length,
  ) {
    this.offset = offset;
  }

  get done(): boolean {
    return this.offset >= this.end;
  }

  u8(): number {
    if (this.offset >= this.end) throw new WasmFormatError('unexpected end of module');
    return this.bytes[this.offset++]!;
  }

  /** Unsigned LEB128 up to 2^53, enough for every index, size and limit we meet. */
  leb(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.u8();
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new WasmFormatError('LEB128 number too long');
  }

  take(length: number): Uint8Array {
    if (this.offset + length > this.end) throw new WasmFormatError('unexpected end of module');
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  name(): string {
    return new TextDecoder('utf-8', { fatal: true }).decode(this.take(this.leb()));
  }
}

/** A growing byte buffer, for rewriting large sections without an array of numbers. */
export class Writer {
  #buf: Uint8Array;
  length = 0;

  constructor(size = 4096) {
    this.#buf = new Uint8Array(size);
  }

  #room(n: number): void {
    if (this.length + n <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.length + n));
    grown.set(this.#buf.subarray(0, this.length));
    this.#buf = grown;
  }

  u8(byte: number): void {
    this.#room(1);
    this.#buf[this.length++] = byte;
  }

  /** Unsigned LEB128. */
  leb(value: number): void {
    let rest = value;
    do {
      let byte = rest % 128;
      rest = Math.floor(rest / 128);
      if (rest > 0) byte |= 0x80;
      this.u8(byte);
    } while (rest > 0);
  }

  /** Signed LEB128 of a non-negative number (i32.const's immediate). */
  sleb(value: number): void {
    let rest = value;
    for (;;) {
      const byte = rest & 0x7f;
      rest = Math.floor(rest / 128);
      if (rest === 0 && (byte & 0x40) === 0) return this.u8(byte);
      this.u8(byte | 0x80);
    }
  }

  bytes(source: Uint8Array): void {
    this.#room(source.length);
    this.#buf.set(source, this.length);
    this.length += source.length;
  }

  get result(): Uint8Array {
    return this.#buf.subarray(0, this.length);
  }
}

export function encodeLeb(value: number): number[] {
  const w = new Writer(10);
  w.leb(value);
  return [...w.result];
}

export function encodeName(name: string): number[] {
  const bytes = new TextEncoder().encode(name);
  return [...encodeLeb(bytes.length), ...bytes];
}

export interface Section {
  id: number;
  /** The section's content, without id and size. */
  body: Uint8Array;
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

export function readSections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new WasmFormatError('not a WebAssembly module (bad magic or version)');
  }
  const reader = new Reader(bytes, 8);
  const sections: Section[] = [];
  while (!reader.done) {
    const id = reader.u8();
    const size = reader.leb();
    sections.push({ id, body: reader.take(size) });
  }
  return sections;
}

export function writeSections(sections: Section[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.from(MAGIC)];
  for (const { id, body } of sections) {
    parts.push(Uint8Array.from([id, ...encodeLeb(body.length)]), body);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export const SECTION = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  tag: 13,
} as const;

/** Position of each known section in the order the spec requires. */
const SECTION_ORDER: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };

/** `section` in place of the one with its id, or inserted where the spec's section order puts it. */
export function withSection(sections: Section[], section: Section): Section[] {
  if (sections.some((s) => s.id === section.id)) return sections.map((s) => (s.id === section.id ? section : s));
  const at = sections.findIndex((s) => s.id !== SECTION.custom && (SECTION_ORDER[s.id] ?? 0) > SECTION_ORDER[section.id]!);
  const copy = [...sections];
  copy.splice(at === -1 ? copy.length : at, 0, section);
  return copy;
}
