// A small JSON reader and writer for the messages of wit/ (no AssemblyScript JSON package is
// installed, and the messages are small). parse() builds a tree of JValue; JsonWriter writes text
// with the commas handled. Strings are AssemblyScript strings (UTF-16); io.ts turns text into UTF-8.

export enum JType {
  Null,
  Bool,
  Number,
  String,
  Array,
  Object,
}

export class JValue {
  type: JType = JType.Null;
  b: bool = false;
  n: f64 = 0;
  s: string = "";
  /** Array items, or object values (in order). */
  items: JValue[] = [];
  /** Object keys, parallel to items. */
  keys: string[] = [];

  static nul(): JValue {
    return new JValue();
  }
  static boolean(b: bool): JValue {
    const v = new JValue();
    v.type = JType.Bool;
    v.b = b;
    return v;
  }
  static number(n: f64): JValue {
    const v = new JValue();
    v.type = JType.Number;
    v.n = n;
    return v;
  }
  static string(s: string): JValue {
    const v = new JValue();
    v.type = JType.String;
    v.s = s;
    return v;
  }
  static object(): JValue {
    const v = new JValue();
    v.type = JType.Object;
    return v;
  }
  static array(): JValue {
    const v = new JValue();
    v.type = JType.Array;
    return v;
  }

  get isNull(): bool {
    return this.type == JType.Null;
  }
  get isObject(): bool {
    return this.type == JType.Object;
  }

  /** An object's member (the first with that key), or null. */
  get(key: string): JValue | null {
    if (this.type != JType.Object) return null;
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] == key) return this.items[i];
    return null;
  }
  has(key: string): bool {
    return this.get(key) !== null;
  }
  /** A number member, or `fallback` when missing or not a number. */
  num(key: string, fallback: f64 = 0): f64 {
    const v = this.get(key);
    return v !== null && v.type == JType.Number ? v.n : fallback;
  }
  str(key: string, fallback: string = ""): string {
    const v = this.get(key);
    return v !== null && v.type == JType.String ? v.s : fallback;
  }
  bool(key: string, fallback: bool = false): bool {
    const v = this.get(key);
    return v !== null && v.type == JType.Bool ? v.b : fallback;
  }
  /** True if the member exists and is a number (null and missing are not). */
  isNumber(key: string): bool {
    const v = this.get(key);
    return v !== null && v.type == JType.Number;
  }
  /** Sets (or adds) an object member. */
  set(key: string, value: JValue): void {
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] == key) {
        this.items[i] = value;
        return;
      }
    }
    this.keys.push(key);
    this.items.push(value);
  }
  toString(): string {
    const w = new JsonWriter();
    w.value(this);
    return w.toString();
  }
}

// ------------------------------------------------------------------------------------ reading

/** Why the last parse() returned null. */
export let parseError: string = "";
const MAX_DEPTH = 64;

class Reader {
  i: i32 = 0;
  error: string = "";
  constructor(public text: string) {}

  fail(what: string): JValue | null {
    if (this.error.length == 0) this.error = what + " at offset " + this.i.toString();
    return null;
  }

  skipSpace(): void {
    const t = this.text;
    while (this.i < t.length) {
      const c = t.charCodeAt(this.i);
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
      this.i++;
    }
  }

  literal(word: string): bool {
    if (this.text.substr(this.i, word.length) != word) return false;
    this.i += word.length;
    return true;
  }

  value(depth: i32): JValue | null {
    if (depth > MAX_DEPTH) return this.fail("nested too deeply");
    this.skipSpace();
    if (this.i >= this.text.length) return this.fail("unexpected end");
    const c = this.text.charCodeAt(this.i);
    if (c == 0x7b /* { */) return this.object(depth);
    if (c == 0x5b /* [ */) return this.array(depth);
    if (c == 0x22 /* " */) {
      const s = this.string();
      return s === null ? null : JValue.string(s);
    }
    if (c == 0x74 /* t */ && this.literal("true")) return JValue.boolean(true);
    if (c == 0x66 /* f */ && this.literal("false")) return JValue.boolean(false);
    if (c == 0x6e /* n */ && this.literal("null")) return JValue.nul();
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    return this.fail("unexpected character");
  }

