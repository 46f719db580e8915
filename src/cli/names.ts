import type { CoreCommand } from '../options/catalog.js';

/**
 * The names of the subcommands that run a job of rpr's own, with their
 * aliases: program.ts builds only the one a command line names, so this
 * module imports nothing.
 */
export const CORE: { name: Exclude<CoreCommand, 'cron'>; aliases: string[]; summary: string }[] = [
  { name: 'interval', aliases: ['int', 'i'], summary: 'run every --every, start to start, drift-free' },
  { name: 'count', aliases: ['cnt', 'c'], summary: 'run --times times, back to back or every --every' },
  { name: 'duration', aliases: ['dur', 'd'], summary: 'run for --for, back to back or every --every' },
];

/** cron's name and alias (cron-command.ts registers it). */
export const CRON_NAMES = ['cron', 'cr'] as const;
