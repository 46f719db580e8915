import type { JobObserver } from '../job/events.js';

/** --json: one object per finished run, one line each, for machines. */
export function jsonReporter(write: (line: string) => void): JobObserver {
  return (event) => {
    if (event.type !== 'run-end') return;
    const r = event.result;
    write(
      `${JSON.stringify({
        run: r.run,
        due: new Date(r.dueWall).toISOString(),
        start: new Date(r.startWall).toISOString(),
        end: new Date(r.endWall).toISOString(),
        exit_code: r.exitCode,
        signal: r.signal,
        timed_out: r.timedOut,
        duration_ms: Math.round(r.durationMs * 1000) / 1000,
        success: r.success,
        decided_by: r.decidedBy,
      })}\n`,
    );
  };
}
