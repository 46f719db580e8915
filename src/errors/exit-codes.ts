import { constants } from 'node:os';
import { isRprError, type ErrorCode } from './index.js';
import { printable } from './printable.js';

/** The one place where error codes become exit statuses. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  notExecutable: 126,
  notFound: 127,
} as const;

const byCode: Record<ErrorCode, number> = {
  E_USAGE: EXIT.usage,
  E_DURATION: EXIT.usage,
  E_PATTERN: EXIT.usage,
  E_CRON: EXIT.usage,
  E_CONFIG: EXIT.usage,
  E_PORT: EXIT.usage,
  // A command that cannot be started is a usage problem: nothing could ever run.
  E_COMMAND_NOT_FOUND: EXIT.usage,
  E_COMMAND_NOT_EXECUTABLE: EXIT.usage,
  E_PLUGIN: EXIT.failed,
  E_PLUGIN_DENIED: EXIT.failed,
  // Nothing could ever run as asked: a wrong password, or instances of one job with different schedules.
  E_COORDINATION: EXIT.usage,
  E_OUTPUT: EXIT.failed,
};

export function exitCodeFor(error: unknown): number {
  return isRprError(error) ? byCode[error.code] : EXIT.failed;
}

/** 128 + n, the shell's convention for "ended by signal n". */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? constants.signals.SIGTERM);
}

// Control characters (from user input or a plugin, quoted in a message) escaped: the line stays one line and cannot drive the terminal.

/** One line for stderr: message, then the hint, never a stack unless RPR_DEBUG=1. */
export function formatError(error: unknown): string {
  if (process.env.RPR_DEBUG === '1' && error instanceof Error) return `rpr: ${error.stack ?? error.message}`;
  if (isRprError(error)) return printable(`rpr: ${error.message}${error.hint ? ` (hint: ${error.hint})` : ''}`);
  const message = error instanceof Error ? error.message : String(error);
  return printable(`rpr: internal error: ${message} (hint: run again with RPR_DEBUG=1 and report it)`);
}
