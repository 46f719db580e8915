import type { CommanderError } from 'commander';
import { type RprError, usageError } from '../errors/index.js';
import { OPTIONS, appliesTo, longFlag } from '../options/catalog.js';
import { aliasOf } from './flag-aliases.js';

/**
 * Rewrites commander's multi-line errors as one rpr line with a hint. A flag
 * that exists for another subcommand is named as such rather than "unknown".
 */
export function fromCommanderError(error: CommanderError, subcommand: string | undefined, extra?: string): RprError {
  const text = error.message.replace(/^error: /, '');
  const [first = text, second] = text.split('\n');
  const suggestion = second ? /Did you mean (.+)\?/.exec(second)?.[1] : undefined;
  switch (error.code) {
    case 'commander.unknownOption': {
      const option = /'([^']+)'/.exec(first)?.[1] ?? first;
      // An alias left as typed (--tz off cron) is still the option it stands for.
      const named = aliasOf(option) ?? option;
      const owner = OPTIONS.find((def) => longFlag(def) === named || def.flags.split(/[ ,]+/).includes(named));
      if (option === '--version') return usageError(`--version is an option of rpr itself, not of ${subcommand ?? 'a subcommand'}`, 'put it first: rpr --version');
      if (owner && !subcommand) return usageError(`${option} is an option of a job's subcommand`, `put it after the subcommand, e.g. rpr count ${option} ...`);
      if (option === '-v' && subcommand) return usageError(`unknown option -v for ${subcommand}`, "-v is --verbose after a job's subcommand, --version on its own: rpr -v");
      if (owner && subcommand && !appliesTo(owner, subcommand)) {
        const where = owner.scope === 'all' ? 'every subcommand' : owner.scope.join(', ');
        return usageError(`${option} does not apply to ${subcommand}`, `it is an option of ${where}`);
      }
      return usageError(`unknown option ${option}${subcommand ? ` for ${subcommand}` : ''}`, suggestion ? `did you mean ${suggestion}?` : `see rpr ${subcommand ?? ''} --help`.replace('  ', ' '));
    }
    case 'commander.unknownCommand':
      return usageError(first, suggestion ? `did you mean ${suggestion}?` : 'see rpr --help for the subcommands');
    case 'commander.excessArguments':
      return usageError(`unexpected argument${extra ? ` "${extra}"` : ''}${subcommand ? ` for ${subcommand}` : ''}`, 'put the command to repeat after --, e.g. rpr count -t 3 -- echo hi');
    default:
      return usageError(first, suggestion ? `did you mean ${suggestion}?` : 'see rpr --help');
  }
}
