// load-adaptive (alias la): the interval follows the machine's real load. Before each wait the host
// reads CPU busy %, memory used % and the 1-minute load average (permission "system-load"), and
//   interval = base-interval x max(cpu / target-cpu, memory / target-memory, load1 per core / target-load)
// within [min-interval, max-interval]: twice the target load, twice the interval; an idle machine
// runs more often. The first run is at once. --show-metrics puts each reading in the decision's message.
import { Config, initWith } from "../lib/config";
import { SystemLoad, systemLoad } from "../lib/host";
import { fail, logWarn } from "../lib/io";
import { readState, runAfter, stateError } from "../lib/scheduler";
import { formatDuration } from "../lib/units";
export { describe } from "../lib/describe";

let base: f64 = 1000;
let minInterval: f64 = 100;
let maxInterval: f64 = 10000;
let targetCpu: f64 = 70;
let targetMemory: f64 = 80;
let targetLoad: f64 = 1;
let showMetrics = false;
let warned = false;

function configure(c: Config): string | null {
  base = c.num("base-interval", 0);
  if (base <= 0) return "base-interval must be greater than 0";
  minInterval = c.has("min-interval") ? c.num("min-interval") : base / 10;
  maxInterval = c.has("max-interval") ? c.num("max-interval") : base * 10;
  targetCpu = c.num("target-cpu", 70);
  targetMemory = c.num("target-memory", 80);
  targetLoad = c.num("target-load", 1);
  showMetrics = c.bool("show-metrics", false);
  if (!(minInterval <= base && base <= maxInterval)) {
    return "need min-interval <= base-interval <= max-interval, got " + formatDuration(minInterval) + ", " + formatDuration(base) + ", " + formatDuration(maxInterval);
  }
  if (!(targetCpu > 0 && targetCpu <= 100)) return "target-cpu is a percentage: more than 0, at most 100";
  if (!(targetMemory > 0 && targetMemory <= 100)) return "target-memory is a percentage: more than 0, at most 100";
  if (!(targetLoad > 0)) return "target-load (load average per core) must be greater than 0";
  return null;
}

export function init(): i32 {
  return initWith(configure);
}

function fixed(x: f64, digits: i32): string {
  const scale = Math.pow(10, digits);
  const r = Math.round(x * scale) / scale;
  return r == Math.floor(r) ? (<i64>r).toString() : r.toString();
}

export function next(): i32 {
  const s = readState();
  if (s === null) return fail(stateError);
  if (s.run == 0) return runAfter(0);
  const load: SystemLoad = systemLoad();
  if (load.error.length > 0) {
    // Without a reading, keep the base interval; say why once (and each time if asked to show metrics).
    if (!warned) logWarn("load-adaptive: " + load.error + "; running every base-interval");
    warned = true;
    return runAfter(base, showMetrics ? "load-adaptive: no load reading (" + load.error + "); interval " + formatDuration(base) : null);
  }
  const cpu = load.cpuPercent / targetCpu;
  const memory = load.memoryPercent / targetMemory;
  const perCore = load.load1 / <f64>load.cores;
  const avg = perCore / targetLoad;
  const ratio = Math.max(cpu, Math.max(memory, avg));
  const interval = Math.min(Math.max(base * ratio, minInterval), maxInterval);
  let message: string | null = null;
  if (showMetrics) {
    message =
      "load-adaptive: cpu " + fixed(load.cpuPercent, 1) + "% (target " + fixed(targetCpu, 1) + ")" +
      ", memory " + fixed(load.memoryPercent, 1) + "% (target " + fixed(targetMemory, 1) + ")" +
      ", load " + fixed(perCore, 2) + "/core (target " + fixed(targetLoad, 2) + ")" +
      ": x" + fixed(ratio, 2) + ", interval " + formatDuration(interval);
  }
  return runAfter(interval, message);
}
