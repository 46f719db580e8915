// predictive: one run per --every, started where the machine's load is predicted lowest.
//  - Periods of --every count from the job's start; the first run is at once (there is no model yet).
//  - Before each decision the host reads the load (permission "system-load"): the 1-minute load
//    average per core, in % (100 = every core busy). The model (model.ts) keeps an average of the
//    readings, a daily profile by quarter hour (UTC) and the command's usual duration.
//  - Each later run starts at the beginning of the stretch of its period, --window long (or as long
//    as the command usually takes), whose predicted load is lowest; ties go to the earliest.
//  - --max-load: when no stretch of the period is predicted at or below it, the run is held past
//    its period for the first one that is, at most --max-delay (then it runs).
// The model goes back to rpr with every decision (keep) and is read from every state (kept), so a
// rebuilt or reloaded instance carries on with it. --show-metrics puts each choice in the message.
import { Config, initWith } from "../lib/config";
import { SystemLoad, systemLoad } from "../lib/host";
import { fail, logWarn } from "../lib/io";
import { readState, runAfter, State, stateError } from "../lib/scheduler";
import { formatDuration, isoTime } from "../lib/units";
import { Model } from "./model";
export { describe } from "../lib/describe";

let every: f64 = 3_600_000;
let window: f64 = 0;
let maxLoad: f64 = 0;
let maxDelay: f64 = 3_600_000;
let showMetrics = false;
let warned = false;

function configure(c: Config): string | null {
  every = c.num("every", 0);
  if (!(every > 0)) return "every must be greater than 0";
  window = c.num("window", 0);
  if (!(window >= 0 && window <= every)) return "window must be between 0 and every (" + formatDuration(every) + "), got " + formatDuration(window);
  maxLoad = c.num("max-load", 0);
  if (!(maxLoad >= 0)) return "max-load is a load in % (100 = every core busy): 0 (off) or more";
  maxDelay = c.has("max-delay") ? c.num("max-delay") : every;
  if (!(maxDelay >= 0)) return "max-delay must not be negative";
  showMetrics = c.bool("show-metrics", false);
  return null;
}

export function init(): i32 {
  return initWith(configure);
}

function pct(x: f64): string {
  const r = Math.round(x * 10) / 10;
  return (r == Math.floor(r) ? (<i64>r).toString() : r.toString()) + "%";
}

/** The load the model learns from: the 1-minute load average per core, in %. */
function loadOf(r: SystemLoad): f64 {
  return (100 * r.load1) / <f64>Math.max(1, r.cores);
}

class Choice {
  at: f64 = 0;
  cost: f64 = 0;
  highest: f64 = 0;
  held: bool = false;
}

/** Where in [earliest, latest] (then up to `limit`, with --max-load) the run goes. */
function choose(model: Model, earliest: f64, latest: f64, limit: f64, stretch: f64, now: f64): Choice {
  const step = Math.max(every / 60, 1);
  const c = new Choice();
  c.at = earliest;
  c.cost = model.cost(earliest, stretch, now);
  c.highest = c.cost;
  for (let t = earliest + step; t <= latest + 1e-6; t += step) {
    const x = model.cost(t, stretch, now);
    if (x < c.cost - 1e-9) {
      c.at = t;
      c.cost = x;
    }
    if (x > c.highest) c.highest = x;
  }
  if (maxLoad > 0 && c.cost > maxLoad && limit > latest) {
    // Hold: the first stretch after the period predicted at or below --max-load; none by the
    // limit, the run goes at the limit (held no longer than --max-delay).
    c.held = true;
    c.at = limit;
    c.cost = model.cost(limit, stretch, now);
    // At most 1000 moments looked at, however long --max-delay is against --every.
    const holdStep = Math.max(step, (limit - latest) / 1000);
    for (let t = latest + holdStep; t < limit; t += holdStep) {
      const x = model.cost(t, stretch, now);
      if (x <= maxLoad) {
        c.at = t;
        c.cost = x;
        break;
      }
    }
  }
  return c;
}

export function next(): i32 {
  const s = readState();
  if (s === null) return fail(stateError);
  const kept = Model.fromJson(s.kept);
  const model = kept !== null ? kept : new Model();
  let period = kept !== null ? s.kept.num("period") : 0;

  const reading = systemLoad();
  let note = "";
  if (reading.error.length > 0) {
    if (!warned) logWarn("predictive: " + reading.error + "; running at the start of each period");
    warned = true;
    note = "no load reading (" + reading.error + ")";
  } else {
    model.observe(s.nowMs, loadOf(reading));
    note = "load " + pct(model.current) + ", usually " + pct(model.level) + ", " + model.known().toString() + "/96 quarter hours seen";
  }
  if (s.run > 0) model.observeDuration(s.durationMs);
  if (s.run == 0) {
    return runAfter(0, showMetrics ? "predictive: " + note + "; run 1 now, then one per " + formatDuration(every) : null, model.toJson(0));
  }
  return plan(s, model, period + 1, note);
}

function plan(s: State, model: Model, nextPeriod: f64, note: string): i32 {
  const now = s.nowMs;
  let k = nextPeriod;
  // A run that outlasted its period: the next run is in the period that holds now.
  const current = Math.floor((now - s.startedMs) / every);
  if (current > k) k = current;
  const slot = s.startedMs + k * every;
  const stretch = Math.min(every, Math.max(window, model.duration));
  const earliest = Math.max(slot, now);
  const latest = Math.max(earliest, slot + every - stretch);
  const c = choose(model, earliest, latest, latest + maxDelay, stretch, now);
  let message: string | null = null;
  if (showMetrics) {
    message =
      "predictive: " + note + "; run " + (s.run + 1).toString() + " in " + formatDuration(c.at - now) + " at " + isoTime(c.at) +
      ", predicted " + pct(c.cost) + (stretch > 0 ? " over " + formatDuration(stretch) : "") + " (its period's highest " + pct(c.highest) + ")" +
      (c.held ? ", held past its period by --max-load " + pct(maxLoad) : "");
  }
  return runAfter(c.at - now, message, model.toJson(k));
}
