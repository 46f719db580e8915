/**
 * Finding the plugins a command line or a job may name (bundled, then the user's directory), without
 * loading the plugin host: the CLI does it for every plugin subcommand and for the help, and only a
 * job that runs a plugin goes on to load-plugins.ts.
 */
import path from 'node:path';
import type { PluginsConfig } from '../config/types.js';
import { discoverChecked } from '../manage/integrity.js';
import type { Discovery } from '../plugins/manifest/discover.js';

export interface PluginReport {
  line(text: string): void;
  verbose: boolean;
}

/** The bundled plugin that reads HTTP responses; it needs no permissions at all. */
export const HTTP_AWARE_PLUGIN = 'http-aware';

/** Notices already printed: a job may look for plugins more than once (its scheduler, then its outputs). */
const noticed = new Set<string>();

/**
 * Finds plugins (bundled, then the user's directory), reporting broken ones without failing the others.
 * Installed plugins are checked against plugins.lock and signatures (manage/integrity.ts). `found`:
 * what an earlier look with the same config found, reported rather than looked up again.
 */
export async function findPlugins(config: PluginsConfig | undefined, report?: PluginReport, found?: Discovery): Promise<Discovery> {
  const discovery = found ?? (await discoverChecked(config));
  if (report?.verbose) {
    for (const notice of discovery.notices) {
      if (noticed.has(notice)) continue;
      noticed.add(notice);
      report.line(`rpr: ${notice}`);
    }
  }
  return discovery;
}

/** A discovery problem as one line that names the file once (most messages already start with it). */
export function problemText(problem: { file: string; message: string }): string {
  return problem.message.includes(problem.file) ? problem.message : `${problem.file}: ${problem.message}`;
}

/** The problem that kept a plugin named `name` from loading, if its directory has that name. */
export function problemOf(discovery: Discovery, name: string): { file: string; message: string } | undefined {
  return discovery.problems.find((p) => path.basename(path.dirname(p.file)) === name);
}
