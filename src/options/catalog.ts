/**
 * Every option of the core, once: the CLI builds its flags from this list and
 * the config loader its keys, so a flag and its config key can never disagree.
 * The type of each resolved value, and which options cannot go together or need
 * another, are read from it too (`OptionValueMap`, options/rules.ts).
 */
import type { Pattern } from '../units/pattern.js';

type OptionType = 'duration' | 'int' | 'number' | 'string' | 'boolean' | 'regex' | 'time' | 'enum';

/** What options/values.ts makes of each type: durations in ms, times as wall-clock ms, patterns kept uncompiled (see Pattern). */
interface ValueOfType {
  duration: number;
  int: number;
  number: number;
  string: string;
  boolean: boolean;
  regex: Pattern;
  time: number;
  enum: string;
}

export type CoreCommand = 'interval' | 'count' | 'duration' | 'cron';

/** The headings options are listed under, in --help and the man page, in this order. */
/** @public scripts/man.mjs reads it from dist/ for the man page's sections. */
export const OPTION_GROUPS = ['schedule', 'stopping', 'each run', 'output', 'plugins', 'service'] as const;
export type OptionGroup = (typeof OPTION_GROUPS)[number];

export interface OptionDef {
  /** camelCase key used in code; snake_case of it is the config key. */
  key: string;
  group: OptionGroup;
  /** The Go rpr's spelling of something rpr does by default or otherwise: accepted, not shown in help. */
  goCompat?: boolean;
  /** Subcommands that cannot run without it (marked "required" in their help). */
  requiredFor?: readonly CoreCommand[];
  /** commander flag syntax, e.g. '-e, --every <duration>'. */
  flags: string;
  type: OptionType;
  description: string;
  /** Subcommands that accept it; 'all' for every scheduling subcommand (plugins included). */
  scope: 'all' | readonly CoreCommand[];
  choices?: readonly string[];
  /** Settable in [defaults] and as RPR_<KEY>; job-shape options (every, times, cron) are not. */
  defaultable?: boolean;
  /** For 'int': the smallest and largest accepted values. */
  min?: number;
  max?: number;
  /** Options that cannot be set (truthy) together with this one: "--this and --other cannot be used together (hint: ...)". */
  conflicts?: readonly { key: string; hint: string }[];
  /** What this option, when someone set it (not a built-in default), cannot do without. */
  needs?: Need;
}

/**
 * Met when any of `anyOf` is set (not undefined, false or ''), and equal to `value` when that is given.
 * Unmet: "--this only applies with WHAT (hint: add WHAT or drop --this)", unless `message` says it otherwise.
 */
interface Need {
  anyOf: readonly string[];
  value?: string;
  /** How the message names what is needed; default: the flag (and value), e.g. "--on-overlap allow". */
  what?: string;
  message?: string;
  hint?: string;
}

export const OVERLAP_POLICIES = ['skip', 'queue', 'kill', 'allow'] as const;

const LOG_FORMATS = ['text', 'json'] as const;

const COORDINATION_LOSS_POLICIES = ['skip', 'run-local'] as const;

const core = (...c: CoreCommand[]): readonly CoreCommand[] => c;
const withHttpAware = { anyOf: ['httpAware'] } as const;

