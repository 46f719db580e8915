/**
 * The bundled plugins' modules, metered by the build (scripts/plugin-index.mjs) and named by the
 * sha256 of the original: metering one at load costs 5-15 ms, most of it before V8 has optimised
 * the walker. A file here is as much rpr's own as its code.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** @public The build writes here (scripts/plugin-index.mjs, which loads dist/ by path: knip cannot see it). */
export const METERED_DIR = fileURLToPath(new URL('../metered/', import.meta.url));

/** The metered module of the wasm whose sha256 this is, if the build made one. */
export async function premetered(sha256: string): Promise<Uint8Array | null> {
  if (!/^[0-9a-f]{64}$/.test(sha256)) return null;
  try {
    return await readFile(path.join(METERED_DIR, `${sha256}.wasm`));
  } catch {
    return null;
  }
}
