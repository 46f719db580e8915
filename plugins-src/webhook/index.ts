// webhook: POSTs every job event as JSON to `url`: the event as rpr describes it (wit/ job-event)
// with the job's name added: {"job": "...", "type": "run-end", "run": 3, ...}. `events` narrows it
// to some event types. Retries a 5xx/429/failed request up to `retries` times.
// No network permission by default: the user grants the URL's host (and port) in config.
import { Config, initWith } from "../lib/config";
import { checkUrl, Header, requestWithRetries, urlHost } from "../lib/http";
import { fail } from "../lib/io";
import { JsonWriter } from "../lib/json";
import { delivered, eventError, job, readEvent, trackJob } from "../lib/output";
export { describe } from "../lib/describe";

const TYPES = ["job-start", "run-start", "run-end", "skipped", "next", "stopping", "job-end"];

let url = "";
let events: string[] = [];
let authorization = "";
let retries: i32 = 2;

function configure(c: Config): string | null {
  url = c.str("url").trim();
  const problem = checkUrl("url", url);
  if (problem !== null) return problem;
  const list = c.str("events", "all").split(",");
  events = [];
  for (let i = 0; i < list.length; i++) {
    const t = list[i].trim();
    if (t.length == 0) continue;
    if (t == "all") {
      events = TYPES.slice(0);
      break;
    }
    if (!TYPES.includes(t)) return 'events: "' + t + '" is not an event type (' + TYPES.join(", ") + ", or all)";
    events.push(t);
  }
  if (events.length == 0) return "events must name at least one event type, or all";
  authorization = c.str("authorization");
  const r = c.num("retries", 2);
  if (!(r >= 0 && r <= 10)) return "retries must be 0 to 10";
  retries = <i32>r;
  return null;
}

export function init(): i32 {
  return initWith(configure);
}

export function deliver(): i32 {
  const e = readEvent();
  if (e === null) return fail(eventError);
  trackJob(e);
  if (!events.includes(e.type)) return delivered();
  const w = new JsonWriter().beginObject().str("job", job());
  for (let i = 0; i < e.v.keys.length; i++) {
    if (e.v.keys[i] == "job") continue;
    w.key(e.v.keys[i]).value(e.v.items[i]);
  }
  const body = w.endObject().toString();
  const headers = [new Header("content-type", "application/json; charset=utf-8"), new Header("user-agent", "rpr-webhook/1")];
  if (authorization.length > 0) headers.push(new Header("authorization", authorization));
  const response = requestWithRetries("POST", url, headers, body, retries);
  if (response.ok) return delivered();
  return delivered("webhook: POST to " + urlHost(url) + " failed" + response.triesText + ": " + response.describe());
}
