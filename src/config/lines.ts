/**
 * Finds the line of every key in a TOML text. smol-toml returns values only,
 * with no positions, yet every config error must name its line: so this
 * scans the text once, following TOML's structure just enough to tell a key
 * from the inside of a string. It runs only on text smol-toml has already
 * accepted, so it never has to report syntax errors itself.
 */
export type KeyPath = readonly string[];

export interface KeyLines {
  /** The line (1-based) where `path` is first written; for a path that is not
   *  in the text (an implied table, a missing key), that of its nearest ancestor. */
  lineOf(path: KeyPath): number | undefined;
}

const BARE_KEY = /[A-Za-z0-9_-]/;

export function scanKeyLines(text: string): KeyLines {
  const found = new Map<string, number>();
  const id = (path: KeyPath): string => path.join('\u0000');
  // Every prefix is recorded too, so `jobs.x` has a line even when only
  // `[jobs.x.plugin]` or `jobs.x.command = ...` spells it out.
  const record = (path: KeyPath, line: number): void => {
    for (let k = 1; k <= path.length; k++) {
      const key = id(path.slice(0, k));
      if (!found.has(key)) found.set(key, line);
    }
  };

  let i = 0;
  let line = 1;
  const n = text.length;
  const at = (s: string): boolean => text.startsWith(s, i);

  /** Consumes one character, counting lines. */
  const step = (): void => {
    if (text[i] === '\n') line++;
    i++;
  };
  const skipSpaces = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  /** Spaces, newlines and comments: what may sit between a table's entries. */
  const skipBlank = (): void => {
    while (i < n) {
      const c = text[i];
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') step();
      else if (c === '#') while (i < n && text[i] !== '\n') i++;
      else break;
    }
  };

  const readBasic = (): string => {
    i++; // opening quote
    let out = '';
    while (i < n && text[i] !== '"') {
      if (text[i] === '\\') {
        const e = text[i + 1];
        const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', e: '\x1b', '"': '"', '\\': '\\' };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          i += 2;
        } else if (e === 'u' || e === 'U' || e === 'x') {
          const len = e === 'u' ? 4 : e === 'U' ? 8 : 2;
          out += String.fromCodePoint(parseInt(text.slice(i + 2, i + 2 + len), 16));
          i += 2 + len;
        } else {
          i += 2;
        }
      } else {
        out += text[i];
        i++;
      }
    }
    i++; // closing quote
    return out;
  };
  const readLiteral = (): string => {
    const end = text.indexOf("'", i + 1);
    const out = text.slice(i + 1, end < 0 ? n : end);
    i = end < 0 ? n : end + 1;
    return out;
  };
  /** """...""" or '''...''': up to two extra quotes may end the content. */
  const skipMultiline = (quote: '"""' | "'''"): void => {
    i += 3;
    while (i < n && !at(quote)) {
      if (quote === '"""' && text[i] === '\\') step();
      step();
    }
    i += 3;
    for (let extra = 0; extra < 2 && text[i] === quote[0]; extra++) i++;
  };

  /** A possibly dotted, possibly quoted key: a.b, "x y".z, 'lit'. */
  const readKey = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      skipSpaces();
      if (text[i] === '"') parts.push(readBasic());
      else if (text[i] === "'") parts.push(readLiteral());
      else {
        const start = i;
        while (i < n && BARE_KEY.test(text[i]!)) i++;
        parts.push(text.slice(start, i));
      }
      skipSpaces();
      if (text[i] !== '.') return parts;
      i++;
    }
  };

  const readValue = (path: KeyPath): void => {
    skipSpaces();
    if (at('"""')) return skipMultiline('"""');
    if (at("'''")) return skipMultiline("'''");
    if (text[i] === '"') return void readBasic();
    if (text[i] === "'") return void readLiteral();
    if (text[i] === '[') {
      step();
      for (let index = 0; ; index++) {
        skipBlank();
        if (i >= n || text[i] === ']') break;
        record([...path, indexKey(index)], line);
        readValue([...path, indexKey(index)]);
        skipBlank();
        if (text[i] === ',') i++;
      }
      i++;
      return;
    }
    if (text[i] === '{') {
      step();
      for (;;) {
        skipBlank();
        if (i >= n || text[i] === '}') break;
        const keyLine = line;
        const key = readKey();
        i++; // '='
        record([...path, ...key], keyLine);
        readValue([...path, ...key]);
        skipBlank();
        if (text[i] === ',') i++;
      }
      i++;
      return;
    }
    // Numbers, booleans, dates (which may hold one space): up to the next delimiter.
    while (i < n && !',]}#\r\n'.includes(text[i]!)) i++;
  };

  let table: string[] = [];
  const arrayCounts = new Map<string, number>();
  while (i < n) {
    const before = i;
    skipBlank();
    if (i >= n) break;
    if (text[i] === '[') {
      const isArray = text[i + 1] === '[';
      i += isArray ? 2 : 1;
      const headerLine = line;
      const path = readKey();
      i += isArray ? 2 : 1;
      record(path, headerLine);
      if (isArray) {
        // [[x]]: each block is x[0], x[1], ... so its keys have their own lines.
        const count = arrayCounts.get(id(path)) ?? 0;
        arrayCounts.set(id(path), count + 1);
        table = [...path, indexKey(count)];
        record(table, headerLine);
      } else {
        table = path;
      }
    } else {
      const keyLine = line;
      const key = readKey();
      skipSpaces();
      i++; // '='
      const path = [...table, ...key];
      record(path, keyLine);
      readValue(path);
    }
    if (i === before) i++; // never spin, whatever the text
  }

  return {
    lineOf(path: KeyPath): number | undefined {
      for (let k = path.length; k > 0; k--) {
        const hit = found.get(id(path.slice(0, k)));
        if (hit !== undefined) return hit;
      }
      return undefined;
    },
  };
}

/** The path segment of an array item: command[2] is ['command', '[2]']. */
export const indexKey = (index: number): string => `[${index}]`;
const INDEX = /^\[\d+\]$/;

/** A key path as the user would write it: jobs."my job".command[1]. */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const part of path) {
    if (INDEX.test(part)) out += part;
    else out += (out === '' ? '' : '.') + (/^[A-Za-z0-9_-]+$/.test(part) ? part : JSON.stringify(part));
  }
  return out;
}
