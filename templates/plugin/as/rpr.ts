// The rpr plugin ABI for AssemblyScript, with no package: the Extism kernel functions this plugin
// imports (module "extism:host/env", see rpr's wit/contract.json), input and output as UTF-8, and a
// small reader for the JSON messages rpr sends (wit/rpr-plugin.wit).
//
// rpr's own host functions (module "extism:host/user") need a permission in plugin.toml, e.g.
//   @external("extism:host/user", "rpr_time_ms") declare function rpr_time_ms(): i64;
// with host_functions = ["time"] under [permissions].

@external("extism:host/env", "input_length")
declare function input_length(): u64;
@external("extism:host/env", "input_load_u8")
declare function input_load_u8(offset: u64): u8;
@external("extism:host/env", "alloc")
declare function extism_alloc(length: u64): u64;
@external("extism:host/env", "store_u8")
declare function store_u8(offset: u64, value: u8): void;
@external("extism:host/env", "output_set")
declare function output_set(offset: u64, length: u64): void;
@external("extism:host/env", "error_set")
declare function error_set(offset: u64): void;
@external("extism:host/env", "log_info")
declare function log_info(offset: u64): void;
@external("extism:host/env", "log_error")
declare function log_error(offset: u64): void;

/** Copies UTF-8 text into a new Extism memory block; returns its offset. */
function block(text: string): u64 {
  const bytes = Uint8Array.wrap(String.UTF8.encode(text));
  const offset = extism_alloc(<u64>bytes.length);
  for (let i = 0; i < bytes.length; i++) store_u8(offset + <u64>i, bytes[i]);
  return offset;
}

/** The call's input (a JSON message) as text. */
export function input(): string {
  const n = <i32>input_length();
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = input_load_u8(<u64>i);
  return String.UTF8.decode(bytes.buffer);
}

/** Sets the call's answer. */
export function output(text: string): void {
  const bytes = String.UTF8.encode(text);
  output_set(block(text), <u64>bytes.byteLength);
}

/** Reports an error to rpr (it names the plugin and the call); returns the export's 1. */
export function fail(message: string): i32 {
  error_set(block(message));
  return 1;
}

/** A line in rpr's log (stderr). */
export function log(message: string): void {
  log_info(block(message));
}

/** Used for `abort` (a failed assertion, an index out of range): log the reason, then trap. */
export function abort(message: string | null, file: string | null, line: u32, column: u32): void {
  let text = "abort";
  if (message !== null) text += ": " + message;
  if (file !== null) text += " at " + file + ":" + line.toString() + ":" + column.toString();
  log_error(block(text));
  unreachable();
}

// ---------------------------------------------------------------- JSON

function isSpace(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

function skipSpace(text: string, i: i32): i32 {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** Index just past the string that starts (with its quote) at i. */
function skipString(text: string, i: i32): i32 {
  i++;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c == 0x5c) i += 2;
    else if (c == 0x22) return i + 1;
    else i++;
  }
  return i;
}

/** Index just past the JSON value that starts at i. */
function skipValue(text: string, i: i32): i32 {
  const c = text.charCodeAt(i);
  if (c == 0x22) return skipString(text, i);
  if (c == 0x7b || c == 0x5b) {
    let depth = 0;
    while (i < text.length) {
      const d = text.charCodeAt(i);
      if (d == 0x22) {
        i = skipString(text, i);
        continue;
      }
      if (d == 0x7b || d == 0x5b) depth++;
      else if (d == 0x7d || d == 0x5d) {
        depth--;
        if (depth == 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  while (i < text.length) {
    const d = text.charCodeAt(i);
    if (d == 0x2c || d == 0x7d || d == 0x5d || isSpace(d)) break;
    i++;
  }
  return i;
}

/** Decodes the JSON string starting (with its quote) at i. */
function readString(text: string, i: i32): string {
  let out = "";
  i++;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c == 0x22) break;
    if (c != 0x5c) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    const e = text.charCodeAt(i + 1);
    i += 2;
    if (e == 0x6e) out += "\n";
    else if (e == 0x74) out += "\t";
    else if (e == 0x72) out += "\r";
    else if (e == 0x62) out += "\b";
    else if (e == 0x66) out += "\f";
    else if (e == 0x75) {
      out += String.fromCharCode(<i32>parseInt(text.substring(i, i + 4), 16));
      i += 4;
    } else out += String.fromCharCode(e);
  }
  return out;
}

/** Where the value of top-level key `key` starts in a JSON object, or -1. */
export function find(text: string, key: string): i32 {
  let i = skipSpace(text, 0);
  if (i >= text.length || text.charCodeAt(i) != 0x7b) return -1;
  i = skipSpace(text, i + 1);
  while (i < text.length && text.charCodeAt(i) == 0x22) {
    const end = skipString(text, i);
    const name = readString(text, i);
    i = skipSpace(text, end);
    if (i >= text.length || text.charCodeAt(i) != 0x3a) return -1;
    i = skipSpace(text, i + 1);
    if (name == key) return i;
    i = skipSpace(text, skipValue(text, i));
    if (i < text.length && text.charCodeAt(i) == 0x2c) i = skipSpace(text, i + 1);
  }
  return -1;
}

/** A number field; `fallback` when it is missing or not a number (null). */
export function numberField(text: string, key: string, fallback: f64): f64 {
  const at = find(text, key);
  if (at < 0) return fallback;
  const c = text.charCodeAt(at);
  if (c != 0x2d && (c < 0x30 || c > 0x39)) return fallback;
  return parseFloat(text.substring(at, skipValue(text, at)));
}

/** A boolean field; `fallback` when it is missing. */
export function boolField(text: string, key: string, fallback: bool): bool {
  const at = find(text, key);
  if (at < 0) return fallback;
  if (text.startsWith("true", at)) return true;
  if (text.startsWith("false", at)) return false;
  return fallback;
}

/** A string field; `fallback` when it is missing or not a string. */
export function stringField(text: string, key: string, fallback: string): string {
  const at = find(text, key);
  if (at < 0 || text.charCodeAt(at) != 0x22) return fallback;
  return readString(text, at);
}

/** A list-of-strings field (empty when missing). */
export function stringsField(text: string, key: string): string[] {
  const out: string[] = [];
  let i = find(text, key);
  if (i < 0 || text.charCodeAt(i) != 0x5b) return out;
  i = skipSpace(text, i + 1);
  while (i < text.length && text.charCodeAt(i) == 0x22) {
    out.push(readString(text, i));
    i = skipSpace(text, skipString(text, i));
    if (i < text.length && text.charCodeAt(i) == 0x2c) i = skipSpace(text, i + 1);
  }
  return out;
}

/** `text` as a JSON string literal. */
export function quote(text: string): string {
  let out = "\"";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c == 0x0a) out += "\\n";
    else if (c == 0x0d) out += "\\r";
    else if (c == 0x09) out += "\\t";
    else if (c < 0x20) out += "\\u00" + (c < 0x10 ? "0" : "") + c.toString(16);
    else out += String.fromCharCode(c);
  }
  return out + "\"";
}

/** A whole number as JSON / for messages (no ".0"). */
export function int(value: f64): string {
  return (<i64>value).toString();
}
