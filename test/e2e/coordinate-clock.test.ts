// Hosts whose clocks disagree (libfaketime, Debian's faketime package; .ci/run installs it): three
// instances of one job whose wall clocks are 5 s behind, right, and 7 s ahead. A coordinated job
// takes its time from Redis (TIME), so every slot runs exactly once, on the grid Redis keeps, at
// its real time. Ground truth: Redis's own clock for the grid, and each run's real start (read by
// `date` without the faked clock).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HAVE_REDIS } from '../helpers/redis-server.js';
import { RPR, sleep, tempDir } from './core-helpers.js';
import { doubles, EVERY, instance, lost, readRuns, useRedis } from './coordinate-helpers.js';

/** libfaketime's thread-safe build (Node has threads), wherever the architecture keeps it. */
const LIBFAKETIME = readdirSync('/usr/lib', { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => join('/usr/lib', d.name, 'faketime', 'libfaketimeMT.so.1'))
  .find(existsSync);

/** The environment that gives a process a wall clock `offset` off (e.g. "+7s"); its monotonic clock stays true, as on a real host. */
const skewed = (offset: string): Record<string, string> => ({ LD_PRELOAD: LIBFAKETIME!, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: '1' });

if (!LIBFAKETIME) console.warn('coordinate-clock.test.ts skipped: libfaketime is not installed (Debian package faketime)');

const redis = useRedis();
let jobs = 0;

describe.skipIf(!HAVE_REDIS || !existsSync(RPR) || !LIBFAKETIME)('--coordinate on hosts whose clocks disagree', () => {
  it("libfaketime really skews Node's wall clock, and only it (the premise of the next test)", () => {
    for (const [offset, ms] of [
      ['-5s', -5000],
      ['+7s', 7000],
    ] as const) {
      const before = Date.now();
      const shown = spawnSync(process.execPath, ['-e', 'process.stdout.write(JSON.stringify([Date.now(), performance.now()]))'], { env: { ...process.env, ...skewed(offset) }, encoding: 'utf8' });
      const [wall, mono] = JSON.parse(shown.stdout) as [number, number];
      expect(wall - before).toBeGreaterThan(ms - 100);
      expect(wall - before).toBeLessThan(ms + 2000);
      // A monotonic clock counts from the process start, as always.
      expect(mono).toBeLessThan(2000);
    }
  });

  it('clocks 5 s behind, right and 7 s ahead: every slot once, on the Redis grid, at its real time', async () => {
    const dir = tempDir();
    const file = join(dir, 'runs');
    const name = `skew${jobs++}`;
    const offsets = { a: '-5s', b: undefined, c: '+7s' } as const;
    const all = [];
    for (const [label, offset] of Object.entries(offsets)) {
      all.push(instance(name, file, label, { url: redis().url, forMs: 5000, ...(offset ? { env: skewed(offset) } : {}) }));
      await sleep(300);
    }
    const results = await Promise.all(all.map((i) => i.done));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    // The hosts whose clocks are off say so, once.
    const [a, b, c] = results.map((r) => r.stderr);
    expect(a!.match(/^rpr: coordination: this host's clock is [\d.]+s behind Redis's; the job's slots follow Redis's clock$/gm)).toHaveLength(1);
    expect(c!.match(/^rpr: coordination: this host's clock is [\d.]+s ahead of Redis's; the job's slots follow Redis's clock$/gm)).toHaveLength(1);
    expect(b).not.toMatch(/this host's clock/);

    const runs = readRuns(file);
    const shown = runs.map((r) => `${new Date(r.at).toISOString()} ${r.instance} +${r.start - r.at}ms`).join('\n');
    expect(doubles(runs), shown).toEqual([]);
    expect(
      lost(
        runs,
        results.map((r) => r.stderr),
      ),
      shown,
    ).toEqual([]);
    // The grid Redis keeps: its origin is the first instance's start on Redis's clock (by the real
    // clock, after the first spawn - not 5 s before it, nor 7 s after - and before the end).
    const shape = spawnSync('redis-cli', ['-p', String(redis().port), 'get', `rpr:{${name}}:job`], { encoding: 'utf8' }).stdout.trim();
    const origin = Number(/^interval 200ms from (\d+)$/.exec(shape)?.[1]);
    expect(origin, shape).toBeGreaterThanOrEqual(all[0]!.spawnWall - 50);
    expect(origin, shape).toBeLessThan(runs[0]!.start);
    for (const r of runs) expect((r.at - origin) % EVERY, shown).toBe(0);
    // Each run started at its slot's real time, not 7 s early nor 5 s late (a loaded machine may start it late).
    for (const r of runs) {
      expect(r.start - r.at, shown).toBeGreaterThanOrEqual(-50);
      expect(r.start - r.at, shown).toBeLessThan(1500);
    }
    // Some 25 slots, whichever instance claimed each first.
    expect(runs.length, shown).toBeGreaterThanOrEqual(15);
    expect(new Set(runs.map((r) => r.instance)).size, shown).toBeGreaterThanOrEqual(2);
  }, 40_000);

  it('cron every second, clocks 5 s behind, right and 7 s ahead: each fire time once, at its real second', async () => {
    const dir = tempDir();
    const file = join(dir, 'runs');
    const name = `skew${jobs++}`;
    const schedule = ['cron', '--cron', '* * * * * *', '--timezone', 'UTC'];
    const all = [
      ['a', '-5s'],
      ['b', undefined],
      ['c', '+7s'],
    ].map(([label, offset]) => instance(name, file, label!, { url: redis().url, forMs: 5000, schedule, ...(offset ? { env: skewed(offset) } : {}) }));
    const results = await Promise.all(all.map((i) => i.done));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const runs = readRuns(file);
    const shown = runs.map((r) => `${new Date(r.at).toISOString()} ${r.instance} +${r.start - r.at}ms`).join('\n');
    expect(doubles(runs), shown).toEqual([]);
    expect(
      lost(
        runs,
        results.map((r) => r.stderr),
        1000,
      ),
      shown,
    ).toEqual([]);
    for (const r of runs) {
      expect(r.at % 1000, shown).toBe(0);
      expect(r.start - r.at, shown).toBeGreaterThanOrEqual(-50);
      expect(r.start - r.at, shown).toBeLessThan(1000);
    }
    expect(runs.length, shown).toBeGreaterThanOrEqual(3);
  }, 40_000);
});
