import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import type { JobEvent } from '../../src/job/events.js';
import { startJob, type JobOutcome } from '../../src/job/loop.js';
import type { JobSpec, StopSpec } from '../../src/job/spec.js';
import { backToBackSchedule, intervalSchedule } from '../../src/schedule/interval.js';
import type { Schedule } from '../../src/schedule/types.js';
import { fakeRunner, type FakeRunScript } from '../helpers/fake-runs.js';

function spec(overrides: Partial<JobSpec> & { stop?: Partial<StopSpec> } = {}): JobSpec {
  return {
    name: 'test',
    argv: ['true'],
    shell: false,
    overlap: 'skip',
    maxParallel: 4,
    jitterMs: 0,
    killAfterMs: 100,
    io: { sinks: {}, passthrough: { stdout: true, stderr: true } },
    ...overrides,
    stop: { forKill: false, untilSuccess: false, untilFailure: false, untilChanges: false, ...overrides.stop },
  };
}

/** Runs a job on a fake clock until it ends (or `limitMs` of fake time passes). */
async function simulate(jobSpec: JobSpec, schedule: Schedule, script: FakeRunScript = {}, limitMs = 60_000, random?: () => number) {
  const clock = new FakeClock();
  const { startRun, log } = fakeRunner(clock, script);
  const events: JobEvent[] = [];
  const job = startJob(jobSpec, { clock, schedule, startRun, observers: [(e) => events.push(e)], random });
  let outcome: JobOutcome | undefined;
  void job.done.then((o) => (outcome = o));
  for (let t = 0; t < limitMs && !outcome; t += 10) await clock.advance(10);
  return { outcome, log, events, clock, job };
}

const skippedTotal = (events: JobEvent[]): number => events.reduce((n, e) => n + (e.type === 'skipped' ? e.count : 0), 0);

describe('fixed-rate interval', () => {
  it('starts run k at k x every from the first run, with no drift', async () => {
    const { log, outcome } = await simulate(spec({ stop: { times: 100 } }), intervalSchedule(100), { durationMs: () => 37 });
    expect(outcome?.reason).toBe('times');
    expect(log).toHaveLength(100);
    log.forEach((entry, k) => expect(entry.startedAt).toBe(k * 100));
  });

  it('ends right after the last run instead of waiting another interval', async () => {
    const { outcome, clock, log } = await simulate(spec({ stop: { times: 3 } }), intervalSchedule(1000), { durationMs: () => 5 });
    expect(outcome?.runs).toBe(3);
    expect(log.at(-1)!.startedAt).toBe(2000);
    // the job ended within one 10 ms simulation step of the last run finishing
    expect(clock.now()).toBeLessThanOrEqual(2020);
  });

  it('waits --delay-first before the first run', async () => {
    const { log } = await simulate(spec({ stop: { times: 2 } }), intervalSchedule(100, 250));
    expect(log.map((l) => l.startedAt)).toEqual([250, 350]);
  });

  it('adds jitter per run without accumulating it', async () => {
    const { log } = await simulate(spec({ jitterMs: 50, stop: { times: 4 } }), intervalSchedule(100), {}, 60_000, () => 0.5);
    expect(log.map((l) => l.startedAt)).toEqual([25, 125, 225, 325]);
  });
});

