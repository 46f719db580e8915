import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ReplyReader, canEncodeRun, encodeEnv, encodeRun, type LaunchRequest, type Reply } from './launcher-protocol.js';
import { PendingRun } from './pending-run.js';
import { signalGroup } from './process-group.js';
import { readProcStats } from './proc.js';
import type { ProcessEnd, Spawned, SpawnRequest } from './process-types.js';

/** The launcher program, shipped beside this module (the build copies it into dist/run/). */
const SCRIPT = fileURLToPath(new URL('./launcher.py', import.meta.url));

/** The ordinary way to start a run (execa), for whatever the launcher does not take. */
export type Fallback = (request: SpawnRequest) => Spawned;

/**
 * The SpawnRequest fields launch() handles (a new field must be added here, by
 * the compiler's demand, and handled, or its runs go through execa).
 */
const LAUNCHABLE: Record<keyof SpawnRequest, boolean> = { argv: true, shell: true, env: true, cwd: true, stdout: true, stderr: true };

const SIGNAL_NAMES = new Map<number, string>(Object.entries(constants.signals).map(([name, n]) => [n, name]));

/** Launchers started and not yet ended (one per process in practice). */
const live = new Set<Launcher>();
/**
 * A launcher that started a run has died, or one does not adopt orphans (launcher.py): what runs
 * left behind may have gone to init, out of every launcher's process tree.
 */
