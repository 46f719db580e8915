// decorrelated-jitter (alias dj): the first retry waits initial; each later one a uniform random
// wait in [initial, previous x multiplier), capped at max (AWS's "decorrelated jitter").
// Stops at the first success unless --continuous (a success starts over from initial).
import { Backoff, backoffInit } from "../lib/backoff";
import { Config } from "../lib/config";
import { Rng } from "../lib/host";
import { State } from "../lib/scheduler";
export { describe } from "../lib/describe";

class DecorrelatedJitter extends Backoff {
  initial: f64 = 1000;
  multiplier: f64 = 3;
  previous: f64 = 0;
  rng: Rng = new Rng();

  configure(c: Config): string | null {
    this.initial = c.num("initial", 1000);
    this.multiplier = c.num("multiplier", 3);
    if (this.initial <= 0) return "initial must be greater than 0";
    if (!(this.multiplier > 1)) return "multiplier must be greater than 1, got " + this.multiplier.toString();
    return null;
  }

  first(): f64 {
    return this.initial;
  }

  reset(): void {
    this.previous = 0;
  }

  delay(n: i64, state: State): f64 {
    // n == 1 (first retry, or a success in continuous mode) starts over. If the instance was
    // rebuilt mid-sequence, previous is 0 and the sequence starts over too.
    if (n <= 1 || this.previous <= 0) {
      this.previous = this.initial;
      return this.initial;
    }
    const high = Math.min(this.previous * this.multiplier, this.max);
    const d = this.initial + (high - this.initial) * this.rng.next(state.nowMs);
    this.previous = d;
    return d;
  }
}

const plugin = new DecorrelatedJitter();

export function init(): i32 {
  return backoffInit(plugin);
}

export function next(): i32 {
  return plugin.next();
}
