// {{name}}: an rpr output plugin. rpr hands `deliver` every job event (job-start, run-start,
// run-end, skipped, next, stopping, job-end), in order, off the job's path: a slow or failing
// output never delays the job. This one writes a line to rpr's log at the end of every run and
// of the job. The messages are in rpr's wit/rpr-plugin.wit; the settings are declared in plugin.toml.
import { DESCRIPTION } from "../build/description";
import { input, int, log, numberField, output, stringField } from "./rpr";

let prefix: string = "{{name}}";

/** What this plugin is (generated from plugin.toml by build.mjs): rpr checks it against plugin.toml. */
export function describe(): i32 {
  output(DESCRIPTION);
  return 0;
}

/** The settings, resolved by rpr: every key of [config], defaults applied. */
export function init(): i32 {
  prefix = stringField(input(), "prefix", "{{name}}");
  output("{\"ok\":true}");
  return 0;
}

export function deliver(): i32 {
  const event = input();
  const type = stringField(event, "type", "");
  if (type == "run-end") {
    const code = numberField(event, "exit_code", NaN);
    const how = isNaN(code) ? "ended by " + stringField(event, "signal", "a signal") : "exit " + int(code);
    log(prefix + ": run " + int(numberField(event, "run", 0)) + " ended: " + how + " in " + int(numberField(event, "duration_ms", 0)) + "ms");
  } else if (type == "job-end") {
    log(prefix + ": job ended (" + stringField(event, "reason", "?") + "), exit " + int(numberField(event, "exit_code", 0)));
  }
  output("{\"ok\":true}");
  return 0;
}
