// rate-limit and token-bucket through the real host, over simulated runs: the window property on
// the actual start times (retries included), exact next times (no probing), sub-second windows.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { PluginHandle } from '../../src/plugins/index.js';
import { decide, loadBundled, loadError, simulate, T0, type RunOutcome } from './bundled-helpers.js';

const open: PluginHandle[] = [];
async function load(name: string, config: Record<string, unknown>): Promise<PluginHandle> {
  const h = await loadBundled(name, config);
  open.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

const rel = (starts: number[]) => starts.map((s) => s - T0);

/** The largest number of starts in any window [x, x + w). */
function busiestWindow(starts: number[], w: number): number {
  const s = [...starts].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while (s[j]! <= s[i]! - w) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('rate-limit', () => {
  it('N back to back, then exactly when the oldest start leaves the window (4/1s)', async () => {
    const h = await load('rate-limit', { rate: '4/1s' });
    const { starts } = await simulate(h, [{ exit: 0 }], 9);
    expect(rel(starts)).toEqual([0, 0, 0, 0, 1000, 1000, 1000, 1000, 2000]);
  });

  it('sub-second windows are exact too (2/100ms; the Go rpr did 2 per second)', async () => {
    const h = await load('rate-limit', { r: '2/100ms' });
    const { starts } = await simulate(h, [{ exit: 0, durationMs: 7 }], 8);
    expect(rel(starts)).toEqual([0, 7, 100, 107, 200, 207, 300, 307]);
    expect(busiestWindow(starts, 100)).toBe(2);
  });

  it('counts from actual start times: start = now - duration', async () => {
    const h = await load('rate-limit', { rate: '3/1s' });
    const { starts } = await simulate(h, [{ exit: 0, durationMs: 200 }], 7);
    expect(rel(starts)).toEqual([0, 200, 400, 1000, 1200, 1400, 2000]);
  });

  it('--spread spaces new runs WINDOW/N apart', async () => {
    const h = await load('rate-limit', { rate: '4/1s', spread: true });
    const { starts } = await simulate(h, [{ exit: 0, durationMs: 10 }], 6);
    expect(rel(starts)).toEqual([0, 250, 500, 750, 1000, 1250]);
  });

  it('--retry-pattern re-runs a failed run at its offsets, and the retries count', async () => {
    const h = await load('rate-limit', { rate: '3/1s', 'retry-pattern': '0,200ms' });
    const { starts } = await simulate(h, [{ exit: 1 }], 6);
    // A at 0 fails, its retry at 0+200; B waits until its own retry would fit too (800), fails,
    // its retry at 800+200; never more than 3 starts in a second.
    expect(rel(starts)).toEqual([0, 200, 800, 1000, 1600, 1800]);
    expect(busiestWindow(starts, 1000)).toBe(3);
  });

  it('a run that succeeds gives back the slots of its retries', async () => {
    const h = await load('rate-limit', { rate: '3/1s', p: '200ms' }); // "0," is implied
    const { starts } = await simulate(h, [{ exit: 0 }, { exit: 0 }, { exit: 1 }, { exit: 0 }], 6);
    // 0 and 0 (room for one retry at 200 is kept), then 800 (its retry would be at 1000)...
    expect(rel(starts).slice(0, 4)).toEqual([0, 0, 800, 1000]);
    expect(busiestWindow(starts, 1000)).toBeLessThanOrEqual(3);
  });

  it('the window property holds for any rate, retry pattern, outcomes and durations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(100, 1000, 60_000),
        fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 3 }),
        fc.array(fc.record({ fail: fc.boolean(), duration: fc.integer({ min: 0, max: 100 }) }), { minLength: 1, maxLength: 20 }),
        async (n, w, offsetTenths, runs) => {
          // Offsets in tenths of the window, kept only if the pattern can fit at all.
          const offsets = offsetTenths.map((t) => (t * w) / 10);
          const pattern = ['0', ...offsets.map((o) => `${o}ms`)].join(',');
          const all = [0, ...offsets].sort((a, b) => a - b);
          if (all.some((o, i) => i + n < all.length && all[i + n]! - o < w)) return;
          const h = await loadBundled('rate-limit', { rate: `${n}/${w}ms`, 'retry-pattern': pattern });
          try {
            const outcomes: RunOutcome[] = runs.map((r) => ({ exit: r.fail ? 1 : 0, durationMs: (r.duration * w) / 100 }));
            const { starts, delays } = await simulate(h, outcomes, 40);
            expect(busiestWindow(starts, w)).toBeLessThanOrEqual(n);
            // Never a wait longer than a new run plus all its retries can need.
            for (const d of delays) expect(d).toBeLessThanOrEqual(w * all.length + all.at(-1)! + 1);
          } finally {
            await h.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);

  it('--show-next: each wait in the message, with the exact time', async () => {
    const h = await load('rate-limit', { rate: '1/1s', 'show-next': true });
    const { steps } = await simulate(h, [{ exit: 0 }], 2);
    expect(steps[0]!.raw.message).toBeUndefined(); // no wait, nothing to say
    expect(steps[1]!.raw.message).toBe(`rate-limit: next run in 1s, at ${new Date(T0 + 1000).toISOString()} (1 of 1 runs in the last 1s)`);
  });

  it('refuses rates and patterns that cannot work', async () => {
    expect(await loadError('rate-limit', {})).toMatch(/setting "rate" is required/);
    expect(await loadError('rate-limit', { rate: '0/1s' })).toMatch(/a rate of 0 would never run/);
    expect(await loadError('rate-limit', { rate: '10' })).toMatch(/rate must be N\/WINDOW/);
    expect(await loadError('rate-limit', { rate: '2.5/1s' })).toMatch(/N must be a whole number of runs/);
    expect(await loadError('rate-limit', { rate: '-1/1s' })).toMatch(/"-1" is not a number of runs/);
    expect(await loadError('rate-limit', { rate: '10/soon' })).toMatch(/"soon" is not a window length/);
    expect(await loadError('rate-limit', { rate: '2/1h', 'retry-pattern': '0,10m,30m' })).toMatch(/puts 3 attempts of one run within 1h/);
    expect(await loadError('rate-limit', { rate: '2/1h', 'retry-pattern': '0,later' })).toMatch(/"later" is not a duration/);
  });

  it('asked twice about the same run (a repeated call), counts it once', async () => {
    for (const [name, config] of [
      ['rate-limit', { rate: '2/1s' }],
      ['token-bucket', { rate: '2/1s', burst: 2 }],
    ] as const) {
      const h = await load(name, config);
      await decide(h, { run: 0 });
      expect((await decide(h, { run: 1 })).delay_ms, name).toBe(0);
      expect((await decide(h, { run: 1 })).delay_ms, name).toBe(0); // still one start
      expect((await decide(h, { run: 2 })).delay_ms, name).toBeGreaterThan(0);
    }
  });

  it('"100/h" means 100 per hour', async () => {
    const h = await load('rate-limit', { rate: '2/h' });
    expect(rel((await simulate(h, [{ exit: 0 }], 3)).starts)).toEqual([0, 0, 3_600_000]);
  });
});

describe('token-bucket', () => {
  it('--burst B back to back, then one every WINDOW/N', async () => {
    const h = await load('token-bucket', { rate: '10/1s', burst: 3 });
    const { starts } = await simulate(h, [{ exit: 0 }], 7);
    expect(rel(starts)).toEqual([0, 0, 0, 100, 200, 300, 400]);
  });

  it('refills while runs take time (burst 1 = evenly spaced)', async () => {
    const h = await load('token-bucket', { rate: '4/1s' });
    const { starts } = await simulate(
      h,
      [
        { exit: 0, durationMs: 100 },
        { exit: 0, durationMs: 600 },
        { exit: 0, durationMs: 10 },
      ],
      5,
    );
    // One token per 250 ms, counted start to start: 0 (full bucket); when the first run ends at
    // 100 the bucket holds 0.4, so 250; the 600 ms run has refilled it when it ends (850): at
    // once; then 250 ms after each start again.
    expect(rel(starts)).toEqual([0, 250, 850, 1100, 1350]);
  });

  it('over any stretch of time L at most B + L x rate runs start', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 5 }), fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 15 }), async (n, burst, durations) => {
        const h = await loadBundled('token-bucket', { rate: `${n}/1s`, burst });
        try {
          const { starts } = await simulate(
            h,
            durations.map((d) => ({ exit: 0, durationMs: d })),
            30,
          );
          for (let i = 0; i < starts.length; i++) {
            for (let j = i; j < starts.length; j++) {
              expect(j - i + 1).toBeLessThanOrEqual(burst + ((starts[j]! - starts[i]!) * n) / 1000 + 1e-6);
            }
          }
        } finally {
          await h.close();
        }
      }),
      { numRuns: 15 },
    );
  }, 120_000);

  it('a fractional rate is fine for a bucket (2.5/1s: a token every 400 ms)', async () => {
    const h = await load('token-bucket', { rate: '2.5/1s' });
    expect(rel((await simulate(h, [{ exit: 0 }], 3)).starts)).toEqual([0, 400, 800]);
  });

  it('--show-next says when the bucket has a token again', async () => {
    const h = await load('token-bucket', { rate: '2/1s', 'show-next': true });
    const { steps } = await simulate(h, [{ exit: 0 }], 1);
    expect(steps[1]!.raw.message).toBe(`token-bucket: next run in 500ms, at ${new Date(T0 + 500).toISOString()} (bucket empty; refills at 2/1s)`);
  });

  it('refuses a bad rate or burst', async () => {
    expect(await loadError('token-bucket', { rate: 'fast' })).toMatch(/rate must be N\/WINDOW/);
    expect(await loadError('token-bucket', { rate: '0/1m' })).toMatch(/a rate of 0 would never run/);
    expect(await loadError('token-bucket', { rate: '5/1s', burst: 0 })).toMatch(/burst must be at least 1/);
  });
});
