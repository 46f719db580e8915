// elasticsearch: one document per run, indexed with the bulk API (POST URL/_bulk, NDJSON).
// Documents are batched and sent when `batch-size` have gathered, when the oldest has waited
// `flush-interval`, when the next run is further away than that, and at the end of the job.
// A batch that cannot be sent (after `retries` immediate retries on 5xx/429/failure) stays
// buffered for the next flush, up to `max-buffer` documents (the oldest are dropped beyond, and
// counted). Documents Elasticsearch itself rejects are reported, not retried.
// Auth: api_key (Authorization: ApiKey ...) or username + password (Basic); never printed.
// No network permission by default: the user grants the cluster's host (and port) in config.
import { Config, initWith } from "../lib/config";
import { base64, checkUrl, Header, requestWithRetries, urlHost } from "../lib/http";
import { fail } from "../lib/io";
import { JsonWriter, JType, JValue, parse } from "../lib/json";
import { delivered, eventError, job, JobEvent, readEvent, trackJob } from "../lib/output";
import { isoTime } from "../lib/units";
export { describe } from "../lib/describe";

let bulkUrl = "";
let host = "";
let index = "rpr";
let batchSize: i32 = 50;
let flushInterval: f64 = 10000;
let maxBuffer: i32 = 1000;
let retries: i32 = 2;
let authorization = "";

/** NDJSON lines (action + document) of the documents not sent yet, oldest first. */
let buffer: string[] = [];
/** When the oldest buffered document was added (its run's end). */
let oldestMs: f64 = 0;
/** End of the last run seen: "now" for the next event. */
let lastEndMs: f64 = 0;
let dropped: i64 = 0;

function configure(c: Config): string | null {
  const url = c.str("url").trim();
  const problem = checkUrl("url", url);
  if (problem !== null) return problem;
  bulkUrl = (url.endsWith("/") ? url.substring(0, url.length - 1) : url) + "/_bulk";
  host = urlHost(url);
  index = c.str("index", "rpr");
  if (index.length == 0 || index != index.toLowerCase() || index.includes(" ") || index.startsWith("-") || index.startsWith("_")) {
    return 'index must be an Elasticsearch index name (lower case, no spaces, not starting with - or _), got "' + index + '"';
  }
  const b = c.num("batch-size", 50);
  if (!(b >= 1 && b <= 10000)) return "batch-size must be 1 to 10000";
  batchSize = <i32>b;
  flushInterval = c.num("flush-interval", 10000);
  const m = c.num("max-buffer", 1000);
  if (!(m >= b && m <= 100000)) return "max-buffer must be at least batch-size and at most 100000";
  maxBuffer = <i32>m;
  const r = c.num("retries", 2);
  if (!(r >= 0 && r <= 10)) return "retries must be 0 to 10";
  retries = <i32>r;
  const apiKey = c.str("api_key");
  const user = c.str("username");
  const password = c.str("password");
  if (apiKey.length > 0 && user.length > 0) return "give either api_key or username + password, not both";
  if (apiKey.length > 0) authorization = "ApiKey " + apiKey;
  else if (user.length > 0) authorization = "Basic " + base64(user + ":" + password);
  else if (password.length > 0) return "password is set but username is not";
  return null;
}

export function init(): i32 {
  return initWith(configure);
}

function documentOf(e: JobEvent): string {
  const w = new JsonWriter().beginObject();
  w.str("@timestamp", isoTime(e.v.num("start_ms")));
  w.str("job", job());
  w.num("run", <f64>e.run);
  if (e.hasExitCode) w.num("exit_code", e.exitCode);
  else w.nullField("exit_code");
  const signal = e.v.get("signal");
  if (signal !== null && signal.type == JType.String) w.str("signal", signal.s);
  else w.nullField("signal");
  w.bool("timed_out", e.v.bool("timed_out"));
  w.num("duration_ms", e.durationMs);
  w.bool("success", e.success);
  w.str("output_tail", e.outputTail);
  return w.endObject().toString();
}

/** Sends the buffer; null when it went (or there was nothing), else the problem. */
function flush(): string | null {
  if (buffer.length == 0) return null;
  const count = buffer.length;
  const body = buffer.join("");
  const headers = [new Header("content-type", "application/x-ndjson")];
  if (authorization.length > 0) headers.push(new Header("authorization", authorization));
  const response = requestWithRetries("POST", bulkUrl, headers, body, retries);
  if (!response.ok) {
    const lost = dropped > 0 ? " (" + dropped.toString() + " older documents dropped so far: buffer full)" : "";
    return "elasticsearch: bulk request to " + host + " failed" + response.triesText + ": " + response.describe() + "; " + count.toString() + " documents kept for the next flush" + lost;
  }
  buffer = [];
  // 200 with "errors": true: some documents were refused (mapping, index closed...). Not retried.
  const v = parse(response.body);
  if (v !== null && v.bool("errors", false)) {
    const items = v.get("items");
    let rejected = 0;
    let reason = "";
    if (items !== null && items.type == JType.Array) {
      for (let i = 0; i < items.items.length; i++) {
        const item = items.items[i];
        if (item.keys.length == 0) continue;
        const err: JValue | null = item.items[0].get("error");
        if (err === null) continue;
        rejected++;
        if (reason.length == 0) reason = err.type == JType.Object ? err.str("type") + ": " + err.str("reason") : err.toString();
      }
    }
    return "elasticsearch: " + rejected.toString() + " of " + count.toString() + " documents were rejected" + (reason.length > 0 ? " (" + reason + ")" : "");
  }
  return null;
}

export function deliver(): i32 {
  const e = readEvent();
  if (e === null) return fail(eventError);
  trackJob(e);
  if (e.type == "run-end") {
    if (buffer.length == 0) oldestMs = e.v.num("end_ms");
    lastEndMs = e.v.num("end_ms");
    const action = new JsonWriter().beginObject().key("index").beginObject().str("_index", index).endObject().endObject().toString();
    buffer.push(action + "\n" + documentOf(e) + "\n");
    while (buffer.length > maxBuffer) {
      buffer.shift();
      dropped++;
    }
  }
  let due = buffer.length >= batchSize || e.type == "job-end" || e.type == "stopping";
  if (!due && buffer.length > 0) {
    const now = e.timeMs > 0 ? e.timeMs : lastEndMs;
    // Nothing else may arrive for a while: the next run is far off, or documents have waited long enough.
    due = now - oldestMs >= flushInterval || (e.type == "next" && e.v.num("due_ms") - lastEndMs >= flushInterval);
  }
  return delivered(due ? flush() : null);
}
