//! The rpr plugin ABI for Rust, with no crates: the Extism kernel functions this plugin imports
//! (module "extism:host/env", see rpr's wit/contract.json, declared here by hand), input and output
//! as UTF-8, and a small reader for the JSON messages rpr sends (wit/rpr-plugin.wit).
//!
//! rpr's own host functions (module "extism:host/user") answer only with a permission in
//! plugin.toml: `time_ms()` and `random()` below need host_functions = ["time"] / ["random"] under
//! [permissions]. An import a plugin never calls is left out of its wasm.
//!
//! The same file is the ABI glue of rpr's bundled Rust plugins (plugins-src/*/lib.rs include it):
//! one source of truth, checked against wit/contract.json by rpr's tests.
#![allow(dead_code)]

#[link(wasm_import_module = "extism:host/user")]
extern "C" {
    fn rpr_time_ms() -> i64;
    fn rpr_random() -> f64;
}

/// Wall clock, ms since the Unix epoch (permission "time"); None when it is not granted.
pub fn time_ms() -> Option<i64> {
    let t = unsafe { rpr_time_ms() };
    if t < 0 {
        None
    } else {
        Some(t)
    }
}

/// A uniform number in [0, 1) from a cryptographic source (permission "random"); None when it is
/// not granted.
pub fn random() -> Option<f64> {
    let r = unsafe { rpr_random() };
    if (0.0..1.0).contains(&r) {
        Some(r)
    } else {
        None
    }
}

#[link(wasm_import_module = "extism:host/env")]
extern "C" {
    fn input_length() -> u64;
    fn input_load_u8(offset: u64) -> u8;
    #[link_name = "alloc"]
    fn extism_alloc(length: u64) -> u64;
    fn store_u8(offset: u64, value: u8);
    fn output_set(offset: u64, length: u64);
    fn error_set(offset: u64);
    fn log_info(offset: u64);
}

/// Copies bytes into a new Extism memory block; returns its offset.
fn block(bytes: &[u8]) -> u64 {
    unsafe {
        let offset = extism_alloc(bytes.len() as u64);
        for (i, b) in bytes.iter().enumerate() {
            store_u8(offset + i as u64, *b);
        }
        offset
    }
}

/// The call's input (a JSON message) as text.
pub fn input() -> String {
    let n = unsafe { input_length() };
    let bytes: Vec<u8> = (0..n).map(|i| unsafe { input_load_u8(i) }).collect();
    String::from_utf8(bytes).unwrap_or_default()
}

/// Sets the call's answer.
pub fn output(text: &str) {
    let offset = block(text.as_bytes());
    unsafe { output_set(offset, text.len() as u64) }
}

/// Reports an error to rpr (it names the plugin and the call); returns the export's 1.
pub fn fail(message: &str) -> i32 {
    let offset = block(message.as_bytes());
    unsafe { error_set(offset) }
    1
}

/// A line in rpr's log (stderr).
pub fn log(message: &str) {
    let offset = block(message.as_bytes());
    unsafe { log_info(offset) }
}

// ---------------------------------------------------------------- JSON

fn skip_space(t: &[u8], mut i: usize) -> usize {
    while i < t.len() && matches!(t[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// Index just past the string that starts (with its quote) at i.
fn skip_string(t: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < t.len() {
        match t[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    t.len()
}

/// Index just past the JSON value that starts at i.
fn skip_value(t: &[u8], mut i: usize) -> usize {
    match t.get(i) {
        Some(b'"') => skip_string(t, i),
        Some(b'{') | Some(b'[') => {
            let mut depth = 0;
            while i < t.len() {
                match t[i] {
                    b'"' => {
                        i = skip_string(t, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            t.len()
        }
        _ => {
            while i < t.len() && !matches!(t[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                i += 1;
            }
            i
        }
    }
}

/// Decodes the JSON string starting (with its quote) at i.
fn read_string(t: &[u8], mut i: usize) -> String {
    let mut units: Vec<u16> = Vec::new();
    let mut out = String::new();
    i += 1;
    while i < t.len() && t[i] != b'"' {
        if t[i] == b'\\' && i + 1 < t.len() {
            let e = t[i + 1];
            i += 2;
            if e == b'u' {
                let hex = std::str::from_utf8(t.get(i..i + 4).unwrap_or(b"0000")).unwrap_or("0000");
                units.push(u16::from_str_radix(hex, 16).unwrap_or(0xfffd));
                i += 4;
                continue;
            }
            out.push_str(&String::from_utf16_lossy(&units));
            units.clear();
            out.push(match e {
                b'n' => '\n',
                b't' => '\t',
                b'r' => '\r',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                other => other as char,
            });
            continue;
        }
        out.push_str(&String::from_utf16_lossy(&units));
        units.clear();
        // Copy one UTF-8 character.
        let start = i;
        i += 1;
        while i < t.len() && (t[i] & 0xc0) == 0x80 {
            i += 1;
        }
        out.push_str(std::str::from_utf8(&t[start..i]).unwrap_or("\u{fffd}"));
    }
    out.push_str(&String::from_utf16_lossy(&units));
    out
}

/// Where the value of top-level key `key` starts in a JSON object.
pub fn find(text: &str, key: &str) -> Option<usize> {
    let t = text.as_bytes();
    let mut i = skip_space(t, 0);
    if t.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_space(t, i + 1);
    while t.get(i) == Some(&b'"') {
        let end = skip_string(t, i);
        let name = read_string(t, i);
        i = skip_space(t, end);
        if t.get(i) != Some(&b':') {
            return None;
        }
        i = skip_space(t, i + 1);
        if name == key {
            return Some(i);
        }
        i = skip_space(t, skip_value(t, i));
        if t.get(i) == Some(&b',') {
            i = skip_space(t, i + 1);
        }
    }
    None
}

/// The JSON text of the value of top-level key `key` (an object, a list, a number...).
pub fn raw(text: &str, key: &str) -> Option<String> {
    let at = find(text, key)?;
    text.get(at..skip_value(text.as_bytes(), at)).map(|s| s.to_string())
}

/// A number field (None when missing or not a number, e.g. null).
pub fn num(text: &str, key: &str) -> Option<f64> {
    let at = find(text, key)?;
    text.get(at..skip_value(text.as_bytes(), at))?.parse().ok()
}

/// A boolean field.
pub fn boolean(text: &str, key: &str) -> Option<bool> {
    let at = find(text, key)?;
    let rest = &text[at..];
    if rest.starts_with("true") {
        Some(true)
    } else if rest.starts_with("false") {
        Some(false)
    } else {
        None
    }
}

/// A string field.
pub fn string(text: &str, key: &str) -> Option<String> {
    let at = find(text, key)?;
    if text.as_bytes()[at] != b'"' {
        return None;
    }
    Some(read_string(text.as_bytes(), at))
}

/// A list-of-strings field (empty when missing).
pub fn strings(text: &str, key: &str) -> Vec<String> {
    let t = text.as_bytes();
    let mut out = Vec::new();
    let mut i = match find(text, key) {
        Some(at) if t[at] == b'[' => skip_space(t, at + 1),
        _ => return out,
    };
    while t.get(i) == Some(&b'"') {
        out.push(read_string(t, i));
        i = skip_space(t, skip_string(t, i));
        if t.get(i) == Some(&b',') {
            i = skip_space(t, i + 1);
        }
    }
    out
}

/// `text` as a JSON string literal.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
