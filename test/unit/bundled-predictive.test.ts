// predictive: one run per --every, placed where the load it has learnt is lowest. The load is a
// script of simulated time, fed through the host's own system-load host function (the fake source a
// test may inject); time is simulated too, so days of learning take a second.
import { afterEach, describe, expect, it } from 'vitest';
import { pluginSchedule } from '../../src/app/plugin-schedule.js';
import type { RunResult } from '../../src/job/events.js';
import type { PluginError, PluginHandle, SystemLoad } from '../../src/plugins/index.js';
import type { SlotAnswer } from '../../src/schedule/types.js';
import { loadBundled, loadError, simulate } from './bundled-helpers.js';

const M = 60_000;
const H = 60 * M;
const DAY = 24 * H;
/** Midnight UTC: periods of whole hours line up with the hours of the day. */
const T0 = Date.UTC(2026, 0, 5);

const open: PluginHandle[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

/** Load per core in %, by minute of the (UTC) day. */
type Script = (minuteOfDay: number) => number;
const between =
  (from: number, to: number, inside: number, outside: number): Script =>
  (m) =>
    m >= from && m < to ? inside : outside;

/** A handle whose system-load readings follow `script` at the simulated time `clock.now`. */
async function predictive(config: Record<string, unknown>, script: Script, options = {}) {
  const clock = { now: T0, readings: 0 };
  const source = (): SystemLoad => {
    clock.readings++;
    const load = script((((clock.now % DAY) + DAY) % DAY) / M);
    return { cpu_percent: load, memory_percent: 40, load1: (load / 100) * 2, load5: 0, load15: 0, cores: 2 };
  };
  const h = await loadBundled('predictive', config, { systemLoad: source, ...options });
  open.push(h);
  return { h, clock };
}

/** Runs `runs` runs of 2 s each; start times as minutes of the UTC day, and as offsets into their periods. */
async function runFor(h: PluginHandle, clock: { now: number }, runs: number) {
  const out = await simulate(h, [{ exit: 0, durationMs: 2000 }], runs, T0, (t) => (clock.now = t));
  return { ...out, minutes: out.starts.map((s) => ((s - T0) % DAY) / M) };
}

describe('predictive', () => {
  it('runs at once, then exactly one run per period, inside it', async () => {
    const { h, clock } = await predictive({ every: '1h', window: '15m' }, () => 30);
    const { delays, starts } = await runFor(h, clock, 72);
    expect(delays[0]).toBe(0);
    expect(starts[0]).toBe(T0);
    starts.forEach((s, i) => {
      // run i+1 belongs to period i, and its 15 minutes fit in it
      expect(s, `run ${i + 1}`).toBeGreaterThanOrEqual(T0 + i * H);
      expect(s, `run ${i + 1}`).toBeLessThanOrEqual(T0 + (i + 1) * H - 15 * M);
    });
  });

  it('on an even load, once it has seen the hours, each run starts at the start of its period', async () => {
    const { h, clock } = await predictive({ every: '1h', window: '15m' }, () => 30);
    const { starts } = await runFor(h, clock, 24 * 6);
    // While learning it tries quarter hours it has not seen; by the sixth day it has seen them all.
    const lastDay = starts.slice(-24);
    expect(lastDay.map((s) => (s - T0) % H)).toEqual(lastDay.map(() => 0));
  });

  it('learns a quiet half hour of the day and puts the run of that hour in it', async () => {
    // Busy all day but 03:30-04:00 UTC. A scheduler that knows nothing would start at 03:00.
    const { h, clock } = await predictive({ every: '1h', window: '15m' }, between(210, 240, 5, 80));
    const { minutes } = await runFor(h, clock, 24 * 5);
    const third = (day: number) => minutes.filter((m, i) => Math.floor(i / 24) === day && m >= 180 && m < 240);
    for (const day of [3, 4]) {
      expect(third(day), `day ${day}`).toHaveLength(1);
      expect(third(day)[0], `day ${day}: its 15 minutes inside 03:30-04:00`).toBeGreaterThanOrEqual(210);
      expect(third(day)[0], `day ${day}`).toBeLessThanOrEqual(225);
    }
  });

  it('--max-load holds a run past its period, up to --max-delay, when its whole period is predicted busy', async () => {
    // 00:00-01:00 UTC is busy every day; every hour has a run.
    const busy = between(0, 60, 90, 10);
    const held = await predictive({ every: '1h', 'max-load': 50, 'show-metrics': true }, busy);
    const free = await predictive({ every: '1h' }, busy);
    // While it learns it tries each quarter hour of the midnight hour once, one a day: give it six.
    const a = await runFor(held.h, held.clock, 24 * 6);
    const b = await runFor(free.h, free.clock, 24 * 6);
    // On the last day: without --max-load the midnight hour's run stays in it; with it, it moves out.
    const lastDay = (starts: number[]) => starts.filter((s) => s >= T0 + 5 * DAY && s < T0 + 6 * DAY).map((s) => ((s - T0) % DAY) / M);
    expect(lastDay(b.starts).filter((m) => m < 60)).toHaveLength(1);
    expect(lastDay(a.starts).filter((m) => m < 60)).toEqual([]);
    const message = a.steps
      .map((s) => String(s.raw.message))
      .filter((m) => m.includes('held past its period'))
      .at(-1);
    expect(message).toMatch(
      /^predictive: load \d+(\.\d)?%, usually [\d.]+%, \d+\/96 quarter hours seen; run \d+ in [\dhms]+ at 2026-01-\d\dT01:\d\d:\d\d\.000Z, predicted [\d.]+% over 2s \(its period's highest [\d.]+%\), held past its period by --max-load 50%$/,
    );
    // --max-delay bounds it: busy until 02:00, the midnight hour's run is held 10 minutes past its
    // last start (00:59:58), and no longer.
    const capped = await predictive({ every: '1h', 'max-load': 50, 'max-delay': '10m' }, between(0, 120, 90, 10));
    const c = await runFor(capped.h, capped.clock, 24 * 6);
    expect(lastDay(c.starts).filter((m) => m < 120)).toEqual([69 + 58 / 60]);
  });

  it('a --max-delay far longer than --every costs a decision no more time', async () => {
    const { h, clock } = await predictive({ every: '1s', 'max-load': 1, 'max-delay': '365d' }, () => 90);
    const t = Date.now();
    const { starts } = await runFor(h, clock, 3);
    expect(starts).toHaveLength(3);
    expect(Date.now() - t).toBeLessThan(5000);
    // Never below --max-load: held for all of --max-delay past its period (the 2 s run put the next
    // one in the period that starts at 2 s, whose only start, a 1 s stretch, is at 2 s).
    expect(starts[1]! - T0).toBe(2000 + 365 * DAY);
  });

  it('without the system-load permission it runs at the start of each period, and says why once', async () => {
    const logs: string[] = [];
    const denials: PluginError[] = [];
    const { h, clock } = await predictive({ every: '1h', 'show-metrics': true }, between(0, 30, 90, 10), {
      permissions: { narrow: { hostFunctions: [] } },
      onLog: (_level: string, m: string) => logs.push(m),
      onDenied: (e: PluginError) => denials.push(e),
    });
    const { starts, steps } = await runFor(h, clock, 30);
    expect(starts.map((s) => (s - T0) % H)).toEqual(starts.map(() => 0));
    expect(String(steps[1]!.raw.message)).toMatch(/^predictive: no load reading \(.*denied.*\); run 2 in 59m58s at 2026-01-05T01:00:00\.000Z/);
    expect(logs.filter((m) => m.includes('running at the start of each period'))).toHaveLength(1);
    expect(denials).toHaveLength(1);
  });

  it('refuses inconsistent settings; asks for nothing but system-load', async () => {
    expect(await loadError('predictive', {})).toMatch(/setting "every" is required/);
    expect(await loadError('predictive', { every: '1h', window: '2h' })).toMatch(/window must be between 0 and every \(1h\), got 2h/);
    expect(await loadError('predictive', { every: '1h', 'max-load': -1 })).toMatch(/max-load is a load in %/);
    const { h } = await predictive({ every: '1h' }, () => 0);
    expect(h.manifest.permissions).toMatchObject({ hostFunctions: ['system-load'], network: [], exec: [], filesystem: {} });
  });
});

describe('predictive keeps its model with rpr', () => {
  function result(run: number, end: number): RunResult {
    return { run, dueWall: end - 2000, startWall: end - 2000, endWall: end, durationMs: 2000, exitCode: 0, signal: null, timedOut: false, success: true, decidedBy: 'exit-code' };
  }

  /** Drives a handle through rpr's own plugin schedule; `hang` makes the load source hang at that run. */
  async function drive(h: PluginHandle, clock: { now: number }, runs: number, hang?: { run: number; source: { hang: boolean } }) {
    const schedule = pluginSchedule(h);
    const starts: number[] = [];
    const at = (answer: SlotAnswer, nowAt: number) => {
      if (!answer || 'end' in answer) throw new Error('not a slot');
      return answer.due.at - nowAt;
    };
    clock.now = T0;
    let now = T0 + at(await schedule.first({ nowAt: 0, nowWall: T0 }), 0);
    for (let run = 1; run <= runs; run++) {
      starts.push(now);
      now += 2000;
      clock.now = now;
      const ctx = { nowAt: now - T0, nowWall: now, last: result(run, now) };
      if (hang?.run === run) {
        hang.source.hang = true;
        await expect(schedule.after({ at: ctx.nowAt } as never, ctx)).rejects.toMatchObject({ failure: 'timeout' });
        hang.source.hang = false;
        expect(h.stats.rebuilds).toBe(1);
      }
      now += at(await schedule.after({ at: ctx.nowAt } as never, ctx), ctx.nowAt);
    }
    return starts;
  }

  it('a load reading that hangs (the call times out, the instance is rebuilt) changes none of its later choices', async () => {
    const script = between(210, 240, 5, 80);
    const steady = await predictive({ every: '1h', window: '15m' }, script);
    const source = { hang: false };
    const clock = { now: T0 };
    const hostile = await loadBundled(
      'predictive',
      { every: '1h', window: '15m' },
      {
        systemLoad: (): SystemLoad => {
          const until = Date.now() + 1500;
          while (source.hang && Date.now() < until) {
            // a reading stuck for longer than the plugin's 1 s time limit
          }
          const load = script((((clock.now % DAY) + DAY) % DAY) / M);
          return { cpu_percent: load, memory_percent: 40, load1: (load / 100) * 2, load5: 0, load15: 0, cores: 2 };
        },
      },
    );
    open.push(hostile);
    const want = await drive(steady.h, steady.clock, 24 * 4);
    // On the third day, with two days learnt: the instance is thrown away mid-call.
    const got = await drive(hostile, clock, 24 * 4, { run: 24 * 2 + 5, source });
    expect(got).toEqual(want);
    // ...and what it learnt shows: the 03:00 hour's run of the last day is in the quiet half hour.
    expect(got.filter((s) => s >= T0 + 3 * DAY + 3 * H && s < T0 + 3 * DAY + 4 * H).map((s) => (s - T0 - 3 * DAY) / M)[0]).toBeGreaterThanOrEqual(210);
  }, 30_000);
});
