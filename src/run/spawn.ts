import { Launcher } from './launcher.js';
import { PendingRun } from './pending-run.js';
import { signalGroup } from './process-group.js';

export type { ProcessEnd, Spawned, SpawnRequest, StdioMode } from './process-types.js';
import type { Spawned, SpawnRequest } from './process-types.js';

/** Which way a job's runs are started, and why (--verbose says it). */
export interface RunnerChoice {
  path: 'launcher' | 'execa';
  why: string;
}

export interface RunnerNeeds {
  /** The job's runs give their output to rpr (prefix, patterns, --until-changes, output plugins): execa's pipes. */
  pipes: boolean;
  /** Told, once per reason, when a run goes through execa although the launcher is up. */
  note?: (line: string) => void;
  /** Other jobs of this process (`rpr up`) may use the launcher: a job with pipes leaves it running. */
  shared?: boolean;
}

type Execa = typeof import('execa').execa;
let execa: Execa | undefined;
let execaLoading: Promise<Execa> | undefined;
/** The job's launcher (launcher.ts), once it is ready. */
let launcher: Launcher | null = null;
let launcherStarting: Promise<Launcher | string> | undefined;
/** The job's runs all go through execa (pipes): a launcher started ahead is not wanted. */
let unwanted = false;
/** The first run stopped waiting for the launcher: say so when it is ready after all. */
let late = false;
let note: ((line: string) => void) | undefined;
const noted = new Set<string>();
/** A run was started by execa: what it leaves behind is in no launcher's process tree. */
let outsideLaunchers = false;
/** How long the first run waits for the launcher; later runs switch over when it is ready. */
const LAUNCHER_WAIT_MS = 1000;

/** execa opens about 120 files: loaded only when a run really goes through it. */
function loadExeca(): Promise<Execa> {
  return (execaLoading ??= import('execa').then((module) => (execa = module.execa)));
}

/**
 * Starts the launcher, if it is not started yet. The CLI calls this as soon
 * as a command line looks like a job, so that python3 starts while the rest
 * of rpr loads; it is killed when rpr exits if no run used it.
 */
export function startLauncher(): Promise<Launcher | string> {
  // A run the launcher could not start (ENOENT, EACCES...) is started by execa, whose error reads as before.
  const handOver = (request: SpawnRequest): Spawned => {
    noteOnce('the launcher could not start it');
    return startWithExeca(request);
  };
  return (launcherStarting ??= Launcher.start(handOver).then((started) => {
    if (typeof started === 'string') return started;
    if (unwanted) {
      started.stop();
      return 'not wanted';
    }
    if (late) note?.('rpr: the launcher is ready: later runs are started by it');
    return (launcher = started);
  }));
}

/**
 * Where everything this process's runs started can be found: the pids of the launchers whose
 * process trees hold it all (they adopt what leaves a run's tree), or null if some of it may be
 * anywhere (a run started by execa, a launcher that died or adopts nothing).
 */
export const adopters = (): number[] | null => (outsideLaunchers ? null : Launcher.adopters());

/** Ends the launcher now (a stop signal before the job's handlers exist): see Launcher.endAll. */
export const endLaunchers = (): Promise<void> => Launcher.endAll();

/**
 * Readies the way this job's runs are started; must be awaited before the
 * first spawnRun. Runs whose output rpr reads need execa's pipes; the others
 * are started by the launcher, or by execa when there is none (the reason is
 * returned for --verbose).
 */
export async function loadRunner(needs: RunnerNeeds): Promise<RunnerChoice> {
  note = needs.note;
  if (needs.pipes) {
    if (!needs.shared) {
      unwanted = true;
      launcher?.stop();
      launcher = null;
    }
    await loadExeca();
    return { path: 'execa', why: 'rpr reads the output of each run (--prefix, a pattern, --until-changes or an output plugin)' };
  }
  let timer: NodeJS.Timeout | undefined;
  const waited = await Promise.race([
    startLauncher(),
    new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`the launcher was not ready within ${LAUNCHER_WAIT_MS} ms`), LAUNCHER_WAIT_MS))),
  ]);
  clearTimeout(timer);
  if (typeof waited !== 'string') return { path: 'launcher', why: 'python3 starts each run with posix_spawn' };
  late = true;
  await loadExeca();
  return { path: 'execa', why: waited };
}

const commandLine = (request: SpawnRequest): readonly string[] => (request.shell ? ['/bin/sh', '-c', request.argv.join(' ')] : request.argv);

/**
 * Starts one run. The child leads its own process group (detached) so that a
 * timeout or shutdown reaches every process it started, not just the first;
 * stdin is /dev/null because nothing is there to answer an unattended job.
 * Runs whose output is passed through or discarded are started by the
 * launcher, far cheaper than a spawn() from Node; the rest by execa.
 */
export function spawnRun(request: SpawnRequest): Spawned {
  // A run whose output rpr reads needs pipes (the launcher may be up for other jobs of `rpr up`).
  if (launcher && request.stdout !== 'pipe' && request.stderr !== 'pipe') {
    const launched = launcher.launch(request, commandLine(request));
    if (typeof launched !== 'string') return launched;
    noteOnce(launched);
  }
  return startWithExeca(request);
}

function noteOnce(why: string): void {
  if (noted.has(why)) return;
  noted.add(why);
  note?.(`rpr: a run is started by execa, not the launcher: ${why}`);
}

/** With execa, at once once it is loaded, else as soon as it is (the run waits: it has no pipes). */
function startWithExeca(request: SpawnRequest): Spawned {
  if (execa) return spawnWithExeca(execa, request);
  const run = new PendingRun(request);
  loadExeca().then(
    (loaded) => run.handOver((r) => spawnWithExeca(loaded, r)),
    () => run.finish({ exitCode: null, signal: null, spawnError: 'ESPAWN' }),
  );
  return run;
}

function spawnWithExeca(execa: Execa, request: SpawnRequest): Spawned {
  outsideLaunchers = true;
  const [file, ...args] = commandLine(request);
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
