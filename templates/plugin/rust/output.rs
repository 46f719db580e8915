//! {{name}}: an rpr output plugin, in Rust with no crates. rpr hands `deliver` every job event
//! (job-start, run-start, run-end, skipped, next, stopping, job-end), in order, off the job's path:
//! a slow or failing output never delays the job. This one writes a line to rpr's log at the end of
//! every run and of the job. The messages are in rpr's wit/rpr-plugin.wit; the settings are in
//! plugin.toml.
mod rpr;

use std::sync::Mutex;

static PREFIX: Mutex<String> = Mutex::new(String::new());

/// What this plugin is (generated from plugin.toml by build.mjs): rpr checks it against plugin.toml.
#[no_mangle]
pub extern "C" fn describe() -> i32 {
    rpr::output(include_str!("../build/describe.json"));
    0
}

/// The settings, resolved by rpr: every key of [config], defaults applied.
#[no_mangle]
pub extern "C" fn init() -> i32 {
    let prefix = rpr::string(&rpr::input(), "prefix").unwrap_or_else(|| "{{name}}".to_string());
    *PREFIX.lock().unwrap() = prefix;
    rpr::output(r#"{"ok":true}"#);
    0
}

#[no_mangle]
pub extern "C" fn deliver() -> i32 {
    let event = rpr::input();
    let prefix = PREFIX.lock().unwrap().clone();
    match rpr::string(&event, "type").as_deref() {
        Some("run-end") => {
            let how = match rpr::num(&event, "exit_code") {
                Some(code) => format!("exit {}", code as i64),
                None => format!("ended by {}", rpr::string(&event, "signal").unwrap_or_else(|| "a signal".to_string())),
            };
            let run = rpr::num(&event, "run").unwrap_or(0.0) as u64;
            let ms = rpr::num(&event, "duration_ms").unwrap_or(0.0) as u64;
            rpr::log(&format!("{}: run {} ended: {} in {}ms", prefix, run, how, ms));
        }
        Some("job-end") => {
            let reason = rpr::string(&event, "reason").unwrap_or_else(|| "?".to_string());
            let code = rpr::num(&event, "exit_code").unwrap_or(0.0) as i64;
            rpr::log(&format!("{}: job ended ({}), exit {}", prefix, reason, code));
        }
        _ => {}
    }
    rpr::output(r#"{"ok":true}"#);
    0
}
