// The job loop's transitions (src/job/phases.ts, src/job/tally.ts), one event at a time: pure
// functions of what the driver saw, with "now" read from the fake clock. test/unit/loop.test.ts
// drives the whole loop through them.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import type { RunResult } from '../../src/job/events.js';
import { claimAnswered, MISSED_AFTER_MS, planSlot, runFinished, runStarted, slotAnswered, slotReached, type Now, type Phase, type Slot } from '../../src/job/phases.js';
import type { StopSpec } from '../../src/job/spec.js';
import { countRun, NO_RUNS, outcomeOf } from '../../src/job/tally.js';

type Waiting = Extract<Phase, { name: 'waiting' }>;

const clock = new FakeClock(Date.UTC(2030, 0, 1));
const nowOf = (c: FakeClock): Now => ({ at: c.now(), wall: c.wallNow() });
const slot = (at: number, extra: Partial<Slot> = {}): Slot => ({ due: { at }, skipped: 0, ...extra });
const plan = (s: Slot, runs = 0, more: { times?: number; jitterMs?: number; random?: () => number } = {}) => planSlot(s, { runs, jitterMs: 0, random: () => 0, now: nowOf(clock), ...more });
const waiting = (s: Slot, dueWall = 1000): Waiting => ({ name: 'waiting', slot: s, due: s.due, dueWall });
const reached = (point: number, extra: { stopping?: boolean; lateMs?: number; running?: number } = {}) => ({ point, stopping: false, nowWall: 5555, lateMs: 0, running: 0, ...extra });
const job = { overlap: 'skip' as const, maxParallel: 1, claims: false };

describe('asking: the schedule answered', () => {
  it('a slot is planned next; none, or its own end, ends the job as schedule-done', () => {
    expect(slotAnswered(slot(100), { stopping: false })).toEqual({ phase: { name: 'slot', slot: slot(100) } });
    expect(slotAnswered(null, { stopping: false })).toEqual({ phase: { name: 'draining' }, end: 'schedule-done' });
    expect(slotAnswered({ end: true, reason: 'succeeded after 3 attempts', exitCode: 0 }, { stopping: false })).toEqual({
      phase: { name: 'draining' },
      end: 'schedule-done',
      scheduleEnd: { reason: 'succeeded after 3 attempts', exitCode: 0 },
    });
  });

  it('a stop meanwhile wins over any answer, the schedule end too (it does not say the job ended)', () => {
    expect(slotAnswered(slot(100), { stopping: true })).toEqual({ phase: { name: 'draining' } });
    expect(slotAnswered({ end: true, reason: 'done' }, { stopping: true })).toEqual({ phase: { name: 'draining' } });
  });

  it('queue: missed slots become one run now, standing for the last of them; skip keeps the slot', () => {
    const missed = { due: { at: 500 }, skipped: 3, lastSkipped: { at: 400 } };
    expect(slotAnswered(missed, { stopping: false, queue: true }).phase).toEqual({ name: 'slot', slot: { due: { at: 400 }, skipped: 2, startNow: true } });
    expect(slotAnswered(missed, { stopping: false }).phase).toEqual({ name: 'slot', slot: missed });
  });
});

describe('slot: planning the wait', () => {
  it('announces the next run and counts the slots passed over, in that order after the skipped', () => {
    const step = plan(slot(2000, { skipped: 2 }), 3);
    expect(step.phase).toEqual({ name: 'waiting', slot: slot(2000, { skipped: 2 }), due: { at: 2000 }, dueWall: clock.wallNow() + 2000 });
    expect(step.events).toEqual([
      { type: 'skipped', count: 2 },
      { type: 'next', run: 4, dueWall: clock.wallNow() + 2000 },
    ]);
  });

  it('--times reached: the job ends without counting the slots after its last run', () => {
    expect(plan(slot(2000, { skipped: 2 }), 3, { times: 3 })).toEqual({ phase: { name: 'draining' }, end: 'times' });
  });

  it('jitter moves the wait and what the run stands for, on either timeline; a queued run starts now without it', () => {
    const monotonic = plan(slot(1000), 0, { jitterMs: 100, random: () => 0.25 }).phase as Waiting;
    expect(monotonic.due).toEqual({ at: 1025 });
    const wall = plan({ due: { wall: 9_000_000 }, skipped: 0 }, 0, { jitterMs: 100, random: () => 0.5 }).phase as Waiting;
    expect(wall).toMatchObject({ due: { wall: 9_000_050 }, dueWall: 9_000_050 });
    let drawn = 0;
    const queued = plan(slot(400, { startNow: true }), 0, { jitterMs: 100, random: () => ++drawn }).phase as Waiting;
    expect(queued.due).toEqual({ at: clock.now() });
    expect(queued.dueWall).toBe(clock.wallNow() + 400);
    expect(drawn).toBe(0);
  });
});

