import type { JobObserver } from '../job/events.js';

export type LogLevel = 'info' | 'warn' | 'error';

/** One of rpr's own lines as a JSON object (`--log-format json`): for log pipelines, not for people. */
export function jsonLogLine(fields: { time: number; level: LogLevel; jobId?: string; job?: string; text: string }): string {
  const message = fields.text.replace(/^rpr: /, '');
  const run = /^run (\d+)\b/.exec(message)?.[1];
  return `${JSON.stringify({
    time: new Date(fields.time).toISOString(),
    level: fields.level,
    ...(fields.jobId ? { job_id: fields.jobId } : {}),
    ...(fields.job ? { job: fields.job } : {}),
    ...(run ? { run: Number(run) } : {}),
    message,
  })}\n`;
}

/**
 * rpr's lines on stderr as JSON, one object a line, each with the time, level, the job's id
 * (RPR_JOB_ID, also in the runs' environment), its name once the job has started, and the run
 * it is about. The command's own output is never touched.
 */
export function jsonLog(write: (chunk: string) => void, jobId: string, now: () => number): { observer: JobObserver; at(level: LogLevel): (text: string) => void } {
  let job: string | undefined;
  return {
    observer: (event) => {
      if (event.type === 'job-start') job = event.name;
    },
    at: (level) => (text) => {
      for (const line of text.split('\n')) {
        if (line.trim() !== '') write(jsonLogLine({ time: now(), level, jobId, ...(job ? { job } : {}), text: line }));
      }
    },
  };
}
