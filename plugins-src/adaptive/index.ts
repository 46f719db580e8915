// adaptive (alias a): AIMD on the interval between runs, starting from --base-interval.
//  - A failed run, or a slow one (duration above --slow-threshold x the moving average of earlier
//    successful runs), multiplies the interval by --backoff-factor: back off from a struggling service.
//  - A healthy run shrinks it by --step, toward --min-interval.
//  - Always within [--min-interval, --max-interval].
// The decision reacts to the run that just finished (rpr asks after each run). The first run is at once.
// --show-metrics puts one line per decision in the decision's message, which rpr prints on stderr.
// What it has learnt (interval, averages, counts) goes back to rpr with every decision (`keep`) and
// is read back from the state (`kept`): a rebuilt or reloaded instance carries on where it was.
import { Config, initWith } from "../lib/config";
import { fail } from "../lib/io";
import { JValue } from "../lib/json";
import { readState, runAfter, State, stateError } from "../lib/scheduler";
import { formatDuration } from "../lib/units";
export { describe } from "../lib/describe";

/** Weight of the newest duration in the moving average. */
const ALPHA: f64 = 0.2;

let base: f64 = 1000;
let minInterval: f64 = 100;
let maxInterval: f64 = 10000;
let factor: f64 = 2;
let step: f64 = 100;
let slowThreshold: f64 = 2;
let fastThreshold: f64 = 1;
let failureThreshold: f64 = 0;
let showMetrics = false;
/** Moving share of successful runs, for --failure-threshold (the Go rpr's circuit breaker). */
let successRate: f64 = 1;

let interval: f64 = 1000;
/** Moving average of successful runs' durations; < 0 before the first. */
let average: f64 = -1;
let runs: i64 = 0;
let failures: i64 = 0;
/** The run last taken into account (asked again about the same run, answer the same). */
let recorded: i64 = 0;

function configure(c: Config): string | null {
  base = c.num("base-interval", 0);
  if (base <= 0) return "base-interval must be greater than 0";
  minInterval = c.has("min-interval") ? c.num("min-interval") : base / 10;
  maxInterval = c.has("max-interval") ? c.num("max-interval") : base * 10;
  step = c.has("step") ? c.num("step") : base / 10;
  factor = c.num("backoff-factor", 2);
  slowThreshold = c.num("slow-threshold", 2);
  fastThreshold = c.num("fast-threshold", 1);
  failureThreshold = c.num("failure-threshold", 0);
  showMetrics = c.bool("show-metrics", false);
  if (!(minInterval <= base && base <= maxInterval)) {
    return "need min-interval <= base-interval <= max-interval, got " + formatDuration(minInterval) + ", " + formatDuration(base) + ", " + formatDuration(maxInterval);
  }
  if (!(factor > 1)) return "backoff-factor must be greater than 1, got " + factor.toString();
  if (!(slowThreshold > 1)) return "slow-threshold must be greater than 1, got " + slowThreshold.toString();
  if (!(step > 0)) return "step must be greater than 0";
  if (!(fastThreshold > 0 && fastThreshold <= 1)) return "fast-threshold must be in (0, 1], got " + fastThreshold.toString();
  if (!(failureThreshold >= 0 && failureThreshold < 1)) return "failure-threshold must be in [0, 1), got " + failureThreshold.toString();
  interval = base;
  return null;
}

export function init(): i32 {
  return initWith(configure);
}

function percent(part: i64, whole: i64): string {
  return whole == 0 ? "-" : (<i64>Math.round((100.0 * <f64>part) / <f64>whole)).toString() + "%";
}

/** Version of what is kept: a later version that changes it must not misread an older one. */
const KEPT_VERSION: f64 = 1;

function keep(): JValue {
  const k = JValue.object();
  k.set("v", JValue.number(KEPT_VERSION));
  k.set("interval", JValue.number(interval));
  k.set("average", JValue.number(average));
  k.set("success_rate", JValue.number(successRate));
  k.set("runs", JValue.number(<f64>runs));
  k.set("failures", JValue.number(<f64>failures));
  k.set("recorded", JValue.number(<f64>recorded));
  return k;
}

/** Takes up what rpr kept (a fresh instance starts from it; a running one finds its own numbers). */
function restore(s: State): void {
  const k = s.kept;
  if (!k.isObject || k.num("v") != KEPT_VERSION) return;
  interval = Math.min(Math.max(k.num("interval", interval), minInterval), maxInterval);
  average = k.num("average", average);
  successRate = k.num("success_rate", successRate);
  runs = <i64>k.num("runs", <f64>runs);
  failures = <i64>k.num("failures", <f64>failures);
  recorded = <i64>k.num("recorded", <f64>recorded);
}

export function next(): i32 {
  const s = readState();
  if (s === null) return fail(stateError);
  if (s.run == 0) {
    return runAfter(0, showMetrics ? "adaptive: first run now, then every " + formatDuration(interval) + " to start with" : null, keep());
  }
  restore(s);
  if (s.run == recorded) return runAfter(interval, null, keep());
  recorded = s.run;
  runs++;
  const before = interval;
  const slow = s.success && average > 0 && s.durationMs > slowThreshold * average;
  successRate += ALPHA * ((s.success ? 1.0 : 0.0) - successRate);
  let why: string;
  if (!s.success && successRate < failureThreshold) {
    failures++;
    interval = maxInterval;
    why = "failed; success rate " + percent(<i64>Math.round(successRate * 100), 100) + " below failure-threshold: longest interval";
  } else if (!s.success) {
    failures++;
    interval = Math.min(interval * factor, maxInterval);
    why = "failed";
  } else if (slow) {
    interval = Math.min(interval * factor, maxInterval);
    why = "slow (" + formatDuration(s.durationMs) + " > " + slowThreshold.toString() + " x average " + formatDuration(average) + ")";
  } else if (s.durationMs < fastThreshold * interval) {
    interval = Math.max(interval - step, minInterval);
    why = "ok";
  } else {
    why = "ok, not fast (" + formatDuration(s.durationMs) + " >= " + fastThreshold.toString() + " x interval)";
  }
  if (s.success) average = average < 0 ? s.durationMs : average + ALPHA * (s.durationMs - average);
  let message: string | null = null;
  if (showMetrics) {
    message =
      "adaptive: run " + s.run.toString() + " " + why + " in " + formatDuration(s.durationMs) +
      "; interval " + formatDuration(before) + " -> " + formatDuration(interval) +
      "; average " + (average < 0 ? "-" : formatDuration(average)) +
      "; success " + percent(runs - failures, runs);
  }
  return runAfter(interval, message, keep());
}