let treesIncomplete = false;

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
  private readonly starting: PendingRun[] = [];
  private readonly running = new Map<number, PendingRun>();
  private readonly reader = new ReplyReader();
  private dead = false;
  /** It is its runs' subreaper: what leaves a run's process tree stays in the launcher's. */
  private adopts = false;
  private launched = 0;
  /** No new runs (the launcher said it cannot start them here); ends once the last one has. */
  private retiring = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly input: Writable,
    private readonly replies: Readable & { ref(): unknown; unref(): unknown },
    private readonly fallback: Fallback,
  ) {}

  /**
   * Starts the launcher; resolves once it is ready, or with the reason it
   * cannot run here (not Linux, no python3 >= 3.8, RPR_LAUNCHER=0) or did not
   * answer within readyMs. Never throws, and never keeps rpr alive: until it
   * is ready (or if it never is) runs go through execa.
   *
   * Started with node:child_process: execa, the fallback, is loaded only when
   * a run needs it.
   */
  static async start(fallback: Fallback, readyMs = 3000): Promise<Launcher | string> {
    if (process.platform !== 'linux') return 'the launcher needs Linux';
    if (process.env.RPR_LAUNCHER === '0') return 'RPR_LAUNCHER=0';
    try {
      accessSync(SCRIPT, fsConstants.R_OK);
    } catch {
      return `${SCRIPT} is missing`;
    }
    let child: ChildProcess;
    try {
      child = spawn(python(), ['-I', '-S', SCRIPT], {
        stdio: ['pipe', 'inherit', 'inherit', 'pipe'],
        // Its own session: a terminal's Ctrl-C goes to rpr, which stops the runs itself.
        detached: true,
      });
    } catch (error) {
      return `python3 could not be started (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    }
    let spawnError: string | undefined;
    child.on('error', (error: NodeJS.ErrnoException) => void (spawnError = error.code)); // ENOENT and the like; 'close' below ends the launcher
    const input = child.stdin;
    const replies = child.stdio[3] as (Readable & { ref(): unknown; unref(): unknown }) | null;
    if (!input || !replies || child.pid === undefined) return 'python3 could not be started';
    const launcher = new Launcher(child, input, replies, fallback);
    live.add(launcher);
    process.once('exit', launcher.onRprExit);
    const ready = await launcher.handshake(readyMs);
    if (ready !== true) {
      launcher.die();
      return spawnError === 'ENOENT' ? 'no python3 found' : spawnError ? `python3 could not be started (${spawnError})` : ready;
    }
    return launcher;
  }

  /** true once the launcher says it is ready; else why not. */
  private handshake(readyMs: number): Promise<true | string> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (ok: true | string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(ok);
      };
      const timer = setTimeout(() => settle(`the launcher did not answer within ${readyMs} ms`), readyMs);
      timer.unref();
      this.input.on('error', () => this.die());
      this.replies.on('close', () => {
        settle('the launcher (python3) exited at once');
        this.die();
      });
      this.replies.on('error', () => this.die());
      this.replies.on('data', (chunk: Buffer) => {
        for (const reply of this.reader.push(chunk)) {
          if (!settled) {
            if (reply?.type === 'ready') this.adopts = reply.adopts;
            settle(reply?.type === 'ready' ? true : reply?.type === 'fatal' ? `the launcher cannot run: ${reply.reason}` : 'the launcher did not answer as expected');
          } else if (reply) this.onReply(reply);
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

  /** Starts a run through the launcher; or says why it must go through execa. */
  launch(request: SpawnRequest, argv: readonly string[]): Spawned | string {
    if (this.dead) return 'the launcher has stopped';
    if (this.retiring) return 'the launcher cannot start runs here';
    // Only what the launcher does exactly as execa would: a field it does not know goes to execa.
    if (Object.keys(request).some((key) => !LAUNCHABLE[key as keyof SpawnRequest])) return 'the run asks for something the launcher does not do';
    const stdio = (mode: SpawnRequest['stdout']): LaunchRequest['stdout'] | null => (mode === 'inherit' ? 'inherit' : mode === 'ignore' ? 'null' : null);
    const stdout = stdio(request.stdout);
    const stderr = stdio(request.stderr);
    if (!stdout || !stderr) return 'rpr reads the output of the run';
    // The launcher looks the program up in rpr's PATH; a PATH of the run's own is for execa to use.
    if (Object.hasOwn(request.env, 'PATH')) return 'the run has a PATH of its own';
    // Resolved against rpr's directory now, as execa would: the launcher keeps the one rpr had when it started.
    const wire: LaunchRequest = { argv, env: request.env, stdout, stderr, ...(request.cwd ? { cwd: path.resolve(request.cwd) } : {}) };
    if (!canEncodeRun(wire)) return 'a NUL byte in an argument, variable or directory';
    const run = new PendingRun(request);
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
        run.started(reply.pid, reply.atMs);
        this.running.set(reply.pid, run);
        if (this.launched++ === 0 && !this.adopts) treesIncomplete = true;
        break;
      }
      case 'error':
        // Start failures (ENOENT, EACCES, ENOEXEC...) are left to execa, so they read exactly as before.
        this.starting.shift()?.handOver(this.fallback);
        break;
      case 'unsupported':
        this.retiring = true;
        this.starting.shift()?.handOver(this.fallback);
        break;
      case 'exit':
      case 'signal': {
        const run = this.running.get(reply.pid);
        if (!run) break;
        this.running.delete(reply.pid);
        run.finish(
          reply.type === 'exit' ? { exitCode: reply.code, signal: null, spawnError: null } : { exitCode: null, signal: SIGNAL_NAMES.get(reply.signo) ?? `SIG${reply.signo}`, spawnError: null },
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

  /**
   * Ends every launcher now, with the runs it started, ready or still starting; resolves once each
   * has exited, or after waitMs. For a signal that comes before the job's handlers exist: rpr is
   * about to end by it, and nothing it started may outlive it (a launcher would only see EOF).
   */
  static endAll(waitMs = 500): Promise<void> {
    const exits = [...live].map((launcher) => {
      const { child } = launcher;
      const gone = child.exitCode !== null || child.signalCode !== null;
      const exited = gone ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));
      launcher.die();
      return exited;
    });
    if (exits.length === 0) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    // A timer that keeps rpr alive until then: the launcher's own handles are unref'd.
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
    return Promise.race([Promise.all(exits).then(() => undefined), bound]).finally(() => clearTimeout(timer));
  }

  /**
   * The pids of the live launchers, under which is everything any run they started left behind;
   * null if some of it may be elsewhere (see treesIncomplete).
   */
  static adopters(): number[] | null {
    return treesIncomplete ? null : [...live].filter((launcher) => launcher.launched > 0).map((launcher) => launcher.child.pid!);
  }

  private die(): void {
    if (this.dead) return;
    this.dead = true;
    live.delete(this);
    if (this.launched > 0) treesIncomplete = true;
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
