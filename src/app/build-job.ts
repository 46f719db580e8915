import { usageError } from '../errors/index.js';
import type { JobSpec, OverlapPolicy } from '../job/spec.js';
import type { OVERLAP_POLICIES, CoreCommand } from '../options/catalog.js';
import { BUILT_IN_DEFAULTS, type Resolved } from '../options/resolve.js';
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

/** Resolved option values, keyed as in the catalog. */
export type OptionValues = Record<string, unknown> & { [EXPLICIT]?: Set<string> };

/** Keys of OptionValues set by the user (not built-in defaults); absent means all are. */
export const EXPLICIT: unique symbol = Symbol('explicit');

/**
 * The values, plus which keys someone set (flag, env or file) rather than a
 * built-in default: only those can conflict with each other.
 */
export function withExplicit(resolved: Resolved): OptionValues {
  const explicit = Object.keys(resolved.sources).filter((key) => resolved.sources[key] !== 'default');
  return Object.defineProperty(resolved.values, EXPLICIT, { value: new Set(explicit), enumerable: false });
}

/** Options that make no sense together: each pair is a usage error. */
const CONFLICTS: [string, string, string][] = [
  ['statsOnly', 'quiet', '--stats-only already hides the output'],
  ['statsOnly', 'verbose', 'choose one output mode'],
  ['statsOnly', 'json', 'choose one output mode'],
  ['statsOnly', 'prefix', '--stats-only prints no command output to prefix'],
  ['json', 'prefix', '--json prints no command output to prefix'],
  ['quiet', 'prefix', '--quiet prints no command output to prefix'],
  ['untilSuccess', 'untilFailure', 'together they stop after the first run; use --times 1'],
  ['delayFirst', 'startAt', 'choose one way to delay the first run'],
  ['httpParseJson', 'httpNoParseJson', 'choose one'],
  ['httpParseHeaders', 'httpNoParseHeaders', 'choose one'],
  ['prefix', 'outputPrefix', 'choose one prefix option'],
  ['stream', 'quiet', '--quiet hides the output --stream would show'],
  ['stream', 'statsOnly', '--stats-only hides the output --stream would show'],
  ['stream', 'json', '--json replaces the output --stream would show'],
];

const flag = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export function checkConflicts(values: OptionValues): void {
  for (const [a, b, hint] of CONFLICTS) {
    if (values[a] && values[b]) throw usageError(`${flag(a)} and ${flag(b)} cannot be used together`, hint);
  }
  const http = !!values.httpAware;
  const needs: [string, string, boolean][] = [
    ['httpMinDelay', '--http-aware', http],
    ['httpMaxDelay', '--http-aware', http],
    ['httpNoParseJson', '--http-aware', http],
    ['httpNoParseHeaders', '--http-aware', http],
    ['httpTrustClient', '--http-aware', http],
    ['httpCustomFields', '--http-aware', http],
    ['maxParallel', '--on-overlap allow', values.onOverlap === 'allow'],
    ['forKill', '--for', values.for !== undefined],
    ['caseInsensitive', 'a pattern option', !!(values.successPattern || values.failurePattern || values.untilMatch)],
  ];
  const explicit = values[EXPLICIT];
  for (const [key, what, present] of needs) {
    if (explicit && !explicit.has(key)) continue;
    if (values[key] !== undefined && values[key] !== false && !present) throw usageError(`${flag(key)} only applies with ${what}`, `add ${what} or drop ${flag(key)}`);
  }
}

/** The schedule of a core subcommand; cron is built by its own module. */
export function coreSchedule(command: Exclude<CoreCommand, 'cron'>, values: OptionValues): Schedule {
  const every = values.every as number | undefined;
  const delay = (values.delayFirst as number | undefined) ?? 0;
  if (command === 'interval' && !every) throw usageError('interval needs --every DURATION greater than 0', 'e.g. rpr interval --every 30s -- CMD');
  if (command === 'count' && !values.times) throw usageError('count needs --times N of at least 1', 'e.g. rpr count --times 5 -- CMD');
  if (command === 'duration' && !values.for) throw usageError('duration needs --for DURATION greater than 0', 'e.g. rpr duration --for 10m --every 30s -- CMD');
  if (every === 0) throw usageError('--every must be greater than 0', 'omit --every to run back to back');
  const schedule = every ? intervalSchedule(every, delay) : backToBackSchedule(delay);
  return values.startAt !== undefined ? startingAt(values.startAt as number, schedule) : schedule;
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
  const regex = (key: string): RegExp | undefined => (values[key] ? toRegExp(values[key] as Pattern, ci) : undefined);
  const shell = values.shell === true;
  return {
    name: (values.name as string | undefined) ?? jobName(argv, shell),
    argv,
    shell,
    overlap: (values.onOverlap as OverlapPolicy | undefined) ?? 'skip',
    maxParallel: (values.maxParallel as number | undefined) ?? (BUILT_IN_DEFAULTS.maxParallel as number),
    jitterMs: (values.jitter as number | undefined) ?? 0,
    stop: {
      times: values.times as number | undefined,
      forMs: values.for as number | undefined,
      forKill: values.forKill === true,
      untilSuccess: values.untilSuccess === true,
      untilFailure: values.untilFailure === true,
      untilMatch: regex('untilMatch'),
      untilChanges: values.untilChanges === true,
      maxFailures: values.maxFailures as number | undefined,
      untilTimeWall: values.untilTime as number | undefined,
    },
    timeoutMs: values.timeout as number | undefined,
    killAfterMs: (values.killAfter as number | undefined) ?? (BUILT_IN_DEFAULTS.killAfter as number),
    successPattern: regex('successPattern'),
    failurePattern: regex('failurePattern'),
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