  number(): JValue | null {
    const t = this.text;
    const start = this.i;
    if (t.charCodeAt(this.i) == 0x2d) this.i++;
    const digits = this.i;
    while (this.i < t.length && isDigit(t.charCodeAt(this.i))) this.i++;
    if (this.i == digits) return this.fail("bad number");
    if (this.i < t.length && t.charCodeAt(this.i) == 0x2e) {
      this.i++;
      const frac = this.i;
      while (this.i < t.length && isDigit(t.charCodeAt(this.i))) this.i++;
      if (this.i == frac) return this.fail("bad number");
    }
    if (this.i < t.length && (t.charCodeAt(this.i) | 0x20) == 0x65) {
      this.i++;
      if (this.i < t.length && (t.charCodeAt(this.i) == 0x2b || t.charCodeAt(this.i) == 0x2d)) this.i++;
      const exp = this.i;
      while (this.i < t.length && isDigit(t.charCodeAt(this.i))) this.i++;
      if (this.i == exp) return this.fail("bad number");
    }
    return JValue.number(parseFloat(t.substring(start, this.i)));
  }

  string(): string | null {
    const t = this.text;
    this.i++; // opening quote
    const parts: string[] = [];
    let run = this.i;
    while (this.i < t.length) {
      const c = t.charCodeAt(this.i);
      if (c == 0x22) {
        parts.push(t.substring(run, this.i));
        this.i++;
        return parts.join("");
      }
      if (c < 0x20) {
        this.fail("control character in string");
        return null;
      }
      if (c != 0x5c) {
        this.i++;
        continue;
      }
      parts.push(t.substring(run, this.i));
      this.i++;
      if (this.i >= t.length) break;
      const e = t.charCodeAt(this.i);
      this.i++;
      if (e == 0x22) parts.push('"');
      else if (e == 0x5c) parts.push("\\");
      else if (e == 0x2f) parts.push("/");
      else if (e == 0x62) parts.push("\b");
      else if (e == 0x66) parts.push("\f");
      else if (e == 0x6e) parts.push("\n");
      else if (e == 0x72) parts.push("\r");
      else if (e == 0x74) parts.push("\t");
      else if (e == 0x75) {
        let code = 0;
        for (let k = 0; k < 4; k++) {
          const h = this.i < t.length ? hexValue(t.charCodeAt(this.i)) : -1;
          if (h < 0) {
            this.fail("bad \\u escape");
            return null;
          }
          code = code * 16 + h;
          this.i++;
        }
        parts.push(String.fromCharCode(code));
      } else {
        this.fail("bad escape");
        return null;
      }
      run = this.i;
    }
    this.fail("unterminated string");
    return null;
  }

  array(depth: i32): JValue | null {
    this.i++;
    const v = new JValue();
    v.type = JType.Array;
    this.skipSpace();
    if (this.i < this.text.length && this.text.charCodeAt(this.i) == 0x5d) {
      this.i++;
      return v;
    }
    while (true) {
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.items.push(item);
      this.skipSpace();
      if (this.i >= this.text.length) return this.fail("unterminated array");
      const c = this.text.charCodeAt(this.i++);
      if (c == 0x5d) return v;
      if (c != 0x2c) return this.fail("expected , or ]");
    }
  }

  object(depth: i32): JValue | null {
    this.i++;
    const v = new JValue();
    v.type = JType.Object;
    this.skipSpace();
    if (this.i < this.text.length && this.text.charCodeAt(this.i) == 0x7d) {
      this.i++;
      return v;
    }
    while (true) {
      this.skipSpace();
      if (this.i >= this.text.length || this.text.charCodeAt(this.i) != 0x22) return this.fail("expected a key");
      const key = this.string();
      if (key === null) return null;
      this.skipSpace();
      if (this.i >= this.text.length || this.text.charCodeAt(this.i) != 0x3a) return this.fail("expected :");
      this.i++;
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.keys.push(key);
      v.items.push(item);
      this.skipSpace();
      if (this.i >= this.text.length) return this.fail("unterminated object");
      const c = this.text.charCodeAt(this.i++);
      if (c == 0x7d) return v;
      if (c != 0x2c) return this.fail("expected , or }");
    }
  }
}

function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

function hexValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** Parses JSON text; null (with parseError set) if it is not exactly one JSON value. */
export function parse(text: string): JValue | null {
  const r = new Reader(text);
  const v = r.value(0);
  if (v !== null) {
    r.skipSpace();
    if (r.i != text.length) {
      r.fail("trailing characters");
      parseError = r.error;
      return null;
    }
    parseError = "";
    return v;
  }
  parseError = r.error;
  return null;
}

