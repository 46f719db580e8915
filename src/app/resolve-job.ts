/**
 * The one place a job is assembled: `rpr <schedule>`, `rpr <plugin>`, `rpr run NAME`, `rpr up` and
 * `--dry-run` all hand resolved option values here and get the same job back (schedule, spec,
 * output plan, executor and output plugins with their effective permissions), which runJob runs
 * or dry-run.ts describes.
 */
import { withConfigLocation } from '../config/located.js';
import type { LoadedConfig } from '../config/types.js';
import { usageError } from '../errors/index.js';
import type { JobSpec } from '../job/spec.js';
import type { Discovery, PluginHandle } from '../plugins/index.js';
import type { Schedule } from '../schedule/types.js';
import { checkOptionRules } from '../options/rules.js';
import type { CoreCommand } from '../options/catalog.js';
import type { OptionValues } from '../options/resolve.js';
import { applyGoSpellings, buildSpec, coreSchedule, namedPlugins } from './build-job.js';
import type { PluginReport } from './find-plugins.js';
import { planOutput, type OutputPlan } from './output.js';

/** `--set NAME.key=value` settings, by plugin name. */
export type PluginSettings = Record<string, Record<string, string>>;

/** `--allow NAME=HOST:PORT` network grants, by plugin name. */
export type PluginGrants = Record<string, string[]>;

export interface JobRequest {
  /** interval, count, duration, cron, or the name of a scheduler plugin. */
  schedule: string;
  values: OptionValues;
  config: LoadedConfig | null;
  /** `--set` settings, by plugin: they beat every other source of a plugin's settings. */
  settings: PluginSettings;
  /** The command to repeat. */
  argv: string[];
  /** A scheduler plugin's own settings: its subcommand's flags, or the other keys of its [jobs.NAME]. */
  schedulerSettings?: Record<string, unknown>;
  /** The [jobs.NAME] the job comes from: a bad value in it is reported at its file and line. */
  job?: string;
  /** Where the job's own lines go (default: the output plan's, which keeps the status line whole); `rpr up` tags them with the job's name. */
  line?: (text: string) => void;
  /** Network grants from the command line (--allow), by plugin. */
  allow?: PluginGrants;
  /** The plugins as already found with this request's config (the CLI's, for a plugin's subcommand): not looked up again. */
  discovery?: Discovery;
}

export interface ResolvedJob {
  request: JobRequest;
  /** The values after the Go rpr's spellings were applied. */
  values: OptionValues;
  spec: JobSpec;
  /** The schedule before coordination and --http-aware wrap it (runJob does). */
  schedule: Schedule;
  /** cron: its zone, for showing fire times as the zone's wall time. */
  timezone?: string;
  output: OutputPlan;
  report: PluginReport;
  scheduler?: PluginHandle;
  executor?: PluginHandle;
  outputs: PluginHandle[];
  /** --http-aware's reader, wrapped around the schedule by runJob, and the last hint it logged. */
  httpAware?: { reader: PluginHandle; hints: { last?: string } };
  /** Every plugin started for the job. */
  handles: PluginHandle[];
  close(): Promise<void>;
}

const CORE = new Set(['interval', 'count', 'duration']);
const isCore = (kind: string): kind is Exclude<CoreCommand, 'cron'> => CORE.has(kind);

async function buildSchedule(request: JobRequest, report: PluginReport, handles: PluginHandle[]): Promise<Pick<ResolvedJob, 'schedule' | 'timezone' | 'scheduler'>> {
  const { schedule: kind, values, config, job } = request;
  const located = <T>(key: string, check: () => T): T => (config && job !== undefined ? withConfigLocation(config, ['jobs', job, key], check) : check());
  if (kind === 'cron') {
    const { cron: expression, timezone } = values;
    if (expression === undefined) throw usageError('cron needs --cron EXPR', "e.g. rpr cron --cron '*/5 * * * *' -- CMD");
    // cron-parser is loaded only for cron jobs.
    const [{ parseCron }, { cronSchedule }] = await Promise.all([import('../schedule/cron/parse.js'), import('../schedule/cron-schedule.js')]);
    const cron = located('cron', () => parseCron(expression, timezone));
    return { schedule: cronSchedule(cron, { catchUp: values.catchUp === true }), timezone: cron.timezone };
  }
  if (isCore(kind)) return { schedule: coreSchedule(kind, values) };
  // A scheduler plugin: the plugin system is loaded only by jobs that use a plugin.
  const [{ findPlugins }, { loadJobPlugins }, { pluginSchedule }] = await Promise.all([import('./find-plugins.js'), import('./load-plugins.js'), import('./plugin-schedule.js')]);
  // With the report: --verbose says which installed plugins shadow bundled ones.
  const discovery = await findPlugins(config?.plugins, report, request.discovery);
  const settings = { ...request.schedulerSettings, ...request.settings[kind] };
  const [handle] = await located('schedule', () => loadJobPlugins(discovery, [{ name: kind, kind: 'scheduler', settings, allow: request.allow?.[kind] }], config?.plugins, report));
  handles.push(handle!);
  return { schedule: pluginSchedule(handle!, report.line), scheduler: handle! };
}

