import { monotonicMs } from '../clock/clock.js';
import { RprError } from '../errors/index.js';
import type { ExecutionPlan, PluginHandle } from '../plugins/index.js';
import { executorPlan } from '../plugins/kinds.js';
import { executeRun, type ActiveRun, type RunOutcome, type RunPlan } from '../run/execute.js';
import { resolveCommand } from '../run/resolve-command.js';

/**
 * The program as rpr's own PATH finds it, run by absolute path: the plan's environment (checked,
 * but still the plugin's) never decides which file is executed. A working directory that is gone
 * fails the run where any run's does (run/execute.ts), with the same line.
 */
function resolvePlan(plugin: string, plan: ExecutionPlan): { file: string; cwd: string } {
  let file: string;
  try {
    file = resolveCommand(plan.argv[0]!, process.env);
  } catch (error) {
    throw new RprError('E_PLUGIN', `plugin "${plugin}" plan: ${(error as Error).message} (looked up on rpr's PATH)`, { hint: `install ${plan.argv[0]} where rpr's PATH finds it` });
  }
  return { file, cwd: plan.cwd };
}

/**
 * Runs each run the way an executor plugin plans it (docker run, ssh, ...).
 * The plugin only answers with an argv; rpr spawns it, and only programs the
 * plugin's exec permission lists. A plugin failure fails that run, not the job.
 */
/** A command line as a shell would take it back, for a person to read (bounded). */
const shown = (argv: readonly string[]): string => {
  const text = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
};

export function executorRunner(handle: PluginHandle, report: (line: string) => void, verbose = false): (plan: RunPlan) => ActiveRun {
  const hinted = new Set<string>();
  return (plan) => {
    let started: ActiveRun | undefined;
    let cancelled = false;
    const begun = monotonicMs();
    const done = (async (): Promise<RunOutcome> => {
      try {
        const planned = await executorPlan(handle, { argv: [...plan.argv], cwd: process.cwd(), run: plan.run });
        if (cancelled) return notRun(begun, null);
        const { file, cwd } = resolvePlan(handle.name, planned);
        // What the run now waits on (an ssh connection, a docker pull), said once per run.
        if (verbose) report(`rpr: run ${plan.run}: ${handle.name} starts ${shown(planned.argv)}`);
        const env = { ...plan.env, ...planned.env };
        started = executeRun({ ...plan, argv: [file, ...planned.argv.slice(1)], shell: false, env, cwd });
        return await started.done;
      } catch (error) {
        // The hint (how to grant a denied program) once: every run would fail the same way.
        const hint = error instanceof RprError && error.hint && !hinted.has(error.hint) ? error.hint : undefined;
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
  return { exitCode: null, signal: spawnError ? null : 'SIGTERM', spawnError, timedOut: false, durationMs: monotonicMs() - begun, capture: null };
}
