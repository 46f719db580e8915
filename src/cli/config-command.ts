/**
 * `rpr config check [FILE]` and `rpr config show`: the two ways to see what
 * a config file does before trusting a long-running job to it. Errors are
 * thrown as RprError; the CLI's top level turns them into exit 2.
 */
import type { Command } from 'commander';
import { defaultConfigPath, locateConfig, type Env } from '../config/locate.js';
import { COORDINATION_OPTIONS, DEFAULTS_OPTIONS, OBSERVABILITY_OPTIONS } from '../config/schema.js';
import { RprError } from '../errors/index.js';
import { formatError } from '../errors/exit-codes.js';
import type { OptionDef } from '../options/catalog.js';
import { resolveOptions, type Resolved } from '../options/resolve.js';
import { formatDuration } from '../units/duration.js';
import type { Pattern } from '../units/pattern.js';
import { configFlag } from './resolve-values.js';

export interface ConfigCommandIo {
  /** One line of normal output (stdout). */
  out(line: string): void;
  /** One line of diagnostics (stderr). */
  err(line: string): void;
  env: Env;
  now(): number;
}

const processIo: ConfigCommandIo = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
  get env() {
    return process.env;
  },
  now: () => Date.now(),
};

export function registerConfigCommands(program: Command, io: Partial<ConfigCommandIo> = {}): void {
  const { out, err, env, now } = { ...processIo, ...io };
  const config = program.command('config').description('check a config file, or show the settings in effect');

  config
    .command('check')
    .argument('[file]', 'the file to check (default: --config, $RPR_CONFIG, then ~/.config/rpr/config.toml)')
    .option('--config <file>', 'config file (also accepted before the subcommand)')
    .description('validate a config file: list every problem (exit 2), or print FILE: ok')
    .addHelpText('after', '\nExamples:\n  rpr config check\n  rpr config check ./rpr.toml')
    .action(async (file: string | undefined, _options: unknown, cmd: Command) => {
      const { readConfigChecked } = await import('../config/load.js');
      const location = file !== undefined ? { path: file } : locateConfig({ explicit: configFlag(cmd), env });
      if (!location) {
        out(`no config file at ${defaultConfigPath(env)}: nothing to check`);
        return;
      }
      const { config: read, problems } = readConfigChecked(location.path, { nowWall: now() });
      if (problems.length === 0) problems.push(...(await cronProblems(location.path)));
      // The plugins it names: they exist, of the right kind, with settings they know. Checked even
      // when the file has other problems (what it means without the bad keys), so one run lists all.
      if (!problems.some((p) => /invalid TOML/.test(p.message))) {
        const { configPluginProblems } = await import('../app/check-config.js');
        problems.push(...(await configPluginProblems(read)));
        const line = (p: RprError): number => Number(/^[^:]*:(\d+):/.exec(p.message)?.[1] ?? 0);
        problems.sort((a, b) => line(a) - line(b));
      }
      if (problems.length > 0) {
        for (const problem of problems) err(formatError(problem));
        throw new RprError('E_CONFIG', `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${location.path}`);
      }
      out(`${location.path}: ok`);
    });

  config
    .command('show')
    .option('--config <file>', 'config file (also accepted before the subcommand)')
    .description('print the effective [defaults], [observability] and [coordination] settings and where each came from')
    .addHelpText('after', '\nExample:\n  RPR_TIMEOUT=30s rpr config show')
    .action(async (_options: unknown, cmd: Command) => {
      const { loadConfig } = await import('../config/load.js');
      const loaded = loadConfig({ explicit: configFlag(cmd), env, nowWall: now() });
      const resolved = resolveOptions({ command: null, env, config: loaded, nowWall: now() });
      out(loaded ? `# config file: ${loaded.path}` : `# no config file (looked for ${defaultConfigPath(env)})`);
      out('[defaults]');
      for (const [key, def] of DEFAULTS_OPTIONS) out(settingLine(key, def, resolved));
      out('');
      out('[observability]');
      for (const [key, def] of OBSERVABILITY_OPTIONS) out(settingLine(key, def, resolved));
      out('');
      out('[coordination]');
      for (const [key, def] of COORDINATION_OPTIONS) out(settingLine(key, def, resolved));
      const jobs = Object.values(loaded?.jobs ?? {});
      if (loaded && jobs.length > 0) {
        out('');
        out(`# jobs (rpr run NAME): ${jobs.map((j) => `${j.name} (${j.schedule}, line ${loaded.lineOf(['jobs', j.name]) ?? '?'})`).join(', ')}`);
      }
    });
}

/** The cron expressions of [jobs.*] are checked by the cron parser itself, with file:line:key. */
async function cronProblems(path: string): Promise<RprError[]> {
  const { loadConfigFile } = await import('../config/load.js');
  const { parseCron } = await import('../schedule/cron/parse.js');
  // From what jobs load (one chunk of the bundle): a job's cron is checked as `rpr run` reads it.
  const { withConfigLocation } = await import('./job-modules.js');
  const config = loadConfigFile(path);
  const problems: RprError[] = [];
  for (const job of Object.values(config.jobs)) {
    if (job.schedule !== 'cron') continue;
    try {
      withConfigLocation(config, ['jobs', job.name, 'cron'], () => parseCron(String(job.options.cron), (job.options.timezone ?? config.defaults.timezone) as string | undefined));
    } catch (error) {
      problems.push(error as RprError);
    }
  }
  return problems;
}

/** `timeout = "30s"   # env RPR_TIMEOUT`, or `# jitter: not set`. */
function settingLine(key: string, def: OptionDef, resolved: Resolved): string {
  const raw = new Map<string, unknown>(Object.entries(resolved.values)).get(def.key);
  if (raw === undefined) return `# ${key}: not set`;
  // A Redis URL's password is not shown.
  const value = def.key === 'coordinate' && typeof raw === 'string' ? raw.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@') : raw;
  const source = resolved.sources[def.key]!;
  const where = resolved.where[def.key];
  const origin = source === 'default' ? 'default' : `${source} ${where}`;
  return `${`${key} = ${tomlValue(def, value)}`.padEnd(32)} # ${origin}`;
}

const isPattern = (value: unknown): value is Pattern => typeof value === 'object' && value !== null && 'source' in value && 'flags' in value;

/** A typed value written back as the TOML a user would type for it. */
function tomlValue(def: OptionDef, value: unknown): string {
  switch (def.type) {
    case 'duration':
      return typeof value === 'number' ? JSON.stringify(formatDuration(value)) : JSON.stringify(value);
    case 'time':
      return typeof value === 'number' ? JSON.stringify(new Date(value).toISOString()) : JSON.stringify(value);
    case 'regex':
      return isPattern(value) ? JSON.stringify(`${value.flags.includes('i') ? '(?i)' : ''}${value.source}`) : JSON.stringify(value);
    case 'boolean':
    case 'int':
    case 'number':
      return String(value);
    default:
      return JSON.stringify(value);
  }
}
