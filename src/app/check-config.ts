/**
 * What a config file asks of plugins, checked against the plugins that are there: `rpr config
 * check` said "ok" for a job whose scheduler plugin does not exist, for a misspelt plugin setting
 * (`initail`) and for a [plugins.webhok] table that no plugin reads (then silently ignored). Every
 * problem names file:line, the key, and the nearest name that exists.
 */
import type { JobConfig, LoadedConfig } from '../config/types.js';
import { knownKeysHint } from '../config/problems.js';
import { isCoreSchedule } from '../config/schema.js';
import { RprError } from '../errors/index.js';
import { coerce, type ConfigSchema, type Discovery, type PluginKind, type PluginManifest } from '../plugins/index.js';
import { namedPlugins } from './build-job.js';
import { findPlugins, problemOf, problemText } from './find-plugins.js';

type Problem = RprError;

const an = (kind: string): string => `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`;
/** The line a problem is about (its message starts with FILE:LINE:). */
const lineOf = (problem: Problem): number => Number(/^[^:]*:(\d+):/.exec(problem.message)?.[1] ?? 0);

function at(config: LoadedConfig, path: string[], message: string, hint?: string): Problem {
  const line = config.lineOf(path);
  return new RprError('E_CONFIG', `${config.path}${line === undefined ? '' : `:${line}`}: ${path.join('.')}: ${message}`, { hint });
}

/** The schema key a setting name means (its own name, an alias, - and _ alike), or undefined. */
function keyOf(schema: ConfigSchema, name: string): string | undefined {
  for (const [key, field] of Object.entries(schema)) {
    for (const n of [key, ...(field.aliases ?? [])]) if (n === name || n === name.replaceAll('_', '-') || n === name.replaceAll('-', '_')) return key;
  }
  return undefined;
}

/** Settings given to a plugin (a [plugins.NAME] table, or a job's own keys): known keys, values of their type. */
function settingProblems(config: LoadedConfig, path: string[], manifest: PluginManifest, settings: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  for (const [name, value] of Object.entries(settings)) {
    const key = keyOf(manifest.config, name);
    if (key === undefined) {
      problems.push(at(config, [...path, name], `plugin "${manifest.name}" has no setting "${name}"`, knownKeysHint(name, Object.keys(manifest.config), 'settings')));
      continue;
    }
    try {
      coerce(manifest.config[key]!, value);
    } catch (error) {
      problems.push(at(config, [...path, name], `${(error as Error).message}`, manifest.config[key]!.help));
    }
  }
  return problems;
}

/** A plugin the config names: found, of the right kind; else the problem with what exists. */
function lookup(config: LoadedConfig, discovery: Discovery, path: string[], name: string, kind: PluginKind): PluginManifest | Problem {
  const found = discovery.plugins.get(name);
  if (found && found.manifest.kind === kind) return found.manifest;
  if (found) return at(config, path, `plugin "${name}" is ${an(found.manifest.kind)}, not ${an(kind)}`);
  const broken = problemOf(discovery, name);
  if (broken) return at(config, path, `plugin "${name}" cannot be loaded: ${problemText(broken)}`);
  const ofKind = [...discovery.plugins.values()].filter((p) => p.manifest.kind === kind).map((p) => p.manifest.name);
  return at(config, path, `no ${kind} plugin "${name}"`, knownKeysHint(name, ofKind, `${kind} plugins`));
}

function jobProblems(config: LoadedConfig, discovery: Discovery, job: JobConfig): Problem[] {
  const problems: Problem[] = [];
  const base = ['jobs', job.name];
  if (!isCoreSchedule(job.schedule)) {
    const manifest = lookup(config, discovery, [...base, 'schedule'], job.schedule, 'scheduler');
    if (manifest instanceof RprError) {
      const schedulers = ['interval', 'count', 'duration', 'cron', ...[...discovery.plugins.values()].filter((p) => p.manifest.kind === 'scheduler').map((p) => p.manifest.name)];
      problems.push(at(config, [...base, 'schedule'], `unknown schedule "${job.schedule}"`, knownKeysHint(job.schedule, schedulers, 'schedules')));
    } else {
      const settings = job.pluginConfig ?? {};
      problems.push(...settingProblems(config, base, manifest, settings));
      const given = { ...config.plugins.entries[job.schedule]?.config, ...settings };
      for (const [key, field] of Object.entries(manifest.config)) {
        const named = Object.keys(given).some((n) => keyOf(manifest.config, n) === key);
        if (field.required && field.default === undefined && !named) {
          problems.push(at(config, base, `plugin "${manifest.name}" needs the setting "${key}"`, `add ${key} = ... to [jobs.${job.name}] or [plugins.${manifest.name}] (${field.help})`));
        }
      }
    }
  }
  const { executor, outputs } = namedPlugins(job.options);
  for (const name of outputs) {
    const found = lookup(config, discovery, [...base, 'output'], name, 'output');
    if (found instanceof RprError) problems.push(found);
  }
  if (executor !== undefined) {
    const found = lookup(config, discovery, [...base, 'executor'], executor, 'executor');
    if (found instanceof RprError) problems.push(found);
  }
  return problems;
}

/**
 * Problems with the plugins a config uses: every [plugins.NAME] table and every job, or with
 * `only`, that job (what `rpr run NAME` needs) and the [plugins.*] tables of plugins it uses.
 */
export async function configPluginProblems(config: LoadedConfig, only?: string): Promise<Problem[]> {
  const discovery = await findPlugins(config.plugins);
  const jobs = Object.values(config.jobs).filter((j) => only === undefined || j.name === only);
  const problems = jobs.flatMap((job) => jobProblems(config, discovery, job));
  const used = new Set(jobs.flatMap((j) => [j.schedule, ...String(j.options.output ?? '').split(','), String(j.options.executor ?? '')].map((n) => n.trim())));
  for (const [name, entry] of Object.entries(config.plugins.entries)) {
    if (only !== undefined && !used.has(name)) continue;
    const found = discovery.plugins.get(name);
    if (!found) {
      const broken = problemOf(discovery, name);
      problems.push(
        broken
          ? at(config, ['plugins', name], `plugin "${name}" cannot be loaded: ${problemText(broken)}`)
          : at(config, ['plugins', name], `no plugin "${name}": this table would be ignored`, knownKeysHint(name, [...discovery.plugins.keys()], 'plugins')),
      );
      continue;
    }
    problems.push(...settingProblems(config, ['plugins', name], found.manifest, entry.config));
  }
  return problems.sort((a, b) => lineOf(a) - lineOf(b));
}
