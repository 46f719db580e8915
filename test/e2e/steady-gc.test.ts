/**
 * V8's memory reducer stays off while rpr's heap is small (app/steady-gc.ts): without it, a job
 * 8 s old got two compacting collections (`Mark-Compact (reduce)`, 3-7 ms each on rpr's thread)
 * whether or not anything was left to give back, and a run due during one started that late.
 * Ground truth: V8's own --trace-gc lines.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RPR } from './core-helpers.js';

const run = promisify(execFile);

describe('a job past 8 s on a small heap', () => {
  it('gets no memory-reducing collection', async () => {
    const { stdout } = await run(process.execPath, ['--trace-gc', RPR, 'interval', '--every', '100ms', '--for', '9500ms', '--', 'true'], {
      env: { ...process.env, RPR_CONFIG: undefined, XDG_CONFIG_HOME: '/nonexistent' },
      timeout: 30_000,
    });
    const collections = stdout.split('\n').filter((line) => /\d+ ms: (Scavenge|Mark-Compact|Mark-Sweep)/.test(line));
    // The trace is there: young-generation collections happen in any job of 9.5 s.
    expect(collections.length).toBeGreaterThan(0);
    expect(collections.filter((line) => line.includes('(reduce)'))).toEqual([]);
  }, 40_000);
});
