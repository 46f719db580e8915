// {{name}}: an rpr scheduler plugin. rpr calls `next` before the first run (run 0) and after every
// run, with the job's state; the answer says how long to wait before the next run, or to stop.
// This one retries after a fixed delay until the command succeeds, at most `attempts` runs.
// The messages are in rpr's wit/rpr-plugin.wit; the settings are declared in plugin.toml.
import { DESCRIPTION } from "../build/description";
import { boolField, fail, input, int, numberField, output, quote } from "./rpr";

let delayMs: f64 = 200;
let attempts: f64 = 5;

/** What this plugin is (generated from plugin.toml by build.mjs): rpr checks it against plugin.toml. */
export function describe(): i32 {
  output(DESCRIPTION);
  return 0;
}

/** The settings, resolved by rpr: every key of [config], defaults applied, durations in ms. */
export function init(): i32 {
  const config = input();
  delayMs = numberField(config, "delay", 200);
  attempts = numberField(config, "attempts", 5);
  if (delayMs < 0) return fail("delay must not be negative");
  if (attempts < 0) return fail("attempts must not be negative");
  output("{\"ok\":true}");
  return 0;
}

export function next(): i32 {
  const state = input();
  const run = numberField(state, "run", 0);
  if (run == 0) {
    output("{\"action\":\"run\",\"delay_ms\":0}");
    return 0;
  }
  if (boolField(state, "success", false)) {
    output("{\"action\":\"stop\",\"reason\":\"succeeded\",\"exit_code\":0}");
    return 0;
  }
  if (attempts > 0 && run >= attempts) {
    // End with the last run's exit code (1 when it had none, e.g. a signal ended it).
    let code = numberField(state, "last_exit_code", 1);
    if (code < 1 || code > 255) code = 1;
    output("{\"action\":\"stop\",\"reason\":" + quote("gave up after " + int(run) + " runs") + ",\"exit_code\":" + int(code) + "}");
    return 0;
  }
  // A decision may also carry "message": one line rpr prints on stderr. Add it only when the user
  // asked for it (a setting), as the bundled schedulers do with --show-metrics.
  output("{\"action\":\"run\",\"delay_ms\":" + int(delayMs) + "}");
  return 0;
}
