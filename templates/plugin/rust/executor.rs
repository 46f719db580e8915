//! {{name}}: an rpr executor plugin, in Rust with no crates. For every run rpr asks `plan` how to
//! run the user's command; the answer is the program and arguments rpr starts, with extra
//! environment variables and a working directory. rpr only starts programs listed in plugin.toml's
//! exec permission. This one runs the command through `sh -c 'exec "$@"'` with RPR_EXECUTOR set to
//! its label. The messages are in rpr's wit/rpr-plugin.wit; the settings are in plugin.toml.
mod rpr;

use std::sync::Mutex;

static LABEL: Mutex<String> = Mutex::new(String::new());

/// What this plugin is (generated from plugin.toml by build.mjs): rpr checks it against plugin.toml.
#[no_mangle]
pub extern "C" fn describe() -> i32 {
    rpr::output(include_str!("../build/describe.json"));
    0
}

/// The settings, resolved by rpr: every key of [config], defaults applied.
#[no_mangle]
pub extern "C" fn init() -> i32 {
    let label = rpr::string(&rpr::input(), "label").unwrap_or_else(|| "{{name}}".to_string());
    *LABEL.lock().unwrap() = label;
    rpr::output(r#"{"ok":true}"#);
    0
}

#[no_mangle]
pub extern "C" fn plan() -> i32 {
    let command = rpr::input();
    let argv = rpr::strings(&command, "argv");
    if argv.is_empty() {
        return rpr::fail("the command is empty");
    }
    let mut out = String::from(r#"{"argv":["sh","-c","exec \"$@\"","sh""#);
    for arg in &argv {
        out.push(',');
        out.push_str(&rpr::quote(arg));
    }
    let label = LABEL.lock().unwrap().clone();
    let label = if label.is_empty() { "{{name}}".to_string() } else { label };
    let cwd = rpr::string(&command, "cwd").unwrap_or_else(|| ".".to_string());
    out.push_str(&format!(r#"],"env":{{"RPR_EXECUTOR":{}}},"cwd":{}}}"#, rpr::quote(&label), rpr::quote(&cwd)));
    rpr::output(&out);
    0
}
