// slack: posts a message to a Slack incoming webhook after runs - on "failure" (every failed run),
// "change" (a run whose outcome differs from the previous run's; the job is assumed healthy before
// its first run, so a first failure is reported and so is the recovery), or "always".
// The text comes from a template; placeholders: {icon} {job} {run} {status} {exit_code} {signal}
// {duration} {duration_ms} {time} {output}. Retries a 5xx/429/failed request up to `retries` times.
// Network permission: hooks.slack.com only, unless the user grants more.
import { Config, initWith } from "../lib/config";
import { checkUrl, Header, requestWithRetries, urlHost } from "../lib/http";
import { fail } from "../lib/io";
import { JsonWriter } from "../lib/json";
import { delivered, eventError, job, JobEvent, readEvent, trackJob } from "../lib/output";
import { formatDuration, isoTime } from "../lib/units";
export { describe } from "../lib/describe";

let url = "";
let on = "failure";
let template = "";
let channel = "";
let username = "";
let retries: i32 = 2;

/** Outcome of the previous run (true before the first). */
let lastSuccess = true;

function configure(c: Config): string | null {
  url = c.str("webhook_url").trim();
  const problem = checkUrl("webhook_url", url);
  if (problem !== null) return problem;
  on = c.str("on", "failure");
  if (on != "failure" && on != "change" && on != "always") return 'on must be failure, change or always, got "' + on + '"';
  template = c.str("template");
  if (template.length == 0) return "template must not be empty";
  channel = c.str("channel");
  username = c.str("username");
  const r = c.num("retries", 2);
  if (!(r >= 0 && r <= 10)) return "retries must be 0 to 10";
  retries = <i32>r;
  return null;
}

export function init(): i32 {
  return initWith(configure);
}

function exitText(e: JobEvent): string {
  if (e.hasExitCode) return e.exitCode.toString();
  const signal = e.signal;
  return signal.length > 0 ? signal : "none";
}

/** The template with its placeholders filled in. Unknown {words} stay as they are. */
function render(e: JobEvent): string {
  const parts: string[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf("{", i);
    if (open < 0) break;
    const close = template.indexOf("}", open + 1);
    if (close < 0) break;
    parts.push(template.substring(i, open));
    const name = template.substring(open + 1, close);
    let value: string | null = null;
    if (name == "icon") value = e.success ? ":white_check_mark:" : ":x:";
    else if (name == "job") value = job();
    else if (name == "run") value = e.run.toString();
    else if (name == "status") value = e.success ? "succeeded" : e.v.bool("timed_out") ? "timed out" : "failed";
    else if (name == "exit_code") value = exitText(e);
    else if (name == "signal") value = e.signal.length > 0 ? e.signal : "none";
    else if (name == "duration") value = formatDuration(e.durationMs);
    else if (name == "duration_ms") value = (<i64>Math.round(e.durationMs)).toString();
    else if (name == "time") value = isoTime(e.v.num("end_ms"));
    else if (name == "output") value = e.outputTail;
    if (value === null) {
      parts.push(template.substring(open, close + 1));
    } else {
      parts.push(value);
    }
    i = close + 1;
  }
  parts.push(template.substring(i));
  return parts.join("");
}

function wanted(e: JobEvent): bool {
  const success = e.success;
  const changed = success != lastSuccess;
  lastSuccess = success;
  if (on == "always") return true;
  if (on == "change") return changed;
  return !success;
}

export function deliver(): i32 {
  const e = readEvent();
  if (e === null) return fail(eventError);
  trackJob(e);
  if (e.type != "run-end" || !wanted(e)) return delivered();
  const w = new JsonWriter().beginObject().str("text", render(e));
  if (channel.length > 0) w.str("channel", channel);
  if (username.length > 0) w.str("username", username);
  const body = w.endObject().toString();
  const headers = [new Header("content-type", "application/json; charset=utf-8")];
  const response = requestWithRetries("POST", url, headers, body, retries);
  if (response.ok) return delivered();
  return delivered("slack: posting to " + urlHost(url) + " failed" + response.triesText + ": " + response.describe());
}
