/**
 * Reads and validates a config file. One pass finds every problem:
 * loadConfigFile throws the first (in file order) as an E_CONFIG RprError,
 * checkConfigFile returns them all for `rpr config check`. A file that
 * cannot be read is thrown by both: it is one problem, not a list.
 */
import { readFileSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';
import { RprError } from '../errors/index.js';
import { scanKeyLines, type KeyLines } from './lines.js';
import { locateConfig, type LocateOptions } from './locate.js';
import { readJobs } from './jobs.js';
import { readPlugins } from './plugins.js';
import { knownKeysHint, Problems } from './problems.js';
import { DEFAULTS_OPTIONS, SECTIONS } from './schema.js';
import { readCoordination, readDefaults, readObservability } from './sections.js';
import type { LoadedConfig } from './types.js';
import { isTable } from './values.js';

export interface LoadOptions {
  /** Wall-clock "now" for time-of-day values such as start_at = "09:30". */
  nowWall?: number;
  /**
   * Only the problems of this [jobs.NAME] count, not those of other jobs (`rpr run NAME`: a typo
   * in another job must not stop this one); '' for none of the jobs' (`rpr run` listing them).
   * `rpr config check` leaves it out and sees every problem.
   */
  job?: string;
}

/** --config / $RPR_CONFIG / default file, loaded; null when there is no file and none was named. */
export function loadConfig(options: LocateOptions & LoadOptions = {}): LoadedConfig | null {
  const location = locateConfig(options);
  return location && loadConfigFile(location.path, options);
}

export function loadConfigFile(path: string, options: LoadOptions = {}): LoadedConfig {
  const { config, problems } = parseConfig(readConfigText(path), path, options);
  const first = problems[0];
  if (first) throw first;
  return config;
}

/** Every problem of the file, in line order; empty when it is valid. Throws if the file cannot be read. */
export function checkConfigFile(path: string, options: LoadOptions = {}): RprError[] {
  return parseConfig(readConfigText(path), path, options).problems;
}

/** The file's problems and what it means despite them (a bad key left out), for checks that go further. */
export function readConfigChecked(path: string, options: LoadOptions = {}): { config: LoadedConfig; problems: RprError[] } {
  return parseConfig(readConfigText(path), path, options);
}

/** Validates config text; `path` is only used in messages. */
export function parseConfig(text: string, path: string, options: LoadOptions = {}): { config: LoadedConfig; problems: RprError[] } {
  const nowWall = options.nowWall ?? Date.now();
  const empty: LoadedConfig = { path, defaults: {}, observability: {}, plugins: { entries: {} }, jobs: {}, lineOf: () => undefined };

  let doc: Record<string, unknown>;
  try {
    // 'throw': a __proto__ key must not reach the objects built from the file.
    doc = parse(text, { unsafeKeyBehaviour: 'throw' });
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    return { config: empty, problems: [syntaxError(path, error)] };
  }

  const lines: KeyLines = scanKeyLines(text);
  const problems = new Problems(path, lines);
  for (const [key, value] of Object.entries(doc)) {
    if ((SECTIONS as readonly string[]).includes(key)) continue;
    // A bare `timeout = "30s"` above every [section] is a common first try.
    if (!isTable(value) && DEFAULTS_OPTIONS.has(key)) problems.report([key], 'unknown key', `write it under [defaults]`);
    else problems.report([key], isTable(value) ? 'unknown section' : 'unknown key', knownKeysHint(key, SECTIONS, 'sections'));
  }
  const config: LoadedConfig = {
    path,
    defaults: readDefaults(problems, doc.defaults, nowWall),
    observability: readObservability(problems, doc.observability, nowWall),
    coordination: readCoordination(problems, doc.coordination, nowWall),
    plugins: readPlugins(problems, doc.plugins),
    jobs: readJobs(problems, doc.jobs, nowWall),
    lineOf: (keyPath) => lines.lineOf(keyPath),
  };
  const job = options.job;
  return { config, problems: problems.all(job === undefined ? undefined : (key) => key[0] !== 'jobs' || key.length < 2 || key[1] === job) };
}

function readConfigText(path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new RprError('E_CONFIG', `${path}: ${reason}`, { cause: error });
  }
}

/** smol-toml's message is several lines with a code excerpt: keep the first, add our position. */
function syntaxError(path: string, error: TomlError): RprError {
  const reason = (error.message.split('\n')[0] ?? '').replace(/^Invalid TOML document:\s*/, '');
  return new RprError('E_CONFIG', `${path}:${error.line}:${error.column}: invalid TOML: ${reason}`, {
    hint: 'see https://toml.io for the syntax; strings need quotes, e.g. timeout = "30s"',
    cause: error,
  });
}