// biome-ignore format: a table, one option per line
const CATALOG = [
  // schedule shape
  { key: 'every', requiredFor: ['interval'], group: 'schedule', flags: '-e, --every <duration>', type: 'duration', scope: core('interval', 'count', 'duration'), description: 'start a run every DURATION, start to start (count/duration: back to back if omitted)' },
  { key: 'times', requiredFor: ['count'], group: 'stopping', flags: '-t, --times <n>', type: 'int', min: 1, scope: 'all', description: 'stop after N runs' },
  { key: 'for', requiredFor: ['duration'], group: 'stopping', flags: '-f, --for <duration>', type: 'duration', scope: 'all', description: 'stop starting runs after DURATION' },
  { key: 'cron', requiredFor: ['cron'], group: 'schedule', flags: '--cron <expr>', type: 'string', scope: core('cron'), description: 'cron expression: 5 fields, or 6 with leading seconds, or @daily etc.' },
  { key: 'timezone', group: 'schedule', flags: '--timezone <zone>', type: 'string', scope: core('cron'), defaultable: true, description: 'IANA time zone for --cron, also --tz (default: the local zone)' },
  { key: 'catchUp', group: 'schedule', flags: '--catch-up', type: 'boolean', scope: core('cron'), defaultable: true, description: 'run a fire time missed while the machine slept, once, on wake' },
  { key: 'delayFirst', group: 'schedule', flags: '--delay-first <duration>', type: 'duration', scope: core('interval', 'count', 'duration'), conflicts: [{ key: 'startAt', hint: 'choose one way to delay the first run' }], description: 'wait DURATION before the first run' },
  { key: 'startAt', group: 'schedule', flags: '--start-at <time>', type: 'time', scope: core('interval', 'count', 'duration'), description: 'first run at TIME (HH:MM[:SS] local, or ISO 8601)' },
  { key: 'onOverlap', group: 'schedule', flags: '--on-overlap <policy>', type: 'enum', choices: OVERLAP_POLICIES, scope: 'all', defaultable: true, description: 'when a run outlasts its slot: skip (wait for the next slot), queue, kill, allow' },
  { key: 'maxParallel', group: 'schedule', flags: '--max-parallel <n>', type: 'int', min: 1, scope: 'all', defaultable: true, needs: { anyOf: ['onOverlap'], value: 'allow' }, description: 'with --on-overlap allow: at most N runs at once (default 4)' },
  { key: 'jitter', group: 'schedule', flags: '--jitter <duration>', type: 'duration', scope: 'all', defaultable: true, description: 'delay each run by a random 0..DURATION' },
  // stop conditions
  { key: 'forKill', group: 'stopping', flags: '--for-kill', type: 'boolean', scope: 'all', needs: { anyOf: ['for'] }, description: 'when --for ends, stop the running command too' },
  { key: 'untilSuccess', group: 'stopping', flags: '--until-success', type: 'boolean', scope: 'all', conflicts: [{ key: 'untilFailure', hint: 'together they stop after the first run; use --times 1' }], description: 'stop after the first successful run' },
  { key: 'untilFailure', group: 'stopping', flags: '--until-failure', type: 'boolean', scope: 'all', description: 'stop after the first failed run' },
  { key: 'untilMatch', group: 'stopping', flags: '--until-match <regex>', type: 'regex', scope: 'all', description: "stop when a run's output matches REGEX" },
  { key: 'untilChanges', group: 'stopping', flags: '--until-changes', type: 'boolean', scope: 'all', description: "stop when a run's output differs from the previous run's" },
  { key: 'maxFailures', group: 'stopping', flags: '--max-failures <n>', type: 'int', min: 1, scope: 'all', defaultable: true, description: 'stop after N failed runs' },
  { key: 'untilTime', group: 'stopping', flags: '--until-time <time>', type: 'time', scope: 'all', description: 'stop starting runs at TIME (HH:MM[:SS] local, or ISO 8601)' },
  // each run
  { key: 'shell', group: 'each run', flags: '--shell', type: 'boolean', scope: 'all', defaultable: true, description: 'run the command through sh -c as one string' },
  { key: 'timeout', group: 'each run', flags: '--timeout <duration>', type: 'duration', scope: 'all', defaultable: true, description: 'fail a run that takes longer than DURATION' },
  { key: 'killAfter', group: 'each run', flags: '--kill-after <duration>', type: 'duration', scope: 'all', defaultable: true, description: 'SIGKILL this long after SIGTERM (default 5s)' },
  { key: 'successPattern', group: 'each run', flags: '--success-pattern <regex>', type: 'regex', scope: 'all', description: 'a run whose output matches passes, whatever its exit code' },
  { key: 'failurePattern', group: 'each run', flags: '--failure-pattern <regex>', type: 'regex', scope: 'all', description: 'a run whose output matches fails (checked before --success-pattern)' },
  { key: 'caseInsensitive', group: 'each run', flags: '--case-insensitive', type: 'boolean', scope: 'all', defaultable: true, needs: { anyOf: ['successPattern', 'failurePattern', 'untilMatch'], what: 'a pattern option' }, description: 'patterns ignore case' },
  // output
  { key: 'quiet', group: 'output', flags: '-q, --quiet', type: 'boolean', scope: 'all', defaultable: true, conflicts: [{ key: 'prefix', hint: '--quiet prints no command output to prefix' }], description: "hide the command's output" },
  { key: 'verbose', group: 'output', flags: '-v, --verbose', type: 'boolean', scope: 'all', defaultable: true, description: "rpr's own lines on stderr: each run's number, exit code, duration, next due time" },
  { key: 'statsOnly', group: 'output', flags: '--stats-only', type: 'boolean', scope: 'all', defaultable: true, conflicts: [{ key: 'quiet', hint: '--stats-only already hides the output' }, { key: 'verbose', hint: 'choose one output mode' }, { key: 'json', hint: 'choose one output mode' }, { key: 'prefix', hint: '--stats-only prints no command output to prefix' }], description: 'print only a summary at the end' },
  { key: 'prefix', group: 'output', flags: '--prefix <template>', type: 'string', scope: 'all', defaultable: true, conflicts: [{ key: 'outputPrefix', hint: 'choose one prefix option' }], description: 'prefix each output line; {run} {time} {stream} are replaced' },
  { key: 'summary', group: 'output', flags: '--summary', type: 'boolean', scope: 'all', defaultable: true, description: 'print a summary on stderr at the end' },
  { key: 'json', group: 'output', flags: '--json', type: 'boolean', scope: 'all', defaultable: true, conflicts: [{ key: 'prefix', hint: '--json prints no command output to prefix' }], description: "one JSON object per run on stdout instead of the command's output" },
  { key: 'logFormat', group: 'output', flags: '--log-format <format>', type: 'enum', choices: LOG_FORMATS, scope: 'all', defaultable: true, description: "rpr's own lines on stderr as text (default) or json: one object a line with time, level, job_id, run, message" },
  { key: 'progress', group: 'output', flags: '--no-progress', type: 'boolean', scope: 'all', defaultable: true, description: 'no live status line on a terminal' },
  // plugins
  { key: 'executor', group: 'plugins', flags: '--executor <plugin>', type: 'string', scope: 'all', defaultable: true, description: 'run each run through an executor plugin (docker, ssh, ...)' },
  { key: 'output', group: 'plugins', flags: '--output <plugins>', type: 'string', scope: 'all', defaultable: true, description: 'send job events to output plugins, comma-separated (slack, webhook, ...)' },
  // HTTP-aware scheduling: the output is read for a server's "retry after" and the next run waits for it
  { key: 'httpAware', group: 'plugins', flags: '--http-aware', type: 'boolean', scope: 'all', defaultable: true, description: 'read HTTP responses in the output (curl -si) and wait as long as the server asks (Retry-After, 429/503, rate-limit headers and JSON fields)' },
  { key: 'httpMinDelay', group: 'plugins', flags: '--http-min-delay <duration>', type: 'duration', scope: 'all', defaultable: true, needs: withHttpAware, description: 'with --http-aware: wait at least this long when a hint is found (default 1s)' },
  { key: 'httpMaxDelay', group: 'plugins', flags: '--http-max-delay <duration>', type: 'duration', scope: 'all', defaultable: true, needs: withHttpAware, description: 'with --http-aware: never wait longer than this for a hint (default 30m)' },
  { key: 'httpParseJson', group: 'plugins', goCompat: true, flags: '--http-parse-json', type: 'boolean', scope: 'all', conflicts: [{ key: 'httpNoParseJson', hint: 'choose one' }], description: 'with --http-aware: read JSON bodies (the default; kept for the Go rpr)' },
  { key: 'httpParseHeaders', group: 'plugins', goCompat: true, flags: '--http-parse-headers', type: 'boolean', scope: 'all', conflicts: [{ key: 'httpNoParseHeaders', hint: 'choose one' }], description: 'with --http-aware: read headers (the default; kept for the Go rpr)' },
  { key: 'httpNoParseJson', group: 'plugins', flags: '--http-no-parse-json', type: 'boolean', scope: 'all', defaultable: true, needs: withHttpAware, description: 'with --http-aware: ignore JSON bodies' },
  { key: 'httpNoParseHeaders', group: 'plugins', flags: '--http-no-parse-headers', type: 'boolean', scope: 'all', defaultable: true, needs: withHttpAware, description: 'with --http-aware: ignore headers' },
  { key: 'httpTrustClient', group: 'plugins', flags: '--http-trust-client', type: 'boolean', scope: 'all', defaultable: true, needs: withHttpAware, description: 'with --http-aware: also take hints from 4xx responses other than 429 and 403' },
  { key: 'httpCustomFields', group: 'plugins', flags: '--http-custom-fields <fields>', type: 'string', scope: 'all', defaultable: true, needs: withHttpAware, description: 'with --http-aware: extra JSON fields holding a delay in seconds, comma-separated (dots for nesting)' },
  // the Go rpr's spellings, kept for old scripts
  { key: 'stream', group: 'output', goCompat: true, flags: '-s, --stream', type: 'boolean', scope: 'all', conflicts: [{ key: 'quiet', hint: '--quiet hides the output --stream would show' }, { key: 'statsOnly', hint: '--stats-only hides the output --stream would show' }, { key: 'json', hint: '--json replaces the output --stream would show' }], description: "stream the command's output as it comes (the default; kept for the Go rpr)" },
  { key: 'outputPrefix', group: 'output', goCompat: true, flags: '-o, --output-prefix <prefix>', type: 'string', scope: 'all', description: 'like --prefix, with a space added unless it ends with one (the Go rpr\'s form)' },
  { key: 'enableMetrics', group: 'service', goCompat: true, flags: '--enable-metrics', type: 'boolean', scope: 'all', description: 'serve Prometheus /metrics on --metrics-port, default 9090 (the Go rpr\'s form)' },
  { key: 'name', group: 'output', flags: '--name <name>', type: 'string', scope: 'all', description: 'job name for metrics and logs (default: from the command)' },
  // observability
  { key: 'healthPort', group: 'service', flags: '--health-port <port>', type: 'int', min: 0, max: 65535, scope: 'all', defaultable: true, description: 'serve /health, /ready, /live on PORT' },
  { key: 'healthAddr', group: 'service', flags: '--health-addr <addr>', type: 'string', scope: 'all', defaultable: true, description: 'address for the health server (default 127.0.0.1)' },
  { key: 'metricsPort', group: 'service', flags: '--metrics-port <port>', type: 'int', min: 0, max: 65535, scope: 'all', defaultable: true, description: 'serve Prometheus /metrics on PORT' },
  { key: 'metricsAddr', group: 'service', flags: '--metrics-addr <addr>', type: 'string', scope: 'all', defaultable: true, description: 'address for the metrics server (default 127.0.0.1)' },
  // one job across several rpr instances, through Redis ([coordination] in the config file)
  { key: 'coordinate', group: 'service', flags: '--coordinate <url>', type: 'string', scope: 'all', defaultable: true, needs: { anyOf: ['name'], message: '--coordinate needs --name JOB: instances with the same Redis and job name are one job', hint: 'e.g. --coordinate redis://127.0.0.1:6379 --name nightly-report' }, description: 'run one job across instances through Redis: redis://[user:pass@]host:port[/db], or redis+sentinel://host:port,.../MASTER[/db]; needs --name (password also from RPR_REDIS_PASSWORD)' },
  { key: 'onCoordinationLoss', group: 'service', flags: '--on-coordination-loss <policy>', type: 'enum', choices: COORDINATION_LOSS_POLICIES, scope: 'all', defaultable: true, needs: { anyOf: ['coordinate'], hint: 'add --coordinate redis://HOST:PORT or drop --on-coordination-loss' }, description: 'while Redis cannot be reached: skip (no runs, never a slot twice; default) or run-local (every slot runs here)' },
] as const satisfies readonly OptionDef[];

