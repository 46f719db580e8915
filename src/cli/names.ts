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

/**
 * The subcommands that never run a job of their own (rpr up starts its launcher itself): any other
 * word before -- names a job, a scheduler plugin's included, or is a usage error.
 */
export const NO_JOB_WORDS: ReadonlySet<string> = new Set(['up', 'config', 'plugins', 'examples', 'completion', '__complete']);