describe('waiting: a point was reached', () => {
  it('the stop points come first: --for, then --until-time', () => {
    expect(slotReached(waiting(slot(100)), reached(0), job)).toEqual({ phase: { name: 'draining' }, end: 'for' });
    expect(slotReached(waiting(slot(100)), reached(1), job)).toEqual({ phase: { name: 'draining' }, end: 'until-time' });
  });

  it('cut short by a stop: over, the reason is the stop’s; by a trigger: the slot starts now', () => {
    expect(slotReached(waiting(slot(100)), reached(-1, { stopping: true }), job)).toEqual({ phase: { name: 'draining' } });
    expect(slotReached(waiting(slot(100)), reached(-1), job).phase).toEqual({ name: 'starting', slot: slot(100), dueWall: 5555 });
  });

  it('the slot: starts, or is claimed first when the schedule claims', () => {
    expect(slotReached(waiting(slot(100)), reached(2), job).phase).toEqual({ name: 'starting', slot: slot(100), dueWall: 1000 });
    expect(slotReached(waiting(slot(100)), reached(2), { ...job, claims: true }).phase).toEqual({ name: 'claiming', slot: slot(100), dueWall: 1000 });
  });

  it('missed = skip: a slot reached too late (the machine slept) is counted and passed over', () => {
    const late = slotReached(waiting(slot(100)), reached(2, { lateMs: MISSED_AFTER_MS + 1 }), { ...job, missed: 'skip' });
    expect(late).toEqual({ phase: { name: 'asking', after: { at: 100 } }, events: [{ type: 'skipped', count: 1 }] });
    expect(slotReached(waiting(slot(100)), reached(2, { lateMs: MISSED_AFTER_MS }), { ...job, missed: 'skip' }).phase.name).toBe('starting');
    expect(slotReached(waiting(slot(100)), reached(2, { lateMs: 60_000 }), job).phase.name).toBe('starting');
  });

  it('allow: a slot beyond --max-parallel is passed over before any claim', () => {
    const allow = { overlap: 'allow' as const, maxParallel: 2, claims: true };
    expect(slotReached(waiting(slot(100)), reached(2, { running: 2 }), allow)).toEqual({ phase: { name: 'asking', after: { at: 100 } }, events: [{ type: 'skipped', count: 1 }] });
    expect(slotReached(waiting(slot(100)), reached(2, { running: 1 }), allow).phase.name).toBe('claiming');
  });
});

describe('claiming: the schedule’s word on the slot', () => {
  const claiming = { name: 'claiming' as const, slot: slot(100), dueWall: 1000 };
  it('run starts it; pass asks for the next; retryAt waits again; runAs runs now standing for the later slot', () => {
    expect(claimAnswered(claiming, 'run', false, nowOf(clock)).phase).toEqual({ name: 'starting', slot: slot(100), dueWall: 1000 });
    expect(claimAnswered(claiming, 'pass', false, nowOf(clock)).phase).toEqual({ name: 'asking', after: { at: 100 } });
    expect(claimAnswered(claiming, { retryAt: { at: 350 } }, false, nowOf(clock)).phase).toEqual({ name: 'slot', slot: slot(350) });
    expect(claimAnswered(claiming, { runAs: { at: 300 } }, false, nowOf(clock)).phase).toEqual({ name: 'starting', slot: slot(300), dueWall: clock.wallNow() + 300 });
  });

  it('a stop during the claim ends the job whatever the answer', () => {
    expect(claimAnswered(claiming, 'run', true, nowOf(clock))).toEqual({ phase: { name: 'draining' } });
    expect(claimAnswered(claiming, null, false, nowOf(clock))).toEqual({ phase: { name: 'draining' } });
  });
});

