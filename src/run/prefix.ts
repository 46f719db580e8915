/**
 * Inserts a prefix at the start of every line of a byte stream. Works on
 * bytes, so output that is not UTF-8 passes through unchanged.
 */
export function createPrefixer(prefixFor: () => string): (chunk: Buffer) => Buffer {
  let atLineStart = true;
  return (chunk) => {
    const parts: Buffer[] = [];
    let from = 0;
    while (from < chunk.length) {
      if (atLineStart) parts.push(Buffer.from(prefixFor()));
      const newline = chunk.indexOf(10, from);
      const to = newline === -1 ? chunk.length : newline + 1;
      parts.push(chunk.subarray(from, to));
      atLineStart = newline !== -1;
      from = to;
    }
    return Buffer.concat(parts);
  };
}

/** Expands {run}, {time} (local HH:MM:SS), {iso} and {stream} in a --prefix template. */
export function expandPrefix(template: string, values: { run: number; stream: string; now: Date }): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const { now } = values;
  return template
    .replaceAll('{run}', String(values.run))
    .replaceAll('{time}', `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`)
    .replaceAll('{iso}', now.toISOString())
    .replaceAll('{stream}', values.stream);
}
