import type { FakeClock } from './fake-clock.js';
import type { ActiveRun, RunOutcome, RunPlan } from '../../src/run/execute.js';

export interface FakeRunScript {
  /** How long run n (1-based) takes on the fake clock. */
  durationMs?: (run: number) => number;
  exitCode?: (run: number) => number;
  /** Captured pattern matches per run, in the loop's pattern order. */
  matched?: (run: number) => boolean[];
  stdoutHash?: (run: number) => string;
}

interface FakeRunLog {
  run: number;
  startedAt: number;
  endedAt?: number;
  terminated?: boolean;
  env: Record<string, string>;
}

/** A startRun that "runs" on the fake clock, so the loop can be tested without processes. */
export function fakeRunner(clock: FakeClock, script: FakeRunScript = {}) {
  const log: FakeRunLog[] = [];
  const startRun = (plan: RunPlan): ActiveRun => {
    const entry: FakeRunLog = { run: plan.run, startedAt: clock.now(), env: plan.env };
    log.push(entry);
    const abort = new AbortController();
    const done = (async (): Promise<RunOutcome> => {
      await clock.sleep(script.durationMs?.(plan.run) ?? 0, abort.signal);
      entry.endedAt = clock.now();
      return {
        exitCode: entry.terminated ? null : (script.exitCode?.(plan.run) ?? 0),
        signal: entry.terminated ? 'SIGTERM' : null,
        spawnError: null,
        timedOut: false,
        durationMs: entry.endedAt - entry.startedAt,
        capture: plan.capture ? { matched: script.matched?.(plan.run) ?? plan.capture.patterns.map(() => false), stdoutHash: script.stdoutHash?.(plan.run) ?? null, tail: '', truncated: false } : null,
      };
    })();
    const stop = async (): Promise<void> => {
      entry.terminated = true;
      abort.abort();
      await done;
    };
    return { pid: 1, done, terminate: stop, kill: () => void stop() };
  };
  return { startRun, log };
}
