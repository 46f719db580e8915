// Hand-made modules for the plugin host tests: WebAssembly text compiled by binaryen (the toolchain
// assemblyscript itself uses), and a foreground instance of one, without a manifest or the contract.
import binaryen from 'binaryen';
import { compilePlugin } from '../../src/plugins/host/compile.js';
import { createInstance } from '../../src/plugins/host/create-instance.js';
import type { Instance } from '../../src/plugins/host/instance.js';
import { buildKernel } from '../../src/plugins/host/kernel-functions.js';

const F = binaryen.Features;
/** What V8 in Node 20 runs by default, exception handling and tail calls included. */
const FEATURES = F.MVP | F.MutableGlobals | F.SignExt | F.NontrappingFPToInt | F.BulkMemory | F.BulkMemoryOpt | F.ReferenceTypes | F.Multivalue | F.SIMD128 | F.TailCall | F.ExceptionHandling;

/** The binary of a module written in WebAssembly text. */
export function wat(text: string): Uint8Array {
  const mod = binaryen.parseText(text);
  try {
    mod.setFeatures(FEATURES);
    if (!mod.validate()) throw new Error('invalid module text');
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}

let serial = 0;

/** A foreground instance of `bytes` (metered when `meter` and the meter can rewrite it), its calls limited to `limitMs`. */
export async function foregroundInstance(
  bytes: Uint8Array,
  { meter = true, limitMs = 500, pages = 256 } = {},
): Promise<{ instance: Instance; metered: boolean; kernel: ReturnType<typeof buildKernel> }> {
  const name = `raw-${++serial}`;
  const compiled = await compilePlugin(name, bytes, pages, undefined, meter);
  const kernel = buildKernel({ plugin: name, log: () => {}, logLevel: 'silent', foreground: true, kernelBytes: 16 * 2 ** 20, onNetworkDenied: () => {} });
  const instance = await createInstance({
    placement: 'foreground',
    module: compiled.module,
    metered: compiled.metered,
    initExports: compiled.initExports,
    userFunctions: {},
    kernelFunctions: kernel.functions,
    onCallStart: kernel.begin,
    onCallEnd: kernel.end,
    kernelOverCap: kernel.overCap,
    fetch: (() => Promise.reject(new Error('no'))) as typeof fetch,
    allowedPaths: {},
    config: {},
    kernelPages: 256,
    maxHttpResponseBytes: 0,
    maxAnswerBytes: 1 << 20,
    log: () => {},
    logLevel: 'silent',
    workerName: name,
    createTimeoutMs: 5000,
    callTimeoutMs: limitMs,
    inflight: () => 0,
  });
  return { instance, metered: compiled.metered, kernel };
}
