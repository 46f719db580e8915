import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative as relativePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { monotonicMs } from '../../src/clock/clock.js';
import { Launcher } from '../../src/run/launcher.js';
import { encodeEnv, encodeRun } from '../../src/run/launcher-protocol.js';
import type { ProcessEnd, Spawned, SpawnRequest } from '../../src/run/spawn.js';

/** The launcher needs Linux and python3 >= 3.8; elsewhere rpr uses execa and these tests do not apply. */
const available = process.platform === 'linux' && spawnSync('python3', ['-c', 'import sys; sys.exit(sys.version_info < (3, 8))']).status === 0;

const LAUNCHER_PY = fileURLToPath(new URL('../../src/run/launcher.py', import.meta.url));
const fallbacks: SpawnRequest[] = [];
const fallbackEnd: ProcessEnd = { exitCode: null, signal: null, spawnError: 'EFALLBACK' };
/** Stands in for execa: records what it was asked to start. */
const fallback = (request: SpawnRequest): Spawned => {
  fallbacks.push(request);
  return { pid: undefined, stdout: null, stderr: null, ended: Promise.resolve(fallbackEnd), exited: Promise.resolve(), signal: () => undefined };
};

const launchers: Launcher[] = [];
async function startLauncher(): Promise<Launcher> {
  const launcher = await Launcher.start(fallback);
  if (typeof launcher === 'string') throw new Error(`no launcher: ${launcher}`);
  launchers.push(launcher);
  return launcher;
}

const sh = (script: string, env: Record<string, string> = {}, stdout: SpawnRequest['stdout'] = 'ignore'): SpawnRequest => ({
  argv: ['/bin/sh', '-c', script],
  shell: false,
  env,
  stdout,
  stderr: 'ignore',
});
const launch = (launcher: Launcher, request: SpawnRequest): Spawned => {
  const run = launcher.launch(request, request.argv);
  if (typeof run === 'string') throw new Error(`not launched: ${run}`);
  return run;
};
const alive = (pid: number): boolean => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'latin1').includes(') Z ');
  } catch {
    return false;
  }
};

/** Live (not zombie: init may be slow to reap orphans) members of a process group. */
function liveMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e) && alive(Number(e)))
    .filter((e) => {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, 'latin1');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function processesWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e) && alive(Number(e)))
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, 'latin1').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

afterEach(() => {
  launchers.splice(0).forEach((l) => l.stop());
  fallbacks.length = 0;
});

