// The job loop's claim hook, on a fake clock: a schedule may pass a reached slot (another instance
// runs it) or make the run wait and ask again (a shared limit not free yet); claims come after the
// wait and before the run, and a wrapper (--http-aware) passes them on.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import type { Due } from '../../src/clock/clock.js';
import type { JobEvent } from '../../src/job/events.js';
import { startJob, type JobOutcome } from '../../src/job/loop.js';
import type { JobSpec } from '../../src/job/spec.js';
import { intervalSchedule } from '../../src/schedule/interval.js';
import type { ClaimAnswer, Schedule } from '../../src/schedule/types.js';
import { fakeRunner } from '../helpers/fake-runs.js';

const spec = (times: number): JobSpec => ({
  name: 'test',
  argv: ['true'],
  shell: false,
  overlap: 'skip',
  maxParallel: 4,
  jitterMs: 0,
  killAfterMs: 100,
  io: { sinks: {}, passthrough: { stdout: true, stderr: true } },
  stop: { times, forKill: false, untilSuccess: false, untilFailure: false, untilChanges: false },
});

async function simulate(schedule: Schedule, times: number, change: Partial<JobSpec> = {}, durationMs = 5, clock = new FakeClock()) {
  const { startRun, log } = fakeRunner(clock, { durationMs: () => durationMs });
  const events: JobEvent[] = [];
  const job = startJob({ ...spec(times), ...change, stop: { ...spec(times).stop, ...change.stop } }, { clock, schedule, startRun, observers: [(e) => events.push(e)] });
  let outcome: JobOutcome | undefined;
  void job.done.then((o) => (outcome = o));
  for (let t = 0; t < 20_000 && !outcome; t += 10) await clock.advance(10);
  return { outcome, log, clock, events };
}

const atOf = (due: Due): number => ('at' in due ? due.at : NaN);

