/**
 * Children that misbehave (issue 7), with real processes, beyond what the core tests cover
 * (SIGTERM ignored, grandchildren in the group, `| head -1`, 5 MB in one run, a missing or
 * non-executable command before the first run):
 * - a child that closes its stdout early and keeps running;
 * - rpr's own stdin flooded while children never read theirs;
 * - megabytes per run, for 20 runs, in every output mode: nothing lost, rpr's peak RSS bounded;
 * - a command that disappears or stops being executable in the middle of a job (launcher and execa);
 * - timeouts longer than Node's 24.8-day timer limit;
 * - grandchildren that leave the run's process group (setsid, setpgid): found by the job's
 *   RPR_JOB_ID and ended, unless they drop it, as docs/hardening.md says;
 * - a finished run's process-group number reused by an unrelated process: rpr must not signal it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCounting } from '../helpers/proc.js';
import { cleanup, liveProcesses, RPR, run, sleep, start, STACK_LINE, tempDir, uniqueSleep } from './core-helpers.js';

afterEach(cleanup);

const lines = (text: string): string[] => text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);

async function until(marker: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (liveProcesses(marker).length === 0) {
    if (Date.now() > deadline) throw new Error(`no ${marker} process appeared`);
    await sleep(20);
  }
}

describe('a child that closes its stdout early and keeps running', () => {
  // The child closes fd 1 at once, works on for 600 ms, says so on stderr, exits 3.
  const child = ['sh', '-c', 'echo before; exec 1>&-; sleep 0.6; echo "still running" >&2; exit 3'];
  for (const [mode, extra] of [
    ['passthrough', []],
    ['--prefix (rpr reads the pipe)', ['--prefix', '> ']],
    ['--until-match (rpr reads for a pattern)', ['--until-match', 'never-printed']],
  ] as const) {
    it(`${mode}: rpr waits for the exit, not for end of output, and keeps the exit status`, async () => {
      const r = await run(['count', '-t', '2', '-v', ...extra, '--', ...child]);
      expect(r.code).toBe(1);
      expect(lines(r.stdout)).toEqual(extra[0] === '--prefix' ? ['> before', '> before'] : ['before', 'before']);
      const ends = r.stderr.split('\n').filter((l) => /^rpr: run \d (ok|failed)/.test(l));
      expect(ends, r.stderr).toHaveLength(2);
      for (const line of ends) {
        expect(line).toMatch(/failed \(exit 3\) in (\d+)ms/);
        expect(Number(/in (\d+)ms/.exec(line)![1])).toBeGreaterThanOrEqual(590);
      }
      expect(r.stderr.match(/still running/g)).toHaveLength(2);
      expect(r.stderr).not.toMatch(STACK_LINE);
    });
  }

  it('with --timeout, a child that closed its output and hangs is timed out like any other', async () => {
    const s = uniqueSleep();
    const r = await run(['count', '-t', '1', '--timeout', '300ms', '-v', '--prefix', '> ', '--', 'sh', '-c', `exec 1>&- 2>&-; sleep ${s.secs}`], { watch: [s.marker] });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/run 1 failed \(timed out\)/);
    expect(r.leftAtExit[s.marker]).toEqual([]);
    expect(r.ms).toBeLessThan(5000);
  });
});

describe("children that never read stdin, while rpr's own stdin is flooded", () => {
  it('rpr neither reads nor forwards its stdin: the flood stays in the pipe, the job runs and ends', async () => {
    const child = spawn(process.execPath, [RPR, 'count', '-t', '3', '-e', '100ms', '--', 'sh', '-c', 'read line; echo "read:[$line]"'], {
      env: { ...process.env, RPR_CONFIG: undefined, XDG_CONFIG_HOME: '/nonexistent' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let accepted = 0;
    const block = Buffer.alloc(64 * 1024, 'y\n');
    child.stdin!.on('error', () => {}); // EPIPE once rpr has exited
    const flood = (): void => {
      while (child.stdin!.writable && child.stdin!.write(block)) accepted += block.length;
    };
    child.stdin!.on('drain', () => {
      accepted += block.length;
      flood();
    });
    flood();
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (err += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(killer);
    expect(code, err).toBe(0);
    // Each run read end of file (/dev/null), never the flood.
    expect(lines(out)).toEqual(['read:[]', 'read:[]', 'read:[]']);
    // What the pipe holds (64 KiB to 1 MiB by default) and no more: nobody drained it.
    expect(accepted).toBeLessThanOrEqual(4 * 1024 * 1024);
  });
});

describe('megabytes per run: nothing lost, rpr memory bounded', () => {
  // ~5 MB of base64 lines of 100 characters.
  const text = `${Buffer.alloc(3_750_000, 7)
    .toString('base64')
    .replace(/(.{100})/g, '$1\n')}\n`;
  const size = Buffer.byteLength(text);
  const fileLines = text.split('\n').length - 1;
  const RUNS = 20;
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rpr-hardening-'));
    file = path.join(dir, 'five-mb.txt');
    writeFileSync(file, text);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Peak RSS (VmHWM) limits: generous for a loaded 2-core machine; a leak of the output (100 MB
  // over the job) or a whole run held in memory would cross them.
  for (const [mode, extra, limitMb] of [
    ['passthrough (the child writes to the pipe itself)', [], 150],
    ['--prefix (every byte copied by rpr)', ['--prefix', '> '], 250],
    ['--until-match (every byte read for a pattern)', ['--until-match', 'never-in-base64!'], 300],
  ] as const) {
    it(`${mode}: ${RUNS} x 5 MB arrive exactly, peak RSS < ${limitMb} MB`, async () => {
      const r = await runCounting(['count', '-t', String(RUNS), ...extra, '--', 'cat', file], { timeoutMs: 120_000, ...(extra[0] === '--prefix' ? { expectPrefix: '> ' } : {}) });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const prefixBytes = extra[0] === '--prefix' ? 2 * fileLines : 0;
      expect(r.stdoutBytes).toBe(RUNS * (size + prefixBytes));
      expect(r.stdoutLines).toBe(RUNS * fileLines);
      expect(r.linesWithoutPrefix).toBe(0);
      expect(r.samples.length).toBeGreaterThan(0);
      expect(r.peakKb / 1024, `peak RSS ${Math.round(r.peakKb / 1024)} MB`).toBeLessThan(limitMb);
    }, 150_000);
  }
});

describe('a command that stops existing or being executable in the middle of a job', () => {
  // Run 1 works and then removes (or chmod -x) its own script: runs 2 and 3 cannot start.
  for (const [how, act, code] of [
    ['removed', 'rm -f "$0"', 127],
    ['made not executable', 'chmod -x "$0"', 126],
  ] as const) {
    for (const [path_, extra] of [
      ['launcher', []],
      ['execa (--prefix needs a pipe)', ['--prefix', '> ']],
    ] as const) {
      it(`${how}, ${path_}: those runs fail with ${code}, the job goes on and ends with exit 1`, async () => {
        const dir = tempDir();
        const script = path.join(dir, 'job.sh');
        writeFileSync(script, `#!/bin/sh\necho "run $RPR_RUN"\n${act}\n`);
        chmodSync(script, 0o755);
        const r = await run(['count', '-t', '3', '-v', ...extra, '--', script]);
        expect(r.code, r.stderr).toBe(1);
        expect(lines(r.stdout)).toEqual(extra.length ? ['> run 1'] : ['run 1']);
        const ends = r.stderr.split('\n').filter((l) => /^rpr: run \d (ok|failed)/.test(l));
        expect(ends[0]).toMatch(/^rpr: run 1 ok/);
        expect(ends.slice(1).map((l) => /\(exit (\d+)\)/.exec(l)?.[1])).toEqual([String(code), String(code)]);
        expect(r.stderr).toMatch(/job ended \(times\), exit 1/);
        expect(r.stderr).not.toMatch(STACK_LINE);
        expect(r.stderr).not.toMatch(/internal error/);
      });
    }
  }
});

describe('timeouts longer than a Node timer can wait (2^31 ms, 24.8 days)', () => {
  it('--timeout 30d does not fire at once (it did: Node turns such a delay into 1 ms)', async () => {
    const r = await run(['count', '-t', '2', '--timeout', '30d', '-v', '--', 'sleep', '0.3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/timed out|TimeoutOverflowWarning/);
  });

  it('--kill-after 30d: a child that ignores SIGTERM after a timeout is not SIGKILLed at once', async () => {
    const r = await run(['count', '-t', '1', '--timeout', '200ms', '--kill-after', '30d', '-v', '--', 'sh', '-c', 'trap "" TERM; sleep 0.8; echo outlived'], { timeoutMs: 15_000 });
    expect(r.stderr).not.toMatch(/TimeoutOverflowWarning/);
    expect(r.stdout).toBe('outlived\n');
    expect(r.stderr).toMatch(/run 1 failed \(timed out\) in (\d+)ms/);
    expect(Number(/timed out\) in (\d+)ms/.exec(r.stderr)![1])).toBeGreaterThanOrEqual(750);
  });
});

describe('grandchildren that leave the run (docs/hardening.md, "What rpr cleans up")', () => {
  for (const [how, env] of [
    ['launcher', {}],
    ['execa', { RPR_LAUNCHER: '0' }],
  ] as const) {
    it(`a double fork that stays in the group and one that calls setsid: both ended at the end of the job (${how})`, async () => {
      const inGroup = uniqueSleep();
      const escaped = uniqueSleep();
      // (sleep &) is a double fork: the subshell exits, sleep is orphaned but still in the run's group.
      // setsid: a new session, out of the group's reach; it still carries the job's RPR_JOB_ID.
      const r = await run(['count', '-t', '1', '--', 'sh', '-c', `(sleep ${inGroup.secs} &); setsid sleep ${escaped.secs} & sleep 0.3`], { watch: [inGroup.marker, escaped.marker], env });
      expect(r.code).toBe(0);
      expect(r.leftAtExit[inGroup.marker], 'double fork, same group: reaped at the end of the job').toEqual([]);
      expect(r.leftAtExit[escaped.marker], 'setsid: found by RPR_JOB_ID').toEqual([]);
    });
  }

  it("launcher: a process that leaves its run becomes the launcher's child (its subreaper), and is ended at the end", async () => {
    const dir = tempDir();
    const escaped = uniqueSleep();
    // Run 1 records its parent (the launcher) and leaves a setsid process behind, which reads its
    // own parent once its first parent (run 1's sh) is gone; run 2 comes after that.
    const script = `if [ "$RPR_RUN" = 1 ]; then echo $PPID > ${dir}/launcher; setsid sh -c 'sleep 0.4; grep ^PPid: /proc/$$/status > ${dir}/adopted; exec sleep ${escaped.secs}' & fi; true`;
    const r = await run(['interval', '--every', '1500ms', '-t', '2', '--', 'sh', '-c', script], { watch: [escaped.marker] });
    expect(r.code).toBe(0);
    const launcher = readFileSync(path.join(dir, 'launcher'), 'utf8').trim();
    expect(readFileSync(path.join(dir, 'adopted'), 'utf8').trim()).toBe(`PPid:\t${launcher}`);
    expect(r.leftAtExit[escaped.marker]).toEqual([]);
  });

  it('at a timeout: the group and the setsid daemon the run started are ended with it, while the job goes on', async () => {
    const inGroup = uniqueSleep();
    const escaped = uniqueSleep();
    const dir = tempDir();
    const alive = path.join(dir, 'alive');
    // Run 1 times out; run 2 (2 s later) records whether run 1's daemon is still there.
    const job = start(
      [
        'count',
        '-t',
        '2',
        '--every',
        '1.5s',
        '--timeout',
        '400ms',
        '--',
        'sh',
        '-c',
        `if [ "$RPR_RUN" = 1 ]; then sleep ${inGroup.secs} & setsid sleep ${escaped.secs} & sleep 30; else pgrep -f "^sleep ${escaped.secs}" > ${alive}; true; fi`,
      ],
      { watch: [inGroup.marker, escaped.marker] },
    );
    await until(inGroup.marker);
    await until(escaped.marker);
    const r = await job.done;
    expect(r.code).toBe(1);
    expect(readFileSync(alive, 'utf8'), "run 1's setsid daemon was ended at its timeout").toBe('');
    expect(r.leftAtExit[inGroup.marker]).toEqual([]);
    expect(r.leftAtExit[escaped.marker]).toEqual([]);
  });

  it('a grandchild that moves to its own process group in the same session (setpgid, bash `set -m`) is ended too', async () => {
    const moved = uniqueSleep();
    const r = await run(['count', '-t', '1', '--', 'bash', '-c', `set -m; sleep ${moved.secs} & sleep 0.3`], { watch: [moved.marker] });
    expect(r.code).toBe(0);
    expect(r.leftAtExit[moved.marker]).toEqual([]);
  });

  it('a process that removes RPR_JOB_ID from its environment is left to outlive the job, as documented', async () => {
    const kept = uniqueSleep();
    const r = await run(['count', '-t', '1', '--', 'sh', '-c', `setsid env -u RPR_JOB_ID sleep ${kept.secs} & sleep 0.3`], { watch: [kept.marker] });
    expect(r.code).toBe(0);
    expect(r.leftAtExit[kept.marker]).toHaveLength(1);
    for (const pid of r.leftAtExit[kept.marker]!) process.kill(pid, 'SIGKILL');
  });

  it('rpr run by a run of rpr, killed before it could clean up: the outer job still ends what the inner one left (RPR_LINEAGE)', async () => {
    const stubborn = uniqueSleep();
    // The inner job's run starts a setsid process that ignores SIGTERM; the inner rpr would SIGKILL
    // it only after 20 s, but the outer run times out at 1 s and is SIGKILLed 300 ms later.
    const inner = [process.execPath, RPR, 'count', '-t', '1', '--kill-after', '20s', '--', 'sh', '-c', `setsid sh -c 'trap "" TERM; sleep ${stubborn.secs}' & sleep 30`];
    const r = await run(['count', '-t', '1', '--timeout', '1s', '--kill-after', '300ms', '--', ...inner], { watch: [stubborn.marker], timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.leftAtExit[stubborn.marker]).toEqual([]);
  });

  it('RPR_JOB_ID is one per rpr process, the same for every run', async () => {
    const r = await run(['count', '-t', '3', '--', 'sh', '-c', 'echo "$RPR_JOB_ID"']);
    const ids = r.stdout.trim().split('\n');
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^\d+\.[0-9a-f]{12}$/);
  });
});

// Writing /proc/sys/kernel/ns_last_pid (root, or CAP_CHECKPOINT_RESTORE) picks the next pid.
const canPickPid = (() => {
  try {
    accessSync('/proc/sys/kernel/ns_last_pid', constants.W_OK);
    return process.getuid?.() === 0 && spawnSync('python3', ['-c', '0']).status === 0;
  } catch {
    return false;
  }
})();

describe('process-group numbers reused by the system', () => {
  // pid_max is 32768 on many systems: a long job wraps around, and a finished run's number may
  // become the pid (and group) of an unrelated process. rpr reaped every group it had ever seen at
  // the end of the job, so it sent SIGTERM, then SIGKILL, to that stranger.
  it.skipIf(!canPickPid)("an unrelated process whose group has a finished run's number is left alone at the end of the job", async () => {
    const victim = uniqueSleep();
    const dir = tempDir();
    const pids = path.join(dir, 'pids');
    // Runs 1 and 2 print their pid (= their group) and end; run 3 keeps the job alive for 2.5 s.
    const job = start(['count', '-t', '3', '--', 'sh', '-c', `echo $$ >> ${pids}; [ "$RPR_RUN" = 3 ] && sleep 2.5; true`]);
    const written = (): string[] => {
      try {
        return readFileSync(pids, 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    };
    const deadline = Date.now() + 8000;
    while (written().length < 3 && Date.now() < deadline) await sleep(20);
    expect(written()).toHaveLength(3);
    const runPid = Number(written()[0]);
    // A stranger in its own session, with the first run's number as its pid and group.
    const picked = spawnSync('python3', ['-c', PICK_PID, String(runPid), victim.secs], { encoding: 'utf8', timeout: 5000 });
    if (picked.status !== 0) return; // another process took the number first: nothing to test this time
    const strangerPid = Number(picked.stdout.trim());
    expect(strangerPid).toBe(runPid);
    const r = await job.done;
    expect(r.code).toBe(0);
    await sleep(200);
    expect(liveProcesses(victim.marker), 'the stranger must survive the job').toEqual([strangerPid]);
  });
});

/** Forks a `sleep SECS` in a new session with pid = argv[1] (via ns_last_pid); prints its pid. */
const PICK_PID = `
import os, sys
target = int(sys.argv[1])
for attempt in range(50):
    with open('/proc/sys/kernel/ns_last_pid', 'w') as f:
        f.write(str(target - 1))
    pid = os.fork()
    if pid == 0:
        if os.getpid() != target:
            os._exit(3)
        os.setsid()
        devnull = os.open('/dev/null', os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.execvp('sleep', ['sleep', sys.argv[2]])
    if pid == target:
        print(pid, flush=True)
        sys.exit(0)
    os.waitpid(pid, 0)
sys.exit(1)
`;

const canTrace = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', 'true']).status === 0;
if (!canTrace) console.warn('SKIP the environment reads at the end of a job: strace is missing or may not trace here');

describe.skipIf(!canTrace)('the end of a job looks for leftovers only where they can be', () => {
  const environReads = (env: Record<string, string>): number => {
    const out = path.join(tempDir(), 'trace');
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=openat', '-o', out, process.execPath, RPR, 'count', '-t', '1', '--', 'true'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    return readFileSync(out, 'utf8')
      .split('\n')
      .filter((line) => /\/proc\/\d+\/environ/.test(line)).length;
  };

  it("launcher: only the launcher's descendants (none left here), not every process on the machine", () => {
    expect(environReads({})).toBe(0);
  });

  it('execa (RPR_LAUNCHER=0): a run may have left anywhere, so every process is read', () => {
    // At least this test's own processes: vitest, its worker, strace.
    expect(environReads({ RPR_LAUNCHER: '0' })).toBeGreaterThanOrEqual(3);
  });
});
