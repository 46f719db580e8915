/**
 * A wall clock set forward while a job runs (libfaketime: the wall clock of rpr only, monotonic and
 * boot clocks untouched) is not a suspend: an interval job goes on as if nothing happened. Before,
 * a +1 h step was taken for an hour asleep: a --for 4s job ended at once, a grid of slots skipped.
 * (A real suspend cannot be made in a test; the clock's unit tests cover it.)
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, lines, start } from './core-helpers.js';

afterEach(cleanup);

const LIB = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'].find((f) => existsSync(f));
if (!LIB) console.error('SKIP wall-clock step: libfaketime is not installed (Debian package faketime; .ci/run installs it)');

describe.skipIf(!LIB)('the wall clock set an hour ahead during an interval job', () => {
  it('changes nothing: runs go on every 300 ms until --for, no slot is skipped', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rpr-clock-')), 'offset');
    writeFileSync(file, '+0');
    const arrivals: number[] = [];
    const job = start(['interval', '--every', '300ms', '--for', '4s', '--verbose', '--', 'echo', 'tick'], {
      env: { LD_PRELOAD: LIB!, FAKETIME_TIMESTAMP_FILE: file, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' },
      timeoutMs: 20_000,
    });
    job.child.stdout!.on('data', (d: Buffer) => {
      for (const _ of d.toString().matchAll(/tick/g)) arrivals.push(performance.now());
    });
    await job.waitFor('stdout', /(tick\n){4}/, 10_000);
    writeFileSync(file, '+3600');
    const done = await job.done;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).not.toMatch(/skipped \d+ slot/);
    // 4 s at 300 ms: 14 runs (13 on a loaded machine that starts late), not 4 or 5.
    expect(arrivals.length).toBeGreaterThanOrEqual(12);
    expect(arrivals.length).toBeLessThanOrEqual(14);
    expect(lines(done.stdout).every((l) => l === 'tick')).toBe(true);
  });
});