describe('overlap policies', () => {
  const slow = { durationMs: (run: number) => (run === 1 ? 250 : 10) };

  it('skip: waits for the next slot on the grid and counts the passed slots', async () => {
    const { log, events } = await simulate(spec({ stop: { times: 3 } }), intervalSchedule(100), slow);
    expect(log.map((l) => l.startedAt)).toEqual([0, 300, 400]);
    expect(skippedTotal(events)).toBe(2);
  });

  it('queue: starts as soon as the previous run ends, then returns to the grid', async () => {
    const { log, events } = await simulate(spec({ overlap: 'queue', stop: { times: 3 } }), intervalSchedule(100), slow);
    expect(log.map((l) => l.startedAt)).toEqual([0, 250, 300]);
    expect(skippedTotal(events)).toBe(1);
  });

  it('kill: stops the running one at the next slot and starts on time', async () => {
    const { log } = await simulate(spec({ overlap: 'kill', stop: { times: 3 } }), intervalSchedule(100), { durationMs: () => 1000 });
    expect(log.map((l) => l.startedAt)).toEqual([0, 100, 200]);
    expect(log.slice(0, 2).every((l) => l.terminated)).toBe(true);
  });

  it('allow: runs concurrently up to --max-parallel and skips slots beyond it', async () => {
    const { log, events } = await simulate(spec({ overlap: 'allow', maxParallel: 2, stop: { times: 4 } }), intervalSchedule(100), { durationMs: () => 250 });
    expect(log.map((l) => l.startedAt)).toEqual([0, 100, 300, 400]);
    expect(skippedTotal(events)).toBe(1);
  });
});

describe('stop conditions', () => {
  it('--for stops starting runs at the deadline and lets the running one finish', async () => {
    const { log, outcome, clock } = await simulate(spec({ stop: { forMs: 250 } }), intervalSchedule(100), { durationMs: () => 80 });
    expect(outcome?.reason).toBe('for');
    expect(log.map((l) => l.startedAt)).toEqual([0, 100, 200]);
    expect(log.at(-1)!.terminated).toBeUndefined();
    expect(clock.now()).toBeLessThan(300);
  });

  it('--for 300ms --every 100ms: the job is over at the deadline, so the slot due exactly then does not run', async () => {
    const { log, outcome } = await simulate(spec({ stop: { forMs: 300 } }), intervalSchedule(100), { durationMs: () => 5 });
    expect(outcome?.reason).toBe('for');
    expect(log.map((l) => l.startedAt)).toEqual([0, 100, 200]);
  });

  it('--for-kill terminates the running command at the deadline', async () => {
    const { log, outcome } = await simulate(spec({ stop: { forMs: 150, forKill: true } }), intervalSchedule(100), { durationMs: () => 5000 });
    expect(outcome?.reason).toBe('for');
    expect(log).toHaveLength(1);
    expect(log[0]!.terminated).toBe(true);
    expect(log[0]!.endedAt).toBe(150);
  });

  it('--until-success stops at the first success with exit 0', async () => {
    const { outcome } = await simulate(spec({ stop: { untilSuccess: true } }), backToBackSchedule(), { exitCode: (n) => (n < 4 ? 1 : 0) });
    expect(outcome).toMatchObject({ reason: 'until-success', runs: 4, exitCode: 0 });
  });

  it('--until-failure stops at the first failure', async () => {
    const { outcome } = await simulate(spec({ stop: { untilFailure: true } }), backToBackSchedule(), { exitCode: (n) => (n === 3 ? 2 : 0) });
    expect(outcome).toMatchObject({ reason: 'until-failure', runs: 3 });
  });

  it('--max-failures stops after N failures with exit 1', async () => {
    const { outcome } = await simulate(spec({ stop: { maxFailures: 2 } }), backToBackSchedule(), { exitCode: (n) => n % 2 });
    expect(outcome).toMatchObject({ reason: 'max-failures', runs: 3, failures: 2, exitCode: 1 });
  });

  it('--until-changes stops when the output hash differs from the previous run', async () => {
    const { outcome } = await simulate(spec({ stop: { untilChanges: true } }), backToBackSchedule(), { stdoutHash: (n) => (n < 5 ? 'a' : 'b') });
    expect(outcome).toMatchObject({ reason: 'until-changes', runs: 5, exitCode: 0 });
  });

  it('--until-match stops when the output matched', async () => {
    const { outcome } = await simulate(spec({ stop: { untilMatch: /ready/ } }), backToBackSchedule(), { matched: (n) => [n === 2] });
    expect(outcome).toMatchObject({ reason: 'until-match', runs: 2 });
  });

  it('exit code is 1 when any run failed, 0 when none did', async () => {
    const failed = await simulate(spec({ stop: { times: 3 } }), backToBackSchedule(), { exitCode: (n) => (n === 2 ? 7 : 0) });
    const passed = await simulate(spec({ stop: { times: 3 } }), backToBackSchedule());
    expect(failed.outcome?.exitCode).toBe(1);
    expect(passed.outcome?.exitCode).toBe(0);
  });
});