describe('starting and running: the overlap policy', () => {
  const starting = { name: 'starting' as const, slot: slot(100), dueWall: 1000 };
  it('skip and queue wait for the run; kill and allow ask for the next slot at once', () => {
    expect(runStarted(starting, 'skip').phase).toEqual({ name: 'running', slot: slot(100) });
    expect(runStarted(starting, 'queue').phase).toEqual({ name: 'running', slot: slot(100) });
    expect(runStarted(starting, 'kill').phase).toEqual({ name: 'asking', after: { at: 100 } });
    expect(runStarted(starting, 'allow').phase).toEqual({ name: 'asking', after: { at: 100 } });
  });

  it('the run over: the next slot (queue: missed ones run late), unless the job was told to stop', () => {
    const running = { name: 'running' as const, slot: slot(100) };
    expect(runFinished(running, false, 'skip').phase).toEqual({ name: 'asking', after: { at: 100 }, queue: false });
    expect(runFinished(running, false, 'queue').phase).toEqual({ name: 'asking', after: { at: 100 }, queue: true });
    expect(runFinished(running, true, 'queue')).toEqual({ phase: { name: 'draining' } });
  });
});

describe('a run ended: the tally and the stop conditions', () => {
  const stop = (s: Partial<StopSpec> = {}): StopSpec => ({ forKill: false, untilSuccess: false, untilFailure: false, untilChanges: false, ...s });
  const result = (run: number, success: boolean): RunResult => ({
    run,
    dueWall: 0,
    startWall: 0,
    endWall: 0,
    durationMs: 1,
    exitCode: success ? 0 : 1,
    signal: null,
    timedOut: false,
    success,
    decidedBy: 'exit-code',
  });

  it('counts failures and keeps the last result and stdout hash', () => {
    const { tally, end } = countRun({ ...NO_RUNS, runs: 1 }, stop(), result(1, false), 'h1', false);
    expect(tally).toEqual({ runs: 1, failures: 1, last: result(1, false), lastHash: 'h1' });
    expect(end).toBeUndefined();
  });

  it('each condition ends the job, the first that holds in order', () => {
    expect(countRun(NO_RUNS, stop({ untilSuccess: true, untilFailure: true }), result(1, true), null, true).end).toBe('until-success');
    expect(countRun(NO_RUNS, stop({ untilFailure: true, maxFailures: 1 }), result(1, false), null, false).end).toBe('until-failure');
    expect(countRun(NO_RUNS, stop({ maxFailures: 1 }), result(1, false), null, true).end).toBe('until-match');
    expect(countRun(NO_RUNS, stop({ maxFailures: 2 }), result(1, false), null, false).end).toBeUndefined();
    expect(countRun({ ...NO_RUNS, failures: 1 }, stop({ maxFailures: 2 }), result(2, false), null, false).end).toBe('max-failures');
  });

  it('--until-changes: not on the first run, only when the hash differs from the one before', () => {
    const first = countRun(NO_RUNS, stop({ untilChanges: true }), result(1, true), 'a', false);
    expect(first.end).toBeUndefined();
    expect(countRun(first.tally, stop({ untilChanges: true }), result(2, true), 'a', false).end).toBeUndefined();
    expect(countRun(first.tally, stop({ untilChanges: true }), result(2, true), 'b', false).end).toBe('until-changes');
  });

  it('the outcome: a stop’s status, the schedule’s own, 0 for a met condition, else 1 when a run failed', () => {
    const failed = { runs: 3, failures: 1, lastHash: null };
    expect(outcomeOf(failed, 'signal', 130, undefined)).toEqual({ reason: 'signal', detail: 'signal', runs: 3, failures: 1, exitCode: 130 });
    expect(outcomeOf(failed, 'signal', undefined, undefined).exitCode).toBe(1);
    expect(outcomeOf(failed, undefined, undefined, { reason: 'gave up', exitCode: 4 })).toEqual({ reason: 'schedule-done', detail: 'gave up', runs: 3, failures: 1, exitCode: 4 });
    expect(outcomeOf(failed, 'times', undefined, { reason: 'gave up', exitCode: 4 })).toMatchObject({ detail: 'times', exitCode: 1 });
    expect(outcomeOf(failed, 'until-success', undefined, undefined).exitCode).toBe(0);
    expect(outcomeOf({ ...failed, failures: 0 }, 'for', undefined, undefined).exitCode).toBe(0);
  });
});
