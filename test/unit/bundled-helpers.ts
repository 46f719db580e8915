// Shared by test/unit/bundled-*.test.ts: the bundled plugins in plugins-dist/, loaded through the
// real host library, and a small simulation of the job loop for schedulers.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlugin, readManifest, type Decision, type LoadOptions, type PluginHandle, type SchedulerState } from '../../src/plugins/index.js';

export const DIST = fileURLToPath(new URL('../../plugins-dist/', import.meta.url));

export async function loadBundled(name: string, config: Record<string, unknown> = {}, options: LoadOptions = {}): Promise<PluginHandle> {
  const manifest = await readManifest(path.join(DIST, name, 'plugin.toml'));
  return loadPlugin(manifest, { ...options, config });
}

/** Loading must fail: the message the host gives. */
export async function loadError(name: string, config: Record<string, unknown>): Promise<string> {
  try {
    const h = await loadBundled(name, config);
    await h.close();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${name} loaded with ${JSON.stringify(config)}`);
}

export interface RunOutcome {
  exit: number | null;
  durationMs?: number;
  /** Defaults to exit === 0. */
  success?: boolean;
}

export interface Step {
  decision: Decision;
  /** The decision as the plugin wrote it (with fields the host's typed call drops, e.g. message). */
  raw: Record<string, unknown>;
  state: SchedulerState;
}

export const T0 = 1_700_000_000_000;

/**
 * Drives a scheduler like rpr's loop (through handle.call, to see the whole answer: the typed
 * schedulerNext drops the message field): state 0, then after each run the state that run produced.
 * Time is simulated: a run starts `delay_ms` after the decision and lasts `durationMs`. Runs are
 * taken from `outcomes` (the last one repeats) until the plugin stops or `maxRuns` is reached.
 * What a decision keeps comes back as `kept`, as rpr does it (plugin-schedule.ts); `beforeCall` sees
 * the simulated time of each call (a fake load source reads it). Returns every decision and the
 * start times of the runs.
 */
export async function simulate(
  handle: PluginHandle,
  outcomes: RunOutcome[],
  maxRuns = outcomes.length,
  t0 = T0,
  beforeCall: (nowMs: number) => void = () => {},
): Promise<{ steps: Step[]; starts: number[]; delays: number[]; stop?: Extract<Decision, { action: 'stop' }> }> {
  let now = t0;
  let run = 0;
  let failures = 0;
  let kept: unknown = null;
  let last: RunOutcome | undefined;
  const steps: Step[] = [];
  const starts: number[] = [];
  for (;;) {
    const outcome = last;
    const success = outcome ? (outcome.success ?? outcome.exit === 0) : false;
    const state: SchedulerState = {
      run,
      last_exit_code: outcome ? outcome.exit : null,
      success,
      duration_ms: outcome?.durationMs ?? 0,
      consecutive_failures: failures,
      output_tail: '',
      now_ms: now,
      started_ms: t0,
      kept,
    };
    beforeCall(now);
    const raw = (await handle.call('next', state)) as Record<string, unknown>;
    if ('keep' in raw) kept = raw.keep ?? null;
    const decision = asDecision(raw);
    steps.push({ decision, raw, state });
    if (decision.action === 'stop' || run >= maxRuns) {
      return { steps, starts, delays: delaysOf(steps), ...(decision.action === 'stop' ? { stop: decision } : {}) };
    }
    now += decision.delay_ms;
    starts.push(now);
    last = outcomes[Math.min(run, outcomes.length - 1)]!;
    now += last.durationMs ?? 0;
    run++;
    failures = (last.success ?? last.exit === 0) ? 0 : failures + 1;
  }
}

/** A raw answer of next, checked against the contract's decision shape. */
function asDecision(raw: Record<string, unknown>): Decision {
  if (raw.action === 'run' && typeof raw.delay_ms === 'number' && Number.isFinite(raw.delay_ms) && raw.delay_ms >= 0) {
    return { action: 'run', delay_ms: raw.delay_ms };
  }
  if (raw.action === 'stop' && typeof raw.reason === 'string') {
    return typeof raw.exit_code === 'number' ? { action: 'stop', reason: raw.reason, exit_code: raw.exit_code } : { action: 'stop', reason: raw.reason };
  }
  throw new Error(`not a decision: ${JSON.stringify(raw)}`);
}

function delaysOf(steps: Step[]): number[] {
  return steps.filter((s) => s.decision.action === 'run').map((s) => (s.decision as { delay_ms: number }).delay_ms);
}

/** Calls next once with a state (fields not given take neutral values). */
export async function decide(handle: PluginHandle, state: Partial<SchedulerState>): Promise<Record<string, unknown>> {
  return (await handle.call('next', {
    run: 1,
    last_exit_code: 0,
    success: true,
    duration_ms: 0,
    consecutive_failures: 0,
    output_tail: '',
    now_ms: T0,
    started_ms: T0,
    ...state,
  })) as Record<string, unknown>;
}
