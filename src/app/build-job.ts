import { usageError } from '../errors/index.js';
import type { JobSpec, OverlapPolicy } from '../job/spec.js';
import type { OVERLAP_POLICIES, CoreCommand } from '../options/catalog.js';
import { BUILT_IN_DEFAULTS, type OptionValues } from '../options/resolve.js';
import { backToBackSchedule, intervalSchedule, startingAt } from '../schedule/interval.js';
import type { Schedule } from '../schedule/types.js';
import { toRegExp, type Pattern } from '../units/pattern.js';
import { basename } from 'node:path';

/** The flag's choices are exactly the loop's policies (options/ and job/ do not import each other): a compile-time check. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// A type, not a value: it fails to compile when the two lists differ, and costs nothing at run time.
type OverlapChoicesMatch = Same<(typeof OVERLAP_POLICIES)[number], OverlapPolicy> extends true ? true : never;
const overlapChoicesMatch: OverlapChoicesMatch = true;
void overlapChoicesMatch;

/** The schedule of a core subcommand; cron is built by its own module. */
export function coreSchedule(command: Exclude<CoreCommand, 'cron'>, values: OptionValues): Schedule {
  const every = values.every;
  const delay = values.delayFirst ?? 0;
  if (command === 'interval' && !every) throw usageError('interval needs --every DURATION greater than 0', 'e.g. rpr interval --every 30s -- CMD');
  if (command === 'count' && !values.times) throw usageError('count needs --times N of at least 1', 'e.g. rpr count --times 5 -- CMD');
  if (command === 'duration' && !values.for) throw usageError('duration needs --for DURATION greater than 0', 'e.g. rpr duration --for 10m --every 30s -- CMD');
  if (every === 0) throw usageError('--every must be greater than 0', 'omit --every to run back to back');
  const schedule = every ? intervalSchedule(every, delay) : backToBackSchedule(delay);
  return values.startAt !== undefined ? startingAt(values.startAt, schedule) : schedule;
}

function jobName(argv: readonly string[], shell: boolean): string {
  const first = shell ? (argv.join(' ').trim().split(/\s+/)[0] ?? 'job') : (argv[0] ?? 'job');
  return basename(first) || 'job';
}

/**
 * The Go rpr's spellings, mapped onto this rpr's options: -o PREFIX adds a
 * space unless the prefix ends with one; --enable-metrics without a port
 * means 9090, its default.
 */
export function applyGoSpellings(values: OptionValues): OptionValues {
  if (typeof values.outputPrefix === 'string') {
    values.prefix = values.outputPrefix.endsWith(' ') ? values.outputPrefix : `${values.outputPrefix} `;
  }
  if (values.enableMetrics === true && values.metricsPort === undefined) values.metricsPort = 9090;
  return values;
}

/** Turns resolved options and the command into the loop's JobSpec (I/O is added by the caller). */
export function buildSpec(values: OptionValues, argv: string[], io: JobSpec['io']): JobSpec {
  const ci = values.caseInsensitive === true;
  const regex = (pattern: Pattern | undefined): RegExp | undefined => (pattern ? toRegExp(pattern, ci) : undefined);
  const shell = values.shell === true;
  return {
    name: values.name ?? jobName(argv, shell),
    argv,
    shell,
    overlap: values.onOverlap ?? 'skip',
    maxParallel: values.maxParallel ?? BUILT_IN_DEFAULTS.maxParallel,
    jitterMs: values.jitter ?? 0,
    stop: {
      times: values.times,
      forMs: values.for,
      forKill: values.forKill === true,
      untilSuccess: values.untilSuccess === true,
      untilFailure: values.untilFailure === true,
      untilMatch: regex(values.untilMatch),
      untilChanges: values.untilChanges === true,
      maxFailures: values.maxFailures,
      untilTimeWall: values.untilTime,
    },
    timeoutMs: values.timeout,
    killAfterMs: values.killAfter ?? BUILT_IN_DEFAULTS.killAfter,
    successPattern: regex(values.successPattern),
    failurePattern: regex(values.failurePattern),
    io,
  };
}

/** The executor and output plugins a job's options name (`--output a,b` is a list). */
export function namedPlugins(options: Record<string, unknown>): { executor?: string; outputs: string[] } {
  const outputs =
    typeof options.output === 'string'
      ? options.output
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean)
      : [];
  return typeof options.executor === 'string' ? { executor: options.executor, outputs } : { outputs };
}
