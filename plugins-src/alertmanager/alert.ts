// The alert alertmanager keeps about the job, and the Alertmanagers it goes to. Alertmanager's API
// v2: POST URL/api/v2/alerts with a JSON list of {labels, annotations, startsAt, endsAt,
// generatorURL}; the labels identify the alert, an endsAt in the past resolves it, one in the future
// keeps it firing until then unless it is sent again (as Prometheus does, every resend interval).
import { Header, requestWithRetries, urlHost } from "../lib/http";
import { JsonWriter } from "../lib/json";
import { isoTime } from "../lib/units";

export class Label {
  constructor(public name: string, public value: string) {}
}

/** What is known about the failing job, as the alert shows it. */
export class Alert {
  firing: bool = false;
  /** Start of the first failed run of the streak. */
  startsAt: f64 = 0;
  /** When it was resolved (firing false). */
  endsAt: f64 = 0;
  failedRuns: i64 = 0;
  run: i64 = 0;
  /** "2", "SIGKILL", "timeout". */
  exit: string = "";
  lastOutput: string = "";
}

/** One Alertmanager: whether it has the alert as it is now, and until when it holds it firing. */
export class Target {
  /** Has an older state of the alert than the current one (fired, resolved, changed). */
  stale: bool = false;
  /** Event time of the last post it took, and of the last one that failed (-1: none). */
  okAt: f64 = -1;
  failedAt: f64 = -1;
  /** The endsAt it was last sent while firing. */
  validUntil: f64 = 0;

  constructor(public url: string) {}

  get host(): string {
    return urlHost(this.url);
  }
}

/** The job's labels, then the user's. */
export function labelsOf(alertname: string, job: string, instance: string, extra: Label[]): Label[] {
  const out: Label[] = [new Label("alertname", alertname), new Label("job", job), new Label("instance", instance)];
  for (let i = 0; i < extra.length; i++) out.push(extra[i]);
  return out;
}

/** One line of a run's output for an annotation: the last one that is not blank, without controls, at most 256 characters. */
export function lastLine(tail: string): string {
  const lines = tail.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    let line = "";
    const raw = lines[i];
    for (let k = 0; k < raw.length; k++) {
      const c = raw.charCodeAt(k);
      line += c < 0x20 || c == 0x7f ? " " : String.fromCharCode(c);
    }
    line = line.trim();
    if (line.length == 0) continue;
    return line.length > 256 ? line.substring(0, 255) + "…" : line;
  }
  return "";
}

/** The body of a POST: the alert, firing until `endsAt` or resolved at it. */
export function body(a: Alert, labels: Label[], job: string, instance: string, endsAt: f64, generatorUrl: string): string {
  const w = new JsonWriter().beginArray().beginObject().key("labels").beginObject();
  for (let i = 0; i < labels.length; i++) w.str(labels[i].name, labels[i].value);
  w.endObject().key("annotations").beginObject();
  const runs = a.failedRuns.toString() + " failed run" + (a.failedRuns == 1 ? "" : "s");
  w.str("summary", "rpr job " + job + " on " + instance + " is failing: " + runs + " in a row, the last (run " + a.run.toString() + ") " + (a.exit == "timeout" ? "timed out" : "ended with " + a.exit));
  w.str("exit_code", a.exit);
  w.str("last_output", a.lastOutput);
  w.str("failed_runs", a.failedRuns.toString());
  w.str("run", a.run.toString());
  w.endObject();
  w.str("startsAt", isoTime(a.startsAt)).str("endsAt", isoTime(endsAt));
  if (generatorUrl.length > 0) w.str("generatorURL", generatorUrl);
  return w.endObject().endArray().toString();
}

/** POSTs the body to one Alertmanager; null when it took it, else why not (one line, host only). */
export function post(t: Target, text: string, retries: i32): string | null {
  const headers = [new Header("content-type", "application/json"), new Header("user-agent", "rpr-alertmanager/1")];
  const response = requestWithRetries("POST", t.url + "/api/v2/alerts", headers, text, retries);
  if (response.ok) return null;
  return "POST to " + t.host + " failed" + response.triesText + ": " + response.describe();
}
