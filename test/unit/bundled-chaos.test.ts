// chaos, the bundled scheduler written in Rust: random start times that are reproducible with a
// seed, their distribution, daily windows in real time zones (checked against Node's own tz
// database), random slots, and the sequence surviving a new instance through what rpr keeps.
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { PluginHandle } from '../../src/plugins/index.js';
import { loadBundled, loadError, simulate, type RunOutcome } from './bundled-helpers.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const DAY = 24 * H;
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);

const open: PluginHandle[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});
async function chaos(config: Record<string, unknown>, options = {}): Promise<PluginHandle> {
  const h = await loadBundled('chaos', config, options);
  open.push(h);
  return h;
}
const quick: RunOutcome[] = [{ exit: 0, durationMs: 0 }];
const gapsOf = (starts: number[], t0: number) => starts.map((s, i) => s - (i === 0 ? t0 : starts[i - 1]!));

/** Local time of day in a zone, in minutes, by Node's (ICU's) time zone database. */
function localMinutes(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(ms);
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return get('hour') * 60 + get('minute');
}

describe('chaos: random arrivals (--mean)', () => {
  it("--seed: the same seed gives the same start times, counted from the job's start; another seed others", async () => {
    const a = await simulate(await chaos({ mean: '5m', seed: 42 }), quick, 50, T0);
    const b = await simulate(await chaos({ mean: '5m', seed: 42 }), quick, 50, T0 + 3 * DAY + 17);
    const c = await simulate(await chaos({ mean: '5m', seed: 43 }), quick, 50, T0);
    expect(a.starts.map((s) => s - T0)).toEqual(b.starts.map((s) => s - T0 - 3 * DAY - 17));
    expect(a.starts.map((s) => s - T0)).not.toEqual(c.starts.map((s) => s - T0));
    // The first run is the first arrival, not at once.
    expect(a.starts[0]).toBeGreaterThan(T0);
  });

  it('without a seed, two jobs get different sequences (seeded by the random host function)', async () => {
    const a = await simulate(await chaos({ mean: '5m' }), quick, 10, T0);
    const b = await simulate(await chaos({ mean: '5m' }), quick, 10, T0);
    expect(a.starts).not.toEqual(b.starts);
  });

  it('gaps are min-gap plus an exponential draw: the mean holds, none is shorter than min-gap, none longer than max-gap', async () => {
    const plain = gapsOf((await simulate(await chaos({ mean: '1s', 'min-gap': '100ms', seed: 7 }), quick, 4000, T0)).starts, T0);
    const mean = plain.reduce((x, y) => x + y, 0) / plain.length;
    expect(mean).toBeGreaterThan(950);
    expect(mean).toBeLessThan(1050);
    expect(Math.min(...plain)).toBeGreaterThanOrEqual(100);
    // Exponential above min-gap: about e^-1 of the gaps exceed min-gap + (mean - min-gap).
    const over = plain.filter((g) => g > 1000).length / plain.length;
    expect(over).toBeGreaterThan(0.33);
    expect(over).toBeLessThan(0.41);
    const capped = gapsOf((await simulate(await chaos({ mean: '1s', 'max-gap': '1.5s', seed: 7 }), quick, 2000, T0)).starts, T0);
    expect(Math.max(...capped)).toBe(1500);
  });

  it('start times that fall while a run is still going are skipped, and the message says so', async () => {
    const h = await chaos({ mean: '1s', seed: 1, 'show-next': 1 });
    const { steps, starts } = await simulate(h, [{ exit: 0, durationMs: 10_000 }], 5, T0);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(10_000);
    expect(steps.slice(1).some((s) => /\(\d+ skipped: due while the last run was going\)$/.test(String(s.raw.message)))).toBe(true);
  });
});

describe('chaos: --show-next', () => {
  it('each decision lists the next N start times, and they are the ones that happen', async () => {
    const h = await chaos({ mean: '30s', seed: 5, 'show-next': 5 });
    const { steps, starts } = await simulate(h, quick, 12, T0);
    const listed = (i: number) =>
      String(steps[i]!.raw.message)
        .replace('chaos: next runs at ', '')
        .split(', ')
        .map((t) => Date.parse(t));
    expect(String(steps[0]!.raw.message)).toMatch(/^chaos: next runs at (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z(, |$)){5}/);
    for (let i = 0; i < 6; i++) expect(listed(i), `decision ${i}`).toEqual(starts.slice(i, i + 5));
  });

  it('no message unless asked', async () => {
    const { steps } = await simulate(await chaos({ mean: '30s', seed: 5 }), quick, 2, T0);
    expect(steps.map((s) => s.raw.message)).toEqual([undefined, undefined, undefined]);
  });
});

