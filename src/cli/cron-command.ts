import { type Command, Option } from 'commander';
import { usageError } from '../errors/index.js';
import { addCatalogOptions, dryRun, loadJobModules, requireCommand } from './core-commands.js';
import { CRON_NAMES } from './names.js';
import type { CliContext } from './context.js';
import { examplesHelp } from './examples.js';
import { packageFile } from '../package-files.js';

/** More fire times than anyone reads; also bounds the work an absurd N would cause. */
const MAX_NEXT = 10_000;

const parseCount = (raw: string): number => {
  if (!/^\d+$/.test(raw)) throw usageError(`--next: expected a whole number, got "${raw}"`, 'e.g. --next 5');
  if (Number(raw) > MAX_NEXT) throw usageError(`--next: at most ${MAX_NEXT}, got ${raw}`, 'use --from to look further ahead');
  return Number(raw);
};

const parseFrom = (raw: string): number => {
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw usageError(`--from: "${raw}" is not an ISO time`, 'e.g. --from 2027-05-01T00:00:00Z');
  return ms;
};

/** `rpr cron --cron EXPR -- cmd`, and `--next N` to preview the fire times. */
export function registerCronCommand(program: Command, ctx: CliContext): void {
  const command = program
    .command(CRON_NAMES[0])
    .alias(CRON_NAMES[1])
    .description('run at the times of a cron expression, in a time zone, DST-safe')
    .usage('--cron EXPR [options] -- <command> [args...]');
  addCatalogOptions(command, 'cron')
    .addOption(new Option('--next <n>', 'print the next N fire times (ISO 8601 with offset) and exit').argParser(parseCount))
    .addOption(new Option('--from <time>', 'with --next: list fire times after this ISO time instead of now').argParser(parseFrom))
    .addHelpText('after', `${examplesHelp('cron')}\nSee ${packageFile('docs/cron.md')} for the syntax, day-of-month/day-of-week and DST rules.\n`);
  command.action(async (_opts: unknown, cmd: Command) => {
    const { resolveInvocation, runRequest } = await loadJobModules();
    const invocation = await resolveInvocation('cron', cmd);
    const { values } = invocation;
    const local = cmd.opts<{ next?: number; from?: number }>();
    if (typeof values.cron !== 'string') throw usageError('cron needs --cron EXPR', "e.g. rpr cron --cron '*/5 * * * *' -- CMD");
    // cron-parser is loaded only for cron jobs.
    const { parseCron, nextTimes, formatIsoWithOffset } = await import('../schedule/cron/parse.js');
    const cron = parseCron(values.cron, values.timezone);
    if (local.from !== undefined && local.next === undefined) throw usageError('--from only applies with --next');
    if (local.next !== undefined) {
      if (ctx.commandArgv !== null) throw usageError('--next prints fire times and runs nothing', 'drop the command after --, or drop --next');
      const times = nextTimes(cron, local.next, local.from ?? Date.now());
      process.stdout.write(times.map((t) => `${formatIsoWithOffset(t, cron.timezone)}\n`).join(''));
      return;
    }
    const argv = requireCommand(ctx, 'cron');
    ctx.exitCode = await runRequest({ ...invocation, argv, schedule: 'cron' }, dryRun(cmd));
  });
}