// ------------------------------------------------------------------------------------ writing

const HEX = "0123456789abcdef";

/** A JSON string literal. Lone surrogates (from a cut in the middle of a pair) become U+FFFD. */
export function quote(s: string): string {
  const parts: string[] = ['"'];
  let run = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    let escaped: string | null = null;
    if (c == 0x22) escaped = '\\"';
    else if (c == 0x5c) escaped = "\\\\";
    else if (c < 0x20) {
      if (c == 0x0a) escaped = "\\n";
      else if (c == 0x0d) escaped = "\\r";
      else if (c == 0x09) escaped = "\\t";
      else escaped = "\\u00" + HEX.charAt(c >> 4) + HEX.charAt(c & 15);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      if (c <= 0xdbff && i + 1 < n) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          i++; // a valid pair: keep both units
          continue;
        }
      }
      escaped = "\\ufffd";
    }
    if (escaped !== null) {
      if (i > run) parts.push(s.substring(run, i));
      parts.push(escaped);
      run = i + 1;
    }
  }
  if (run < n) parts.push(s.substring(run));
  parts.push('"');
  return parts.join("");
}

/** A JSON number: integers without ".0", non-finite values as null. */
export function formatNumber(x: f64): string {
  if (!isFinite(x)) return "null";
  if (x == Math.floor(x) && Math.abs(x) < 9007199254740992) return (<i64>x).toString();
  return x.toString();
}

/** Writes JSON text; commas between members and items are inserted for you. */
export class JsonWriter {
  private parts: string[] = [];
  /** Per open container: nothing written in it yet. */
  private fresh: bool[] = [];
  private afterKey: bool = false;

  private sep(): void {
    if (this.afterKey) {
      this.afterKey = false;
      return;
    }
    const depth = this.fresh.length;
    if (depth == 0) return;
    if (this.fresh[depth - 1]) this.fresh[depth - 1] = false;
    else this.parts.push(",");
  }

  beginObject(): JsonWriter {
    this.sep();
    this.parts.push("{");
    this.fresh.push(true);
    return this;
  }
  endObject(): JsonWriter {
    this.fresh.pop();
    this.parts.push("}");
    return this;
  }
  beginArray(): JsonWriter {
    this.sep();
    this.parts.push("[");
    this.fresh.push(true);
    return this;
  }
  endArray(): JsonWriter {
    this.fresh.pop();
    this.parts.push("]");
    return this;
  }
  key(k: string): JsonWriter {
    this.sep();
    this.parts.push(quote(k));
    this.parts.push(":");
    this.afterKey = true;
    return this;
  }
  string(v: string): JsonWriter {
    this.sep();
    this.parts.push(quote(v));
    return this;
  }
  number(v: f64): JsonWriter {
    this.sep();
    this.parts.push(formatNumber(v));
    return this;
  }
  boolean(v: bool): JsonWriter {
    this.sep();
    this.parts.push(v ? "true" : "false");
    return this;
  }
  nul(): JsonWriter {
    this.sep();
    this.parts.push("null");
    return this;
  }
  /** Already-encoded JSON text (trusted to be one valid value). */
  raw(json: string): JsonWriter {
    this.sep();
    this.parts.push(json);
    return this;
  }
  value(v: JValue): JsonWriter {
    switch (v.type) {
      case JType.Null:
        return this.nul();
      case JType.Bool:
        return this.boolean(v.b);
      case JType.Number:
        return this.number(v.n);
      case JType.String:
        return this.string(v.s);
      case JType.Array: {
        this.beginArray();
        for (let i = 0; i < v.items.length; i++) this.value(v.items[i]);
        return this.endArray();
      }
      default: {
        this.beginObject();
        for (let i = 0; i < v.keys.length; i++) {
          this.key(v.keys[i]);
          this.value(v.items[i]);
        }
        return this.endObject();
      }
    }
  }

  // Members, for objects: key + value in one call.
  str(k: string, v: string): JsonWriter {
    return this.key(k).string(v);
  }
  num(k: string, v: f64): JsonWriter {
    return this.key(k).number(v);
  }
  bool(k: string, v: bool): JsonWriter {
    return this.key(k).boolean(v);
  }
  nullField(k: string): JsonWriter {
    return this.key(k).nul();
  }

  toString(): string {
    return this.parts.join("");
  }
}
