// alertmanager: an alert in Prometheus Alertmanager (API v2) while the job's runs fail.
//  - Fires `alertname` (RprJobFailing) with labels alertname, job, instance (+ `labels`) when the
//    runs start failing (`on`: the first failure, N in a row, or as failure and sent again at once
//    when the failure changes), with the last exit code and output line as annotations.
//  - While it fires it is sent again at most every `resend`, with an endsAt far enough ahead that
//    Alertmanager holds it until the next run (4 x resend past the next run's due time).
//  - Resolved (endsAt = now) by the first successful run, and when the job ends.
//  - Every URL gets every alert; one that is down is tried again later (at most every `resend`)
//    and does not keep the others from getting it. Times are the job events' own: no clock needed.
// No network permission by default: the user grants each Alertmanager's host:port.
import { Config, initWith } from "../lib/config";
import { checkUrl } from "../lib/http";
import { fail } from "../lib/io";
import { delivered, eventError, job, JobEvent, readEvent, trackJob } from "../lib/output";
import { Alert, body, Label, labelsOf, lastLine, post, Target } from "./alert";
export { describe } from "../lib/describe";

const MODES = "failure, consecutive:N (N from 1 to 1000) or change";

let targets: Target[] = [];
let mode = "failure";
let threshold: i64 = 1;
let resend: f64 = 60_000;
let instance = "";
let alertname = "RprJobFailing";
let extra: Label[] = [];
let generatorUrl = "";
let retries: i32 = 1;

let host = "";
let alert = new Alert();
/** Failed runs in a row, and the start of the first of them. */
let streak: i64 = 0;
let streakStart: f64 = 0;
/** The latest time an event told, and the latest due time of a next run. */
let clock: f64 = 0;
let nextDue: f64 = 0;

function isLabelName(name: string): bool {
  if (name.length == 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f;
    if (!letter && !(i > 0 && c >= 0x30 && c <= 0x39)) return false;
  }
  return true;
}

function configure(c: Config): string | null {
  const urls = c.str("url").split(",");
  targets = [];
  for (let i = 0; i < urls.length; i++) {
    let u = urls[i].trim();
    if (u.length == 0) continue;
    while (u.endsWith("/")) u = u.substring(0, u.length - 1);
    const problem = checkUrl("url", u);
    if (problem !== null) return problem + " (each of the comma-separated URLs)";
    targets.push(new Target(u));
  }
  if (targets.length == 0) return "url must name at least one Alertmanager, e.g. http://127.0.0.1:9093";
  const on = c.str("on", "failure").trim();
  if (on == "failure" || on == "change") {
    mode = on;
    threshold = 1;
  } else if (on.startsWith("consecutive:")) {
    const n = I64.parseInt(on.substring(12));
    if (!(n >= 1 && n <= 1000) || n.toString() != on.substring(12)) return 'on: "' + on + '" is not ' + MODES;
    mode = "consecutive";
    threshold = n;
  } else {
    return 'on: "' + on + '" is not ' + MODES;
  }
  resend = c.num("resend", 60_000);
  if (!(resend >= 1000)) return "resend must be at least 1s";
  instance = c.str("instance").trim();
  alertname = c.str("alertname", "RprJobFailing").trim();
  if (alertname.length == 0) return "alertname must not be empty";
  extra = [];
  const pairs = c.str("labels").split(",");
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i].trim();
    if (pair.length == 0) continue;
    const eq = pair.indexOf("=");
    const name = eq < 0 ? pair : pair.substring(0, eq).trim();
    if (eq < 0 || !isLabelName(name)) return 'labels: "' + pair + '" is not name=value (a name is letters, digits and _, not starting with a digit)';
    if (name == "alertname" || name == "job" || name == "instance") return "labels: " + name + " is set by the plugin (use the " + (name == "job" ? "job's --name" : name + " setting") + ")";
    extra.push(new Label(name, pair.substring(eq + 1).trim()));
  }
  generatorUrl = c.str("generator-url").trim();
  if (generatorUrl.length > 0) {
    const problem = checkUrl("generator-url", generatorUrl);
    if (problem !== null) return problem;
  }
  const r = c.num("retries", 1);
  if (!(r >= 0 && r <= 5)) return "retries must be 0 to 5";
  retries = <i32>r;
  return null;
}

