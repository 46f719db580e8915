import type { LoadedConfig } from '../config/types.js';
import type { PluginHandle } from '../plugins/index.js';
import { RprError } from '../errors/index.js';
import type { Schedule } from '../schedule/types.js';
import { applyGoSpellings, buildSpec, checkConflicts, type OptionValues } from './build-job.js';
import { executeJob, type ExecuteOptions } from './execute-job.js';
import type { PluginReport } from './load-plugins.js';
import type { outputObserver } from './plugin-outputs.js';
import { planOutput } from './output.js';
import { coordinateJob, type CoordinatedJob } from './coordination.js';

/** `--set NAME.key=value` settings, by plugin name. */
export type PluginSettings = Record<string, Record<string, string>>;

/** `--allow NAME=HOST:PORT` network grants, by plugin name. */
export type PluginGrants = Record<string, string[]>;

export interface JobRequest {
  values: OptionValues;
  config: LoadedConfig | null;
  settings: PluginSettings;
  argv: string[];
  schedule: Schedule;
  /** Plugins already started for the schedule, closed with the job. */
  started?: PluginHandle[];
  /** Network grants from the command line (a scheduler plugin got its own when it was started). */
  allow?: PluginGrants;
}

/** How long output plugins may take to deliver what they hold when the job ends. */
const OUTPUT_DRAIN_MS = 5000;

/** An --allow for a plugin the job does not use would grant nothing: a typo, said rather than ignored. */
function checkAllowed(allow: PluginGrants, used: string[]): void {
  for (const name of Object.keys(allow)) {
    if (!used.includes(name)) throw new RprError('E_USAGE', `--allow ${name}=${allow[name]![0]}: this job uses no plugin "${name}"`, { hint: used.length ? `its plugins: ${used.join(', ')}` : 'it uses no plugin' });
  }
}

/** The job's outputs delivered nothing and failed: said in its last line, whatever its status. */
function allFailed(stats: ReturnType<typeof outputObserver>['stats']): string | undefined {
  const all = [...stats.values()];
  if (all.length === 0 || all.some((s) => s.delivered > 0 || s.failed === 0)) return undefined;
  const failed = all.reduce((n, s) => n + s.failed, 0);
  return `every output failed (${[...stats.keys()].join(', ')}: ${failed} event${failed === 1 ? '' : 's'} not delivered)`;
}

/** Composes and runs one job: output plan, spec, executor and output plugins, then the job itself. */
export async function runJob(request: JobRequest): Promise<number> {
  const { config, settings } = request;
  checkConflicts(request.values);
  const values = applyGoSpellings(request.values);
  const output = planOutput(values, Date.now);
  const report: PluginReport = { line: output.line, verbose: values.verbose === true };
  const spec = buildSpec(values, request.argv, output.io);
  const outputNames = typeof values.output === 'string' ? values.output.split(',').map((n) => n.trim()).filter(Boolean) : [];
  const executorName = typeof values.executor === 'string' ? values.executor : undefined;
  const handles: PluginHandle[] = [...(request.started ?? [])];
  checkAllowed(request.allow ?? {}, [...(executorName ? [executorName] : []), ...outputNames, ...handles.map((h) => h.name)]);
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
        ...(executorName ? [{ name: executorName, kind: 'executor' as const, settings: settings[executorName] ?? {}, allow: request.allow?.[executorName] }] : []),
        ...outputNames.map((name) => ({ name, kind: 'output' as const, settings: settings[name] ?? {}, allow: request.allow?.[name] })),
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
        return outputs && allFailed(outputs.stats);
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