describe.skipIf(!available)('Launcher', () => {
  it('tells an exit code above 128 from death by a signal', async () => {
    const launcher = await startLauncher();
    const ends = await Promise.all(['exit 0', 'exit 3', 'exit 130', 'exit 255', 'kill -INT $$', 'kill -TERM $$', 'kill -KILL $$'].map((s) => launch(launcher, sh(s)).ended));
    expect(ends).toEqual([
      { exitCode: 0, signal: null, spawnError: null },
      { exitCode: 3, signal: null, spawnError: null },
      { exitCode: 130, signal: null, spawnError: null },
      { exitCode: 255, signal: null, spawnError: null },
      { exitCode: null, signal: 'SIGINT', spawnError: null },
      { exitCode: null, signal: 'SIGTERM', spawnError: null },
      { exitCode: null, signal: 'SIGKILL', spawnError: null },
    ]);
  });

  it('starts each run in its own session, so its pid is its process group', async () => {
    const launcher = await startLauncher();
    const run = launch(launcher, sh('sleep 5 & sleep 5; wait'));
    while (run.pid === undefined) await new Promise((r) => setTimeout(r, 5));
    const stat = readFileSync(`/proc/${run.pid}/stat`, 'latin1');
    const [pgrp, session] = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .slice(2, 4)
      .map(Number);
    expect([pgrp, session]).toEqual([run.pid, run.pid]);
    run.signal('SIGTERM'); // the whole group: both sleeps too
    expect(await run.ended).toEqual({ exitCode: null, signal: 'SIGTERM', spawnError: null });
    await new Promise((r) => setTimeout(r, 50));
    expect(liveMembers(run.pid!)).toEqual([]);
  });

  it('holds a signal asked for before the run has a pid, and sends it when it has one', async () => {
    const launcher = await startLauncher();
    const run = launch(launcher, sh('sleep 5'));
    expect(run.pid).toBeUndefined();
    run.signal('SIGTERM');
    expect(await run.ended).toEqual({ exitCode: null, signal: 'SIGTERM', spawnError: null });
  });

  it('runs overlapping runs and reports each end to its own run', async () => {
    const launcher = await startLauncher();
    const started = performance.now();
    const ends = await Promise.all([3, 1, 2].map((n) => launch(launcher, sh(`sleep 0.${n}; exit ${n}`)).ended));
    expect(ends.map((e) => e.exitCode)).toEqual([3, 1, 2]);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('leaves to execa, saying why, what needs pipes into rpr, a PATH of its own, or cannot be framed', async () => {
    const launcher = await startLauncher();
    expect(launcher.launch(sh('true', {}, 'pipe'), ['true'])).toBe('rpr reads the output of the run');
    expect(launcher.launch(sh('true', { PATH: '/bin' }), ['true'])).toBe('the run has a PATH of its own');
    expect(launcher.launch(sh('true'), ['echo', 'a\0b'])).toBe('a NUL byte in an argument, variable or directory');
    expect(launcher.launch({ ...sh('true'), cwd: '/tmp\0x' }, ['true'])).toBe('a NUL byte in an argument, variable or directory');
    expect(launcher.launch({ ...sh('true'), somethingNew: 1 } as SpawnRequest, ['true'])).toBe('the run asks for something the launcher does not do');
    expect(typeof launcher.launch({ ...sh('true'), cwd: undefined }, ['true'])).toBe('object');
  });

  it('starts a run in its own working directory and stays in its own', async () => {
    const launcher = await startLauncher();
    const dir = mkdtempSync(join(tmpdir(), 'rpr-launcher-cwd-'));
    try {
      const out = join(dir, 'out');
      const run = (cwd: string | undefined, file: string) => launch(launcher, { ...sh(`pwd -P > ${file}`), ...(cwd === undefined ? {} : { cwd }) }).ended;
      expect(await run(dir, out)).toMatchObject({ exitCode: 0 });
      expect(readFileSync(out, 'utf8')).toBe(`${realpathSync(dir)}\n`);
      // Relative to rpr's directory, as execa takes it; and a run without one gets rpr's.
      const relative = relativePath(process.cwd(), dir);
      expect(await run(relative, join(dir, 'rel'))).toMatchObject({ exitCode: 0 });
      expect(readFileSync(join(dir, 'rel'), 'utf8')).toBe(`${realpathSync(dir)}\n`);
      expect(await run(undefined, join(dir, 'own'))).toMatchObject({ exitCode: 0 });
      expect(readFileSync(join(dir, 'own'), 'utf8')).toBe(`${realpathSync(process.cwd())}\n`);
      // A program named with a slash is found from the run's directory, as exec would.
      writeFileSync(join(dir, 'tool'), '#!/bin/sh\nexit 9\n', { mode: 0o755 });
      expect(await launch(launcher, { ...sh('unused'), argv: ['./tool'], cwd: dir }).ended).toMatchObject({ exitCode: 9 });
      expect(fallbacks).toEqual([]);
      // Into the directory, then the program is not there: handed on, and the launcher is back home.
      expect(await launch(launcher, { ...sh('unused'), argv: ['./missing'], cwd: dir }).ended).toBe(fallbackEnd);
      expect(await run(undefined, join(dir, 'home'))).toMatchObject({ exitCode: 0 });
      expect(readFileSync(join(dir, 'home'), 'utf8')).toBe(`${realpathSync(process.cwd())}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hands a run whose working directory is missing to execa (which says why), and goes on', async () => {
    const launcher = await startLauncher();
    const request = { ...sh('exit 0'), cwd: '/nonexistent/rpr-test-dir' };
    expect(await launch(launcher, request).ended).toBe(fallbackEnd);
    expect(fallbacks).toEqual([request]);
    expect(await launch(launcher, sh('exit 7')).ended).toMatchObject({ exitCode: 7 });
  });

  it('hands a run it cannot start to execa, so start errors read as before', async () => {
    const launcher = await startLauncher();
    const request = sh('unused');
    const run = launch(launcher, { ...request, argv: ['/nonexistent/rpr-test-command'] });
    expect(await run.ended).toBe(fallbackEnd);
    expect(fallbacks).toEqual([{ ...request, argv: ['/nonexistent/rpr-test-command'] }]);
    // and keeps going
    expect(await launch(launcher, sh('exit 7')).ended).toMatchObject({ exitCode: 7 });
  });

  it('when it dies: kills every run it was sent, reported started or not, and takes no more', async () => {
    const launcher = await startLauncher();
    const marker = `rpr-launcher-test-${process.pid}-${Date.now()}`;
    const run = launch(launcher, sh(`sleep 5 # ${marker}`));
    while (run.pid === undefined) await new Promise((r) => setTimeout(r, 5));
    // Sent, and started by the launcher, but its reply not read yet when the launcher goes.
    const unreported = launch(launcher, sh(`sleep 5 # ${marker}`));
    await new Promise((r) => setTimeout(r, 100));
    launcher.stop();
    const killed = { exitCode: null, signal: 'SIGKILL', spawnError: null };
    expect(await run.ended).toEqual(killed);
    expect(await unreported.ended).toEqual(killed);
    expect(fallbacks).toEqual([]); // never started twice
    await new Promise((r) => setTimeout(r, 50));
    expect(alive(run.pid!)).toBe(false);
    expect(processesWith(marker)).toEqual([]);
    expect(launcher.launch(sh('true'), ['true'])).toBe('the launcher has stopped');
  });

  it("says when it exec'd each run, on rpr's monotonic clock, however late it got to the request", async () => {
    const launcher = await startLauncher();
    const pid = (launcher as unknown as { child: { pid: number } }).child.pid;
    process.kill(pid, 'SIGSTOP');
    const asked = monotonicMs();
    const run = launch(launcher, sh('true'));
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, 'SIGCONT');
    await run.ended;
    // A run is timed from its exec (run/execute.ts): 300 ms in a stopped launcher are not the run's.
    expect(run.startedAtMs! - asked).toBeGreaterThanOrEqual(295);
    expect(run.startedAtMs!).toBeLessThanOrEqual(monotonicMs());
  });

  it('starts no run asked for by an rpr that is gone: a request left in the pipe by a killed rpr stays unrun', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rpr-launcher-orphan-'));
    try {
      const ran = join(dir, 'ran');
      // A stand-in for rpr: starts the launcher as rpr does (requests on stdin, replies on fd 3),
      // waits for it to be ready, stops it, writes a run request and dies. The launcher, let go only
      // then, reads that request from the pipe before its end of file.
      writeFileSync(join(dir, 'env'), encodeEnv({ PATH: process.env.PATH }));
      writeFileSync(join(dir, 'run'), encodeRun({ argv: ['/bin/sh', '-c', `echo ran > ${ran}`], env: {}, stdout: 'null', stderr: 'null' }));
      const rpr = `
import os, signal, subprocess, sys
launcher_py, dir = sys.argv[1], sys.argv[2]
os.open('/dev/null', os.O_RDONLY)  # holds fd 3, so that the pipe is not there
r, w = os.pipe()
os.dup2(w, 3)
launcher = subprocess.Popen([sys.executable, '-I', '-S', launcher_py], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(3,))
os.close(3)
os.close(w)
launcher.stdin.write(open(dir + '/env', 'rb').read()); launcher.stdin.flush()
reply = os.read(r, 100)
os.kill(launcher.pid, signal.SIGSTOP)
launcher.stdin.write(open(dir + '/run', 'rb').read()); launcher.stdin.flush()
print(launcher.pid, reply.decode().split()[0], flush=True)
os._exit(0)
`;
      const stand = spawnSync('python3', ['-c', rpr, LAUNCHER_PY, dir], { encoding: 'utf8', timeout: 10_000 });
      const [pid, first] = stand.stdout.trim().split(' ');
      expect(first, stand.stderr).toBe('ready');
      // rpr is gone (its python3 has exited): the launcher goes on.
      process.kill(Number(pid), 'SIGCONT');
      const deadline = Date.now() + 5000;
      while (alive(Number(pid)) && Date.now() < deadline) spawnSync('sleep', ['0.02']);
      expect(alive(Number(pid))).toBe(false);
      spawnSync('sleep', ['0.2']);
      expect(() => readFileSync(ran, 'utf8')).toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('endAll ends a launcher still starting, one that does not read, and resolves once each has exited', async () => {
    const ready = await startLauncher();
    const pid = (ready as unknown as { child: { pid: number } }).child.pid;
    process.kill(pid, 'SIGSTOP'); // it would never see EOF
    const starting = Launcher.start(fallback); // its python3 just spawned: no handshake yet
    await Launcher.endAll();
    expect(alive(pid)).toBe(false);
    expect(await starting).not.toBeInstanceOf(Launcher);
    expect(ready.launch(sh('true'), ['true'])).toBe('the launcher has stopped');
  });
});
