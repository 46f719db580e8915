/**
 * The last line of a job that did not end well (issue 15): one line on stderr, without --verbose,
 * saying how many runs failed or timed out and why the job ended; -q silences it; after a signal,
 * --verbose's own end line names the status rpr exits with.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, run, start } from './core-helpers.js';
import { errLines } from './plugins-helpers.js';

afterEach(cleanup);

describe('a job that ends non-zero says why in one line', () => {
  it('counts the failed runs', async () => {
    const r = await run(['count', '-t', '3', '--', 'sh', '-c', '[ "$RPR_RUN" = 2 ]']);
    expect(r.code).toBe(1);
    expect(errLines(r.stderr)).toEqual(['rpr: job ended (times): 2 of 3 runs failed; exit 1']);
  });

  it('counts the runs that timed out', async () => {
    const r = await run(['count', '-t', '2', '--timeout', '100ms', '--', 'sleep', '5']);
    expect(r.code).toBe(1);
    expect(errLines(r.stderr)).toEqual(['rpr: job ended (times): 2 of 2 runs failed, 2 timed out; exit 1']);
  });

  it('a retry scheduler that gave up says so in its words', async () => {
    const r = await run(['fibonacci', '--initial', '10ms', '--attempts', '3', '--', 'false']);
    expect(r.code).toBe(1);
    expect(errLines(r.stderr)).toEqual(['rpr: job ended (failed 3 times (--attempts 3)): 3 of 3 runs failed; exit 1']);
  });

  it('is the last line, after the summary', async () => {
    const r = await run(['count', '-t', '2', '--summary', '--', 'false']);
    expect(r.code).toBe(1);
    expect(errLines(r.stderr).at(-1)).toBe('rpr: job ended (times): 2 of 2 runs failed; exit 1');
    expect(r.stderr).toMatch(/runs/);
  });

  it('-q silences it; a job that passed prints nothing', async () => {
    const quiet = await run(['count', '-t', '2', '-q', '--', 'false']);
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toBe('');
    const ok = await run(['count', '-t', '2', '--', 'true']);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toBe('');
  });
});

describe('after Ctrl-C', () => {
  it("--verbose's end line names the status rpr exits with (130), not 1", async () => {
    const job = start(['interval', '-e', '5s', '-v', '--', 'true']);
    await job.waitFor('stderr', /run 1 ok/);
    job.child.kill('SIGINT');
    const done = await job.done;
    expect(done.code).toBe(130);
    const err = errLines(done.stderr);
    expect(err.at(-1)).toBe('rpr: job ended (signal), exit 130');
    expect(err).not.toContainEqual(expect.stringMatching(/exit 1$/));
  });

  it('without --verbose, the last line says it was a signal, with the status', async () => {
    const job = start(['interval', '-e', '5s', '--', 'sh', '-c', 'echo ran; exit 1']);
    await job.waitFor('stdout', /ran/);
    job.child.kill('SIGINT');
    const done = await job.done;
    expect(done.code).toBe(130);
    expect(errLines(done.stderr)).toEqual(['rpr: job stopped by a signal: 1 of 1 run failed; exit 130']);
  });
});
