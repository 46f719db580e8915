/**
 * Plugin files are read with a size limit: a 6 MB plugin.toml in the plugin folder made every start
 * of rpr take 2.8 s (discovery parses every manifest), and a huge .wasm costs memory to compile.
 */
import { open } from 'node:fs/promises';

export const MAX_MANIFEST_BYTES = 64 * 1024;
export const MAX_WASM_BYTES = 32 * 1024 * 1024;

export class TooBigError extends Error {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`is ${size} bytes, more than the ${limit} a plugin file may have`);
    this.name = 'TooBigError';
  }
}

/** The whole file, or TooBigError without reading it when it is over `limit` bytes. */
export async function readBounded(file: string, limit: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size > limit) throw new TooBigError(size, limit);
    // The size may change under us: never read more than the limit plus one byte to notice.
    const buffer = Buffer.alloc(Math.min(size, limit) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) break;
    }
    if (length > limit) throw new TooBigError(length, limit);
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}
