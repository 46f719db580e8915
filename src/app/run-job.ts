import type { LoadedConfig } from '../config/types.js';
import type { PluginHandle } from '../plugins/index.js';
import type { Schedule } from '../schedule/types.js';
import { applyGoSpellings, buildSpec, checkConflicts, type OptionValues } from './build-job.js';
import { executeJob, type ExecuteOptions } from './execute-job.js';
import type { PluginReport } from './load-plugins.js';
import type { outputObserver } from './plugin-outputs.js';
import { planOutput } from './output.js';
import { coordinateJob, type CoordinatedJob } from './coordination.js';

/** `--set NAME.key=value` settings, by plugin name. */
export type PluginSettings = Record<string, Record<string, string>>;

export interface JobRequest {
  values: OptionValues;
  config: LoadedConfig | null;
  settings: PluginSettings;
  argv: string[];
  schedule: Schedule;
  /** Plugins already started for the schedule, closed with the job. */
  started?: PluginHandle[];
}

/** How long output plugins may take to deliver what they hold when the job ends. */
const OUTPUT_DRAIN_MS = 5000;

/** Composes and runs one job: output plan, spec, executor and output plugins, then the job itself. */
export async function runJob(request: JobRequest): Promise<number> {
  const { config, settings } = request;
  checkConflicts(request.values);
  const values = applyGoSpellings(request.values);
  const report: PluginReport = { line: (text) => void process.stderr.write(`${text}\n`), verbose: values.verbose === true };
  const output = planOutput(values, Date.now);
  const spec = buildSpec(values, request.argv, output.io);
  const outputNames = typeof values.output === 'string' ? values.output.split(',').map((n) => n.trim()).filter(Boolean) : [];
  const executorName = typeof values.executor === 'string' ? values.executor : undefined;
  const handles: PluginHandle[] = [...(request.started ?? [])];
  const closeAll = async (): Promise<void> => void (await Promise.all(handles.map((h) => h.close())));
  let coordination: CoordinatedJob | undefined;
  try {
    let outputs: ReturnType<typeof outputObserver> | undefined;
    let startRun: ExecuteOptions['startRun'];
    // --coordinate: the schedule's slots are claimed in Redis (wrappers below must pass `claim` on).
    coordination = await coordinateJob(request.schedule, values, request.started ?? [], report.line);
    let schedule = coordination?.schedule ?? request.schedule;
    if (outputNames.length > 0 || executorName || values.httpAware === true) {
      // The plugin system is loaded only by jobs that use a plugin.
      const [{ findPlugins, loadJobPlugins }, { outputObserver }, { executorRunner }, { HTTP_AWARE_PLUGIN, httpAwareSettings, withHttpAware }] = await Promise.all([
        import('./load-plugins.js'),
        import('./plugin-outputs.js'),
        import('./plugin-executor.js'),
        import('./http-aware.js'),
      ]);
      const discovery = await findPlugins(config?.plugins, report);
      if (values.httpAware === true) {
        const hints: { last?: string } = {};
        const onLog = (message: string): void => void (hints.last = message.replace(/^plugin "[^"]+": /, ''));
        const [reader] = await loadJobPlugins(discovery, [{ name: HTTP_AWARE_PLUGIN, kind: 'scheduler', settings: httpAwareSettings(values), onLog }], undefined, report);
        handles.push(reader!);
        schedule = withHttpAware(schedule, reader!, hints);
      }
      const requests = [
        ...(executorName ? [{ name: executorName, kind: 'executor' as const, settings: settings[executorName] ?? {} }] : []),
        ...outputNames.map((name) => ({ name, kind: 'output' as const, settings: settings[name] ?? {} })),
      ];
      const loaded = await loadJobPlugins(discovery, requests, config?.plugins, report);
      handles.push(...loaded);
      if (executorName) startRun = executorRunner(loaded.shift()!, report.line, report.verbose);
      if (loaded.length > 0) outputs = outputObserver(loaded, report.line);
    }
    return await executeJob({
      spec: outputs ? { ...spec, wantsOutputTail: true } : spec,
      schedule,
      output,
      // Coordinated, the job's wall clock is Redis's: the instances' slots are the same instants.
      ...(coordination ? { clock: coordination.clock } : {}),
      ...(startRun ? { startRun } : {}),
      observers: outputs ? [outputs.observer] : [],
      finish: async () => {
        await outputs?.drain(OUTPUT_DRAIN_MS);
        // What each output got, in numbers: failures after the first are counted, not shown.
        if (outputs && values.verbose === true) {
          for (const [name, s] of outputs.stats) report.line(`rpr: output "${name}": ${s.delivered} events delivered, ${s.failed} failed, ${s.dropped} dropped`);
        }
      },
      observability: {
        healthPort: values.healthPort as number | undefined,
        healthAddr: values.healthAddr as string | undefined,
        metricsPort: values.metricsPort as number | undefined,
        metricsAddr: values.metricsAddr as string | undefined,
        ...(outputs ? { outputStats: outputs.stats } : {}),
        pluginStats: () => handles.map((h) => ({ plugin: h.name, stats: h.stats })),
      },
    });
  } finally {
    await Promise.all([closeAll(), coordination?.close()]);
  }
}