describe('chaos: --window in --tz', () => {
  const zones: [string, string, number][] = [
    // zone, window, start of the simulation (around a DST change where the zone has one)
    ['Europe/Paris', '09:00-17:00', Date.UTC(2026, 2, 26)],
    ['America/New_York', '09:00-17:00', Date.UTC(2026, 9, 30)],
    ['Europe/Dublin', '08:30-12:00', Date.UTC(2026, 9, 23)],
    ['Australia/Sydney', '22:00-06:00', Date.UTC(2026, 3, 2)],
    ['Asia/Kolkata', '10:00-11:30', T0],
    ['UTC', '23:00-01:00', T0],
  ];
  it.each(zones)("%s %s: every start inside the window, by Node's tz database; every day has runs", async (tz, window, t0) => {
    const h = await chaos({ mean: '10m', seed: 11, window, tz });
    const { starts } = await simulate(h, quick, 400, t0);
    const [from, to] = window.split('-').map((w) => Number(w.slice(0, 2)) * 60 + Number(w.slice(3)));
    for (const s of starts) {
      const m = localMinutes(s, tz);
      const inside = from! < to! ? m >= from! && m < to! : m >= from! || m < to!;
      expect(inside, `${new Date(s).toISOString()} is ${Math.floor(m / 60)}:${m % 60} in ${tz}`).toBe(true);
    }
    const days = new Set(starts.map((s) => Math.floor((s - t0) / DAY)));
    expect(days.size).toBeGreaterThanOrEqual(Math.floor((starts.at(-1)! - t0) / DAY));
  });

  it('a fixed offset and a POSIX TZ rule work as --tz too', async () => {
    const fixed = await simulate(await chaos({ mean: '10m', seed: 3, window: '09:00-10:00', tz: '+05:30' }), quick, 50, T0);
    for (const s of fixed.starts) expect(localMinutes(s, 'Asia/Kolkata')).toBeGreaterThanOrEqual(9 * 60);
    const rule = await simulate(await chaos({ mean: '10m', seed: 3, window: '09:00-10:00', tz: 'CET-1CEST,M3.5.0,M10.5.0/3' }), quick, 50, Date.UTC(2026, 6, 1));
    for (const s of rule.starts) expect(Math.floor(localMinutes(s, 'Europe/Berlin') / 60)).toBe(9);
  });

  it("the zone names it knows have the rules of the system's zoneinfo files", ({ skip }) => {
    if (!existsSync('/usr/share/zoneinfo/Europe/Paris')) {
      console.warn('bundled-chaos: zone table not compared: no /usr/share/zoneinfo here (Debian package tzdata)');
      skip('no /usr/share/zoneinfo');
    }
    const source = readFileSync(new URL('../../plugins-src/chaos/tz.rs', import.meta.url), 'utf8');
    const table = [...source.matchAll(/^\s*\("([^"]+)", "([^"]+)"\),$/gm)].map((m) => [m[1]!, m[2]!] as const);
    expect(table.length).toBeGreaterThan(60);
    for (const [zone, rule] of table) {
      const footer = readFileSync(`/usr/share/zoneinfo/${zone}`).toString('latin1').trimEnd().split('\n').at(-1);
      expect(rule, zone).toBe(footer);
    }
  });
});

describe('chaos: random slots (--every with --probability)', () => {
  it('runs only on the slots of the grid, about that share of them, reproducibly', async () => {
    const { starts } = await simulate(await chaos({ every: '1m', probability: 0.3, seed: 9 }), quick, 600, T0);
    for (const s of starts) expect((s - T0) % M).toBe(0);
    const share = starts.length / ((starts.at(-1)! - T0) / M + 1);
    expect(share).toBeGreaterThan(0.26);
    expect(share).toBeLessThan(0.34);
    const again = await simulate(await chaos({ every: '1m', probability: 0.3, seed: 9 }), quick, 600, T0);
    expect(again.starts).toEqual(starts);
  });

  it('min-gap skips slots too close to the last run; max-gap forces a run before the gap gets longer', async () => {
    const spaced = gapsOf((await simulate(await chaos({ every: '1m', probability: 0.5, 'min-gap': '3m', seed: 2 }), quick, 300, T0)).starts, T0).slice(1);
    expect(Math.min(...spaced)).toBeGreaterThanOrEqual(3 * M);
    const forced = gapsOf((await simulate(await chaos({ every: '1m', probability: 0.05, 'max-gap': '4m', seed: 2 }), quick, 300, T0)).starts, T0).slice(1);
    expect(Math.max(...forced)).toBeLessThanOrEqual(4 * M);
  });
});

