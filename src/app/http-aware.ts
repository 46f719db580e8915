import type { ScheduleEvent } from '../schedule/events.js';
import type { PluginHandle } from '../plugins/index.js';
import { checkDecision } from '../plugins/messages.js';
import type { Schedule, SlotContext } from '../schedule/types.js';
import { formatDuration } from '../units/duration.js';
import type { OptionValues } from '../options/resolve.js';

/** --http-* options as the plugin's settings. */
export function httpAwareSettings(values: OptionValues): Record<string, unknown> {
  const settings: Record<string, unknown> = {
    parse_json: values.httpNoParseJson !== true,
    parse_headers: values.httpNoParseHeaders !== true,
    trust_client: values.httpTrustClient === true,
  };
  if (values.httpMinDelay !== undefined) settings.min_delay = `${values.httpMinDelay}ms`;
  if (values.httpMaxDelay !== undefined) settings.max_delay = `${values.httpMaxDelay}ms`;
  if (typeof values.httpCustomFields === 'string') settings.custom_fields = values.httpCustomFields;
  return settings;
}

/**
 * Wraps any schedule: after each run the plugin reads the start of the output
 * for a server's "retry after"; when it finds one, the next slot is the
 * schedule's first slot not before now + that delay. The inner schedule is
 * asked once per run either way (plugin schedulers keep state).
 */
export function withHttpAware(inner: Schedule, handle: PluginHandle, hints: { last?: string }): Schedule {
  let emit: (event: ScheduleEvent) => void = () => {};
  let started: number | undefined;
  const hintFor = async (ctx: SlotContext): Promise<number> => {
    if (!ctx.last) return 0;
    hints.last = undefined;
    // Not schedulerNext: it keeps the END of output_tail, and the status line and headers are at the start.
    const decision = checkDecision(
      handle.name,
      await handle.call('next', {
        run: ctx.last.run,
        last_exit_code: ctx.last.exitCode,
        success: ctx.last.success,
        duration_ms: ctx.last.durationMs,
        consecutive_failures: 0,
        output_tail: ctx.last.outputHead ?? '',
        now_ms: ctx.nowWall,
        started_ms: (started ??= ctx.nowWall),
      }),
    );
    const delay = decision.action === 'run' ? decision.delay_ms : 0;
    if (delay > 0) {
      emit({ type: 'delay-hint', run: ctx.last.run + 1, delayMs: delay, detail: hints.last ?? `wait ${formatDuration(delay)}` });
    }
    return delay;
  };
  return {
    describe: `${inner.describe}, HTTP-aware`,
    wantsOutput: true,
    ...(inner.missed ? { missed: inner.missed } : {}),
    bind(observer) {
      emit = observer;
      inner.bind?.(observer);
    },
    first: (ctx) => inner.first(ctx),
    ...(inner.claim ? { claim: inner.claim.bind(inner) } : {}),
    ...(inner.runEnded ? { runEnded: inner.runEnded.bind(inner) } : {}),
    async after(prev, ctx) {
      const delay = await hintFor(ctx);
      if (delay <= 0) return inner.after(prev, ctx);
      return inner.after(prev, { ...ctx, nowAt: ctx.nowAt + delay, nowWall: ctx.nowWall + delay, notBefore: true, held: true });
    },
    close: async () => {
      await Promise.all([inner.close?.(), handle.close()]);
    },
  };
}
