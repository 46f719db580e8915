import type { RunPlan } from '../run/execute.js';

/** What a due run does when the last one still goes on (--on-overlap; the flag's choices are the catalog's, checked against this in app/build-job.ts). */
export type OverlapPolicy = 'skip' | 'queue' | 'kill' | 'allow';

export interface StopSpec {
  times?: number;
  forMs?: number;
  /** When --for ends, terminate the running command instead of letting it finish. */
  forKill: boolean;
  untilSuccess: boolean;
  untilFailure: boolean;
  untilMatch?: RegExp;
  untilChanges: boolean;
  maxFailures?: number;
  untilTimeWall?: number;
}

/** Everything the loop needs to know about a job, after all parsing and validation. */
export interface JobSpec {
  name: string;
  argv: string[];
  shell: boolean;
  overlap: OverlapPolicy;
  maxParallel: number;
  jitterMs: number;
  stop: StopSpec;
  timeoutMs?: number;
  killAfterMs: number;
  successPattern?: RegExp;
  failurePattern?: RegExp;
  io: Pick<RunPlan, 'sinks' | 'passthrough' | 'prefix'>;
  /** Keep a bounded tail of each run's output (plugins read it). */
  wantsOutputTail?: boolean;
}
