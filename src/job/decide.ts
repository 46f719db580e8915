import type { RunOutcome } from '../run/execute.js';
import type { RunResult } from './events.js';

/** Shell conventions for a command that could not be started. */
const SPAWN_EXIT: Record<string, number> = { ENOENT: 127, EACCES: 126 };

/**
 * Whether a run passed: a timeout or start failure always fails; else a
 * failure-pattern match fails it, else a success-pattern match passes it,
 * else the exit code decides.
 */
export function decideRun(outcome: RunOutcome, patternIndex: { success?: number; failure?: number }): Pick<RunResult, 'success' | 'decidedBy' | 'exitCode'> {
  if (outcome.spawnError) {
    return { success: false, decidedBy: 'spawn-error', exitCode: SPAWN_EXIT[outcome.spawnError] ?? 127 };
  }
  const exitCode = outcome.exitCode;
  if (outcome.timedOut) return { success: false, decidedBy: 'timeout', exitCode };
  const matched = outcome.capture?.matched ?? [];
  if (patternIndex.failure !== undefined && matched[patternIndex.failure]) {
    return { success: false, decidedBy: 'failure-pattern', exitCode };
  }
  if (patternIndex.success !== undefined && matched[patternIndex.success]) {
    return { success: true, decidedBy: 'success-pattern', exitCode };
  }
  return { success: exitCode === 0, decidedBy: 'exit-code', exitCode };
}
