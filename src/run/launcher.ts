import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { constants } from 'node:os';
import {
  LAUNCHER_SCRIPT,
  ReplyReader,
  canEncodeRun,
  encodeEnv,
  encodeRun,
  type LaunchRequest,
  type Reply,
} from './launcher-protocol.js';
import { signalGroup, trackGroup } from './process-group.js';
import { readProcStats } from './proc.js';
import type { ProcessEnd, Spawned, SpawnRequest } from './spawn.js';

/** The ordinary way to start a run (execa), for whatever the launcher does not take. */
export type Fallback = (request: SpawnRequest) => Spawned;

/**
 * The SpawnRequest fields launch() handles (a new field must be added here, by
 * the compiler's demand, and handled, or its runs go through execa).
 */
const LAUNCHABLE: Record<keyof SpawnRequest, boolean> = { argv: true, shell: true, env: true, cwd: true, stdout: true, stderr: true };

const SIGNAL_NAMES = new Map<number, string>(Object.entries(constants.signals).map(([name, n]) => [n, name]));

/**
 * One run started through the launcher. Its pid arrives with the launcher's
 * `started` reply, so signals asked for before then are sent on arrival. When
 * the launcher cannot start it, the run is started through the fallback
 * (execa) instead and this object follows that process.
 */
class LaunchedRun implements Spawned {
  pid: number | undefined;
  readonly stdout = null;
  readonly stderr = null;
  readonly ended: Promise<ProcessEnd>;
  readonly exited: Promise<void>;
  private resolveEnd!: (end: ProcessEnd) => void;
  private delegate: Spawned | undefined;
  private queued: NodeJS.Signals[] = [];

  constructor(readonly request: SpawnRequest) {
    this.ended = new Promise((resolve) => (this.resolveEnd = resolve));
    this.exited = this.ended.then(() => undefined);
  }

  signal(name: NodeJS.Signals): void {
    if (this.delegate) this.delegate.signal(name);
    else if (this.pid === undefined) this.queued.push(name);
    else signalGroup(this.pid, name);
  }

  started(pid: number): void {
    this.pid = pid;
    trackGroup(pid);
    for (const name of this.queued.splice(0)) signalGroup(pid, name);
  }

  fallBack(fallback: Fallback): void {
    let child: Spawned;
    try {
      child = fallback(this.request);
    } catch {
      this.resolveEnd({ exitCode: null, signal: null, spawnError: 'ESPAWN' });
      return;
    }
    this.delegate = child;
    this.pid = child.pid;
    if (child.pid !== undefined) trackGroup(child.pid);
    for (const name of this.queued.splice(0)) child.signal(name);
    void child.ended.then(this.resolveEnd);
  }

  finish(end: ProcessEnd): void {
    this.resolveEnd(end);
  }
}

/**
 * A long-lived launcher process for one job (see launcher-protocol.ts). It
 * takes runs whose output is passed through or discarded; runs that need
 * pipes into rpr, or that it cannot start, go through execa.
 *
 * If the launcher dies (or breaks the protocol), rpr can no longer learn how
 * its runs end: every run it had been sent that has not ended is killed (its
 * process group; the launcher's children are looked up in /proc, so a run
 * started but not yet reported goes too) and ends as SIGKILLed. A run is
 * never handed to execa once it may have started, so nothing runs twice.
 * Every later run goes through execa.
 */
