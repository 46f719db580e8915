import type { JobObserver } from '../job/events.js';
import type { JobSpec } from '../job/spec.js';
import { jsonReporter } from '../report/json.js';
import { progressLine } from '../report/progress.js';
import { startProblemReporter } from '../report/problems.js';
import { verboseReporter } from '../report/verbose.js';
import type { OptionValues } from './build-job.js';

export interface OutputPlan {
  io: JobSpec['io'];
  observers: JobObserver[];
  /** rpr's own lines about how the job runs, with --verbose. */
  note?: (line: string) => void;
  /** Where the end-of-job summary goes, if anywhere. */
  summaryTo: 'stdout' | 'stderr' | null;
  stop(): void;
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
  const observers: JobObserver[] = [startProblemReporter(writeErr)];
  if (values.verbose === true) observers.push(verboseReporter(writeErr, wallNow));
  if (values.json === true) observers.push(jsonReporter(writeOut));
  const showProgress = process.stderr.isTTY === true && values.progress !== false && !values.quiet && !values.statsOnly;
  const progress = showProgress ? progressLine(writeErr, wallNow) : null;
  if (progress) observers.push(progress.observer);
  return {
    io: {
      sinks: hideCommand ? {} : { stdout: writeOut, stderr: writeErr },
      passthrough: { stdout: true, stderr: true },
      prefix: values.prefix as string | undefined,
    },
    observers,
    ...(values.verbose === true ? { note: (line: string) => writeErr(`${line}\n`) } : {}),
    summaryTo: values.statsOnly === true ? 'stdout' : values.summary === true ? 'stderr' : null,
    stop: () => progress?.stop(),
  };
}
