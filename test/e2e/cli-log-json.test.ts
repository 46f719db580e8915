/**
 * --log-format json (issue 15): rpr's own stderr lines as JSON objects (time, level, job id, run
 * number, message) for log pipelines; the command's output untouched.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, run } from './core-helpers.js';

afterEach(cleanup);

interface LogLine {
  time: string;
  level: string;
  job_id?: string;
  job?: string;
  run?: number;
  message: string;
}
const parsed = (stderr: string): LogLine[] =>
  stderr
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogLine);

describe('--log-format json', () => {
  it("makes every line of rpr's a JSON object with the job's id (RPR_JOB_ID) and the run; the command's output is untouched", async () => {
    const r = await run(['count', '-t', '2', '-v', '--log-format', 'json', '--', 'sh', '-c', 'echo "id=$RPR_JOB_ID run=$RPR_RUN"; echo "to stderr" >&2; exit 1']);
    expect(r.code).toBe(1);
    const id = /^id=(\S+) run=1$/m.exec(r.stdout)?.[1];
    expect(id).toBeDefined();
    expect(r.stdout).toBe(`id=${id} run=1\nid=${id} run=2\n`);
    // The command's stderr passes through as it is, between rpr's JSON lines.
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines.filter((l) => l === 'to stderr')).toHaveLength(2);
    const logs = parsed(lines.filter((l) => l !== 'to stderr').join('\n'));
    expect(logs.length).toBeGreaterThan(4);
    for (const log of logs) {
      expect(new Date(log.time).toISOString()).toBe(log.time);
      expect(['info', 'warn', 'error']).toContain(log.level);
      expect(log.job_id).toBe(id);
      expect(log.message).not.toMatch(/^rpr: /);
    }
    // A run that starts a few ms late says so (--verbose): on a loaded machine, run 2 may.
    expect(logs).toContainEqual(expect.objectContaining({ run: 2, job: 'sh', message: expect.stringMatching(/^run 2 started( \(\d+ms after due\))?$/) }));
    expect(logs).toContainEqual(expect.objectContaining({ run: 1, message: expect.stringMatching(/^run 1 failed \(exit 1\) in \d+ms$/) }));
    expect(logs.at(-1)).toMatchObject({ message: 'job ended (times), exit 1' });
  });

  it("a failed job's last line, and a usage error, are JSON too", async () => {
    const failed = await run(['count', '-t', '1', '--log-format=json', '--', 'false']);
    expect(parsed(failed.stderr)).toEqual([expect.objectContaining({ level: 'error', message: 'job ended (times): 1 of 1 run failed; exit 1' })]);
    const usage = await run(['count', '--log-format', 'json', '--every', 'soon', '--', 'true']);
    expect(usage.code).toBe(2);
    expect(parsed(usage.stderr)).toEqual([expect.objectContaining({ level: 'error', message: expect.stringMatching(/^--every: "soon" is not a duration \(hint: /) })]);
  });

  it('takes text or json only', async () => {
    const r = await run(['count', '--log-format', 'xml', '-t', '1', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/xml/);
  });
});
