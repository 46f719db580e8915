// Bytes in and out of the plugin, always as UTF-8. (The AS PDK's Host.outputString sizes its
// buffer by UTF-16 units and cuts non-ASCII text short; everything here encodes first.)
import {
  alloc, error_set, input_length, input_load_u64, input_load_u8, length, load_u64, load_u8,
  log_debug, log_info, log_warn, output_set, store_u64, store_u8,
} from "./env";

/** Copies bytes into a fresh Extism memory block; returns its offset. */
export function allocBytes(bytes: Uint8Array): u64 {
  const n = bytes.length;
  const offset = alloc(<u64>n);
  let i = 0;
  for (; i + 8 <= n; i += 8) store_u64(offset + <u64>i, load<u64>(bytes.dataStart + <usize>i));
  for (; i < n; i++) store_u8(offset + <u64>i, bytes[i]);
  return offset;
}

export function utf8(text: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(text));
}

/** A string as a UTF-8 Extism memory block (for host functions and http_request). */
export function allocString(text: string): u64 {
  return allocBytes(utf8(text));
}

/** The bytes of an Extism memory block (0 = none). */
export function readBlock(offset: u64): Uint8Array {
  if (offset == 0) return new Uint8Array(0);
  const n = <i32>length(offset);
  const out = new Uint8Array(n);
  let i = 0;
  for (; i + 8 <= n; i += 8) store<u64>(out.dataStart + <usize>i, load_u64(offset + <u64>i));
  for (; i < n; i++) out[i] = load_u8(offset + <u64>i);
  return out;
}

export function readBlockString(offset: u64): string {
  const bytes = readBlock(offset);
  return String.UTF8.decode(bytes.buffer);
}

/** The call's input as text. */
export function input(): string {
  const n = <i32>input_length();
  const bytes = new Uint8Array(n);
  let i = 0;
  for (; i + 8 <= n; i += 8) store<u64>(bytes.dataStart + <usize>i, input_load_u64(<u64>i));
  for (; i < n; i++) bytes[i] = input_load_u8(<u64>i);
  return String.UTF8.decode(bytes.buffer);
}

/** Sets the call's output (UTF-8). */
export function output(text: string): void {
  const bytes = utf8(text);
  output_set(allocBytes(bytes), <u64>bytes.length);
}

/** Reports a plugin error (the host raises a PluginError with this text); returns the export's 1. */
export function fail(message: string): i32 {
  error_set(allocString(message));
  return 1;
}

export function logDebug(message: string): void {
  log_debug(allocString(message));
}
export function logInfo(message: string): void {
  log_info(allocString(message));
}
export function logWarn(message: string): void {
  log_warn(allocString(message));
}
