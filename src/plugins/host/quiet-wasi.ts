/**
 * Node prints "ExperimentalWarning: WASI is an experimental feature" on the main thread as soon as
 * the Extism SDK loads node:wasi, even for plugins without WASI. rpr's stderr is part of its
 * interface, so that one warning (and only that one) is dropped. Installed before the SDK loads.
 */
let installed = false;

export function silenceWasiWarning(): void {
  if (installed) return;
  installed = true;
  const original = process.emitWarning;
  const filtered = function (this: unknown, warning: string | Error, ...rest: unknown[]): void {
    const first = rest[0];
    const type = typeof first === 'string' ? first : ((first as { type?: string } | undefined)?.type ?? (warning instanceof Error ? warning.name : undefined));
    const message = typeof warning === 'string' ? warning : warning.message;
    if (type === 'ExperimentalWarning' && /^WASI\b/.test(message)) return;
    return (original as (...args: unknown[]) => void).call(process, warning, ...rest);
  };
  process.emitWarning = filtered as typeof process.emitWarning;
}
