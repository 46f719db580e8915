import { CRON_NAMES } from './names.js';

/**
 * Second spellings of long flags. commander allows one long name per option,
 * so these are rewritten to the canonical flag before parsing. Only the part
 * before `--` is rewritten: the command's own arguments are never touched.
 * An alias with `on` is rewritten only on those subcommands: elsewhere the
 * spelling may be a plugin's own flag (chaos has a --tz of its own).
 */
const FLAG_ALIASES: Readonly<Record<string, { to: string; on?: readonly string[] }>> = {
  '--tz': { to: '--timezone', on: [...CRON_NAMES, 'run'] },
  // The Go rpr's multi-letter short flags of its strategies; each plugin maps the long form.
  '-bd': { to: '--base-delay' },
  '-md': { to: '--max-delay' },
  '-inc': { to: '--increment' },
  '-exp': { to: '--exponent' },
};

/** `args` with aliases spelled canonically, for the subcommand `word` names. */
export function canonicalFlags(args: readonly string[], word: string | undefined): string[] {
  return args.map((arg) => {
    const [flag, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('='))] : [arg, ''];
    const alias = FLAG_ALIASES[flag];
    if (!alias || (alias.on && !(word !== undefined && alias.on.includes(word)))) return arg;
    return alias.to + value;
  });
}

/** The canonical flag an alias stands for, wherever it applies (for saying where a flag belongs). */
export const aliasOf = (flag: string): string | undefined => FLAG_ALIASES[flag]?.to;
