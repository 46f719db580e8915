import { executorPlan, isPluginError, type PluginHandle } from '../plugins/index.js';
import { executeRun, type ActiveRun, type RunOutcome, type RunPlan } from '../run/execute.js';

/**
 * Runs each run the way an executor plugin plans it (docker run, ssh, ...).
 * The plugin only answers with an argv; rpr spawns it, and only programs the
 * plugin's exec permission lists. A plugin failure fails that run, not the job.
 */
export function executorRunner(handle: PluginHandle, report: (line: string) => void): (plan: RunPlan) => ActiveRun {
  const hinted = new Set<string>();
  return (plan) => {
    let started: ActiveRun | undefined;
    let cancelled = false;
    const begun = performance.now();
    const done = (async (): Promise<RunOutcome> => {
      try {
        const planned = await executorPlan(handle, { argv: [...plan.argv], cwd: process.cwd(), run: plan.run });
        if (cancelled) return notRun(begun, null);
        const env = { ...plan.env, ...planned.env };
        started = executeRun({ ...plan, argv: planned.argv, shell: false, env, cwd: planned.cwd });
        return await started.done;
      } catch (error) {
        // The hint (how to grant a denied program) once: every run would fail the same way.
        const hint = isPluginError(error) && error.hint && !hinted.has(error.hint) ? error.hint : undefined;
        if (hint) hinted.add(hint);
        report(`rpr: run ${plan.run}: ${(error as Error).message}${hint ? ` (hint: ${hint})` : ''}`);
        return notRun(begun, 'EPLUGIN');
      }
    })();
    return {
      get pid() {
        return started?.pid;
      },
      done,
      terminate: async (graceMs) => {
        cancelled = true;
        await started?.terminate(graceMs);
      },
      kill: () => {
        cancelled = true;
        started?.kill();
      },
    };
  };
}

function notRun(begun: number, spawnError: string | null): RunOutcome {
  return { exitCode: null, signal: spawnError ? null : 'SIGTERM', spawnError, timedOut: false, durationMs: performance.now() - begun, capture: null };
}
