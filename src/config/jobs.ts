/**
 * [jobs.NAME]: a whole `rpr SUBCOMMAND [options] -- command` written down,
 * to be started with `rpr run NAME`. Its option keys are exactly the flags
 * its subcommand accepts, so a job can say nothing the command line could not.
 */
import type { OptionDef } from '../options/catalog.js';
import type { KeyPath } from './lines.js';
import { knownKeysHint, type Problems } from './problems.js';
import { ALL_OPTIONS, canonicalSchedule, CORE_SCHEDULES, isCoreSchedule, JOB_KEYS, jobOptions, REQUIRED_JOB_OPTION, RESTART_POLICIES } from './schema.js';
import type { JobConfig } from './types.js';
import { describe, isTable, plainValue, readKind, readOption, type Table } from './values.js';

export function readJobs(problems: Problems, raw: unknown, nowWall: number): Record<string, JobConfig> {
  const jobs: Record<string, JobConfig> = {};
  if (raw === undefined) return jobs;
  if (!isTable(raw)) {
    problems.report(['jobs'], `expected a table, got ${describe(raw)}`, 'define each job as [jobs.NAME]');
    return jobs;
  }
  for (const [name, table] of Object.entries(raw)) {
    const path = ['jobs', name];
    // The name is typed on the command line (`rpr run NAME`) and shown as a metrics label.
    if (name === '' || /[\s\p{Cc}]/u.test(name)) {
      problems.report(path, 'a job name must be non-empty, without spaces or control characters');
      continue;
    }
    if (!isTable(table)) {
      problems.report(path, `expected a table, got ${describe(table)}`, `write it as [jobs.${name}] with schedule and command keys`);
      continue;
    }
    const job = readJob(problems, path, name, table, nowWall);
    if (job) jobs[name] = job;
  }
  return jobs;
}

function readJob(problems: Problems, path: KeyPath, name: string, table: Table, nowWall: number): JobConfig | undefined {
  const schedule = readSchedule(problems, path, table.schedule);
  const command = readCommand(problems, path, table.command);
  if (schedule === undefined) return undefined; // without it no other key can be judged

  const allowed = jobOptions(schedule);
  const options: Record<string, unknown> = {};
  const pluginConfig: Table = {};
  for (const [key, value] of Object.entries(table)) {
    if ((JOB_KEYS as readonly string[]).includes(key)) continue;
    const def = allowed.get(key);
    if (def) {
      const typed = readOption(problems, [...path, key], def, value, nowWall);
      if (typed !== undefined) options[def.key] = typed;
    } else if (!isCoreSchedule(schedule)) {
      pluginConfig[key] = plainValue(value); // the plugin's schema judges these
    } else {
      reportStrayKey(problems, [...path, key], key, schedule, allowed);
    }
  }

  const required = REQUIRED_JOB_OPTION[schedule];
  if (required !== undefined && table[required] === undefined) {
    const article = /^[aeiou]/.test(schedule) ? 'an' : 'a';
    problems.report(path, `${article} ${schedule} job needs ${required}`, `add a ${required} = "..." line, as \`rpr ${schedule}\` needs --${required}`);
  }
  if (command === undefined) return undefined;

  if (command.shell && options.shell === false) {
    problems.report([...path, 'shell'], 'a command written as one string always runs through sh -c', 'write command as an array of strings to run it without a shell');
  }
  const job: JobConfig = { name, schedule, command: command.argv, shell: command.shell || options.shell === true, options };
  if (table.restart !== undefined) {
    if (typeof table.restart === 'string' && (RESTART_POLICIES as readonly string[]).includes(table.restart)) job.restart = table.restart as JobConfig['restart'];
    else problems.report([...path, 'restart'], `expected one of ${RESTART_POLICIES.join(', ')}, got ${describe(table.restart)}`, 'restart says whether rpr up starts the job again once it ends');
  }
  if (!isCoreSchedule(schedule)) job.pluginConfig = pluginConfig;
  return job;
}

function readSchedule(problems: Problems, path: KeyPath, raw: unknown): string | undefined {
  const hint = `one of ${CORE_SCHEDULES.join(', ')}, or the name of a scheduler plugin`;
  if (raw === undefined) return void problems.report(path, 'missing schedule', `add schedule = "interval" (${hint})`);
  if (typeof raw !== 'string' || raw.trim() === '') {
    return void problems.report([...path, 'schedule'], `expected a schedule name, got ${describe(raw)}`, hint);
  }
  return canonicalSchedule(raw.trim());
}

/** An array is argv as given; a string is one shell command line, as with --shell. */
function readCommand(problems: Problems, path: KeyPath, raw: unknown): { argv: string[]; shell: boolean } | undefined {
  const where = [...path, 'command'];
  if (raw === undefined) {
    return void problems.report(path, 'missing command', 'add command = ["program", "arg"] or command = "shell command line"');
  }
  if (typeof raw === 'string') {
    if (raw.trim() === '') return void problems.report(where, 'the command is empty');
    return { argv: [raw], shell: true };
  }
  if (Array.isArray(raw) && raw.length === 0) return void problems.report(where, 'the command is empty', 'give at least the program to run');
  const argv = readKind(problems, where, 'strings', raw) as string[] | undefined;
  return argv && { argv, shell: false };
}

/** A key that is not an option of this job's schedule: say why, and what would fit. */
function reportStrayKey(problems: Problems, path: KeyPath, key: string, schedule: string, allowed: ReadonlyMap<string, OptionDef>): void {
  const def = ALL_OPTIONS.get(key);
  if (def) {
    const where = def.scope === 'all' ? 'every schedule' : def.scope.join(', ');
    problems.report(path, `not an option of ${schedule} jobs`, `${key} applies to: ${where}`);
    return;
  }
  problems.report(path, 'unknown key', knownKeysHint(key, [...JOB_KEYS, ...allowed.keys()]));
}
