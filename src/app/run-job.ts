import type { Schedule } from '../schedule/types.js';
import { executeJob, type ExecuteOptions } from './execute-job.js';
import { coordinateJob, type CoordinatedJob } from './coordination.js';
import { resolveJob, type JobRequest, type ResolvedJob } from './resolve-job.js';

export type { JobRequest, ResolvedJob } from './resolve-job.js';

/** How long output plugins may take to deliver what they hold when the job ends. */
const OUTPUT_DRAIN_MS = 5000;

/** The job's outputs delivered nothing and failed: said in its last line, whatever its status. */
function allFailed(stats: Map<string, { delivered: number; failed: number }>): string | undefined {
  const all = [...stats.values()];
  if (all.length === 0 || all.some((s) => s.delivered > 0 || s.failed === 0)) return undefined;
  const failed = all.reduce((n, s) => n + s.failed, 0);
  return `every output failed (${[...stats.keys()].join(', ')}: ${failed} event${failed === 1 ? '' : 's'} not delivered)`;
}

/**
 * Runs a job resolveJob assembled, as this process's one job (signals, health and metrics its
 * own) or, with `supervised`, as one of several in `rpr up`. Closes the job's plugins when it ends.
 * Returns the job's exit status.
 */
export async function runJob(job: ResolvedJob, supervised?: ExecuteOptions['supervised']): Promise<number> {
  const { values, report } = job;
  let coordination: CoordinatedJob | undefined;
  try {
    // --coordinate: the schedule's slots are claimed in Redis (wrappers below must pass `claim` on).
    coordination = await coordinateJob(job.schedule, values, job.scheduler ? [job.scheduler] : [], report.line);
    let schedule: Schedule = coordination?.schedule ?? job.schedule;
    if (job.httpAware) {
      const { withHttpAware } = await import('./http-aware.js');
      schedule = withHttpAware(schedule, job.httpAware.reader, job.httpAware.hints);
    }
    if (supervised?.wrap) schedule = supervised.wrap(schedule);
    const [outputs, startRun] = await Promise.all([
      job.outputs.length > 0 ? import('./plugin-outputs.js').then((m) => m.outputObserver(job.outputs, report.line)) : undefined,
      job.executor ? import('./plugin-executor.js').then((m) => m.executorRunner(job.executor!, report.line, report.verbose)) : undefined,
    ]);
    const handles = job.handles;
    return await executeJob({
      // Supervised with the page, each run's last lines are kept for it.
      spec: outputs || supervised?.captureOutput ? { ...job.spec, wantsOutputTail: true } : job.spec,
      schedule,
      output: job.output,
      // Coordinated, the job's wall clock is Redis's: the instances' slots are the same instants.
      ...(coordination ? { clock: coordination.clock } : {}),
      ...(startRun ? { startRun } : {}),
      ...(supervised ? { supervised } : {}),
      observers: outputs ? [outputs.observer] : [],
      finish: async () => {
        await outputs?.drain(OUTPUT_DRAIN_MS);
        // What each output got, in numbers: failures after the first are counted, not shown.
        if (outputs && values.verbose === true) {
          for (const [name, s] of outputs.stats) report.line(`rpr: output "${name}": ${s.delivered} events delivered, ${s.failed} failed, ${s.dropped} dropped`);
        }
        return outputs && allFailed(outputs.stats);
      },
      observability: {
        healthPort: values.healthPort,
        healthAddr: values.healthAddr,
        metricsPort: values.metricsPort,
        metricsAddr: values.metricsAddr,
        ...(outputs ? { outputStats: outputs.stats } : {}),
        pluginStats: () => handles.map((h) => ({ plugin: h.name, stats: h.stats })),
      },
    });
  } finally {
    await Promise.all([job.close(), coordination?.close()]);
  }
}

/** Assembles the job and runs it, or with `dryRun` prints it and runs nothing (exit 0). */
export async function runRequest(request: JobRequest, dryRun = false): Promise<number> {
  const job = await resolveJob(request);
  if (!dryRun) return runJob(job);
  try {
    const { describeJob } = await import('./dry-run.js');
    process.stdout.write(await describeJob(job));
    return 0;
  } finally {
    job.output.stop();
    await job.close();
  }
}
