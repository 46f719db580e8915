import type { CommanderError } from 'commander';
import { type RprError, usageError } from '../errors/index.js';
import { OPTIONS, appliesTo, longFlag } from '../options/catalog.js';
import { aliasOf } from './flag-aliases.js';
import { UnknownWordError } from './rpr-command.js';

const didYouMean = (suggestions: readonly string[]): string | undefined =>
  suggestions.length === 0 ? undefined : `did you mean ${suggestions.length > 1 ? `one of ${suggestions.join(', ')}` : suggestions[0]}?`;

/**
 * Rewrites commander's errors as one rpr line with a hint. An unknown flag or subcommand comes as
 * fields (rpr-command.ts); a flag that exists for another subcommand is named as such rather than "unknown".
 */
export function fromCommanderError(error: CommanderError, subcommand: string | undefined, extra?: string): RprError {
  if (error instanceof UnknownWordError) {
    const hint = didYouMean(error.suggestions);
    if (error.kind === 'command') return usageError(`unknown command '${error.word}'`, hint ?? 'see rpr --help for the subcommands');
    return unknownOption(error.word, subcommand, hint);
  }
  if (error.code === 'commander.excessArguments') {
    return usageError(`unexpected argument${extra ? ` "${extra}"` : ''}${subcommand ? ` for ${subcommand}` : ''}`, 'put the command to repeat after --, e.g. rpr count -t 3 -- echo hi');
  }
  // Commander's other errors (a missing or invalid value) are already one line after its "error: ".
  return usageError(error.message.replace(/^error: /, ''), 'see rpr --help');
}

function unknownOption(option: string, subcommand: string | undefined, hint: string | undefined): RprError {
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
  return usageError(`unknown option ${option}${subcommand ? ` for ${subcommand}` : ''}`, hint ?? `see rpr ${subcommand ?? ''} --help`.replace('  ', ' '));
}
