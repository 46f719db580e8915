import type { JobObserver } from '../job/events.js';
import type { JobSpec } from '../job/spec.js';
import { jsonReporter } from '../report/json.js';
import { progressLine } from '../report/progress.js';
import { terminalCapable } from '../report/colour.js';
import { jsonLog, type LogLevel } from '../report/json-log.js';
import { JOB_ID } from '../run/tagged.js';
import { startProblemReporter } from '../report/problems.js';
import { verboseReporter } from '../report/verbose.js';
import { endLine } from '../report/end-line.js';
import type { OptionValues } from '../options/resolve.js';

export interface OutputPlan {
  io: JobSpec['io'];
  observers: JobObserver[];
  /** rpr's own lines about how the job runs, with --verbose. */
  note?: (line: string) => void;
  /** Where the end-of-job summary goes, if anywhere. */
  summaryTo: 'stdout' | 'stderr' | null;
  stop(): void;
  /** With --log-format json: where the summary goes instead of stderr as it is (a JSON line each). */
  summaryLines?: (text: string) => void;
  /** One line of rpr's own on stderr (around the status line). */
  line(text: string): void;
  /** The job's last line (report/end-line.ts), once everything else is said; nothing with --quiet. */
  last(exitCode: number, extra?: string): void;
}

const writeOut = (chunk: Buffer | string): void => void process.stdout.write(chunk);
const writeErr = (chunk: Buffer | string): void => void process.stderr.write(chunk);

/**
 * Decides where the command's output and rpr's own lines go for the chosen
 * output mode. The command's streams stay separate: its stdout to stdout,
 * its stderr to stderr, passed straight through unless a feature needs them.
 */
export function planOutput(values: OptionValues, wallNow: () => number): OutputPlan {
  const hideCommand = values.quiet === true || values.statsOnly === true || values.json === true;
  // TERM=dumb: a terminal that cannot erase a line gets no status line (and no escape codes).
  const json = values.logFormat === 'json' ? jsonLog(writeErr, JOB_ID, wallNow) : null;
  // A log pipeline gets no status line; TERM=dumb neither (nor any escape code).
  const showProgress = !json && terminalCapable(process.stderr) && values.progress !== false && !values.quiet && !values.statsOnly;
  const progress = showProgress ? progressLine(writeErr, wallNow) : null;
  // rpr's own lines: around the status line, when there is one; as JSON with --log-format json.
  const text = progress ? progress.log : writeErr;
  const at = (level: LogLevel): ((line: string) => void) => json?.at(level) ?? text;
  const log = at('info');
  // The status line first: it knows a run has started before anyone logs that it has.
  const observers: JobObserver[] = [...(progress ? [progress.observer] : []), ...(json ? [json.observer] : []), startProblemReporter(at('error'))];
  if (values.verbose === true) observers.push(verboseReporter(log, wallNow));
  if (values.json === true) observers.push(jsonReporter(writeOut));
  const end = values.quiet === true ? null : endLine(at('error'), values.verbose === true);
  if (end) observers.push(end.observer);
  return {
    io: {
      sinks: hideCommand ? {} : { stdout: writeOut, stderr: writeErr },
      passthrough: { stdout: true, stderr: true },
      prefix: values.prefix,
    },
    observers,
    ...(values.verbose === true ? { note: (line: string) => log(`${line}\n`) } : {}),
    line: (line: string) => at('warn')(`${line}\n`),
    ...(json ? { summaryLines: at('info') } : {}),
    summaryTo: values.statsOnly === true ? 'stdout' : values.summary === true ? 'stderr' : null,
    stop: () => progress?.stop(),
    last: (exitCode, extra) => end?.say(exitCode, extra),
  };
}
