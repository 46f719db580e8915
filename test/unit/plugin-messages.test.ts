// The JSON messages of wit/: answers are checked (untrusted), inputs are built and bounded.
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent } from '../../src/job/events.js';
import { describeWasm, loadPlugin } from '../../src/plugins/host/load.js';
import type { PluginHandle } from '../../src/plugins/host/handle.js';
import { outputDeliver, schedulerNext } from '../../src/plugins/kinds.js';
import { boundTail, checkAck, checkDecision, checkPlanShape, toWireEvent } from '../../src/plugins/messages.js';
import { fixture } from '../plugins/helpers.js';

describe('answers are checked', () => {
  it('decisions', () => {
    expect(checkDecision('p', { action: 'run', delay_ms: 0 })).toEqual({ action: 'run', delay_ms: 0 });
    expect(checkDecision('p', { action: 'stop', reason: 'done', exit_code: 3, extra: 1 })).toEqual({ action: 'stop', reason: 'done', exit_code: 3 });
    expect(checkDecision('p', { action: 'stop', reason: 'done', exit_code: null })).toEqual({ action: 'stop', reason: 'done' });
    for (const bad of [
      { action: 'run', delay_ms: -1 },
      { action: 'run', delay_ms: 'soon' },
      { action: 'run' },
      { action: 'stop' },
      { action: 'stop', reason: 'x', exit_code: 300 },
      { action: 'wait' },
      null,
      'run',
      undefined,
    ]) {
      expect(() => checkDecision('p', bad), JSON.stringify(bad)).toThrow(/plugin "p" next: answer is not/);
    }
  });
  it('plans and acks', () => {
    expect(checkPlanShape('p', { argv: ['a'], cwd: '/' })).toEqual({ argv: ['a'], env: {}, cwd: '/' });
    expect(() => checkPlanShape('p', { argv: [], cwd: '/' })).toThrow(/malformed|answer is not/);
    expect(() => checkPlanShape('p', { argv: ['a'], cwd: '/', env: { X: 1 } })).toThrow(/env must map names to strings/);
    expect(checkAck('p', 'deliver', undefined)).toEqual({ ok: true });
    expect(() => checkAck('p', 'deliver', { ok: false, error: 'webhook 500' })).toThrow('plugin "p" deliver: webhook 500');
  });
});

describe('inputs are built', () => {
  it('output_tail keeps the last bytes without splitting a character', () => {
    expect(boundTail('abc', 10)).toBe('abc');
    expect(boundTail('0123456789', 4)).toBe('6789');
    expect(boundTail('aé€😀', 5)).toBe('😀');
    expect(boundTail('aé€😀', 7)).toBe('€😀');
    expect(Buffer.byteLength(boundTail('€'.repeat(5000)))).toBeLessThanOrEqual(4096);
  });
  it('job events in snake_case', () => {
    const result = { run: 2, dueWall: 10, startWall: 11, endWall: 20, durationMs: 9, exitCode: 1, signal: null, timedOut: false, success: false, decidedBy: 'exit-code' as const };
    expect(toWireEvent({ type: 'run-end', result }, 'tail')).toEqual({
      type: 'run-end',
      run: 2,
      due_ms: 10,
      start_ms: 11,
      end_ms: 20,
      duration_ms: 9,
      exit_code: 1,
      signal: null,
      timed_out: false,
      success: false,
      decided_by: 'exit-code',
      output_tail: 'tail',
    });
    // The monotonic clock's float noise is rounded to microseconds.
    expect(toWireEvent({ type: 'run-end', result: { ...result, durationMs: 1.8056329999999434 } })).toMatchObject({ duration_ms: 1.806 });
    // So are wall times computed from it (origin + k x every on the monotonic timeline).
    const noisy = { ...result, dueWall: 1796429131417.0869, startWall: 1796429131418.0000002, endWall: 1796429131420.12304 };
    expect(toWireEvent({ type: 'run-end', result: noisy })).toMatchObject({ due_ms: 1796429131417.087, start_ms: 1796429131418, end_ms: 1796429131420.123 });
    expect(toWireEvent({ type: 'next', run: 3, dueWall: 1796429131417.0869 })).toEqual({ type: 'next', run: 3, due_ms: 1796429131417.087 });
    expect(toWireEvent({ type: 'job-start', wall: 5, name: 'j' })).toEqual({ type: 'job-start', name: 'j', wall_ms: 5, host: hostname() });
    expect(toWireEvent({ type: 'job-end', reason: 'r', exitCode: 0, wall: 6 })).toEqual({ type: 'job-end', reason: 'r', exit_code: 0, wall_ms: 6 });
  });
});

describe('typed calls per kind', () => {
  let out: PluginHandle;
  beforeAll(async () => {
    out = await loadPlugin(fixture('probe'));
  });
  afterAll(async () => {
    await out?.close();
  });
  it('outputDeliver hands a job event to an output', async () => {
    const event: JobEvent = { type: 'job-start', wall: Date.now(), name: 'nightly' };
    await expect(outputDeliver(out, event)).resolves.toBeUndefined();
  });
  it('refuses to use a plugin as another kind', async () => {
    await expect(schedulerNext(out, { run: 0, last_exit_code: null, success: false, duration_ms: 0, consecutive_failures: 0, output_tail: '', now_ms: 0, started_ms: 0 })).rejects.toMatchObject({
      failure: 'abi',
      message: 'plugin "probe" next: is an output plugin, not a scheduler',
    });
  });
});

describe('describeWasm', () => {
  it('a bare .wasm tells what it is, with no permissions at all', async () => {
    const m = fixture('good-scheduler');
    expect(await describeWasm(m.wasm)).toMatchObject({ name: 'good-scheduler', kind: 'scheduler', abi: 1, config: { delay: { type: 'duration' } } });
  });
  it('a WASI module cannot be described without a grant', async () => {
    await expect(describeWasm(fixture('fs-probe').wasm)).rejects.toMatchObject({ failure: 'denied' });
  });
});