/** @public scripts/man.mjs reads it from dist/ for the man page. */
export const OPTIONS: readonly OptionDef[] = CATALOG;

type Catalog = (typeof CATALOG)[number];
type OptionKey = Catalog['key'];

/** Each option's resolved value: its choices for an enum, else what its type parses to. */
type ValueOf<D extends Catalog> = D extends { choices: readonly (infer C)[] } ? C : ValueOfType[D['type']];
type OptionValueMap = { [D in Catalog as D['key']]: ValueOf<D> };

/** Resolved values, keyed as in the catalog; an option nobody set is absent. */
export type CatalogValues = { -readonly [K in OptionKey]?: OptionValueMap[K] };

// A type, not a value: it fails to compile when a rule names an option the catalog does not have.
type RuleKeys = Extract<Catalog, { conflicts: unknown }>['conflicts'][number]['key'] | Extract<Catalog, { needs: unknown }>['needs']['anyOf'][number];
const rulesNameOptions: [Exclude<RuleKeys, OptionKey>] extends [never] ? true : never = true;
void rulesNameOptions;

export function appliesTo(def: OptionDef, command: string): boolean {
  return def.scope === 'all' || def.scope.some((name) => name === command);
}

export const snakeCase = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The long flag of an option, e.g. '--every'. */
export function longFlag(def: OptionDef): string {
  return /--[a-z-]+/.exec(def.flags)![0];
}
