import type { JobObserver } from '../job/events.js';

/** SIGPIPE's status: the reader went away (`rpr ... | head`), which is how such a job is meant to end. */
const PIPE_CLOSED = 141;

export interface EndLine {
  observer: JobObserver;
  /** Writes the line, if there is one to write: a status other than 0, or a problem (`extra`) that did not fail the job. */
  say(exitCode: number, extra?: string): void;
}

/**
 * The one line a job that ends non-zero leaves on stderr, even without --verbose: how many runs
 * failed and timed out, and why the job ended (a retry scheduler that gave up says so in its own
 * words). Someone reading a cron mail or a CI log sees why the status is not 0 without rerunning.
 * Written last, after the summary and the output plugins' delivery. With --verbose, whose job-end
 * line says the status, only a problem that did not fail the job (every output failed) is added.
 */
export function endLine(write: (line: string) => void, verbose = false): EndLine {
  let runs = 0;
  let failed = 0;
  let timedOut = 0;
  let notStarted = 0;
  let reason = '';
  return {
    observer: (event) => {
      if (event.type === 'run-end') {
        runs++;
        if (!event.result.success) failed++;
        if (event.result.timedOut) timedOut++;
        if (event.result.decidedBy === 'spawn-error') notStarted++;
      } else if (event.type === 'job-end') reason = event.reason;
    },
    say(exitCode, extra) {
      // --verbose has said how each run ended and how the job did (job-end): only a problem is news.
      if ((exitCode === 0 || exitCode === PIPE_CLOSED || verbose) && !extra) return;
      const counts = [`${failed} of ${runs} run${runs === 1 ? '' : 's'} failed`];
      if (timedOut) counts.push(`${timedOut} timed out`);
      if (notStarted) counts.push(`${notStarted} could not start`);
      const why = reason === 'signal' ? 'stopped by a signal' : `ended (${reason || 'before any run'})`;
      const said = [...(exitCode === 0 && failed === 0 ? [] : [counts.join(', ')]), ...(extra ? [extra] : [])];
      write(`rpr: job ${why}: ${said.join('; ')}; exit ${exitCode}\n`);
    },
  };
}
