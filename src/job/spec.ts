import type { OverlapPolicy } from '../options/catalog.js';
import type { RunPlan } from '../run/execute.js';

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
