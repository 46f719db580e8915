// The plugin's resolved config: what `init` receives (every key of the plugin.toml [config] schema,
// defaults applied, durations already converted to integer milliseconds by the host). A key with
// no default that the user did not set is absent.
import { JsonWriter, JValue, parse, parseError } from "./json";
import { input, output } from "./io";

export class Config {
  constructor(public values: JValue) {}

  has(key: string): bool {
    const v = this.values.get(key);
    return v !== null && !v.isNull;
  }
  /** A duration in ms, a number or an integer. */
  num(key: string, fallback: f64 = 0): f64 {
    return this.values.num(key, fallback);
  }
  str(key: string, fallback: string = ""): string {
    return this.values.str(key, fallback);
  }
  bool(key: string, fallback: bool = false): bool {
    return this.values.bool(key, fallback);
  }
}

/** Answers an ack: {"ok": true} or {"ok": false, "error": ...}. Returns the export's 0. */
export function ack(error: string | null = null): i32 {
  const w = new JsonWriter().beginObject().bool("ok", error === null);
  if (error !== null) w.str("error", error);
  output(w.endObject().toString());
  return 0;
}

/** Reads init's input as a Config; null (and an error ack already answered) if it is not a JSON object. */
export function readConfig(): Config | null {
  const v = parse(input());
  if (v === null || !v.isObject) {
    ack("config is not a JSON object" + (v === null ? ": " + parseError : ""));
    return null;
  }
  return new Config(v);
}

/**
 * The usual init: parse the config, hand it to `apply`, which returns null when it is acceptable
 * or the reason it is not (answered as {"ok": false, "error": reason}; the host then refuses to
 * load the plugin and shows the reason).
 */
export function initWith(apply: (c: Config) => string | null): i32 {
  const c = readConfig();
  if (c === null) return 0;
  return ack(apply(c));
}
