// {{name}}: an rpr executor plugin. For every run rpr asks `plan` how to run the user's command;
// the answer is the program and arguments rpr starts, with extra environment variables and a
// working directory. rpr only starts programs listed in plugin.toml's exec permission.
// This one runs the command through `sh -c 'exec "$@"'` with RPR_EXECUTOR set to its label.
// The messages are in rpr's wit/rpr-plugin.wit; the settings are declared in plugin.toml.
import { DESCRIPTION } from "../build/description";
import { fail, input, output, quote, stringField, stringsField } from "./rpr";

let label: string = "{{name}}";

/** What this plugin is (generated from plugin.toml by build.mjs): rpr checks it against plugin.toml. */
export function describe(): i32 {
  output(DESCRIPTION);
  return 0;
}

/** The settings, resolved by rpr: every key of [config], defaults applied. */
export function init(): i32 {
  label = stringField(input(), "label", "{{name}}");
  output("{\"ok\":true}");
  return 0;
}

export function plan(): i32 {
  const command = input();
  const argv = stringsField(command, "argv");
  if (argv.length == 0) return fail("the command is empty");
  let out = "{\"argv\":[\"sh\",\"-c\",\"exec \\\"$@\\\"\",\"sh\"";
  for (let i = 0; i < argv.length; i++) out += "," + quote(argv[i]);
  out += "],\"env\":{\"RPR_EXECUTOR\":" + quote(label) + "},\"cwd\":" + quote(stringField(command, "cwd", ".")) + "}";
  output(out);
  return 0;
}
