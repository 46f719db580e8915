import type { CoreCommand } from '../options/catalog.js';

/**
 * The names of the subcommands that run a job of rpr's own, with their
 * aliases: cli/bin.ts reads them before anything else is loaded (to start the
 * launcher early), so this module imports nothing.
 */
export const CORE: { name: Exclude<CoreCommand, 'cron'>; aliases: string[]; summary: string }[] = [
  { name: 'interval', aliases: ['int', 'i'], summary: 'run every --every, start to start, drift-free' },
  { name: 'count', aliases: ['cnt', 'c'], summary: 'run --times times, back to back or every --every' },
  { name: 'duration', aliases: ['dur', 'd'], summary: 'run for --for, back to back or every --every' },
];

/** cron's name and alias (cron-command.ts registers it). */
export const CRON_NAMES = ['cron', 'cr'] as const;

/** Every word that names a core job: the subcommands above, cron, and `run NAME` (a job of the config file). */
export const JOB_WORDS: ReadonlySet<string> = new Set([...CORE.flatMap((c) => [c.name, ...c.aliases]), ...CRON_NAMES, 'run']);
