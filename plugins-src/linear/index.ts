// linear (alias lin): retry n waits n x increment, capped at max.
// Stops at the first success unless --continuous; --attempts caps the runs.
import { Backoff, backoffInit } from "../lib/backoff";
import { Config } from "../lib/config";
import { State } from "../lib/scheduler";
export { describe } from "../lib/describe";

class Linear extends Backoff {
  increment: f64 = 1000;

  configure(c: Config): string | null {
    this.increment = c.num("increment", 1000);
    if (this.increment <= 0) return "increment must be greater than 0";
    return null;
  }

  first(): f64 {
    return this.increment;
  }

  delay(n: i64, state: State): f64 {
    return <f64>n * this.increment;
  }
}

const plugin = new Linear();

export function init(): i32 {
  return backoffInit(plugin);
}

export function next(): i32 {
  return plugin.next();
}
