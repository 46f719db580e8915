import type { JobObserver } from '../job/events.js';
import { formatDuration } from '../units/duration.js';
import { clockTime } from './format.js';

/** rpr's own lines for --verbose, on stderr, never mixed into the command's stdout. */
export function verboseReporter(write: (line: string) => void, wallNow: () => number): JobObserver {
  return (event) => {
    switch (event.type) {
      case 'job-start':
        write(`rpr: job ${event.name} started\n`);
        break;
      case 'run-start':
        write(`rpr: run ${event.run} started${event.startWall - event.dueWall > 5 ? ` (${Math.round(event.startWall - event.dueWall)}ms after due)` : ''}\n`);
        break;
      case 'run-end': {
        const r = event.result;
        const how = r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`;
        const by = r.decidedBy.endsWith('pattern') ? `, by ${r.decidedBy}` : '';
        write(`rpr: run ${r.run} ${r.success ? 'ok' : 'failed'} (${how}${by}) in ${formatDuration(r.durationMs)}\n`);
        break;
      }
      case 'skipped':
        write(`rpr: skipped ${event.count} slot${event.count === 1 ? '' : 's'}\n`);
        break;
      case 'next':
        if (event.run > 1) {
          write(`rpr: next run ${event.run} at ${clockTime(event.dueWall)} (in ${formatDuration(Math.max(0, event.dueWall - wallNow()))})\n`);
        }
        break;
      case 'delay-hint':
        write(`rpr: http-aware: ${event.detail}; run ${event.run} waits at least ${formatDuration(event.delayMs)}\n`);
        break;
      case 'job-end':
        write(`rpr: job ended (${event.reason}), exit ${event.exitCode}\n`);
        break;
    }
  };
}
