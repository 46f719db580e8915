// exponential (aliases exp, backoff): retry n waits initial x multiplier^(n-1), capped at max, then
// jittered: none (exact), full (uniform in [0, d)), equal (d/2 + uniform in [0, d/2)).
// Stops at the first success unless --continuous; --attempts caps the runs.
import { Backoff, backoffInit } from "../lib/backoff";
import { Config } from "../lib/config";
import { Rng } from "../lib/host";
import { State } from "../lib/scheduler";
export { describe } from "../lib/describe";

const NONE = 0;
const FULL = 1;
const EQUAL = 2;

class Exponential extends Backoff {
  initial: f64 = 1000;
  multiplier: f64 = 2;
  jitter: i32 = NONE;
  rng: Rng = new Rng();

  configure(c: Config): string | null {
    this.initial = c.num("initial", 1000);
    this.multiplier = c.num("multiplier", 2);
    const jitter = c.str("jitter", "none");
    if (this.initial <= 0) return "initial must be greater than 0";
    if (!(this.multiplier >= 1)) return "multiplier must be 1 or more, got " + this.multiplier.toString();
    if (jitter == "none") this.jitter = NONE;
    else if (jitter == "full") this.jitter = FULL;
    else if (jitter == "equal") this.jitter = EQUAL;
    else return 'jitter must be none, full or equal, got "' + jitter + '"';
    return null;
  }

  first(): f64 {
    return this.initial;
  }

  delay(n: i64, state: State): f64 {
    // multiplier^(n-1) overflows to Infinity for large n; the cap keeps it finite.
    const d = Math.min(this.initial * Math.pow(this.multiplier, <f64>(n - 1)), this.max);
    if (this.jitter == FULL) return d * this.rng.next(state.nowMs);
    if (this.jitter == EQUAL) return d / 2 + (d / 2) * this.rng.next(state.nowMs);
    return d;
  }
}

const plugin = new Exponential();

export function init(): i32 {
  return backoffInit(plugin);
}

export function next(): i32 {
  return plugin.next();
}
