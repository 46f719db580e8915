// polynomial (alias poly): retry n waits initial x n^exponent, capped at max.
// Stops at the first success unless --continuous; --attempts caps the runs.
import { Backoff, backoffInit } from "../lib/backoff";
import { Config } from "../lib/config";
import { State } from "../lib/scheduler";
export { describe } from "../lib/describe";

class Polynomial extends Backoff {
  initial: f64 = 1000;
  exponent: f64 = 2;

  configure(c: Config): string | null {
    this.initial = c.num("initial", 1000);
    this.exponent = c.num("exponent", 2);
    if (this.initial <= 0) return "initial must be greater than 0";
    if (!(this.exponent > 0 && this.exponent <= 10)) return "exponent must be greater than 0 and at most 10, got " + this.exponent.toString();
    return null;
  }

  first(): f64 {
    return this.initial;
  }

  delay(n: i64, state: State): f64 {
    return this.initial * Math.pow(<f64>n, this.exponent);
  }
}

const plugin = new Polynomial();

export function init(): i32 {
  return backoffInit(plugin);
}

export function next(): i32 {
  return plugin.next();
}
