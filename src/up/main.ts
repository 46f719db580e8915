/**
 * `rpr up`: checks the config, starts health/metrics and the page, starts every job, reloads on
 * SIGHUP and when the file changes, and ends every job on SIGTERM/SIGINT (a second one kills).
 */
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { formatError } from '../errors/exit-codes.js';
import { RprError } from '../errors/index.js';
import { createHistory } from './history.js';
import { upService, type UpServiceOptions } from './observe.js';
import type { JobModules } from './modules.js';
import { checkUpConfig, Supervisor } from './supervisor.js';

/** The page (ui/, started by the CLI: up/ does not import it), once the jobs are known. */
type StartPage = (up: Supervisor) => Promise<{ url: string; generatedToken?: string; close(): Promise<void> }>;

export interface UpCommand extends UpServiceOptions {
  jobs: JobModules;
  path: string;
  only?: ReadonlySet<string>;
  check: boolean;
  onReload: 'wait' | 'kill';
  historyFile?: string;
  /** Reload on SIGHUP only, not when the file changes. */
  watch: boolean;
  page?: StartPage;
  env: NodeJS.ProcessEnv;
  out(line: string): void;
  err(line: string): void;
}

/** A change of the file shows up as several events (editors write, rename, chmod): one reload for them. */
const WATCH_SETTLE_MS = 200;

/** Watches the config file's folder (an editor replaces the file, a watch on the file would go stale). */
function watchFile(file: string, changed: () => void): FSWatcher | undefined {
  let timer: NodeJS.Timeout | undefined;
  let last = readOrEmpty(file);
  try {
    const watcher = watch(path.dirname(file), (_event, name) => {
      if (name !== null && name !== path.basename(file)) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        const now = readOrEmpty(file);
        if (now === last) return;
        last = now;
        changed();
      }, WATCH_SETTLE_MS);
    });
    watcher.on('error', () => undefined);
    return watcher;
  } catch {
    return undefined; // no inotify: SIGHUP still reloads
  }
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export async function runUp(options: UpCommand): Promise<number> {
  const { config, problems } = await checkUpConfig(options.jobs, options.path, options.only, options.env);
  if (problems.length > 0) {
    for (const problem of problems) options.err(formatError(problem));
    throw new RprError('E_CONFIG', `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${options.path}: nothing started`);
  }
  const names = Object.keys(config.jobs).filter((n) => !options.only || options.only.has(n));
  if (options.check) {
    options.out(`${options.path}: ok, ${names.length} job${names.length === 1 ? '' : 's'}: ${names.join(', ')}`);
    return 0;
  }
  const history = createHistory(options.historyFile ? { file: options.historyFile } : {});
  if (history.corrupt > 0) options.err(`rpr: --history ${options.historyFile}: ${history.corrupt} unreadable line${history.corrupt === 1 ? '' : 's'} skipped`);
  const service = await upService(options);
  const up = new Supervisor(config, {
    jobs: options.jobs,
    path: options.path,
    ...(options.only ? { only: options.only } : {}),
    onReload: options.onReload,
    history,
    line: options.err,
    env: options.env,
    captureOutput: options.page !== undefined,
    ...(service.metricsFor ? { metricsFor: service.metricsFor } : {}),
  });
  // Listened for before anything starts: a SIGTERM that comes as soon as "up: N jobs" is said (or
  // before) would otherwise find no handler and end rpr by the default action, its jobs' runs
  // left behind.
  let stop: (sig: NodeJS.Signals) => void = () => undefined;
  const unlisten = (): void => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    stop = (sig) => {
      unlisten();
      // A second one: stop now.
      process.once('SIGINT', () => up.kill());
      process.once('SIGTERM', () => up.kill());
      resolve(sig);
    };
  });
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const onHup = (): void => void up.reload('SIGHUP');
  let ui: { close(): Promise<void> } | undefined;
  try {
    const ports = await service.listen(up);
    if (options.page) {
      const started = await options.page(up);
      ui = started;
      options.err(`rpr: page at ${started.url}${started.generatedToken ? ` (token for its controls: ${started.generatedToken})` : ''}`);
    }
    process.on('SIGHUP', onHup);
    up.start();
    const served = [ports.health !== undefined ? `health on ${ports.health}` : '', ports.metrics !== undefined ? `metrics on ${ports.metrics}` : ''].filter(Boolean);
    options.err(`rpr: up: ${names.length} job${names.length === 1 ? '' : 's'} from ${options.path}${served.length ? `; ${served.join(', ')}` : ''}`);
  } catch (error) {
    unlisten();
    process.off('SIGHUP', onHup);
    await Promise.all([service.close(), ui?.close()]);
    throw error;
  }
  const watcher = options.watch && watchFile(options.path, () => void up.reload('file changed'));
  const signal = await stopped;
  options.err(`rpr: up: ${signal}: ending every job`);
  if (watcher) watcher.close();
  process.off('SIGHUP', onHup);
  const code = await up.shutdown();
  await Promise.all([service.close(), ui?.close()]);
  options.err(`rpr: up: ended${code === 0 ? '' : ', some job failed'}`);
  return code;
}
