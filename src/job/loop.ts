/**
 * The job loop's driver: the timers, the runs and the schedule's answers. Which phase comes next is
 * decided by the pure transitions of phases.ts (and tally.ts for what a run's end means); this file
 * does what each phase waits for and holds the one state that changes from outside: the stop.
 */
import { readBoth, remainingMs, waitForFirst, type Clock, type Due } from '../clock/clock.js';
import type { ActiveRun, RunPlan } from '../run/execute.js';
import type { Schedule, SlotAnswer } from '../schedule/types.js';
import type { JobObserver } from './events.js';
import { claimAnswered, planSlot, runFinished, runStarted, slotAnswered, slotReached, type Now, type Phase, type Step } from './phases.js';
import { readingOf, runPlan, runResult } from './run-plan.js';
import type { JobSpec } from './spec.js';
import { countRun, NO_RUNS, outcomeOf, type EndReason, type JobOutcome, type ScheduleEnd, type Tally } from './tally.js';

export type { JobOutcome } from './tally.js';

export interface JobDeps {
  clock: Clock;
  schedule: Schedule;
  startRun: (plan: RunPlan) => ActiveRun;
  observers: JobObserver[];
  random?: () => number;
}

export interface JobHandle {
  done: Promise<JobOutcome>;
  /** Stop starting runs; SIGTERM running ones, SIGKILL after graceMs. exitCode: the job's status (128+n for a signal). */
  shutdown(graceMs: number, exitCode?: number): void;
  /** SIGKILL running runs now (a second Ctrl-C). */
  kill(exitCode?: number): void;
  /**
   * Starts the slot being waited for now, rather than at its time (`rpr up`'s trigger). False when
   * the loop waits for no slot (a run is going, or the job is ending).
   */
  trigger(): boolean;
}

