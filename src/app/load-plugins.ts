import type { PluginsConfig } from '../config/types.js';
import { RprError } from '../errors/index.js';
import { integrityConfig, IntegrityError, loadCheck } from '../manage/integrity.js';
import { printableLine } from '../errors/printable.js';
import type { Discovery, PluginHandle, PluginKind } from '../plugins/index.js';
// The modules a load needs, not the plugin system's index (which would bring the manifest parser).
import { isPluginError, type PluginError } from '../plugins/errors.js';
import { TopicBus } from '../plugins/host/bus.js';
import { loadPlugin } from '../plugins/host/load.js';
import { pluginEnvName } from '../plugins/manifest/env-name.js';
import { ManifestError } from '../plugins/manifest/error.js';
import { problemOf, problemText, type PluginReport } from './find-plugins.js';

/** One topic bus per process (one job per process): plugins of the job talk through it. */
let bus: TopicBus | undefined;

export interface PluginRequest {
  name: string;
  kind: PluginKind;
  /** Settings from the command line (schema keys or aliases, raw text): they beat the config file's. */
  settings: Record<string, unknown>;
  /** Where this plugin's log lines go instead of stderr. */
  onLog?: (message: string) => void;
  /** Network patterns granted on the command line (--allow NAME=HOST:PORT), on top of the config's. */
  allow?: string[] | undefined;
}

/** How the user would allow what a plugin was denied (network target, host function, emit topic). */
function grantHint(name: string, error: PluginError): string {
  const g = error.grant;
  if (!g) return `rpr plugins info ${name} shows what it may do`;
  const flag = g.key === 'network' ? `--allow ${name}=${g.value}, or ` : '';
  return `grant it with ${flag}${g.key} = ["${g.value}"] in [plugins.${name}.permissions] if you trust the plugin`;
}

/** The user's grants: [plugins.NAME.permissions], plus --allow's network patterns. */
function grantOf(granted: PluginsConfig['entries'][string]['permissions'], allow: string[] | undefined): { grant?: never } {
  if (!allow?.length) return granted ? { grant: granted as never } : {};
  return { grant: { ...granted, network: [...(granted?.network ?? []), ...allow] } as never };
}

/**
 * The host's own notices about a plugin, as opposed to the plugin's log lines:
 * a rebuild after a failure (the failure itself is reported by the caller, by
 * the kind's rule, so this is detail for --verbose), and hot reloads (always shown).
 */
const REBUILD = /^plugin "[^"]+": rebuilding the instance after: /;
const RELOAD = /^plugin "[^"]+": (reloaded version |the changed plugin does not load, keeping version )/;

/**
 * A plugin that refuses its settings in init (a rate of 0, min above max) has been given bad
 * input, like a bad flag: a usage error (exit 2), not a plugin failure.
 */
async function refusedSettingsAreUsageErrors<T>(plugin: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isPluginError(error) && error.fn === 'init' && error.failure === 'plugin-error') {
      throw new RprError('E_USAGE', error.message, { hint: error.hint ?? `see rpr ${plugin} --help, or rpr plugins info ${plugin}` });
    }
    // Its files are not what its manifest (or plugins.lock) says: as unusable as a broken manifest,
    // found now rather than at discovery (which does not hash the wasm of every plugin).
    if (error instanceof ManifestError) {
      throw new RprError('E_USAGE', `plugin "${plugin}" cannot be loaded: ${problemText(error)}`, { hint: error instanceof IntegrityError ? error.hint : 'rpr plugins verify checks every plugin' });
    }
    throw error;
  }
}

/** The single-underscore spelling rpr read before (ambiguous between plugins: never read now). */
const legacyEnvName = (plugin: string, key: string): string => `RPR_PLUGIN_${plugin}_${key}`.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/** RPR_PLUGIN_<NAME>__<KEY> (plugins/manifest/env-name.ts): secrets need not sit in a file. */
function envSettings(plugin: string, keys: string[], report: PluginReport, env = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) {
    const name = pluginEnvName(plugin, key);
    const value = env[name];
    if (value !== undefined && value !== '') out[key] = value;
    else if (env[legacyEnvName(plugin, key)] !== undefined) report.line(`rpr: ${legacyEnvName(plugin, key)} is not read (it could belong to another plugin); set ${name} instead`);
  }
  return out;
}

/**
 * Starts the plugins a job asked for, each with its settings ([plugins.NAME]
 * in the config file, then RPR_PLUGIN_<NAME>__<KEY>, then the command line) and its permissions: the
 * manifest's, plus what the user granted explicitly in [plugins.NAME.permissions].
 */
export async function loadJobPlugins(discovery: Discovery, requests: PluginRequest[], config: PluginsConfig | undefined, report: PluginReport): Promise<PluginHandle[]> {
  const handles: PluginHandle[] = [];
  try {
    for (const request of requests) {
      const found = discovery.plugins.get(request.name);
      if (!found) {
        const broken = problemOf(discovery, request.name);
        throw new RprError('E_USAGE', broken ? `plugin "${request.name}" cannot be loaded: ${problemText(broken)}` : `unknown ${request.kind} plugin "${request.name}"`, {
          hint: `plugins of this kind: ${
            [...discovery.plugins.values()]
              .filter((p) => p.manifest.kind === request.kind)
              .map((p) => p.manifest.name)
              .join(', ') || 'none'
          }`,
        });
      }
      if (found.manifest.kind !== request.kind) {
        throw new RprError('E_USAGE', `plugin "${request.name}" is a ${found.manifest.kind}, not a ${request.kind}`);
      }
      const entry = config?.entries[request.name];
      handles.push(
        await refusedSettingsAreUsageErrors(request.name, () =>
          loadPlugin(found.manifest, {
            config: { ...entry?.config, ...envSettings(request.name, Object.keys(found.manifest.config), report), ...request.settings },
            permissions: { ...grantOf(entry?.permissions, request.allow), ...(entry?.narrow ? { narrow: entry.narrow as never } : {}) },
            onLog: (level, raw) => {
              // A plugin's words reach rpr's stderr: one bounded line, no control characters or escape codes.
              const message = printableLine(raw, 500);
              if (REBUILD.test(message)) {
                if (report.verbose) report.line(`rpr: ${message}`);
              } else if (RELOAD.test(message)) report.line(`rpr: ${message}`);
              else if (request.onLog) request.onLog(message);
              else if (level !== 'debug' || report.verbose) report.line(`rpr: ${message}`);
            },
            onDenied: (error) => report.line(`rpr: ${error.message} (hint: ${error.hint ?? grantHint(request.name, error)})`),
            bus: (bus ??= new TopicBus()),
            // An installed plugin may be updated while a job runs; the next call takes the new version.
            hotReload: found.source === 'user',
            protectedDirs: discovery.searchPath,
            // Both places a plugin can run stay tested: RPR_PLUGIN_WORKER=1 puts every plugin in a worker.
            forceWorker: process.env.RPR_PLUGIN_WORKER === '1',
            // ...and RPR_PLUGIN_METER=0 keeps node:vm's watchdog on rpr's own thread instead of metering.
            vmGuard: process.env.RPR_PLUGIN_METER === '0',
            // ...and every version it loads is checked against plugins.lock and signatures first.
            ...(found.source === 'user' ? { check: loadCheck(integrityConfig(config)) } : {}),
            // The build's index compared a bundled plugin's min_rpr_version with this rpr (semver stays unloaded).
            ...(found.indexed ? { versionChecked: true } : {}),
          }),
        ),
      );
    }
  } catch (error) {
    await Promise.all(handles.map((handle) => handle.close()));
    throw error;
  }
  return handles;
}
