// The raw imports a plugin may use, as wit/contract.json declares them, and the abort handler every
// plugin is built with (`--use abort=lib/env/rprAbort`). Plugins use the wrappers in io.ts, http.ts
// and host.ts rather than these.

// ---- extism:host/env (the Extism kernel). The AS PDK declares some of these; we declare what we
// use ourselves so that the whole import list of a plugin is visible here.
@external("extism:host/env", "input_length")
export declare function input_length(): u64;
@external("extism:host/env", "input_load_u8")
export declare function input_load_u8(offset: u64): u8;
@external("extism:host/env", "input_load_u64")
export declare function input_load_u64(offset: u64): u64;
@external("extism:host/env", "alloc")
export declare function alloc(length: u64): u64;
@external("extism:host/env", "free")
export declare function free(offset: u64): void;
@external("extism:host/env", "length")
export declare function length(offset: u64): u64;
@external("extism:host/env", "load_u8")
export declare function load_u8(offset: u64): u8;
@external("extism:host/env", "load_u64")
export declare function load_u64(offset: u64): u64;
@external("extism:host/env", "store_u8")
export declare function store_u8(offset: u64, value: u8): void;
@external("extism:host/env", "store_u64")
export declare function store_u64(offset: u64, value: u64): void;
@external("extism:host/env", "output_set")
export declare function output_set(offset: u64, length: u64): void;
@external("extism:host/env", "error_set")
export declare function error_set(offset: u64): void;
@external("extism:host/env", "http_request")
export declare function http_request(request: u64, body: u64): u64;
@external("extism:host/env", "http_status_code")
export declare function http_status_code(): i32;
@external("extism:host/env", "log_debug")
export declare function log_debug(offset: u64): void;
@external("extism:host/env", "log_info")
export declare function log_info(offset: u64): void;
@external("extism:host/env", "log_warn")
export declare function log_warn(offset: u64): void;
@external("extism:host/env", "log_error")
export declare function log_error(offset: u64): void;

// ---- extism:host/user (rpr's host functions; each needs its permission in plugin.toml).
/** permission "time": wall clock, ms since the epoch; -1 when denied. */
@external("extism:host/user", "rpr_time_ms")
export declare function rpr_time_ms(): i64;
/** permission "random": uniform in [0, 1) from a cryptographic source; -1 when denied. */
@external("extism:host/user", "rpr_random")
export declare function rpr_random(): f64;
/** permission "system-load": offset of a block of system-load JSON, or {"error": ...}. */
@external("extism:host/user", "rpr_system_load")
export declare function rpr_system_load(): u64;
/** permission "emit": blocks holding the topic and a JSON payload; 0 published, -1 denied, -2 invalid. */
@external("extism:host/user", "rpr_emit")
export declare function rpr_emit(topic: u64, payload: u64): i64;

// AssemblyScript's abort (failed assertion, index out of range...): log the reason, then trap.
// Returning would carry on in a broken state; the host turns the trap into a PluginError.
export function rprAbort(message: string | null, file: string | null, line: u32, column: u32): void {
  let text = "abort";
  if (message !== null) text += ": " + message;
  if (file !== null) text += " at " + file + ":" + line.toString() + ":" + column.toString();
  const bytes = Uint8Array.wrap(String.UTF8.encode(text));
  const offset = alloc(<u64>bytes.length);
  for (let i = 0; i < bytes.length; i++) store_u8(offset + <u64>i, bytes[i]);
  log_error(offset);
  unreachable();
}
