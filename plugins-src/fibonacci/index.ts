// fibonacci (alias fib): retry n waits initial x fib(n) - 1, 1, 2, 3, 5, 8... x initial - capped
// at max. Stops at the first success unless --continuous; --attempts caps the runs.
import { Backoff, backoffInit } from "../lib/backoff";
import { Config } from "../lib/config";
import { State } from "../lib/scheduler";
export { describe } from "../lib/describe";

class Fibonacci extends Backoff {
  initial: f64 = 1000;

  configure(c: Config): string | null {
    this.initial = c.num("initial", 1000);
    if (this.initial <= 0) return "initial must be greater than 0";
    return null;
  }

  delay(n: i64, state: State): f64 {
    // Iterate, but stop once past max: fib(n) overflows long before n does.
    let a: f64 = 1;
    let b: f64 = 1;
    for (let i: i64 = 2; i < n && a * this.initial < this.max; i++) {
      const next = a + b;
      a = b;
      b = next;
    }
    return (n <= 2 ? 1 : b) * this.initial;
  }
}

const plugin = new Fibonacci();

export function init(): i32 {
  return backoffInit(plugin);
}

export function next(): i32 {
  return plugin.next();
}
