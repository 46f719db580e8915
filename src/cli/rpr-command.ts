import { Command, CommanderError } from 'commander';

/** A flag or subcommand commander does not know, as fields: the word as typed and the names near it. */
export class UnknownWordError extends CommanderError {
  constructor(
    readonly kind: 'option' | 'command',
    readonly word: string,
    readonly suggestions: readonly string[],
  ) {
    super(1, kind === 'option' ? 'commander.unknownOption' : 'commander.unknownCommand', `error: unknown ${kind} '${word}'`);
  }
}

/**
 * rpr's commander Command. commander says which flag or subcommand it did not know only in its
 * message text; its unknownOption and unknownCommand (methods of its JavaScript its typings leave
 * out) are replaced here by ones that throw an UnknownWordError, with the near names commander
 * would suggest (its own suggestion function is not exported). `.command()` makes subcommands with
 * createCommand, so every subcommand is one too. rpr allows no unknown options anywhere, so
 * commander's allowUnknownOption() is not honoured here.
 */
export class RprCommand extends Command {
  override createCommand(name?: string): Command {
    return new RprCommand(name);
  }

  unknownOption(flag: string): never {
    // Commander suggests long flags only, from this command's own visible options (rpr's subcommands take positional options).
    const candidates = this.createHelp()
      .visibleOptions(this)
      .flatMap((option) => (option.long ? [option.long] : []));
    throw new UnknownWordError('option', flag, flag.startsWith('--') ? similar(flag, candidates) : []);
  }

  unknownCommand(): never {
    const name = this.args[0] ?? '';
    const candidates = this.createHelp()
      .visibleCommands(this)
      .flatMap((command) => [command.name(), ...(command.alias() ? [command.alias()] : [])]);
    throw new UnknownWordError('command', name, similar(name, candidates));
  }
}

/** commander 14's suggestSimilar, as a list: the candidates fewest edits away (at most 2, and similar enough), sorted. */
function similar(word: string, candidates: readonly string[]): string[] {
  const options = word.startsWith('--');
  const bare = (text: string): string => (options ? text.slice(2) : text);
  let best: string[] = [];
  let bestDistance = 3;
  for (const candidate of new Set(candidates.map(bare))) {
    if (candidate.length <= 1) continue;
    const distance = editDistance(bare(word), candidate);
    const length = Math.max(bare(word).length, candidate.length);
    if ((length - distance) / length <= 0.4) continue;
    if (distance < bestDistance) [best, bestDistance] = [[candidate], distance];
    else if (distance === bestDistance) best.push(candidate);
  }
  return best.sort((a, b) => a.localeCompare(b)).map((candidate) => (options ? `--${candidate}` : candidate));
}

/** Optimal string alignment distance (Damerau-Levenshtein without editing a substring twice), as commander counts it. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Math.max(a.length, b.length);
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let j = 1; j <= b.length; j++) {
    for (let i = 1; i <= a.length; i++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
