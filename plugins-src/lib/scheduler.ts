// For scheduler plugins: the state the host sends to `next` after each run, and the decision it
// expects back. A decision may carry a `message`: one line the user asked to see (--show-metrics,
// --show-next), which rpr prints on stderr; and a `keep`: a JSON value (at most 64 KiB) rpr holds
// for the plugin and hands back as `kept` in every later state, so that what a scheduler has
// learnt survives its instance being rebuilt (after a trap or timeout) or hot-reloaded.
import { input, output } from "./io";
import { JsonWriter, JValue, parse, parseError } from "./json";

export class State {
  /** Runs finished so far (0 before the first run). */
  run: i64 = 0;
  /** Exit code of the last run; hasExitCode is false before the first run or when a signal ended it. */
  lastExitCode: i32 = 0;
  hasExitCode: bool = false;
  success: bool = false;
  durationMs: f64 = 0;
  consecutiveFailures: i64 = 0;
  outputTail: string = "";
  nowMs: f64 = 0;
  startedMs: f64 = 0;
  /** What the last decision kept (null JValue when nothing was kept, or on a host that keeps nothing). */
  kept: JValue = JValue.nul();

  /** When the last run started (its end, now, minus its duration). */
  get lastStartMs(): f64 {
    return this.nowMs - this.durationMs;
  }

  /** The exit code rpr should end with after this run: 0 after a success, else its code (1 if it has none). */
  get exitCode(): i32 {
    if (this.success) return 0;
    if (!this.hasExitCode || this.lastExitCode == 0) return 1;
    return this.lastExitCode < 0 || this.lastExitCode > 255 ? 1 : this.lastExitCode;
  }
}

/** Why the last readState() returned null. */
export let stateError: string = "";

/** The state given to `next`; null if the input is not a scheduler-state object. */
export function readState(): State | null {
  const v = parse(input());
  if (v === null || !v.isObject) {
    stateError = "state is not a JSON object" + (v === null ? ": " + parseError : "");
    return null;
  }
  const s = new State();
  s.run = <i64>v.num("run");
  s.hasExitCode = v.isNumber("last_exit_code");
  s.lastExitCode = <i32>v.num("last_exit_code");
  s.success = v.bool("success");
  s.durationMs = Math.max(0, v.num("duration_ms"));
  s.consecutiveFailures = <i64>v.num("consecutive_failures");
  s.outputTail = v.str("output_tail");
  s.nowMs = v.num("now_ms");
  s.startedMs = v.num("started_ms");
  const kept = v.get("kept");
  if (kept !== null) s.kept = kept;
  return s;
}

/**
 * Answers "run after `delayMs`" (from now: the end of the last run). Rounded up to whole ms, so a
 * computed earliest time is never undercut - after taking off a nanosecond of floating-point
 * noise (999.9999999 and 1000.0000001 are both 1000). Returns the export's 0.
 */
export function runAfter(delayMs: f64, message: string | null = null, keep: JValue | null = null): i32 {
  const w = new JsonWriter().beginObject().str("action", "run").num("delay_ms", Math.max(0, Math.ceil(delayMs - 1e-6)));
  if (message !== null) w.str("message", message);
  if (keep !== null) w.key("keep").value(keep);
  output(w.endObject().toString());
  return 0;
}

/** Answers "stop", with the reason rpr reports and the exit code it ends with. */
export function stop(reason: string, exitCode: i32, message: string | null = null): i32 {
  const w = new JsonWriter().beginObject().str("action", "stop").str("reason", reason).num("exit_code", exitCode);
  if (message !== null) w.str("message", message);
  output(w.endObject().toString());
  return 0;
}
