import { describe, expect, it } from 'vitest';
import { OutputCapture, CAPTURE_CAP_BYTES } from '../../src/run/capture.js';
import { createPrefixer, expandPrefix } from '../../src/run/prefix.js';
import { decideRun } from '../../src/job/decide.js';
import type { RunOutcome } from '../../src/run/execute.js';

describe('prefixer', () => {
  it('prefixes every line, across chunk boundaries, and leaves bytes untouched', () => {
    let n = 0;
    const prefix = createPrefixer(() => `[${++n}] `);
    const out = Buffer.concat([prefix(Buffer.from('a\nb')), prefix(Buffer.from('c\n\nd\n')), prefix(Buffer.from([0xff, 10]))]);
    expect(out.toString('latin1')).toBe('[1] a\n[2] bc\n[3] \n[4] d\n[5] \xff\n');
  });
  it('expands the template fields', () => {
    const now = new Date(2030, 0, 1, 9, 5, 7);
    expect(expandPrefix('[{run} {time} {stream}] ', { run: 3, stream: 'stderr', now })).toBe('[3 09:05:07 stderr] ');
  });
});

describe('OutputCapture', () => {
  it('matches patterns per line and across lines', () => {
    const capture = new OutputCapture({ patterns: [/ready/, /a\nb/, /nope/], hashStdout: false });
    capture.write('stdout', Buffer.from('x\nrea'));
    capture.write('stdout', Buffer.from('dy\na\nb\n'));
    expect(capture.finish().matched).toEqual([true, true, false]);
  });

  it('still finds a match on a line after the first MiB', () => {
    const capture = new OutputCapture({ patterns: [/DONE/], hashStdout: false });
    capture.write('stdout', Buffer.alloc(CAPTURE_CAP_BYTES + 10, 'x\n'));
    capture.write('stderr', Buffer.from('DONE\n'));
    const result = capture.finish();
    expect(result.truncated).toBe(true);
    expect(result.matched).toEqual([true]);
  });

  it('hashes stdout only, so stderr noise does not count as a change', () => {
    const a = new OutputCapture({ patterns: [], hashStdout: true });
    a.write('stdout', Buffer.from('same'));
    a.write('stderr', Buffer.from('noise 1'));
    const b = new OutputCapture({ patterns: [], hashStdout: true });
    b.write('stdout', Buffer.from('same'));
    b.write('stderr', Buffer.from('noise 2'));
    expect(a.finish().stdoutHash).toBe(b.finish().stdoutHash);
  });

  it('decodes UTF-8 split across chunks', () => {
    const capture = new OutputCapture({ patterns: [/é/], hashStdout: false });
    const bytes = Buffer.from('é');
    capture.write('stdout', bytes.subarray(0, 1));
    capture.write('stdout', bytes.subarray(1));
    expect(capture.finish().matched).toEqual([true]);
  });
});

describe('decideRun', () => {
  const base: RunOutcome = { exitCode: 0, signal: null, spawnError: null, timedOut: false, durationMs: 1, capture: null };
  const withMatches = (exitCode: number, matched: boolean[]): RunOutcome => ({ ...base, exitCode, capture: { matched, stdoutHash: null, tail: '', truncated: false } });

  it('exit code decides without patterns', () => {
    expect(decideRun(base, {}).success).toBe(true);
    expect(decideRun({ ...base, exitCode: 3 }, {}).success).toBe(false);
  });
  it('failure pattern beats success pattern beats exit code', () => {
    expect(decideRun(withMatches(0, [true, true]), { success: 0, failure: 1 })).toMatchObject({ success: false, decidedBy: 'failure-pattern' });
    expect(decideRun(withMatches(3, [true, false]), { success: 0, failure: 1 })).toMatchObject({ success: true, decidedBy: 'success-pattern' });
    expect(decideRun(withMatches(3, [false, false]), { success: 0, failure: 1 })).toMatchObject({ success: false, decidedBy: 'exit-code' });
  });
  it('a timeout fails even when the success pattern matched', () => {
    expect(decideRun({ ...withMatches(0, [true]), timedOut: true }, { success: 0 })).toMatchObject({ success: false, decidedBy: 'timeout' });
  });
  it('a command that could not start gets shell exit codes', () => {
    expect(decideRun({ ...base, exitCode: null, spawnError: 'ENOENT' }, {})).toMatchObject({ success: false, exitCode: 127 });
    expect(decideRun({ ...base, exitCode: null, spawnError: 'EACCES' }, {})).toMatchObject({ success: false, exitCode: 126 });
  });
});