export class Launcher {
  /** Runs sent and waiting for their started/error reply, in request order. */
  private readonly starting: LaunchedRun[] = [];
  private readonly running = new Map<number, LaunchedRun>();
  private readonly reader = new ReplyReader();
  private dead = false;
  /** No new runs (the launcher said it cannot start them here); ends once the last one has. */
  private retiring = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly input: Writable,
    private readonly replies: Readable & { ref(): unknown; unref(): unknown },
    private readonly fallback: Fallback,
  ) {}

  /**
   * Starts the launcher; resolves once it is ready, or null when it cannot run
   * here (not Linux, no python3 >= 3.8, RPR_LAUNCHER=0) or does not answer
   * within readyMs. Never throws, and never keeps rpr alive: until it is ready
   * (or if it never is) runs go through execa.
   *
   * Started with node:child_process rather than execa so that it starts while
   * execa is still being imported (about 140 ms; python3 -I -S starts in about
   * 30 ms), which hides its start-up from the job.
   */
  static async start(fallback: Fallback, readyMs = 3000): Promise<Launcher | null> {
    if (process.platform !== 'linux' || process.env.RPR_LAUNCHER === '0') return null;
    let child: ChildProcess;
    try {
      child = spawn(python(), ['-I', '-S', '-c', LAUNCHER_SCRIPT], {
        stdio: ['pipe', 'inherit', 'inherit', 'pipe'],
        // Its own session: a terminal's Ctrl-C goes to rpr, which stops the runs itself.
        detached: true,
      });
    } catch {
      return null;
    }
    child.on('error', () => undefined); // ENOENT and the like; 'close' below ends the launcher
    const input = child.stdin;
    const replies = child.stdio[3] as (Readable & { ref(): unknown; unref(): unknown }) | null;
    if (!input || !replies || child.pid === undefined) return null;
    const launcher = new Launcher(child, input, replies, fallback);
    process.once('exit', launcher.onRprExit);
    const ready = await launcher.handshake(readyMs);
    if (!ready) {
      launcher.die();
      return null;
    }
    return launcher;
  }

  private handshake(readyMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(ok);
      };
      const timer = setTimeout(() => settle(false), readyMs);
      timer.unref();
      this.input.on('error', () => this.die());
      this.replies.on('close', () => {
        settle(false);
        this.die();
      });
      this.replies.on('error', () => this.die());
      this.replies.on('data', (chunk: Buffer) => {
        for (const reply of this.reader.push(chunk)) {
          if (!settled) settle(reply?.type === 'ready');
          else if (reply) this.onReply(reply);
          else this.die(); // not the protocol: nothing it says can be trusted
        }
      });
      this.input.write(encodeEnv(process.env));
      this.idle();
    });
  }

  /**
   * When rpr exits, so does the launcher, at once: it holds rpr's stdout and
   * stderr open, and whoever reads them waits for it. (If rpr is killed
   * instead, EOF on its stdin ends it.)
   */
  private readonly onRprExit = (): void => {
    this.child.kill('SIGKILL');
  };

  /** Starts a run through the launcher; null when it must go through execa. */
  launch(request: SpawnRequest, argv: readonly string[]): Spawned | null {
    if (this.dead || this.retiring) return null;
    // Only what the launcher does exactly as execa would: a field it does not know goes to execa.
    if (Object.keys(request).some((key) => !LAUNCHABLE[key as keyof SpawnRequest])) return null;
    // A working directory of the run's own: posix_spawn here has no chdir.
    if (request.cwd !== undefined) return null;
    const stdio = (mode: SpawnRequest['stdout']): LaunchRequest['stdout'] | null =>
      mode === 'inherit' ? 'inherit' : mode === 'ignore' ? 'null' : null;
    const stdout = stdio(request.stdout);
    const stderr = stdio(request.stderr);
    if (!stdout || !stderr) return null;
    // The launcher looks the program up in rpr's PATH; a PATH of the run's own is for execa to use.
    if (Object.hasOwn(request.env, 'PATH')) return null;
    const wire: LaunchRequest = { argv, env: request.env, stdout, stderr };
    if (!canEncodeRun(wire)) return null;
    const run = new LaunchedRun(request);
    this.starting.push(run);
    this.busy();
    this.input.write(encodeRun(wire));
    return run;
  }

  private onReply(reply: Reply): void {
    switch (reply.type) {
      case 'started': {
        const run = this.starting.shift();
        if (!run) return this.die();
        run.started(reply.pid);
        this.running.set(reply.pid, run);
        break;
      }
      case 'error':
        // Start failures (ENOENT, EACCES, ENOEXEC...) are left to execa, so they read exactly as before.
        this.starting.shift()?.fallBack(this.fallback);
        break;
      case 'unsupported':
        this.retiring = true;
        this.starting.shift()?.fallBack(this.fallback);
        break;
      case 'exit':
      case 'signal': {
        const run = this.running.get(reply.pid);
        if (!run) break;
        this.running.delete(reply.pid);
        run.finish(
          reply.type === 'exit'
            ? { exitCode: reply.code, signal: null, spawnError: null }
            : { exitCode: null, signal: SIGNAL_NAMES.get(reply.signo) ?? `SIG${reply.signo}`, spawnError: null },
        );
        break;
      }
      case 'fatal':
      case 'ready':
        return this.die();
    }
    if (this.starting.length === 0 && this.running.size === 0) {
      if (this.retiring) this.die();
      else this.idle();
    }
  }

  /** While runs are out, the reply pipe keeps rpr alive (as a child process would). */
  private busy(): void {
    this.replies.ref();
  }

  /** Idle, the launcher never keeps rpr alive; it exits when rpr does (EOF on its stdin). */
  private idle(): void {
    this.child.unref();
    this.replies.unref();
    (this.input as Writable & { unref?(): unknown }).unref?.();
  }

  /** Ends the launcher, as if it had died; later runs go through execa. */
  stop(): void {
    this.die();
  }

  private die(): void {
    if (this.dead) return;
    this.dead = true;
    process.off('exit', this.onRprExit);
    // Stopped first, so that it starts nothing new while its children are found and killed. (Once
    // Node has reaped it, its pid may belong to someone else: then its runs are only those known.)
    const reaped = this.child.exitCode !== null || this.child.signalCode !== null;
    if (!reaped) this.child.kill('SIGSTOP');
    const pids = new Set([...(reaped ? [] : childrenOf(this.child.pid!)), ...this.running.keys()]);
    for (const pid of pids) {
      if (!signalGroup(pid, 'SIGKILL')) signalOne(pid, 'SIGKILL'); // not yet in its own session
    }
    this.child.kill('SIGKILL');
    this.input.destroy();
    this.replies.destroy();
    const killed: ProcessEnd = { exitCode: null, signal: 'SIGKILL', spawnError: null };
    for (const run of this.starting.splice(0)) run.finish(killed);
    for (const run of this.running.values()) run.finish(killed);
    this.running.clear();
  }
}

/**
 * The system's python3 where there is one: version managers' shims (pyenv,
 * asdf) in PATH cost 70 ms or more of start-up; any python3 >= 3.8 will do.
 */
function python(): string {
  try {
    accessSync('/usr/bin/python3', fsConstants.X_OK);
    return '/usr/bin/python3';
  } catch {
    return 'python3';
  }
}

/** Processes whose parent is pid, from /proc (empty where /proc cannot be read). */
function childrenOf(pid: number): number[] {
  return (readProcStats() ?? []).filter((stat) => stat.ppid === pid).map((stat) => stat.pid);
}

function signalOne(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
