/**
 * Helpers for the core end-to-end tests: start the built rpr as a user would,
 * watch its output as it arrives, send it signals, and make sure nothing a
 * test started is left running afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { RPR } from '../helpers/cli.js';
import { lines, liveProcesses, mark, track } from '../helpers/processes.js';

export { RPR };
export { cleanup, lines, liveProcesses, sleep, STACK_LINE, tempDir, uniqueSleep } from '../helpers/processes.js';

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
  /** ms from spawn to the process's exit (not to its pipes closing). */
  ms: number;
  /** Date.now() when the process exited. */
  exitWall: number;
  /** Live processes (not zombies) carrying each watched marker, read the moment rpr exited. */
  leftAtExit: Record<string, number[]>;
}

export interface Running {
  child: ChildProcess;
  /** Date.now() just before spawn. */
  spawnWall: number;
  stdout(): string;
  stderr(): string;
  /** Resolves once `re` matches everything written so far on `stream`. */
  waitFor(stream: 'stdout' | 'stderr', re: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<Finished>;
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Kill (SIGKILL) rpr after this long; the test then fails on its exit status. */
  timeoutMs?: number;
  /** Markers (e.g. "sleep 31.517") whose live processes are listed the moment rpr exits. */
  watch?: string[];
  /** rpr's stdin: /dev/null (default) or an open pipe nobody writes to. */
  stdin?: 'ignore' | 'pipe';
}

/** Starts `node dist/cli/bin.js ...args`; output is collected as it arrives. */
export function start(args: string[], options: StartOptions = {}): Running {
  const spawnWall = Date.now();
  const started = performance.now();
  const child = spawn(process.execPath, [RPR, ...args], {
    env: { ...process.env, RPR_CONFIG: undefined, XDG_CONFIG_HOME: '/nonexistent', RPR_DEBUG: undefined, ...options.env },
    cwd: options.cwd,
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  track(child);
  for (const m of options.watch ?? []) mark(m);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const waiters: (() => void)[] = [];
  const poke = (): void => waiters.slice().forEach((w) => w());
  child.stdout!.on('data', (d: Buffer) => {
    out.push(d);
    poke();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err.push(d);
    poke();
  });
  const text = (bufs: Buffer[]): string => Buffer.concat(bufs).toString('utf8');
  const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 25_000);

  const done = new Promise<Finished>((resolve) => {
    child.once('exit', (code, signal) => {
      const ms = performance.now() - started;
      const exitWall = Date.now();
      clearTimeout(killer);
      const leftAtExit: Record<string, number[]> = {};
      for (const m of options.watch ?? []) leftAtExit[m] = liveProcesses(m);
      // A process that outlived rpr may hold its pipes open: do not wait for them for long.
      let closed = false;
      const finish = (): void => {
        if (closed) return;
        closed = true;
        resolve({ code, signal, stdout: text(out), stderr: text(err), stdoutBytes: Buffer.concat(out), ms, exitWall, leftAtExit });
      };
      child.once('close', finish);
      setTimeout(() => {
        child.stdout!.destroy();
        child.stderr!.destroy();
        finish();
      }, 1500).unref();
    });
  });

  return {
    child,
    spawnWall,
    stdout: () => text(out),
    stderr: () => text(err),
    waitFor(stream, re, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (re.test(text(stream === 'stdout' ? out : err))) {
            cleanup();
            resolve();
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${re} on ${stream}; got:\n${text(stream === 'stdout' ? out : err)}`));
        }, timeoutMs);
        const onExit = (): void => {
          // Let the last data events land before giving up.
          setTimeout(() => {
            check();
            if (waiters.includes(check)) {
              cleanup();
              reject(new Error(`rpr exited before ${re} appeared on ${stream}; got:\n${text(stream === 'stdout' ? out : err)}`));
            }
          }, 100);
        };
        const cleanup = (): void => {
          clearTimeout(timer);
          const i = waiters.indexOf(check);
          if (i >= 0) waiters.splice(i, 1);
          child.off('exit', onExit);
        };
        waiters.push(check);
        child.once('exit', onExit);
        check();
      });
    },
    done,
  };
}

/** Runs rpr to completion. */
export function run(args: string[], options: StartOptions = {}): Promise<Finished> {
  return start(args, options).done;
}

/** Nanosecond timestamps printed by `date +%s%N`, one per line, as ms numbers. */
export function stampsMs(text: string): number[] {
  return lines(text).map((l) => Number(BigInt(l.trim()) / 1000n) / 1000);
}

/**
 * A command line for `sh -c` that prints, per run, when it really started
 * (date +%s%N) and when it was due (RPR_SCHEDULED_AT): "NANOS ISO".
 */
export const STAMP_AND_DUE = 'echo "$(date +%s%N) $RPR_SCHEDULED_AT"';

export interface GridRun {
  /** Epoch ms the run started (as the child saw it). */
  start: number;
  /** Epoch ms it was due (RPR_SCHEDULED_AT). */
  due: number;
  /** Its slot on the grid, counted from the first run's slot. */
  slot: number;
  /** ms after its ideal time; the earliest run relative to its slot defines 0. */
  late: number;
}

/**
 * Parses STAMP_AND_DUE lines and places each run on the `everyMs` grid. The
 * slot comes from the due time rpr gave the run, so a slot skipped on a slow
 * machine does not shift the comparison of every later run.
 */
export function onGrid(stdout: string, everyMs: number): GridRun[] {
  const parsed = lines(stdout)
    .map((l) => /^(\d{15,}) (\S+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ start: Number(BigInt(m[1]!) / 1000n) / 1000, due: Date.parse(m[2]!) }));
  if (parsed.length === 0) return [];
  const due0 = parsed[0]!.due;
  const withSlot = parsed.map((p) => ({ ...p, slot: Math.round((p.due - due0) / everyMs) }));
  const origin = Math.min(...withSlot.map((p) => p.start - p.slot * everyMs));
  return withSlot.map((p) => ({ ...p, late: p.start - origin - p.slot * everyMs }));
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
};
