//! {{name}}: an rpr scheduler plugin, in Rust with no crates. rpr calls `next` before the first run
//! (run 0) and after every run, with the job's state; the answer says how long to wait before the
//! next run, or to stop. This one retries after a fixed delay until the command succeeds, at most
//! `attempts` runs. The messages are in rpr's wit/rpr-plugin.wit; the settings are in plugin.toml.
mod rpr;

use std::sync::atomic::{AtomicU64, Ordering};

static DELAY_MS: AtomicU64 = AtomicU64::new(200);
static ATTEMPTS: AtomicU64 = AtomicU64::new(5);

/// What this plugin is (generated from plugin.toml by build.mjs): rpr checks it against plugin.toml.
#[no_mangle]
pub extern "C" fn describe() -> i32 {
    rpr::output(include_str!("../build/describe.json"));
    0
}

/// The settings, resolved by rpr: every key of [config], defaults applied, durations in ms.
#[no_mangle]
pub extern "C" fn init() -> i32 {
    let config = rpr::input();
    let delay = rpr::num(&config, "delay").unwrap_or(200.0);
    let attempts = rpr::num(&config, "attempts").unwrap_or(5.0);
    if delay < 0.0 {
        return rpr::fail("delay must not be negative");
    }
    if attempts < 0.0 {
        return rpr::fail("attempts must not be negative");
    }
    DELAY_MS.store(delay as u64, Ordering::Relaxed);
    ATTEMPTS.store(attempts as u64, Ordering::Relaxed);
    rpr::output(r#"{"ok":true}"#);
    0
}

#[no_mangle]
pub extern "C" fn next() -> i32 {
    let state = rpr::input();
    let run = rpr::num(&state, "run").unwrap_or(0.0) as u64;
    let delay = DELAY_MS.load(Ordering::Relaxed);
    let attempts = ATTEMPTS.load(Ordering::Relaxed);
    if run == 0 {
        rpr::output(r#"{"action":"run","delay_ms":0}"#);
    } else if rpr::boolean(&state, "success") == Some(true) {
        rpr::output(r#"{"action":"stop","reason":"succeeded","exit_code":0}"#);
    } else if attempts > 0 && run >= attempts {
        // End with the last run's exit code (1 when it had none, e.g. a signal ended it).
        let code = match rpr::num(&state, "last_exit_code") {
            Some(c) if c >= 1.0 && c <= 255.0 => c as u32,
            _ => 1,
        };
        let reason = format!("gave up after {} runs", run);
        rpr::output(&format!(r#"{{"action":"stop","reason":{},"exit_code":{}}}"#, rpr::quote(&reason), code));
    } else {
        // A decision may also carry "message": one line rpr prints on stderr. Add it only when the
        // user asked for it (a setting), as the bundled schedulers do with --show-metrics.
        rpr::output(&format!(r#"{{"action":"run","delay_ms":{}}}"#, delay));
    }
    0
}
