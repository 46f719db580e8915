// --on-overlap skip across instances (the default when coordinated): runs longer than the interval
// never overlap on different instances - the instance whose run goes on holds the job's lease in
// Redis - and the slots due meanwhile are skipped, each said by the instances that reached it. A dead
// lease holder's lease expires 5 s after its last renewal. Ground truth: each run writes the real
// time it started and ended.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HAVE_REDIS } from '../helpers/redis-server.js';
import { RPR, sleep, tempDir, uniqueSleep } from './core-helpers.js';
import { doubles, EVERY, instance, joined, lost, readRuns, type RunLine, skipsSaid, useRedis } from './coordinate-helpers.js';

const redis = useRedis();
let jobs = 0;

/** Pairs of runs (by real time) that overlapped: one started before the other had ended. */
const overlapping = (runs: RunLine[]): string[] => {
  const byStart = [...runs].sort((a, b) => a.start - b.start);
  return byStart.flatMap((r, i) => (i > 0 && r.start < byStart[i - 1]!.end ? [`${byStart[i - 1]!.instance} ${byStart[i - 1]!.start}-${byStart[i - 1]!.end} / ${r.instance} ${r.start}-${r.end}`] : []));
};

describe.skipIf(!HAVE_REDIS || !existsSync(RPR))('--on-overlap skip across instances: the lease', () => {
  it('runs of 0.5 s at --every 200ms on three instances: never two at once; the slots due during a run are skipped, and said so', async () => {
    const dir = tempDir();
    const file = join(dir, 'runs');
    const name = `lease${jobs++}`;
    const all = ['a', 'b', 'c'].map((label) => instance(name, file, label, { url: redis().url, forMs: 5000, runSeconds: 0.5 }));
    const results = await Promise.all(all.map((i) => i.done));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const runs = readRuns(file);
    const said = results.map((r) => r.stderr);
    expect(overlapping(runs)).toEqual([]);
    expect(doubles(runs)).toEqual([]);
    // Every slot not run was said to be skipped during a run that ran...
    expect(lost(runs, said)).toEqual([]);
    // ...and was due while that run went on (it ended, in real time, at most 500 ms before: rpr sees
    // the end after the command's last mark, and its release reaches Redis later - on a machine at a
    // load of 10, some 350 ms in all).
    const skips = [...skipsSaid(said)];
    expect(skips.length).toBeGreaterThanOrEqual(10);
    for (const [slot, during] of skips) {
      const run = runs.find((r) => r.at === Date.parse(during))!;
      expect(Date.parse(slot), `${slot} skipped during ${during}`).toBeGreaterThan(run.at);
      expect(Date.parse(slot), `${slot} skipped during ${during} (${run.start}-${run.end})`).toBeLessThanOrEqual(run.end + 500);
    }
    // Runs of 0.5 s back to back over some 5 s, on whichever instance claims first.
    expect(runs.length).toBeGreaterThanOrEqual(4);
    expect(new Set(runs.map((r) => r.instance)).size).toBeGreaterThanOrEqual(2);
  }, 40_000);

  it('the lease holder killed mid-run: no slot runs until its lease expires (5 s after its last renewal), then another instance runs the next one', async () => {
    const dir = tempDir();
    const file = join(dir, 'runs');
    const name = `lease${jobs++}`;
    // Runs of 40 s or so, ended by --for-kill: the first one holds the lease until it is killed.
    const { secs } = uniqueSleep();
    const all = ['a', 'b', 'c'].map((label) => ({ label, job: instance(name, file, label, { url: redis().url, forMs: 11_000, runSeconds: Number(secs), extra: ['--for-kill'] }) }));
    await joined(all.map((i) => i.job));
    await Promise.race(all.map((i) => i.job.waitFor('stderr', /runs here/)));
    const holder = all.find((i) => /runs here/.test(i.job.stderr()))!;
    await sleep(1500);
    holder.job.child.kill('SIGKILL');
    const killWall = Date.now();
    const results = await Promise.all(all.filter((i) => i !== holder).map((i) => i.job.done));
    const said = results.map((r) => r.stderr).join('\n');
    // (--for-kill ends the survivors' long run: a failed run, exit 1.)
    for (const r of results) expect(r.code, r.stderr).toBeLessThanOrEqual(1);
    // The next run to start here is the first slot after the lease expired: 4 to 5 s after the kill
    // (the last renewal came up to 1 s before it; a loaded machine may have renewed later than that).
    // (A survivor's own long run may end with its --for, and the other one's start then.)
    const next = /^rpr: coordination: slot \d+ \((\S+)\) runs here/m;
    const nextRun = Math.min(...results.map((r) => Date.parse(next.exec(r.stderr)?.[1] ?? 'x')).filter((t) => !Number.isNaN(t)));
    expect(nextRun - killWall, said).toBeGreaterThanOrEqual(3000);
    expect(nextRun - killWall, said).toBeLessThanOrEqual(7000);
    // Meanwhile every slot was skipped, said to be due during the dead instance's run.
    const skipped = [...skipsSaid(results.map((r) => r.stderr))].filter(([slot]) => Date.parse(slot) > killWall + EVERY && Date.parse(slot) < nextRun - EVERY);
    expect(skipped.length, said).toBeGreaterThanOrEqual(10);
    const heldBy = new Set(skipped.map(([, during]) => during));
    expect(heldBy.size, said).toBe(1);
    expect(said).toMatch(new RegExp(`skipped: due while the run of slot \\d+ \\(\\S+\\) on \\S+:${holder.job.child.pid} went on`));
  }, 40_000);
});
