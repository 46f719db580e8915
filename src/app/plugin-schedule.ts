import type { LastRun } from '../schedule/types.js';
import type { PluginHandle } from '../plugins/index.js';
import { schedulerNext } from '../plugins/kinds.js';
import type { Schedule, SlotAnswer, SlotContext } from '../schedule/types.js';

/**
 * A scheduler plugin as a Schedule: after each run the plugin is told the
 * job's state and answers how long to wait, or to stop. Delays count from the
 * moment it answers (the end of the previous run), as retry tools do.
 *
 * What a decision asks to keep (`keep`, bounded by the contract) is held here,
 * outside the plugin's instance, and handed back as `kept` with every state:
 * a model a scheduler builds up survives its instance being rebuilt after a
 * trap or a timeout, or replaced by a hot reload.
 */
export function pluginSchedule(handle: PluginHandle, say: (line: string) => void = () => {}): Schedule {
  let finished = 0;
  let consecutiveFailures = 0;
  let last: LastRun | undefined;
  let startedMs: number | undefined;
  let kept: unknown = null;
  // Reading what runs print costs the terminal: only a scheduler that declares it does gets it.
  const reads = handle.manifest.readsOutput === true;

  const decide = async (ctx: SlotContext): Promise<SlotAnswer> => {
    if (ctx.last && ctx.last !== last) {
      last = ctx.last;
      finished++;
      consecutiveFailures = last.success ? 0 : consecutiveFailures + 1;
    }
    startedMs ??= ctx.nowWall;
    const decision = await schedulerNext(handle, {
      run: finished,
      last_exit_code: last?.exitCode ?? null,
      success: last?.success ?? false,
      duration_ms: last?.durationMs ?? 0,
      consecutive_failures: consecutiveFailures,
      output_tail: reads ? (last?.outputTail ?? '') : '',
      now_ms: ctx.nowWall,
      started_ms: startedMs,
      kept,
    });
    if ('keep' in decision) kept = decision.keep ?? null;
    if (decision.message) say(`rpr: ${decision.message}`);
    if (decision.action === 'stop') {
      return decision.exit_code === undefined ? { end: true, reason: decision.reason } : { end: true, reason: decision.reason, exitCode: decision.exit_code };
    }
    return { due: { at: ctx.nowAt + Math.max(0, decision.delay_ms) }, skipped: 0 };
  };

  return {
    describe: `plugin ${handle.name}`,
    ...(reads ? { wantsOutput: true } : {}),
    first: decide,
    after: (_prev, ctx) => decide(ctx),
    close: () => handle.close(),
  };
}
