/**
 * `--dry-run`: the job resolveJob assembled, in words, without running anything. The next start
 * times come from the job's real schedule asked with a simulated clock (a scheduler plugin is
 * asked as in a run, told that each simulated run failed at once), so what is shown is what the
 * loop would be told; nothing is spawned and Redis is not contacted.
 */
import type { Due } from '../clock/clock.js';
import { permissionLines } from '../manage/permissions-text.js';
import type { PluginHandle } from '../plugins/index.js';
import { resolveCommand } from '../run/execute.js';
import { formatDuration } from '../units/duration.js';
import type { ResolvedJob } from './resolve-job.js';

/** How many start times a dry run shows. */
const DRY_RUN_STARTS = 5;

interface Starts {
  times: number[];
  /** Why the list stops short, when it does. */
  end?: string;
}

/** The job's next start times from `nowWall`, each simulated run taking no time and failing. */
async function simulateStarts(job: Pick<ResolvedJob, 'schedule' | 'spec'>, nowWall: number, count = DRY_RUN_STARTS): Promise<Starts> {
  const { schedule, spec } = job;
  const { stop } = spec;
  const times: number[] = [];
  const atOf = (due: Due): number => ('at' in due ? due.at : due.wall - nowWall);
  let nowAt = 0;
  let answer = await schedule.first({ nowAt, nowWall });
  for (let run = 1; times.length < count; run++) {
    if (answer === null) return { times, end: 'the schedule has no later start' };
    if ('end' in answer) return { times, end: `the schedule ends the job: ${answer.reason}` };
    const at = atOf(answer.due);
    if (stop.untilTimeWall !== undefined && nowWall + at >= stop.untilTimeWall) return { times, end: `--until-time ${new Date(stop.untilTimeWall).toISOString()} comes first` };
    if (stop.forMs !== undefined && at >= stop.forMs) return { times, end: `--for ${formatDuration(stop.forMs)} ends the job first` };
    times.push(nowWall + at);
    if (stop.times !== undefined && run >= stop.times) return { times, end: `--times ${stop.times}: no more runs` };
    nowAt = Math.max(nowAt, at);
    answer = await schedule.after(answer.due, { nowAt, nowWall: nowWall + nowAt, last: { run, exitCode: 1, success: false, durationMs: 0 } });
  }
  return { times };
}

function stopsText(job: ResolvedJob): string {
  const s = job.spec.stop;
  const parts = [
    s.times !== undefined ? `after ${s.times} run${s.times === 1 ? '' : 's'}` : '',
    s.forMs !== undefined ? `after ${formatDuration(s.forMs)}${s.forKill ? ' (the running command killed)' : ''}` : '',
    s.untilSuccess ? 'at the first success' : '',
    s.untilFailure ? 'at the first failure' : '',
    s.untilMatch ? `when the output matches /${s.untilMatch.source}/` : '',
    s.untilChanges ? 'when the output changes' : '',
    s.maxFailures !== undefined ? `after ${s.maxFailures} failures` : '',
    s.untilTimeWall !== undefined ? `at ${new Date(s.untilTimeWall).toISOString()}` : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', or ') : job.scheduler ? 'when the plugin says so, or when stopped' : 'never on its own (until stopped)';
}

function commandText(job: ResolvedJob): string {
  const { argv, shell } = job.spec;
  const line = shell ? `sh -c ${JSON.stringify(argv.join(' '))}` : argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
  if (shell || job.executor) return line;
  try {
    return `${line}   (${resolveCommand(argv[0]!)})`;
  } catch (error) {
    return `${line}   (not found: ${(error as Error).message})`;
  }
}

function outputText(job: ResolvedJob): string {
  const v = job.values;
  const command =
    v.json === true
      ? 'replaced by one JSON object per run on stdout'
      : v.quiet === true || v.statsOnly === true
        ? 'hidden'
        : v.prefix
          ? `stdout and stderr, each line prefixed ${JSON.stringify(v.prefix)}`
          : 'stdout and stderr passed through';
  const plugins = job.outputs.map((h) => `plugin "${h.name}"`);
  const summary = job.output.summaryTo ? `summary on ${job.output.summaryTo}` : '';
  return [command, summary, ...plugins].filter(Boolean).join('; ');
}

const pluginLines = (role: string, handle: PluginHandle): string[] => [`  ${handle.name} (${role}, version ${handle.manifest.version}):`, ...permissionLines(handle.permissions, '    ')];

/** The resolved job as the dry run prints it. */
export async function describeJob(job: ResolvedJob, nowWall = Date.now()): Promise<string> {
  const { spec, values } = job;
  const starts = await simulateStarts(job, nowWall);
  // A cron job's times as its zone's wall time (with the offset), as `rpr cron --next` prints them.
  const zoned = job.timezone === undefined ? undefined : (await import('../schedule/cron/parse.js')).formatIsoWithOffset;
  const when = (t: number): string => (zoned && job.timezone ? zoned(t, job.timezone) : new Date(t).toISOString());
  const each = [
    values.timeout !== undefined ? `timeout ${formatDuration(values.timeout)}, then SIGKILL after ${formatDuration(spec.killAfterMs)}` : 'no timeout',
    `overlap: ${spec.overlap}${spec.overlap === 'allow' ? ` (at most ${spec.maxParallel})` : ''}`,
    spec.jitterMs > 0 ? `each start delayed by up to ${formatDuration(spec.jitterMs)} (jitter, not shown below)` : '',
  ].filter(Boolean);
  const lines = [
    'rpr: dry run: the job as it would run; nothing is started',
    `job:          ${spec.name}${job.request.job !== undefined && job.request.config ? ` ([jobs.${job.request.job}] of ${job.request.config.path})` : ''}`,
    `command:      ${commandText(job)}`,
    `schedule:     ${job.schedule.describe}${job.httpAware ? ', delays asked for by the output honoured (--http-aware)' : ''}`,
    `next ${DRY_RUN_STARTS} starts${job.scheduler ? ' (the plugin asked, each simulated run failing at once)' : ''}:`,
    ...starts.times.map((t, i) => `  ${i + 1}. ${when(t)}`),
    ...(starts.end ? [`  then none: ${starts.end}`] : []),
    `stops:        ${stopsText(job)}`,
    `each run:     ${each.join('; ')}`,
    `executor:     ${job.executor ? `plugin "${job.executor.name}"` : 'this machine (spawned by rpr)'}`,
    `outputs:      ${outputText(job)}`,
    ...(typeof values.coordinate === 'string' && values.coordinate !== ''
      ? [`coordination: ${values.coordinate.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')} as job "${String(values.name)}" (not contacted by a dry run)`]
      : []),
  ];
  const plugins = [
    ...(job.scheduler ? pluginLines('scheduler', job.scheduler) : []),
    ...(job.httpAware ? pluginLines('scheduler, --http-aware', job.httpAware.reader) : []),
    ...(job.executor ? pluginLines('executor', job.executor) : []),
    ...job.outputs.flatMap((h) => pluginLines('output', h)),
  ];
  lines.push(plugins.length > 0 ? 'plugins, with their effective permissions:' : 'plugins:      none', ...plugins);
  return `${lines.join('\n')}\n`;
}