describe('run environment', () => {
  it('tells each run its number, due time and the previous result', async () => {
    const { log } = await simulate(spec({ stop: { times: 2 } }), intervalSchedule(100), { durationMs: () => 30, exitCode: () => 3 });
    expect(log[0]!.env).toMatchObject({ RPR_RUN: '1', RPR_LAST_EXIT_CODE: '', RPR_LAST_DURATION_MS: '' });
    expect(log[1]!.env).toMatchObject({ RPR_RUN: '2', RPR_LAST_EXIT_CODE: '3', RPR_LAST_DURATION_MS: '30' });
    expect(Date.parse(log[1]!.env.RPR_SCHEDULED_AT!) - Date.parse(log[0]!.env.RPR_SCHEDULED_AT!)).toBe(100);
  });
});

describe('shutdown', () => {
  it('stops starting runs and terminates the running one', async () => {
    const clock = new FakeClock();
    const { startRun, log } = fakeRunner(clock, { durationMs: () => 10_000 });
    const events: JobEvent[] = [];
    const job = startJob(spec(), { clock, schedule: intervalSchedule(100), startRun, observers: [(e) => events.push(e)] });
    await clock.advance(50);
    job.shutdown(100);
    const outcome = await job.done;
    expect(outcome.reason).toBe('signal');
    expect(log).toHaveLength(1);
    expect(log[0]!.terminated).toBe(true);
    expect(events.some((e) => e.type === 'stopping')).toBe(true);
  });
});

describe('cron slots and a machine that slept', () => {
  async function sleptThrough(catchUp: boolean) {
    const { parseCron } = await import('../../src/schedule/cron/parse.js');
    const { cronSchedule } = await import('../../src/schedule/cron-schedule.js');
    const clock = new FakeClock(Date.UTC(2030, 0, 1, 12, 0, 30));
    const { startRun, log } = fakeRunner(clock, { durationMs: () => 10 });
    const events: JobEvent[] = [];
    const job = startJob(spec({ stop: { times: 2 } }), {
      clock,
      schedule: cronSchedule(parseCron('* * * * *', 'UTC'), { catchUp }),
      startRun,
      observers: [(e) => events.push(e)],
    });
    await clock.advance(20_000); // 12:00:50, waiting for 12:01:00
    clock.jumpWall(5 * 60_000); // asleep until 12:05:50: five fire times passed
    await clock.advance(1_000);
    const runsAtWake = log.length;
    await clock.advance(70_000);
    job.shutdown(10);
    await job.done;
    return { runsAtWake, log, skipped: skippedTotal(events), clock };
  }

  it('skips and counts fire times missed while asleep by default', async () => {
    const { runsAtWake, skipped, log } = await sleptThrough(false);
    expect(runsAtWake).toBe(0);
    expect(skipped).toBe(5);
    expect(log[0]!.env.RPR_SCHEDULED_AT).toBe('2030-01-01T12:06:00.000Z'); // the next fire time after waking
  });

  it('--catch-up runs one missed fire time on wake, and counts the rest', async () => {
    const { runsAtWake, skipped, log } = await sleptThrough(true);
    expect(runsAtWake).toBe(1);
    expect(skipped).toBe(4);
    expect(log[0]!.env.RPR_SCHEDULED_AT).toBe('2030-01-01T12:01:00.000Z'); // the first missed one, run late
    expect(log[1]!.env.RPR_SCHEDULED_AT).toBe('2030-01-01T12:06:00.000Z');
  });
});