describe("chaos: hostile settings stay within a call's time limit", () => {
  it('a probability of one in a billion, in a one-minute window: a decision still comes back in time', async () => {
    const h = await chaos({ every: '1s', probability: 1e-9, window: '09:00-09:01', 'show-next': 10, seed: 1 });
    const t = Date.now();
    const { starts } = await simulate(h, quick, 2, T0);
    expect(starts).toHaveLength(2);
    expect(Date.now() - t).toBeLessThan(5000);
  });
});

describe('chaos: the sequence is kept by rpr', () => {
  it('a new instance handed what rpr kept goes on with the same start times (an unseeded sequence too)', async () => {
    const first = await chaos({ mean: '1m' });
    const head = await simulate(first, quick, 9, T0);
    const kept = head.steps.at(-1)!.raw.keep;
    expect(kept).toMatchObject({ v: 1, s0: expect.stringMatching(/^[0-9a-f]{16}$/), s1: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const state = { ...head.steps.at(-1)!.state, run: 10, now_ms: head.starts.at(-1)! };
    const went = (await first.call('next', { ...state, kept })) as { delay_ms: number };
    // A fresh instance, as after a trap: same answer from what rpr kept...
    const second = await chaos({ mean: '1m' });
    expect(((await second.call('next', { ...state, kept })) as { delay_ms: number }).delay_ms).toBe(went.delay_ms);
    // ...and, without it, a sequence of its own.
    const third = await chaos({ mean: '1m' });
    expect(((await third.call('next', { ...state, kept: null })) as { delay_ms: number }).delay_ms).not.toBe(went.delay_ms);
  });
});

describe('chaos: settings', () => {
  it('refuses what cannot work, with the reason', async () => {
    expect(await loadError('chaos', {})).toMatch(/give mean \(random arrivals, e\.g\. --mean 5m\) or every with probability/);
    expect(await loadError('chaos', { probability: 0.3 })).toMatch(/probability needs every/);
    expect(await loadError('chaos', { probability: 1.5, every: '1m' })).toMatch(/probability must be between 0 and 1/);
    expect(await loadError('chaos', { mean: '1m', 'min-gap': '2m' })).toMatch(/mean must be longer than min-gap/);
    expect(await loadError('chaos', { mean: '1m', window: '9-17' })).toMatch(/window: "9-17" is not HH:MM-HH:MM/);
    expect(await loadError('chaos', { mean: '1m', window: '09:00-09:00' })).toMatch(/window: "09:00-09:00" is empty or the whole day/);
    expect(await loadError('chaos', { mean: '1m', window: '09:00-17:00', tz: 'Mars/Olympus' })).toMatch(
      /tz: "Mars\/Olympus" is neither a zone chaos knows.*the last line of \/usr\/share\/zoneinfo\/Mars\/Olympus/,
    );
    expect(await loadError('chaos', { mean: '1m', 'show-next': 11 })).toMatch(/show-next must be 0 to 10/);
    expect(await loadError('chaos', { mean: '1m', window: '09:00-17:00', tz: 'EST99999' })).toMatch(/tz: "EST99999" is neither/);
    expect(await loadError('chaos', { mean: '1m', window: '09:00-17:00', tz: 'CET-1CEST,M13.5.0,M10.5.0' })).toMatch(/tz: "CET-1CEST,M13.5.0,M10.5.0" is neither/);
  });

  it('asks for the random host function only; with it narrowed away it still runs, and says so once', async () => {
    const logs: string[] = [];
    const h = await chaos({ mean: '1m' }, { permissions: { narrow: { hostFunctions: [] } }, onLog: (_l: string, m: string) => logs.push(m) });
    expect(h.manifest.permissions).toMatchObject({ hostFunctions: ['random'], network: [], exec: [], filesystem: {} });
    const { starts } = await simulate(h, quick, 5, T0);
    expect(starts).toHaveLength(5);
    expect(logs.filter((m) => m.includes('the random host function is not granted'))).toHaveLength(1);
  });
});
