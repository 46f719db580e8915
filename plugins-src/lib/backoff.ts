// The retry family (exponential, fibonacci, linear, polynomial, decorrelated-jitter) shares one
// engine; a plugin only says how long retry n waits.
//
//  - The first run starts at once.
//  - After a failure, wait delay(n), n = consecutive failures so far (1, 2, 3...), capped at max.
//  - Stop at the first success with exit code 0 (retry semantics) - unless `continuous`, where a
//    success resets the sequence (the next wait is delay(1)) and the job goes on.
//  - `attempts` N > 0 caps the runs; the exit code is then the last run's.
import { Config, initWith } from "./config";
import { fail } from "./io";
import { readState, runAfter, State, stateError, stop } from "./scheduler";
import { formatDuration } from "./units";

export class Backoff {
  max: f64 = 60000;
  attempts: i64 = 0;
  continuous: bool = false;

  /** Reads the plugin's own settings; returns why they are wrong, or null. Override. */
  configure(c: Config): string | null {
    return null;
  }
  /** The wait before retry n (n >= 1), uncapped. Override. */
  delay(n: i64, state: State): f64 {
    return 0;
  }
  /** The first delay, for the max >= first check. Override. */
  first(): f64 {
    return this.delay(1, new State());
  }
  /** Called when a success resets the sequence (continuous mode). */
  reset(): void {}

  init(c: Config): string | null {
    this.max = c.num("max", 60000);
    this.attempts = <i64>c.num("attempts", 0);
    this.continuous = c.bool("continuous", false);
    if (this.attempts < 0) return "attempts must be 0 (no limit) or more, got " + this.attempts.toString();
    const problem = this.configure(c);
    if (problem !== null) return problem;
    if (this.max <= 0) return "max must be greater than 0";
    const first = this.first();
    if (this.max < first) return "max (" + formatDuration(this.max) + ") is less than the first delay (" + formatDuration(first) + ")";
    return null;
  }

  next(): i32 {
    const s = readState();
    if (s === null) return fail(stateError);
    if (s.run == 0) return runAfter(0);
    if (s.success && !this.continuous) {
      return stop("succeeded on run " + s.run.toString(), 0);
    }
    if (this.attempts > 0 && s.run >= this.attempts) {
      return stop((s.success ? "ran" : "failed") + " " + s.run.toString() + (s.run == 1 ? " time" : " times") + " (--attempts " + this.attempts.toString() + ")", s.exitCode);
    }
    if (s.success) {
      this.reset();
      return runAfter(Math.min(this.delay(1, s), this.max));
    }
    const n = s.consecutiveFailures > 0 ? s.consecutiveFailures : 1;
    return runAfter(Math.min(this.delay(n, s), this.max));
  }
}

/** init for a backoff plugin: export function init(): i32 { return backoffInit(plugin); } */
let current: Backoff | null = null;
function applyConfig(c: Config): string | null {
  return current!.init(c);
}
export function backoffInit(plugin: Backoff): i32 {
  current = plugin;
  return initWith(applyConfig);
}