/** Loads the executor, output and --http-aware plugins a job names (none: nothing of the plugin system is loaded). */
async function loadOtherPlugins(request: JobRequest, values: OptionValues, report: PluginReport, handles: PluginHandle[]): Promise<Pick<ResolvedJob, 'executor' | 'outputs' | 'httpAware'>> {
  const { executor: executorName, outputs: outputNames } = namedPlugins(values);
  if (outputNames.length === 0 && !executorName && values.httpAware !== true) return { outputs: [] };
  const [{ findPlugins, HTTP_AWARE_PLUGIN }, { loadJobPlugins }, { httpAwareSettings }] = await Promise.all([import('./find-plugins.js'), import('./load-plugins.js'), import('./http-aware.js')]);
  const { config, settings } = request;
  const discovery = await findPlugins(config?.plugins, report, request.discovery);
  let httpAware: ResolvedJob['httpAware'];
  if (values.httpAware === true) {
    const hints: { last?: string } = {};
    const onLog = (message: string): void => void (hints.last = message.replace(/^plugin "[^"]+": /, ''));
    const [reader] = await loadJobPlugins(discovery, [{ name: HTTP_AWARE_PLUGIN, kind: 'scheduler', settings: httpAwareSettings(values), onLog }], undefined, report);
    handles.push(reader!);
    httpAware = { reader: reader!, hints };
  }
  const requests = [
    ...(executorName ? [{ name: executorName, kind: 'executor' as const, settings: settings[executorName] ?? {}, allow: request.allow?.[executorName] }] : []),
    ...outputNames.map((name) => ({ name, kind: 'output' as const, settings: settings[name] ?? {}, allow: request.allow?.[name] })),
  ];
  const loaded = await loadJobPlugins(discovery, requests, config?.plugins, report);
  handles.push(...loaded);
  const executor = executorName ? loaded.shift() : undefined;
  return { outputs: loaded, ...(executor ? { executor } : {}), ...(httpAware ? { httpAware } : {}) };
}

/** An --allow for a plugin the job does not use would grant nothing: a typo, said rather than ignored. */
function checkAllowed(allow: PluginGrants, values: OptionValues, scheduler: string): void {
  const { executor, outputs } = namedPlugins(values);
  const used = [...(CORE.has(scheduler) || scheduler === 'cron' ? [] : [scheduler]), ...(executor !== undefined ? [executor] : []), ...outputs];
  for (const name of Object.keys(allow)) {
    if (!used.includes(name)) throw usageError(`--allow ${name}=${allow[name]![0]}: this job uses no plugin "${name}"`, used.length ? `its plugins: ${used.join(', ')}` : 'it uses no plugin');
  }
}

/** Assembles one job from resolved option values; the caller runs it (runJob) or describes it, then closes it. */
export async function resolveJob(request: JobRequest): Promise<ResolvedJob> {
  const handles: PluginHandle[] = [];
  const close = async (): Promise<void> => void (await Promise.all(handles.splice(0).map((h) => h.close())));
  let output: OutputPlan | undefined;
  try {
    checkOptionRules(request.values);
    const values = applyGoSpellings(request.values);
    checkAllowed(request.allow ?? {}, values, request.schedule);
    output = planOutput(values, Date.now);
    const report: PluginReport = { line: request.line ?? output.line, verbose: request.values.verbose === true };
    const built = await buildSchedule(request, report, handles);
    const spec = buildSpec(values, request.argv, output.io);
    const plugins = await loadOtherPlugins(request, values, report, handles);
    return { request, values, spec, output, report, handles, close, ...built, ...plugins };
  } catch (error) {
    output?.stop();
    await close();
    throw error;
  }
}
