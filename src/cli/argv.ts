import { OPTIONS } from '../options/catalog.js';

/**
 * The one reading of a command line before commander parses it: where the command to repeat
 * starts (the first --), which word names the subcommand, and --config's value. bin.ts (to start
 * the launcher early), program.ts (to build only the subcommand named), the plugin subcommands and
 * the config lookup all ask this, so they can never disagree on which word is the subcommand.
 * Imports only the option catalog, which imports nothing.
 */
export interface ScannedArgs {
  /** Everything before the first --. */
  head: string[];
  /** Everything after the first --, or null when there is none. */
  command: string[] | null;
  /** Index in head of the subcommand word (the first operand), or -1. */
  wordAt: number;
  word: string | undefined;
  /** --config FILE or --config=FILE, wherever it stands. */
  config: string | undefined;
  /** -h or --help anywhere before --. */
  help: boolean;
}

/** Flags of the catalog (and the CLI's own) that take a value in the next argument. */
const TAKES_VALUE: ReadonlySet<string> = new Set([
  '--config',
  '--set',
  '--allow',
  '--log-format',
  ...OPTIONS.filter((def) => def.flags.includes('<')).flatMap((def) => def.flags.split(/[ ,]+/).filter((f) => f.startsWith('-'))),
]);

export function takesValue(flag: string): boolean {
  return TAKES_VALUE.has(flag);
}

/** Index of the first operand of head: an argument that is neither an option nor an option's value. */
export function wordIndex(head: readonly string[]): number {
  for (let i = 0; i < head.length; i++) {
    const arg = head[i]!;
    if (arg.startsWith('-') && arg !== '-') {
      if (!arg.includes('=') && takesValue(arg)) i++;
      continue;
    }
    return i;
  }
  return -1;
}

export function scanArgs(args: readonly string[]): ScannedArgs {
  const dashdash = args.indexOf('--');
  const head = dashdash === -1 ? [...args] : args.slice(0, dashdash);
  const wordAt = wordIndex(head);
  const at = head.findIndex((a) => a === '--config' || a.startsWith('--config='));
  const config = at === -1 ? undefined : head[at]!.startsWith('--config=') ? head[at]!.slice(9) : head[at + 1];
  return {
    head,
    command: dashdash === -1 ? null : args.slice(dashdash + 1),
    wordAt,
    word: wordAt === -1 ? undefined : head[wordAt],
    config,
    help: head.some((a) => a === '-h' || a === '--help'),
  };
}

/** --log-format's value, wherever it stands (an error before commander has parsed is said in it too). */
export function logFormatIn(head: readonly string[]): string | undefined {
  const at = head.findIndex((a) => a === '--log-format' || a.startsWith('--log-format='));
  return at === -1 ? undefined : head[at]!.startsWith('--log-format=') ? head[at]!.slice(13) : head[at + 1];
}

/**
 * Options written before the subcommand (`rpr --verbose count ...`, `rpr -v count ...`) moved
 * after it, where they are the subcommand's: rpr itself has only --version, --config and --help,
 * and --config is accepted in both places. So `-v` is --version on its own and --verbose before
 * a job's subcommand, as after it.
 */
export function hoistOptions(head: readonly string[]): string[] {
  const word = wordIndex(head);
  if (word <= 0) return [...head];
  // `rpr plugin NAME`: the subcommand is NAME.
  const at = head[word] === 'plugin' && word + 1 < head.length && !head[word + 1]!.startsWith('-') ? word + 1 : word;
  const stay: string[] = [];
  const move: string[] = [];
  for (let i = 0; i < word; i++) {
    const arg = head[i]!;
    const pair = !arg.includes('=') && takesValue(arg) && i + 1 < word ? [arg, head[++i]!] : [arg];
    (arg === '--config' || arg.startsWith('--config=') || arg === '--version' ? stay : move).push(...pair);
  }
  return [...stay, ...head.slice(word, at + 1), ...move, ...head.slice(at + 1)];
}