describe('the loop asks a schedule to claim each reached slot', () => {
  it('pass: the slot is not run here and the next slot is waited for', async () => {
    const asked: { slot: number; at: number }[] = [];
    let clockRef: FakeClock | undefined;
    const inner = intervalSchedule(100);
    const schedule: Schedule = {
      ...inner,
      first: (ctx) => inner.first(ctx),
      after: (prev, ctx) => inner.after(prev, ctx),
      // Every other slot belongs to "another instance".
      claim: async (due): Promise<ClaimAnswer> => {
        asked.push({ slot: atOf(due), at: clockRef?.now() ?? 0 });
        return (atOf(due) / 100) % 2 === 0 ? 'run' : 'pass';
      },
    };
    const clock = new FakeClock();
    clockRef = clock;
    const { startRun, log } = fakeRunner(clock, { durationMs: () => 5 });
    const job = startJob(spec(4), { clock, schedule, startRun, observers: [] });
    let outcome: JobOutcome | undefined;
    void job.done.then((o) => (outcome = o));
    for (let t = 0; t < 5000 && !outcome; t += 10) await clock.advance(10);
    expect(outcome?.runs).toBe(4);
    expect(log.map((l) => l.startedAt)).toEqual([0, 200, 400, 600]);
    expect(log.map((l) => l.env.RPR_SCHEDULED_AT)).toHaveLength(4);
    // asked once per slot, when it was due (not before)
    expect(asked.map((a) => a.slot)).toEqual([0, 100, 200, 300, 400, 500, 600]);
    for (const a of asked) expect(a.at).toBeGreaterThanOrEqual(a.slot);
  });

  it('retryAt: the same run waits until then and is claimed again', async () => {
    const inner = intervalSchedule(1000);
    let tries = 0;
    const schedule: Schedule = {
      ...inner,
      first: (ctx) => inner.first(ctx),
      after: (prev, ctx) => inner.after(prev, ctx),
      claim: async (): Promise<ClaimAnswer> => (++tries <= 2 ? { retryAt: { at: 150 * tries } } : 'run'),
    };
    const { log, outcome } = await simulate(schedule, 2);
    expect(outcome?.runs).toBe(2);
    expect(log.map((l) => l.startedAt)).toEqual([300, 1300]);
    expect(tries).toBe(4);
  });

  it('runAs: the run starts now standing for a later slot, and the schedule goes on from that one', async () => {
    const inner = intervalSchedule(100);
    const prevs: number[] = [];
    const schedule: Schedule = {
      ...inner,
      first: (ctx) => inner.first(ctx),
      after: (prev, ctx) => {
        prevs.push(atOf(prev));
        return inner.after(prev, ctx);
      },
      // Slot 100, reached, is taken elsewhere; slot 200 is this instance's.
      claim: async (due): Promise<ClaimAnswer> => (atOf(due) === 100 ? { runAs: { at: 200 } } : 'run'),
    };
    const { log } = await simulate(schedule, 3);
    expect(log.map((l) => l.startedAt)).toEqual([0, 100, 300]);
    expect(prevs.slice(0, 2)).toEqual([0, 200]);
    // $RPR_SCHEDULED_AT names the slot the run stands for.
    const scheduled = log.map((l) => Date.parse(l.env.RPR_SCHEDULED_AT!));
    expect([scheduled[1]! - scheduled[0]!, scheduled[2]! - scheduled[0]!]).toEqual([200, 300]);
  });

  it('--on-overlap allow at --max-parallel: the slot is skipped before it is claimed (a claimed slot would be lost to the others)', async () => {
    const inner = intervalSchedule(100);
    const asked: number[] = [];
    const schedule: Schedule = {
      ...inner,
      first: (ctx) => inner.first(ctx),
      after: (prev, ctx) => inner.after(prev, ctx),
      claim: async (due): Promise<ClaimAnswer> => {
        asked.push(atOf(due));
        return 'run';
      },
    };
    // Runs of 250 ms, at most 2 at once: slot 200 finds two running and is not claimed.
    const { log } = await simulate(schedule, 3, { overlap: 'allow', maxParallel: 2 }, 250);
    expect(log.map((l) => l.startedAt)).toEqual([0, 100, 300]);
    expect(asked).toEqual([0, 100, 300]);
  });

  it('a claim answered after --for is over: the slot was reached in time and is claimed, so it runs; then the job ends', async () => {
    const clock = new FakeClock();
    const inner = intervalSchedule(100);
    const schedule: Schedule = {
      ...inner,
      first: (ctx) => inner.first(ctx),
      after: (prev, ctx) => inner.after(prev, ctx),
      // The claim of slot 200 takes 150 ms (a slow Redis): --for 300ms ends meanwhile.
      claim: async (due): Promise<ClaimAnswer> => {
        if (atOf(due) === 200) await clock.sleep(150);
        return 'run';
      },
    };
    const { log, outcome } = await simulate(schedule, 10, { stop: { ...spec(10).stop, forMs: 300 } }, 5, clock);
    expect(outcome?.reason).toBe('for');
    expect(log.map((l) => l.startedAt)).toEqual([0, 100, 350]);
  });

  it('a stop during a claim that never answers ends the job at once', async () => {
    const clock = new FakeClock();
    const inner = intervalSchedule(100);
    const schedule: Schedule = { ...inner, first: (ctx) => inner.first(ctx), after: (prev, ctx) => inner.after(prev, ctx), claim: () => new Promise<ClaimAnswer>(() => {}) };
    const { startRun } = fakeRunner(clock);
    const job = startJob(spec(3), { clock, schedule, startRun, observers: [] });
    await clock.advance(10);
    job.shutdown(100);
    await expect(job.done).resolves.toMatchObject({ reason: 'signal', runs: 0 });
  });

  it('runEnded: told of each run when it ends (the slot it stood for, its end), before the next slot is claimed', async () => {
    const inner = intervalSchedule(100);
    const seen: string[] = [];
    const schedule: Schedule = {
      ...inner,
      first: (ctx) => inner.first(ctx),
      after: (prev, ctx) => inner.after(prev, ctx),
      claim: async (due): Promise<ClaimAnswer> => {
        seen.push(`claim ${atOf(due)}`);
        return atOf(due) === 100 ? { runAs: { at: 200 } } : 'run';
      },
      runEnded: ({ dueWall, endWall }) => seen.push(`ended ${dueWall - base} at ${endWall - base}`),
    };
    const clock = new FakeClock();
    const base = clock.wallNow();
    // Runs of 50 ms: the one standing for slot 200 starts at 100 and ends at 150.
    await simulate(schedule, 3, {}, 50, clock);
    expect(seen).toEqual(['claim 0', 'ended 0 at 50', 'claim 100', 'ended 200 at 150', 'claim 300', 'ended 300 at 350']);
  });

  it('a schedule without claim runs every slot, as before', async () => {
    const { log } = await simulate(intervalSchedule(100), 3);
    expect(log.map((l) => l.startedAt)).toEqual([0, 100, 200]);
  });
});
