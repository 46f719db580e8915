import { usageError } from '../errors/index.js';
import type { PluginHandle } from '../plugins/index.js';
import type { Schedule } from '../schedule/types.js';
import { EXPLICIT, type OptionValues } from './build-job.js';

export interface CoordinatedJob {
  schedule: Schedule;
  close(): Promise<void>;
}

/** Scheduler plugins whose limit can be shared across instances. */
const SHARED_RATE = new Set(['rate-limit', 'token-bucket']);

/**
 * --coordinate: wraps the job's schedule so that its instances run as one job (src/coordinate/,
 * loaded only then: ioredis is not needed otherwise). Undefined when the job is not coordinated.
 * `started` are the scheduler plugin of a plugin job, whose settings say its rate.
 */
export async function coordinateJob(schedule: Schedule, values: OptionValues, started: readonly PluginHandle[], line: (text: string) => void): Promise<CoordinatedJob | undefined> {
  const explicit = values[EXPLICIT];
  const set = (key: string): boolean => values[key] !== undefined && (!explicit || explicit.has(key));
  if (typeof values.coordinate !== 'string' || values.coordinate === '') {
    if (set('onCoordinationLoss')) throw usageError('--on-coordination-loss only applies with --coordinate', 'add --coordinate redis://HOST:PORT or drop --on-coordination-loss');
    return undefined;
  }
  if (!set('name')) {
    throw usageError('--coordinate needs --name JOB: instances with the same Redis and job name are one job', 'e.g. --coordinate redis://127.0.0.1:6379 --name nightly-report');
  }
  const jitterMs = (values.jitter as number | undefined) ?? 0;
  const plugin = started[0];
  let shape: import('../coordinate/index.js').JobShape;
  const { coordinate, parseRate } = await import('../coordinate/index.js');
  if (typeof values.cron === 'string') {
    shape = { kind: 'cron', jitterMs };
  } else if (plugin && SHARED_RATE.has(plugin.name)) {
    const config = plugin.config;
    const { limit, windowMs } = parseRate(String(config.rate), plugin.name);
    shape =
      plugin.name === 'rate-limit'
        ? { kind: 'rate-limit', limit, windowMs, spread: config.spread === true || config.spread === 'true' }
        : { kind: 'token-bucket', limit, windowMs, burst: Number(config.burst ?? 1) };
  } else if (!plugin && typeof values.every === 'number' && values.every > 0) {
    shape = {
      kind: 'interval',
      everyMs: values.every,
      firstDelayMs: (values.delayFirst as number | undefined) ?? 0,
      ...(typeof values.startAt === 'number' ? { startWall: values.startAt } : {}),
      jitterMs,
    };
  } else {
    throw usageError(
      `--coordinate works with interval (or count/duration with --every), cron, rate-limit and token-bucket${plugin ? `, not ${plugin.name}` : ', not back-to-back runs'}`,
      'e.g. rpr interval --every 1m --coordinate redis://127.0.0.1:6379 --name JOB -- CMD',
    );
  }
  return coordinate(schedule, {
    url: values.coordinate,
    name: values.name as string,
    onLoss: values.onCoordinationLoss === 'run-local' ? 'run-local' : 'skip',
    shape,
    warn: line,
    ...(values.verbose === true ? { verbose: line } : {}),
  });
}