export function init(): i32 {
  return initWith(configure);
}

function exitOf(e: JobEvent): string {
  if (e.v.bool("timed_out")) return "timeout";
  if (e.hasExitCode) return e.exitCode.toString();
  const signal = e.signal;
  return signal.length > 0 ? signal : "no exit code";
}

/** Marks every Alertmanager as needing the alert's new state. */
function changed(): void {
  for (let i = 0; i < targets.length; i++) targets[i].stale = true;
}

function onRunEnd(e: JobEvent): void {
  if (e.success) {
    streak = 0;
    if (alert.firing) {
      alert.firing = false;
      alert.endsAt = Math.max(e.v.num("end_ms"), alert.startsAt);
      changed();
    }
    return;
  }
  if (streak == 0) streakStart = e.v.num("start_ms");
  streak++;
  const exit = exitOf(e);
  const differs = alert.firing && exit != alert.exit;
  alert.run = e.run;
  alert.exit = exit;
  alert.failedRuns = streak;
  alert.lastOutput = lastLine(e.outputTail);
  if (!alert.firing && streak >= threshold) {
    alert.firing = true;
    alert.startsAt = streakStart;
    changed();
  } else if (differs && mode == "change") {
    changed();
  }
}

/** Sends what each Alertmanager lacks; the reasons of those that did not take it, or "". */
function flush(): string {
  const name = job();
  const inst = instance.length > 0 ? instance : host.length > 0 ? host : "unknown";
  const labels = labelsOf(alertname, name, inst, extra);
  // Firing: held until 4 x resend past the next run's due time (or past now).
  const endsAt = alert.firing ? Math.max(clock, nextDue) + 4 * resend : alert.endsAt;
  let text = "";
  const problems: string[] = [];
  let reached = 0;
  // Those whose last try worked first: a hung one (10 s a try) must not hold the others back.
  const order: Target[] = [];
  for (let i = 0; i < targets.length; i++) if (targets[i].failedAt < targets[i].okAt || targets[i].failedAt < 0) order.push(targets[i]);
  for (let i = 0; i < targets.length; i++) if (!(targets[i].failedAt < targets[i].okAt || targets[i].failedAt < 0)) order.push(targets[i]);
  for (let i = 0; i < order.length; i++) {
    const t = order[i];
    const lapsing = alert.firing && t.validUntil < Math.max(clock, nextDue) + resend;
    const due = t.stale || (alert.firing && clock - t.okAt >= resend) || lapsing;
    if (!due) continue;
    // One that failed lately waits (a hung one costs up to 10 s a try); the others do not wait for it.
    if (t.failedAt >= 0 && clock - t.failedAt < resend && t.failedAt >= t.okAt) continue;
    if (text.length == 0) text = body(alert, labels, name, inst, endsAt, generatorUrl);
    const problem = post(t, text, retries);
    if (problem === null) {
      t.stale = false;
      t.okAt = clock;
      t.validUntil = endsAt;
      reached++;
    } else {
      t.failedAt = clock;
      problems.push(problem);
    }
  }
  if (problems.length == 0) return "";
  return "alertmanager: " + problems.join("; ") + (reached > 0 ? " (the other Alertmanagers got it)" : "");
}

export function deliver(): i32 {
  const e = readEvent();
  if (e === null) return fail(eventError);
  trackJob(e);
  const t = e.timeMs;
  if (t > clock) clock = t;
  if (e.type == "job-start") {
    host = e.v.str("host");
    alert = new Alert();
    streak = 0;
  } else if (e.type == "next") {
    nextDue = e.v.num("due_ms");
  } else if (e.type == "run-end") {
    onRunEnd(e);
  } else if (e.type == "job-end" && alert.firing) {
    alert.firing = false;
    alert.endsAt = Math.max(clock, alert.startsAt);
    changed();
  }
  const problem = flush();
  return delivered(problem.length > 0 ? problem : null);
}
