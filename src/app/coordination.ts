import { createSystemClock, type Clock } from '../clock/clock.js';
import { usageError } from '../errors/index.js';
import type { PluginHandle } from '../plugins/index.js';
import type { Schedule, SlotShape } from '../schedule/types.js';
import type { OptionValues } from '../options/resolve.js';

export interface CoordinatedJob {
  schedule: Schedule;
  /** The job's clock: the local monotonic timeline, Redis's wall clock (hosts' clocks may disagree). */
  clock: Clock;
  close(): Promise<void>;
}

/**
 * --coordinate: wraps the job's schedule so that its instances run as one job (src/coordinate/,
 * loaded only then: ioredis is not needed otherwise). Undefined when the job is not coordinated.
 * Which slots instances share is what the schedule declares (`slots`), or for a scheduler plugin
 * what its manifest's [coordination] declares, read with its settings (`started`).
 */
export async function coordinateJob(schedule: Schedule, values: OptionValues, started: readonly PluginHandle[], line: (text: string) => void): Promise<CoordinatedJob | undefined> {
  // That --coordinate has its --name, and --on-coordination-loss its --coordinate, is the catalog's rule (options/rules.ts).
  const { coordinate: url, name } = values;
  if (!url) return undefined;
  if (name === undefined) throw new Error('coordinateJob: --coordinate without --name (checkOptionRules refuses such a job before this)');
  const { coordinate, parseRate } = await import('../coordinate/index.js');
  const plugin = started[0];
  const declared = plugin?.manifest?.coordination;
  let slots: SlotShape | undefined = schedule.slots;
  if (!slots && plugin && declared) {
    const { limit, windowMs } = parseRate(String(plugin.config[declared.rate]), plugin.name);
    const setting = (key: string | undefined): unknown => (key === undefined ? undefined : plugin.config[key]);
    slots =
      declared.slots === 'sliding-window'
        ? { kind: 'sliding-window', limit, windowMs, spread: setting(declared.spread) === true || setting(declared.spread) === 'true' }
        : { kind: 'token-bucket', limit, windowMs, burst: Number(setting(declared.burst) ?? 1) };
  }
  if (!slots) {
    throw usageError(
      `--coordinate works with interval (or count/duration with --every), cron, and scheduler plugins that declare their slots (rate-limit, token-bucket)${plugin ? `, not ${plugin.name}` : ', not back-to-back runs'}`,
      'e.g. rpr interval --every 1m --coordinate redis://127.0.0.1:6379 --name JOB -- CMD',
    );
  }
  const local = createSystemClock();
  const coordination = coordinate(schedule, {
    url,
    name,
    onLoss: values.onCoordinationLoss === 'run-local' ? 'run-local' : 'skip',
    slots,
    jitterMs: values.jitter ?? 0,
    skipOverlap: (values.onOverlap ?? 'skip') === 'skip',
    warn: line,
    ...(values.verbose === true ? { verbose: line } : {}),
    link: { mono: local.now },
  });
  return { ...coordination, clock: { now: local.now, wallNow: coordination.wallNow, sleep: local.sleep } };
}
