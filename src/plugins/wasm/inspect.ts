/**
 * What a module imports and exports, with function signatures (WebAssembly.Module.imports/exports
 * give names and kinds only, and the contract is about signatures too), and its memories.
 */
import type { ValType } from '../contract.js';
import { Reader, readSections, SECTION, WasmFormatError, type Section } from './binary.js';

type ExternKind = 'function' | 'table' | 'memory' | 'global' | 'tag';

interface WasmImport {
  module: string;
  name: string;
  kind: ExternKind;
  params?: ValType[];
  results?: ValType[];
}

interface WasmExport {
  name: string;
  kind: ExternKind;
  index: number;
  params?: ValType[];
  results?: ValType[];
}

export interface MemoryLimits {
  min: number;
  max: number | undefined;
  shared: boolean;
  memory64: boolean;
}

export interface WasmInfo {
  imports: WasmImport[];
  exports: WasmExport[];
  /** Memories the module defines itself (imported ones are in `imports`). */
  memories: MemoryLimits[];
  /** Tables the module defines itself, in entries. */
  tables: MemoryLimits[];
  /** Function index of the start section, if any. */
  start: number | undefined;
}

const VALTYPES: Record<number, ValType> = { 127: 'i32', 126: 'i64', 125: 'f32', 124: 'f64', 123: 'v128', 112: 'funcref', 111: 'externref' };
const KINDS: ExternKind[] = ['function', 'table', 'memory', 'global', 'tag'];

function valtype(r: Reader): ValType {
  const code = r.u8();
  const type = VALTYPES[code];
  if (!type) throw new WasmFormatError(`unsupported value type 0x${code.toString(16)} (GC or other post-MVP types)`);
  return type;
}

export function readLimits(r: Reader): MemoryLimits {
  const flags = r.u8();
  if (flags > 0x07) throw new WasmFormatError(`unsupported limits flags 0x${flags.toString(16)}`);
  const min = r.leb();
  const max = flags & 0x01 ? r.leb() : undefined;
  return { min, max, shared: (flags & 0x02) !== 0, memory64: (flags & 0x04) !== 0 };
}

interface FuncType {
  params: ValType[];
  results: ValType[];
}

export function readTypes(body: Uint8Array): FuncType[] {
  const r = new Reader(body);
  const types: FuncType[] = [];
  for (let n = r.leb(); n > 0; n--) {
    const form = r.u8();
    if (form !== 0x60) throw new WasmFormatError(`unsupported type form 0x${form.toString(16)}`);
    const params = Array.from({ length: r.leb() }, () => valtype(r));
    const results = Array.from({ length: r.leb() }, () => valtype(r));
    types.push({ params, results });
  }
  return types;
}

function readImportDesc(r: Reader, kind: ExternKind, types: FuncType[]): Partial<WasmImport> {
  switch (kind) {
    case 'function': {
      const type = types[r.leb()];
      if (!type) throw new WasmFormatError('import refers to a missing type');
      return { ...type };
    }
    case 'table':
      valtype(r);
      readLimits(r);
      return {};
    case 'memory':
      readLimits(r);
      return {};
    case 'global':
      valtype(r);
      r.u8();
      return {};
    case 'tag':
      r.u8();
      r.leb();
      return {};
  }
}

export function inspectSections(sections: Section[]): WasmInfo {
  const find = (id: number) => sections.find((s) => s.id === id);
  const types = find(SECTION.type) ? readTypes(find(SECTION.type)!.body) : [];
  const info: WasmInfo = { imports: [], exports: [], memories: [], tables: [], start: undefined };
  const funcTypes: FuncType[] = [];

  const imports = find(SECTION.import);
  if (imports) {
    const r = new Reader(imports.body);
    for (let n = r.leb(); n > 0; n--) {
      const module = r.name();
      const name = r.name();
      const kind = KINDS[r.u8()];
      if (!kind) throw new WasmFormatError(`import "${module}" "${name}" has an unknown kind`);
      const desc = readImportDesc(r, kind, types);
      if (kind === 'function') funcTypes.push({ params: desc.params!, results: desc.results! });
      info.imports.push({ module, name, kind, ...desc });
    }
  }
  const functions = find(SECTION.function);
  if (functions) {
    const r = new Reader(functions.body);
    for (let n = r.leb(); n > 0; n--) {
      const type = types[r.leb()];
      if (!type) throw new WasmFormatError('function refers to a missing type');
      funcTypes.push(type);
    }
  }
  const tables = find(SECTION.table);
  if (tables) {
    const r = new Reader(tables.body);
    for (let n = r.leb(); n > 0; n--) {
      valtype(r);
      info.tables.push(readLimits(r));
    }
  }
  const memories = find(SECTION.memory);
  if (memories) {
    const r = new Reader(memories.body);
    for (let n = r.leb(); n > 0; n--) info.memories.push(readLimits(r));
  }
  const exports = find(SECTION.export);
  if (exports) {
    const r = new Reader(exports.body);
    for (let n = r.leb(); n > 0; n--) {
      const name = r.name();
      const kind = KINDS[r.u8()];
      const index = r.leb();
      if (!kind) throw new WasmFormatError(`export "${name}" has an unknown kind`);
      const type = kind === 'function' ? funcTypes[index] : undefined;
      if (kind === 'function' && !type) throw new WasmFormatError(`export "${name}" refers to a missing function`);
      info.exports.push({ name, kind, index, ...type });
    }
  }
  const start = find(SECTION.start);
  if (start) info.start = new Reader(start.body).leb();
  return info;
}

export function inspectWasm(bytes: Uint8Array): WasmInfo {
  return inspectSections(readSections(bytes));
}
