import type { Readable } from 'node:stream';
import { Launcher } from './launcher.js';
import { signalGroup } from './process-group.js';

export type StdioMode = 'inherit' | 'pipe' | 'ignore';

export interface SpawnRequest {
  argv: readonly string[];
  /** Run argv joined by spaces through sh -c. */
  shell: boolean;
  /** Extra variables on top of rpr's own environment. */
  env: Record<string, string>;
  cwd?: string | undefined;
  stdout: StdioMode;
  stderr: StdioMode;
}

export interface ProcessEnd {
  exitCode: number | null;
  signal: string | null;
  /** errno code when the process could not be started (ENOENT, EACCES). */
  spawnError: string | null;
}

export interface Spawned {
  pid: number | undefined;
  stdout: Readable | null;
  stderr: Readable | null;
  /** Settles when the process has exited and its piped streams have ended. */
  ended: Promise<ProcessEnd>;
  /** Settles when the process itself has exited (streams may still be open). */
  exited: Promise<void>;
  /** Signals the run's whole process group. */
  signal(name: NodeJS.Signals): void;
}

type Execa = typeof import('execa').execa;
let execa: Execa | undefined;
/** The job's launcher (launcher.ts), once it is ready. */
let launcher: Launcher | null = null;
let launcherStarting: Promise<unknown> | undefined;
/** How long the first run waits for the launcher, beyond loading execa; later runs switch over when it is ready. */
const LAUNCHER_WAIT_MS = 1000;

/**
 * Loads execa (a fifth of a second of module loading) only when a job will
 * really run, so --help, --version and usage errors stay fast, and meanwhile
 * starts the launcher. Must be awaited before the first spawnRun.
 */
export async function loadRunner(): Promise<void> {
  launcherStarting ??= Launcher.start(spawnWithExeca).then((ready) => (launcher = ready));
  execa ??= (await import('execa')).execa;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([launcherStarting, new Promise((resolve) => (timer = setTimeout(resolve, LAUNCHER_WAIT_MS)))]);
  clearTimeout(timer);
}

const commandLine = (request: SpawnRequest): readonly string[] =>
  request.shell ? ['/bin/sh', '-c', request.argv.join(' ')] : request.argv;

/**
 * Starts one run. The child leads its own process group (detached) so that a
 * timeout or shutdown reaches every process it started, not just the first;
 * stdin is /dev/null because nothing is there to answer an unattended job.
 * Runs whose output is passed through or discarded are started by the
 * launcher, far cheaper than a spawn() from Node; the rest by execa.
 */
export function spawnRun(request: SpawnRequest): Spawned {
  return launcher?.launch(request, commandLine(request)) ?? spawnWithExeca(request);
}

function spawnWithExeca(request: SpawnRequest): Spawned {
  const [file, ...args] = commandLine(request);
  if (!execa) throw new Error('loadRunner() must be awaited before spawnRun()');
  const child = execa(file!, args, {
    env: request.env,
    extendEnv: true,
    ...(request.cwd ? { cwd: request.cwd } : {}),
    stdin: 'ignore',
    stdout: request.stdout,
    stderr: request.stderr,
    detached: true,
    buffer: false,
    reject: false,
    cleanup: false,
    stripFinalNewline: false,
  });
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const ended = child.then(
    (result) => ({
      exitCode: result.exitCode ?? null,
      signal: result.signal ?? null,
      spawnError: result.exitCode === undefined && !result.signal ? (result.code ?? 'ESPAWN') : null,
    }),
    (error: { code?: string }) => ({ exitCode: null, signal: null, spawnError: error.code ?? 'ESPAWN' }),
  );
  return {
    pid,
    stdout: child.stdout ?? null,
    stderr: child.stderr ?? null,
    ended,
    exited,
    signal: (name) => {
      if (pid !== undefined) signalGroup(pid, name);
    },
  };
}
