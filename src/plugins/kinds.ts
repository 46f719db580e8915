/**
 * One typed call per plugin kind, with the answer checked against the contract. What a failure
 * means for the job is the caller's rule (issue 4): an output failure is reported and the job goes
 * on, a scheduler failure ends the job with exit 1, an executor failure fails that run.
 */
import type { JobEvent } from '../job/events.js';
import { PluginError } from './errors.js';
import type { PluginHandle } from './host/handle.js';
import { checkAck, checkDecision, checkPlanShape, schedulerState, toWireEvent, type Decision, type ExecutionPlan, type ExecutorCommand, type SchedulerState } from './messages.js';
import { checkPlan } from './permissions/exec.js';

const an = (kind: string) => `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`;

function expectKind(handle: PluginHandle, kind: PluginHandle['kind'], fn: string): void {
  if (handle.kind !== kind) throw new PluginError(handle.name, fn, 'abi', `is ${an(handle.kind)} plugin, not ${an(kind)}`);
}

/** Scheduler: when to run next, or stop. `state.output_tail` is bounded here. */
export async function schedulerNext(handle: PluginHandle, state: SchedulerState): Promise<Decision> {
  expectKind(handle, 'scheduler', 'next');
  return checkDecision(handle.name, await handle.call('next', schedulerState(state)));
}

/** Executor: how to run the command; throws E_PLUGIN_DENIED if argv[0] is not in its exec permission. */
export async function executorPlan(handle: PluginHandle, command: ExecutorCommand): Promise<ExecutionPlan> {
  expectKind(handle, 'executor', 'plan');
  const plan = checkPlanShape(handle.name, await handle.call('plan', command));
  return checkPlan(handle.name, plan, handle.permissions);
}

/** Output: hand it one job event; `outputTail` (run-end only) is the end of the run's output. */
export async function outputDeliver(handle: PluginHandle, event: JobEvent, outputTail?: string): Promise<void> {
  expectKind(handle, 'output', 'deliver');
  checkAck(handle.name, 'deliver', await handle.call('deliver', toWireEvent(event, outputTail)));
}
