// For output plugins: the job event `deliver` receives (wit/ job-event), and its ack.
import { ack } from "./config";
import { input } from "./io";
import { JValue, parse, parseError } from "./json";

/** One job event; `v` is the whole message, for fields not copied here. */
export class JobEvent {
  type: string = "";
  v: JValue = JValue.nul();

  get run(): i64 {
    return <i64>this.v.num("run");
  }
  get success(): bool {
    return this.v.bool("success");
  }
  get hasExitCode(): bool {
    return this.v.isNumber("exit_code");
  }
  get exitCode(): i32 {
    return <i32>this.v.num("exit_code");
  }
  get durationMs(): f64 {
    return this.v.num("duration_ms");
  }
  get outputTail(): string {
    return this.v.str("output_tail");
  }
  get signal(): string {
    return this.v.str("signal");
  }
  /** When the event happened: a run's start or end, or the wall time of job events; 0 if it has none (next, skipped). */
  get timeMs(): f64 {
    if (this.type == "run-end") return this.v.num("end_ms");
    if (this.type == "run-start") return this.v.num("start_ms");
    return this.v.num("wall_ms");
  }
}

export let eventError: string = "";

export function readEvent(): JobEvent | null {
  const v = parse(input());
  if (v === null || !v.isObject || !v.has("type")) {
    eventError = "event is not a job-event object" + (v === null ? ": " + parseError : "");
    return null;
  }
  const e = new JobEvent();
  e.type = v.str("type");
  e.v = v;
  return e;
}

/** The job's name, from its job-start event (outputs see every event of the job, in order). */
let jobName = "rpr";
export function trackJob(e: JobEvent): void {
  if (e.type == "job-start") {
    const name = e.v.str("name");
    if (name.length > 0) jobName = name;
  }
}
export function job(): string {
  return jobName;
}

/** Answers ok, or the delivery problem (the host reports it; the job goes on). */
export function delivered(error: string | null = null): i32 {
  return ack(error);
}
