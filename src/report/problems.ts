import type { JobObserver } from '../job/events.js';

/**
 * A run that could not start for a reason other than its command (an
 * executor plugin's working directory that does not exist) gets one line on
 * stderr in every output mode: its exit status (127, 126) alone would not
 * say what is wrong.
 */
export function startProblemReporter(write: (line: string) => void): JobObserver {
  return (event) => {
    if (event.type === 'run-end' && event.result.startProblem) write(`rpr: run ${event.result.run} not started: ${event.result.startProblem}\n`);
  };
}
