/**
 * .wasm bytes -> a compiled module ready for instances, cached by content hash and memory cap:
 * instances are rebuilt after every failure and on reload, and compiling is the slow part (creating
 * an instance from an already compiled module is ~0.1 ms in the foreground).
 */
import { createHash } from 'node:crypto';
import { PluginError } from '../errors.js';
import { WasmFormatError } from '../wasm/binary.js';
import type { WasmInfo } from '../wasm/inspect.js';
import { METER_MODULE, METER_TICK, meterWasm } from '../wasm/meter.js';
import { premetered } from '../wasm/premetered.js';
import { PAGE_BYTES, prepareWasm } from '../wasm/prepare.js';
import { compileWasm, trialInstantiate, type CompiledModule } from '../wasm/runtime.js';

export interface CompiledPlugin {
  module: CompiledModule;
  info: WasmInfo;
  initExports: string[];
  maxPages: number;
  sha256: string;
  /** It counts its own work and imports rpr:meter tick (wasm/meter.ts). */
  metered: boolean;
}

const cache = new Map<string, Promise<CompiledPlugin>>();

export function clearModuleCache(): void {
  cache.clear();
}

export function pagesFor(memoryMb: number): number {
  return Math.max(1, Math.floor((memoryMb * 2 ** 20) / PAGE_BYTES));
}

async function build(plugin: string, bytes: Uint8Array, sha256: string, maxPages: number, meter: boolean): Promise<CompiledPlugin> {
  const metered = meter ? ((await premetered(sha256)) ?? meterWasm(bytes)) : null;
  let prepared;
  try {
    prepared = prepareWasm(bytes, maxPages, metered);
  } catch (error) {
    if (error instanceof WasmFormatError) throw new PluginError(plugin, 'load', 'abi', `the module ${error.message}`);
    throw error;
  }
  let module: CompiledModule;
  try {
    module = await compileWasm(prepared.bytes);
  } catch (error) {
    // Metering can take a module over one of V8's limits that the original stays under (50,000
    // locals in a function, a function's size): that one runs unmetered, under node:vm's watchdog.
    if (prepared.metered) return build(plugin, bytes, sha256, maxPages, false);
    throw new PluginError(plugin, 'load', 'load', `the module does not compile: ${(error as Error).message}`);
  }
  // Instantiation runs no guest code now (prepareWasm moved the start function out), so doing it once
  // here with stub imports is safe and catches what would otherwise fail inside the worker, where
  // rc13 turns it into an uncaught exception on our thread (e.g. a data segment beyond the cap).
  const stubs: Record<string, Record<string, unknown>> = {};
  for (const imp of prepared.info.imports) (stubs[imp.module] ??= {})[imp.name] = () => 0;
  if (prepared.metered) stubs[METER_MODULE] = { [METER_TICK]: () => 0 };
  try {
    trialInstantiate(module, stubs);
  } catch (error) {
    throw new PluginError(plugin, 'load', 'load', `the module cannot be instantiated: ${(error as Error).message}`);
  }
  return { module, info: prepared.info, initExports: prepared.initExports, maxPages, sha256, metered: prepared.metered };
}

/**
 * `sha256` of `bytes` when the caller has it already (a load hashes the wasm once). `meter`: for
 * rpr's own thread, where the module's own fuel count stops it (a worker is stopped by terminating it).
 */
export function compilePlugin(plugin: string, bytes: Uint8Array, maxPages: number, sha256 = createHash('sha256').update(bytes).digest('hex'), meter = false): Promise<CompiledPlugin> {
  const key = `${sha256}:${maxPages}:${meter ? 'metered' : 'plain'}`;
  let entry = cache.get(key);
  if (!entry) {
    entry = build(plugin, bytes, sha256, maxPages, meter);
    cache.set(key, entry);
    entry.catch(() => cache.delete(key));
  }
  return entry;
}
