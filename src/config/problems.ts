import { isRprError, RprError } from '../errors/index.js';
import { formatKeyPath, type KeyLines, type KeyPath } from './lines.js';

/**
 * Where config problems go. Validators report a problem and carry on as if
 * the bad key were absent, so one pass finds them all: `rpr config check`
 * lists every one, loading for a run throws the first in file order.
 */
export class Problems {
  private readonly found: Array<{ line: number; path: KeyPath; error: RprError }> = [];

  constructor(
    readonly file: string,
    private readonly lines: KeyLines,
  ) {}

  /** "FILE:LINE: key.path", the prefix of every message about `path`. */
  where(path: KeyPath): string {
    const line = this.lines.lineOf(path);
    const at = line === undefined ? this.file : `${this.file}:${line}`;
    return path.length === 0 ? at : `${at}: ${formatKeyPath(path)}`;
  }

  report(path: KeyPath, message: string, hint?: string): void {
    this.add(path, new RprError('E_CONFIG', `${this.where(path)}: ${message}`, { hint }));
  }

  /**
   * Runs a value parser that throws RprError (parseOptionValue and friends)
   * with `where` as its prefix, and turns whatever it throws into a config
   * problem, so a bad duration in a file exits like any other config error.
   */
  parse<T>(path: KeyPath, parse: (where: string) => T): { ok: true; value: T } | { ok: false } {
    try {
      return { ok: true, value: parse(this.where(path)) };
    } catch (error) {
      if (!isRprError(error)) throw error;
      this.add(path, new RprError('E_CONFIG', error.message, { hint: error.hint, cause: error }));
      return { ok: false };
    }
  }

  /** Every problem (those about a key path `keep` accepts), in the order of the lines they are about. */
  all(keep: (path: KeyPath) => boolean = () => true): RprError[] {
    return this.found
      .filter((p) => keep(p.path))
      .sort((a, b) => a.line - b.line)
      .map((p) => p.error);
  }

  private add(path: KeyPath, error: RprError): void {
    this.found.push({ line: this.lines.lineOf(path) ?? 0, path, error });
  }
}

/** The hint for an unknown key: the nearest known name, then all of them. */
export function knownKeysHint(name: string, known: readonly string[], noun = 'keys'): string {
  const list = `known ${noun}: ${known.join(', ')}`;
  if (known.length === 0) return 'this table takes no keys';
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  // Only suggest when the typo is small next to the word itself.
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? `did you mean ${best}? ${list}` : list;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
