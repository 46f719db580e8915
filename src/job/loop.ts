import { MAX_TIMER_MS, remainingMs, waitForFirst, type Clock, type Due } from '../clock/clock.js';
import type { ActiveRun, RunPlan } from '../run/execute.js';
import type { Schedule, Slot as ScheduleSlot, SlotAnswer } from '../schedule/types.js';
import { decideRun } from './decide.js';
import type { JobObserver, RunResult } from './events.js';
import type { JobSpec } from './spec.js';

/** A slot as the loop tracks it: startNow marks a queued run for a missed slot. */
type Slot = ScheduleSlot & { startNow?: boolean };

export interface JobDeps {
  clock: Clock;
  schedule: Schedule;
  startRun: (plan: RunPlan) => ActiveRun;
  observers: JobObserver[];
  random?: () => number;
}

type EndReason = 'times' | 'for' | 'until-time' | 'until-success' | 'until-failure' | 'until-match' | 'until-changes' | 'max-failures' | 'schedule-done' | 'signal';

export interface JobOutcome {
  reason: EndReason;
  /** The reason in words: the EndReason, or the schedule's own (e.g. "succeeded after 3 attempts"). */
  detail: string;
  runs: number;
  failures: number;
  /** 0 all runs passed or an until-condition was met, 1 some run failed; the CLI turns 'signal' into 128+n. */
  exitCode: number;
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

/** Later than this past due means the wait could not have woken in time: the machine slept. */
const MISSED_AFTER_MS = 2 * MAX_TIMER_MS;

const UNTIL_MET: ReadonlySet<EndReason> = new Set(['until-success', 'until-failure', 'until-match', 'until-changes']);

/** Whether rpr reads each run's output: for a pattern, --until-changes, or a plugin that is given its tail. */
export function capturesOutput(spec: JobSpec, schedule: Schedule): boolean {
  return !!(spec.successPattern || spec.failurePattern || spec.stop.untilMatch) || spec.stop.untilChanges || spec.wantsOutputTail === true || schedule.wantsOutput === true;
}

export function startJob(spec: JobSpec, deps: JobDeps): JobHandle {
  const { clock, schedule } = deps;
  const random = deps.random ?? Math.random;
  const wake = new AbortController();
  /** Set while the loop waits for a slot: aborting it starts that slot now. */
  let nudge: AbortController | undefined;
  const active = new Set<ActiveRun>();
  const emit: JobObserver = (event) => deps.observers.forEach((observe) => observe(event));
  const patterns = [spec.successPattern, spec.failurePattern, spec.stop.untilMatch].filter((p): p is RegExp => !!p);
  const patternIndex = (p?: RegExp): number | undefined => (p ? patterns.indexOf(p) : undefined);

  let reason: EndReason | undefined;
  /** Exit status decided by the schedule itself (a plugin's stop decision). */
  let scheduleExit: number | undefined;
  let scheduleReason: string | undefined;
  /** The status a stop from outside (a signal) ends the job with: job-end must say the one rpr exits with. */
  let stopExit: number | undefined;
  let runs = 0;
  let failures = 0;
  let last: RunResult | undefined;
  let lastHash: string | null = null;

  const end = (why: EndReason): void => {
    reason ??= why;
    wake.abort();
    nudge?.abort();
  };
  const toWall = (due: Due): number => ('wall' in due ? due.wall : clock.wallNow() + (due.at - clock.now()));
  const deadline: Due | undefined = spec.stop.forMs !== undefined ? { at: clock.now() + spec.stop.forMs } : undefined;
  const untilTime: Due | undefined = spec.stop.untilTimeWall !== undefined ? { wall: spec.stop.untilTimeWall } : undefined;

  const onResult = (result: RunResult, stdoutHash: string | null, matchedUntil: boolean): void => {
    last = result;
    if (!result.success) failures++;
    emit({ type: 'run-end', result });
    const { stop } = spec;
    if (stop.untilSuccess && result.success) end('until-success');
    else if (stop.untilFailure && !result.success) end('until-failure');
    else if (matchedUntil) end('until-match');
    else if (stop.untilChanges && lastHash !== null && stdoutHash !== lastHash) end('until-changes');
    else if (stop.maxFailures !== undefined && failures >= stop.maxFailures) end('max-failures');
    lastHash = stdoutHash;
  };

  const launch = (dueWall: number): Promise<void> => {
    const run = ++runs;
    const startWall = clock.wallNow();
    emit({ type: 'run-start', run, dueWall, startWall });
    const handle = deps.startRun({
      run,
      argv: spec.argv,
      shell: spec.shell,
      env: {
        RPR_RUN: String(run),
        RPR_SCHEDULED_AT: new Date(dueWall).toISOString(),
        RPR_LAST_EXIT_CODE: last?.exitCode?.toString() ?? '',
        RPR_LAST_DURATION_MS: last ? String(Math.round(last.durationMs)) : '',
      },
      timeoutMs: spec.timeoutMs,
      killAfterMs: spec.killAfterMs,
      ...spec.io,
      capture: capturesOutput(spec, schedule) ? { patterns, hashStdout: spec.stop.untilChanges } : undefined,
    });
    active.add(handle);
    return handle.done.then((outcome) => {
      active.delete(handle);
      schedule.runEnded?.({ dueWall, endWall: clock.wallNow() });
      const decided = decideRun(outcome, { success: patternIndex(spec.successPattern), failure: patternIndex(spec.failurePattern) });
      const untilIndex = patternIndex(spec.stop.untilMatch);
      onResult(
        {
          run,
          dueWall,
          startWall,
          endWall: clock.wallNow(),
          durationMs: outcome.durationMs,
          signal: outcome.signal,
          timedOut: outcome.timedOut,
          ...decided,
          ...(outcome.startProblem ? { startProblem: outcome.startProblem } : {}),
          ...(wantsTail && outcome.capture ? { outputTail: outcome.capture.tail, outputHead: outcome.capture.head } : {}),
        },
        outcome.capture?.stdoutHash ?? null,
        untilIndex !== undefined && !!outcome.capture?.matched[untilIndex],
      );
    });
  };

  const wantsTail = spec.wantsOutputTail === true || schedule.wantsOutput === true;
  const serial = spec.overlap === 'skip' || spec.overlap === 'queue';
  const ctx = (extra: { notBefore?: boolean } = {}) => ({ nowAt: clock.now(), nowWall: clock.wallNow(), last, ...extra });

  const loop = async (): Promise<JobOutcome> => {
    schedule.bind?.(emit);
    emit({ type: 'job-start', wall: clock.wallNow(), name: spec.name });
    let slot = await answerToSlot(schedule.first(ctx()));
    const inFlight: Promise<void>[] = [];
    while (!reason) {
      if (!slot) {
        end('schedule-done');
        break;
      }
      if (spec.stop.times !== undefined && runs >= spec.stop.times) {
        end('times');
        break;
      }
      // Counted only now: slots after the last run are not "skipped", the job is simply over.
      if (slot.skipped > 0) emit({ type: 'skipped', count: slot.skipped });
      const jitter = spec.jitterMs > 0 && !slot.startNow ? random() * spec.jitterMs : 0;
      const due: Due = slot.startNow ? { at: clock.now() } : 'at' in slot.due ? { at: slot.due.at + jitter } : { wall: slot.due.wall + jitter };
      // A queued run starts now but stands for the missed slot: that is when it was due.
      let dueWall = toWall(slot.startNow ? slot.due : due);
      emit({ type: 'next', run: runs + 1, dueWall: toWall(due) });
      // The stop points first: a slot due exactly at the --for or --until-time deadline is past the job.
      // The wait ends early for a stop (end() sets reason, then aborts it) or a trigger (no reason).
      const nudged = (nudge = new AbortController());
      if (reason) nudged.abort();
      let reached = await waitForFirst(clock, [deadline, untilTime, due], nudged.signal);
      nudge = undefined;
      if (reached === -1 && !reason) {
        reached = 2;
        dueWall = clock.wallNow();
      }
      if (reached !== 2) {
        if (reached === 0) end('for');
        if (reached === 1) end('until-time');
        break;
      }
      if (schedule.missed === 'skip' && -remainingMs(clock, due) > MISSED_AFTER_MS) {
        emit({ type: 'skipped', count: 1 });
        slot = await answerToSlot(schedule.after(slot.due, ctx({ notBefore: true })));
        continue;
      }
      // Checked before any claim: a slot this instance cannot run must stay free for another.
      if (spec.overlap === 'allow' && active.size >= spec.maxParallel) {
        emit({ type: 'skipped', count: 1 });
        slot = await answerToSlot(schedule.after(slot.due, ctx({ notBefore: true })));
        continue;
      }
      if (schedule.claim) {
        // Coordination: another instance may run this slot, or a shared limit may not be free yet.
        const claim = await unlessStopped(schedule.claim(slot.due, ctx()));
        // A stop signal during a slow claim ends the job at once. (--for ending meanwhile does not: the
        // slot was reached in time, and once claimed no other instance would run it.)
        if (reason || claim === null) break;
        if (claim === 'pass') {
          slot = await answerToSlot(schedule.after(slot.due, ctx({ notBefore: true })));
          continue;
        }
        if (claim !== 'run' && 'retryAt' in claim) {
          slot = { due: claim.retryAt, skipped: 0 };
          continue;
        }
        if (claim !== 'run') {
          slot = { due: claim.runAs, skipped: 0 };
          dueWall = toWall(claim.runAs);
        }
      }
      if (spec.overlap === 'kill' && active.size > 0) {
        await Promise.all([...active].map((run) => run.terminate(spec.killAfterMs)));
      }
      const finished = launch(dueWall);
      if (serial) {
        await waitRunOrDeadline(finished);
        if (reason) break;
        slot = await nextSerialSlot(slot);
      } else {
        inFlight.push(finished);
        slot = await answerToSlot(schedule.after(slot.due, ctx({ notBefore: true })));
      }
    }
    // Runs still going when the job ends are allowed to finish (or were told to stop).
    await Promise.all([...inFlight, ...[...active].map((run) => run.done)]);
    await schedule.close?.();
    const ended = reason ?? 'schedule-done';
    const exitCode = ended === 'signal' && stopExit !== undefined ? stopExit : scheduleExit !== undefined && ended === 'schedule-done' ? scheduleExit : UNTIL_MET.has(ended) ? 0 : failures > 0 ? 1 : 0;
    const described = ended === 'schedule-done' && scheduleReason ? scheduleReason : ended;
    emit({ type: 'job-end', reason: described, exitCode, wall: clock.wallNow() });
    return { reason: ended, detail: described, runs, failures, exitCode };
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

  /**
   * skip: the next slot not already past. queue: when slots were missed, one
   * run starts now standing for the last of them, and the grid goes on from it.
   */
  const nextSerialSlot = async (prev: Slot): Promise<Slot | null> => {
    const next = await answerToSlot(schedule.after(prev.due, ctx({ notBefore: true })));
    if (!next || spec.overlap !== 'queue' || !next.lastSkipped) return next;
    return { due: next.lastSkipped, skipped: next.skipped - 1, startNow: true };
  };

  /** The answer, or null as soon as the job is told to stop: a slow schedule must not delay a stop. */
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

  /** A schedule's end decision ends the job with its reason and exit status. */
  const answerToSlot = async (answer: SlotAnswer | Promise<SlotAnswer>): Promise<Slot | null> => {
    // A schedule that takes long to answer (a plugin stuck until its timeout) must not delay a stop.
    const resolved = await unlessStopped(answer);
    if (reason) return null;
    if (resolved && 'end' in resolved) {
      scheduleReason = resolved.reason;
      scheduleExit = resolved.exitCode;
      return null;
    }
    return resolved;
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
