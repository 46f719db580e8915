/**
 * An unknown flag or subcommand reaches rpr's error line as fields of the error (cli/rpr-command.ts),
 * not read back out of commander's message; the names suggested are the ones commander itself
 * would suggest, checked against a plain commander Command for the same typos.
 */
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { formatError } from '../../src/errors/exit-codes.js';
import { fromCommanderError } from '../../src/cli/commander-errors.js';
import { RprCommand, UnknownWordError } from '../../src/cli/rpr-command.js';

/** The same small program, as rpr builds it or as plain commander does. */
function program(root: Command): Command {
  root
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} })
    .enablePositionalOptions();
  root.option('--config <file>');
  const interval = root
    .command('interval')
    .alias('i')
    .option('-e, --every <duration>')
    .option('--http-min-delay <d>')
    .option('--http-max-delay <d>')
    .option('--jitter <d>')
    .option('--no-progress')
    .option('--summary');
  interval.command('deep').option('--deeper');
  root.command('count').option('-t, --times <n>');
  root.command('cron').option('--cron <expr>');
  const plugins = root.command('plugins');
  for (const verb of ['list', 'install', 'info']) plugins.command(verb).action(() => {});
  for (const c of [root, ...root.commands, ...root.commands.flatMap((c) => c.commands)]) c.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  return root;
}

function thrown(root: Command, args: string[]): CommanderError {
  try {
    root.parse(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error;
    throw error;
  }
  throw new Error(`no error for ${args.join(' ')}`);
}

const TYPOS: string[][] = [
  ['interval', '--evrey', '1s'],
  ['interval', '--http-m-delay', '1s'],
  ['interval', '--http-mx-delay', '1s'],
  ['interval', '--jiter', '1s'],
  ['interval', '--summar'],
  ['interval', '--summxxx'],
  ['interval', '--sxmmxxx'],
  ['interval', '--no-progres'],
  ['interval', '--zzzzzzzz'],
  ['interval', '-x'],
  ['count', '--time', '3'],
  ['--confg', 'x', 'count'],
  ['intervl'],
  ['cront'],
  ['cuont'],
  ['zzzzzz'],
  ['plugins', 'lst'],
  ['plugins', 'instal'],
  ['plugins', 'inof'],
];

describe('unknown flags and subcommands as fields', () => {
  for (const args of TYPOS) {
    it(`${args.join(' ')}: the word and commander's own suggestions`, () => {
      const ours = thrown(program(new RprCommand('rpr')), args);
      const theirs = thrown(program(new Command('rpr')), args);
      expect(ours).toBeInstanceOf(UnknownWordError);
      const word = ours as UnknownWordError;
      expect(word.code).toBe(theirs.code);
      expect(args).toContain(word.word);
      // commander's text, rebuilt from the fields: the same word and the same names suggested.
      const suggestion = word.suggestions.length === 0 ? '' : `\n(Did you mean ${word.suggestions.length > 1 ? `one of ${word.suggestions.join(', ')}` : word.suggestions[0]}?)`;
      expect(`error: unknown ${word.kind} '${word.word}'${suggestion}`).toBe(theirs.message);
    });
  }

  it('the subcommands of subcommands are RprCommands too', () => {
    const error = thrown(program(new RprCommand('rpr')), ['interval', 'deep', '--deepr']);
    expect(error).toMatchObject({ kind: 'option', word: '--deepr', suggestions: ['--deeper'] });
  });

  it("rpr's line: the flag, the subcommand and the hint", () => {
    const line = (error: CommanderError, sub?: string): string => formatError(fromCommanderError(error, sub));
    expect(line(new UnknownWordError('option', '--evrey', ['--every']), 'interval')).toBe('rpr: unknown option --evrey for interval (hint: did you mean --every?)');
    expect(line(new UnknownWordError('option', '--http-m-delay', ['--http-max-delay', '--http-min-delay']), 'interval')).toBe(
      'rpr: unknown option --http-m-delay for interval (hint: did you mean one of --http-max-delay, --http-min-delay?)',
    );
    expect(line(new UnknownWordError('option', '--bogus', []))).toBe('rpr: unknown option --bogus (hint: see rpr --help)');
    expect(line(new UnknownWordError('option', '--cron', []), 'interval')).toBe('rpr: --cron does not apply to interval (hint: it is an option of cron)');
    expect(line(new UnknownWordError('option', '--tz', []), 'count')).toBe('rpr: --tz does not apply to count (hint: it is an option of cron)');
    expect(line(new UnknownWordError('option', '--every', []))).toBe("rpr: --every is an option of a job's subcommand (hint: put it after the subcommand, e.g. rpr count --every ...)");
    expect(line(new UnknownWordError('command', 'intervl', ['interval']))).toBe("rpr: unknown command 'intervl' (hint: did you mean interval?)");
    expect(line(new UnknownWordError('command', 'zzzzzz', []))).toBe("rpr: unknown command 'zzzzzz' (hint: see rpr --help for the subcommands)");
  });
});
