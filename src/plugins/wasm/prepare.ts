/**
 * Rewrites a plugin module before it is instantiated, so that the sandbox holds whatever the module
 * says about itself:
 * - memory: the maximum of its one memory is set to the cap. Extism's memory.maxPages only counts
 *   what the SDK allocates for the plugin; without this a loop of allocations grows the plugin's own
 *   linear memory to 4 GiB. Modules that import their memory or have several are refused, because
 *   the cap could not be applied to them.
 * - tables: a table's entries are memory too, outside the memory section (measured: one declared
 *   table of 2^25 entries took rpr to 631 MB under a 32 MB cap). All tables together may hold
 *   MAX_TABLE_ENTRIES entries: a larger initial size is refused, maxima are rewritten so that
 *   table.grow stops there.
 * - guest code at instantiation: the start function, `_initialize` and `hs_init` (Extism calls both
 *   when it instantiates, whatever their kind) become ordinary exports that the host calls under its
 *   watchdog. Instantiation itself then runs no guest code, so it cannot hang, and a failing
 *   initialiser becomes a call error instead of an uncaught exception in the worker (which Extism
 *   rc13 turns into a crash of the main thread). An `_initialize` or `hs_init` that is not a
 *   function is refused: Extism would call it and throw.
 */
import { encodeLeb, encodeName, Reader, readSections, SECTION, WasmFormatError, withSection, writeSections, type Section } from './binary.js';
import { inspectSections, readLimits, type WasmInfo } from './inspect.js';
import { meteredIndex } from './meter.js';

export const PAGE_BYTES = 65_536;
/** Export names the host gives to the initialisers it moves out of instantiation, in call order. */
export const START_EXPORT = '__rpr_start';
export const INITIALIZE_EXPORT = '__rpr_initialize';
const HS_INIT_EXPORT = '__rpr_hs_init';
/** All tables of a module together (~32 bytes an entry in V8: 2 MiB). */
const MAX_TABLE_ENTRIES = 65_536;
/** Exports Extism runs while it instantiates, and the names rpr gives them, in call order. */
const INITIALISERS: [string, string][] = [
  ['_initialize', INITIALIZE_EXPORT],
  ['hs_init', HS_INIT_EXPORT],
];

export interface PreparedWasm {
  bytes: Uint8Array;
  /** The module as the plugin author built it (imports/exports before the rewrite). */
  info: WasmInfo;
  /** Exports to call, in order, on every fresh instance before anything else. */
  initExports: string[];
  maxPages: number;
  /** Rewritten to count its own work (meter.ts): the host must import `rpr:meter` `tick`. */
  metered: boolean;
}

/** `metered`: the same module metered (meter.ts), to be rewritten instead of the original. */
export function prepareWasm(original: Uint8Array, maxPages: number, metered: Uint8Array | null = null): PreparedWasm {
  const sections = readSections(original);
  const info = inspectSections(sections);
  for (const imp of info.imports) {
    if (imp.kind === 'memory') throw new WasmFormatError(`imports its memory ("${imp.module}" "${imp.name}"), so its size cannot be capped`);
    if (imp.kind !== 'function') throw new WasmFormatError(`imports a ${imp.kind} ("${imp.module}" "${imp.name}"); only functions may be imported`);
  }
  if (info.memories.length > 1) throw new WasmFormatError(`declares ${info.memories.length} memories; a plugin may have one`);
  for (const exp of info.exports) {
    if (exp.name === '_start') throw new WasmFormatError('exports _start (a WASI command); a plugin must be a library (reactor) module');
    if (exp.name.startsWith('__rpr_')) throw new WasmFormatError(`exports "${exp.name}"; names starting with __rpr_ are reserved for the host`);
  }

  const initExports: string[] = [];
  let out = (metered ? readSections(metered) : sections).map((s) =>
    s.id === SECTION.memory ? { id: s.id, body: capMemory(s.body, maxPages) } : s.id === SECTION.table ? { id: s.id, body: capTables(s.body) } : s,
  );
  const renames = new Map<string, string>();
  const extra: [string, number][] = [];
  if (info.start !== undefined) {
    extra.push([START_EXPORT, metered ? meteredIndex(info.start, info.imports.length) : info.start]);
    initExports.push(START_EXPORT);
    out = out.filter((s) => s.id !== SECTION.start);
  }
  for (const [name, renamed] of INITIALISERS) {
    const exp = info.exports.find((e) => e.name === name);
    if (!exp) continue;
    if (exp.kind !== 'function') throw new WasmFormatError(`exports "${name}" as a ${exp.kind}; Extism would call it at start-up, so it must be a function`);
    renames.set(name, renamed);
    initExports.push(renamed);
  }
  if (renames.size > 0 || extra.length > 0) out = rewriteExports(out, renames, extra);
  return { bytes: writeSections(out), info, initExports, maxPages, metered: metered !== null };
}

function capMemory(body: Uint8Array, maxPages: number): Uint8Array {
  const r = new Reader(body);
  const count = r.leb();
  if (count === 0) return body;
  const limits = readLimits(r);
  if (limits.memory64) throw new WasmFormatError('uses 64-bit memory, which rpr does not support');
  if (limits.shared) throw new WasmFormatError('uses shared memory, which rpr does not support');
  if (limits.min > maxPages) {
    throw new WasmFormatError(`needs ${limits.min} memory pages at start, more than its cap of ${maxPages} (${(maxPages * PAGE_BYTES) / 2 ** 20} MiB)`);
  }
  const max = Math.min(limits.max ?? maxPages, maxPages);
  return Uint8Array.from([...encodeLeb(1), 0x01, ...encodeLeb(limits.min), ...encodeLeb(max)]);
}

function capTables(body: Uint8Array): Uint8Array {
  const r = new Reader(body);
  const tables: { type: number; min: number; max: number | undefined }[] = [];
  for (let n = r.leb(); n > 0; n--) {
    const type = r.u8();
    const limits = readLimits(r);
    if (limits.memory64 || limits.shared) throw new WasmFormatError('declares a table with unsupported limits');
    tables.push({ type, min: limits.min, max: limits.max });
  }
  const initial = tables.reduce((sum, t) => sum + t.min, 0);
  if (initial > MAX_TABLE_ENTRIES) {
    throw new WasmFormatError(`declares tables of ${initial} entries at start; a plugin may have ${MAX_TABLE_ENTRIES} in all`);
  }
  // What is left above the initial sizes is shared out: each table may grow by its part.
  const share = Math.floor((MAX_TABLE_ENTRIES - initial) / Math.max(1, tables.length));
  const entries = tables.map((t) => [t.type, 0x01, ...encodeLeb(t.min), ...encodeLeb(Math.min(t.max ?? Infinity, t.min + share))]);
  return Uint8Array.from([...encodeLeb(tables.length), ...entries.flat()]);
}

function rewriteExports(sections: Section[], renames: Map<string, string>, extra: [string, number][]): Section[] {
  const entries: number[][] = [];
  const existing = sections.find((s) => s.id === SECTION.export);
  if (existing) {
    const r = new Reader(existing.body);
    for (let n = r.leb(); n > 0; n--) {
      const name = r.name();
      const kind = r.u8();
      const index = r.leb();
      entries.push([...encodeName(renames.get(name) ?? name), kind, ...encodeLeb(index)]);
    }
  }
  for (const [name, index] of extra) entries.push([...encodeName(name), 0x00, ...encodeLeb(index)]);
  return withSection(sections, { id: SECTION.export, body: Uint8Array.from([...encodeLeb(entries.length), ...entries.flat()]) });
}