export function startJob(spec: JobSpec, deps: JobDeps): JobHandle {
  const { clock, schedule } = deps;
  const random = deps.random ?? Math.random;
  const emit: JobObserver = (event) => deps.observers.forEach((observe) => observe(event));
  const reading = readingOf(spec, schedule);
  const now = (): Now => readBoth(clock);

  // The stop: set once, from a transition, a run's end, a deadline hit during a run, or outside.
  let reason: EndReason | undefined;
  /** The status a stop from outside (a signal) ends the job with: job-end must say the one rpr exits with. */
  let stopExit: number | undefined;
  let scheduleEnd: ScheduleEnd | undefined;
  /** Aborted by the stop: whatever the loop waits for gives way. */
  const wake = new AbortController();
  /** Set while the loop waits for a slot: aborting it starts that slot now. */
  let nudge: AbortController | undefined;
  const end = (why: EndReason): void => {
    reason ??= why;
    wake.abort();
    nudge?.abort();
  };

  let tally: Tally = NO_RUNS;
  const active = new Set<ActiveRun>();
  /** Runs of allow and kill, which the loop does not wait for. */
  const inFlight: Promise<void>[] = [];
  /** The run of skip or queue that the loop waits for. */
  let current: Promise<void> = Promise.resolve();
  const deadline: Due | undefined = spec.stop.forMs !== undefined ? { at: clock.now() + spec.stop.forMs } : undefined;
  const untilTime: Due | undefined = spec.stop.untilTimeWall !== undefined ? { wall: spec.stop.untilTimeWall } : undefined;
  const ctx = (extra: { notBefore?: boolean } = {}) => {
    const { at, wall } = now();
    return { nowAt: at, nowWall: wall, last: tally.last, ...extra };
  };

  const launch = (dueWall: number): Promise<void> => {
    const run = tally.runs + 1;
    tally = { ...tally, runs: run };
    const startWall = clock.wallNow();
    emit({ type: 'run-start', run, dueWall, startWall });
    const handle = deps.startRun(runPlan(spec, reading, run, dueWall, tally.last));
    active.add(handle);
    return handle.done.then((outcome) => {
      active.delete(handle);
      const endWall = clock.wallNow();
      schedule.runEnded?.({ dueWall, endWall });
      const ended = runResult(spec, reading, outcome, { run, dueWall, startWall, endWall });
      const counted = countRun(tally, spec.stop, ended.result, ended.stdoutHash, ended.matchedUntil);
      tally = counted.tally;
      emit({ type: 'run-end', result: ended.result });
      if (counted.end) end(counted.end);
    });
  };

  /** --for / --until-time end the job while a run goes on: it finishes, unless --for-kill. */
  const waitRunOrDeadline = async (finished: Promise<void>): Promise<void> => {
    const limits = [deadline, untilTime];
    if (limits.every((limit) => !limit)) return finished;
    const racing = new AbortController();
    const hit = waitForFirst(clock, limits, racing.signal).then((i) => {
      if (i === -1) return;
      end(i === 0 ? 'for' : 'until-time');
      if (spec.stop.forKill) active.forEach((run) => void run.terminate(spec.killAfterMs));
    });
    await finished;
    racing.abort();
    await hit;
  };

  /** The answer, or null as soon as the job is told to stop: a slow schedule (a plugin stuck until its timeout) must not delay a stop. */
  const unlessStopped = async <T>(answer: T | Promise<T>): Promise<T | null> => {
    let onStop = (): void => {};
    const stopped = new Promise<null>((resolve) => {
      if (wake.signal.aborted) resolve(null);
      onStop = () => resolve(null);
      wake.signal.addEventListener('abort', onStop, { once: true });
    });
    // One listener per answer, removed again: a long job must not pile them up (MaxListenersExceededWarning).
    return Promise.race([answer, stopped]).finally(() => wake.signal.removeEventListener('abort', onStop));
  };

  /** Does what the phase waits for, and returns the transition's step. */
  const step = async (phase: Exclude<Phase, { name: 'draining' }>): Promise<Step> => {
    switch (phase.name) {
      case 'asking': {
        const asked: SlotAnswer | Promise<SlotAnswer> = phase.after === undefined ? schedule.first(ctx()) : schedule.after(phase.after, ctx({ notBefore: true }));
        const answer = await unlessStopped(asked);
        return slotAnswered(answer, { stopping: !!reason, queue: phase.queue === true });
      }
      case 'slot':
        return planSlot(phase.slot, { runs: tally.runs, times: spec.stop.times, jitterMs: spec.jitterMs, random, now: now() });
      case 'waiting': {
        // The wait ends early for a stop (end() sets reason, then aborts it) or a trigger (no reason).
        const nudged = (nudge = new AbortController());
        if (reason) nudged.abort();
        const point = await waitForFirst(clock, [deadline, untilTime, phase.due], nudged.signal);
        nudge = undefined;
        const reached = { point, stopping: !!reason, nowWall: clock.wallNow(), lateMs: -remainingMs(clock, phase.due), running: active.size };
        return slotReached(phase, reached, { overlap: spec.overlap, maxParallel: spec.maxParallel, claims: !!schedule.claim, ...(schedule.missed ? { missed: schedule.missed } : {}) });
      }
      case 'claiming': {
        // Coordination: another instance may run this slot, or a shared limit may not be free yet.
        const claim = await unlessStopped(schedule.claim!(phase.slot.due, ctx()));
        return claimAnswered(phase, claim, !!reason, now());
      }
      case 'starting': {
        if (spec.overlap === 'kill' && active.size > 0) await Promise.all([...active].map((run) => run.terminate(spec.killAfterMs)));
        const finished = launch(phase.dueWall);
        if (spec.overlap === 'skip' || spec.overlap === 'queue') current = finished;
        else inFlight.push(finished);
        return runStarted(phase, spec.overlap);
      }
      case 'running':
        await waitRunOrDeadline(current);
        return runFinished(phase, !!reason, spec.overlap);
    }
  };

  const loop = async (): Promise<JobOutcome> => {
    schedule.bind?.(emit);
    emit({ type: 'job-start', wall: clock.wallNow(), name: spec.name });
    let phase: Phase = { name: 'asking' };
    while (phase.name !== 'draining') {
      const next = await step(phase);
      next.events?.forEach(emit);
      if (next.scheduleEnd) scheduleEnd = next.scheduleEnd;
      if (next.end) end(next.end);
      phase = next.phase;
    }
    // Runs still going when the job ends are allowed to finish (or were told to stop).
    await Promise.all([...inFlight, ...[...active].map((run) => run.done)]);
    await schedule.close?.();
    const outcome = outcomeOf(tally, reason, stopExit, scheduleEnd);
    emit({ type: 'job-end', reason: outcome.detail, exitCode: outcome.exitCode, wall: clock.wallNow() });
    return outcome;
  };

  return {
    done: loop(),
    shutdown(graceMs, exitCode) {
      if (!reason) emit({ type: 'stopping', wall: clock.wallNow() });
      stopExit ??= exitCode;
      end('signal');
      active.forEach((run) => void run.terminate(graceMs));
    },
    kill(exitCode) {
      stopExit ??= exitCode;
      end('signal');
      active.forEach((run) => run.kill());
    },
    trigger() {
      if (!nudge || reason) return false;
      nudge.abort();
      return true;
    },
  };
}
