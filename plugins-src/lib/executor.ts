// For executor plugins: the command the host gives to `plan`, and the plan it expects back. The host
// spawns plan.argv only if argv[0] is in the plugin's [permissions].exec.
import { input, output } from "./io";
import { JsonWriter, JType, JValue, parse, parseError } from "./json";

export class Command {
  argv: string[] = [];
  cwd: string = "";
  run: i64 = 0;
}

export let commandError: string = "";

export function readCommand(): Command | null {
  const v = parse(input());
  if (v === null) {
    commandError = "command is not JSON: " + parseError;
    return null;
  }
  const argv: JValue | null = v.get("argv");
  if (argv === null || argv.type != JType.Array) {
    commandError = "command is not {argv: [...], cwd, run}";
    return null;
  }
  const c = new Command();
  for (let i = 0; i < argv.items.length; i++) {
    const item = argv.items[i];
    if (item.type != JType.String) {
      commandError = "command argv must be strings";
      return null;
    }
    c.argv.push(item.s);
  }
  c.cwd = v.str("cwd", "");
  c.run = <i64>v.num("run");
  return c;
}

/** Answers the plan. `env` is pairs: [name, value, name, value, ...]. */
export function answerPlan(argv: string[], env: string[], cwd: string): i32 {
  const w = new JsonWriter().beginObject().key("argv").beginArray();
  for (let i = 0; i < argv.length; i++) w.string(argv[i]);
  w.endArray().key("env").beginObject();
  for (let i = 0; i + 1 < env.length; i += 2) w.str(env[i], env[i + 1]);
  w.endObject().str("cwd", cwd).endObject();
  output(w.toString());
  return 0;
}

/** A comma-separated setting as a list (items trimmed, empty ones dropped). */
export function list(text: string): string[] {
  const out: string[] = [];
  const parts = text.split(",");
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i].trim();
    if (p.length > 0) out.push(p);
  }
  return out;
}
