/**
 * Typed errors with stable codes. Every module throws one of these; only
 * exit-codes.ts decides what a code means for the process exit status.
 */
export type ErrorCode =
  | 'E_USAGE' // a flag, argument or combination the command line does not accept
  | 'E_DURATION' // a duration or time that does not parse
  | 'E_PATTERN' // a regular expression that does not compile
  | 'E_CRON' // a cron expression or time zone that is not valid
  | 'E_CONFIG' // a config file that is missing, does not parse or has bad keys/values
  | 'E_PORT' // a health/metrics port that cannot be bound
  | 'E_COMMAND_NOT_FOUND' // the command to repeat does not exist
  | 'E_COMMAND_NOT_EXECUTABLE' // it exists but may not be executed
  | 'E_PLUGIN' // a plugin failed: load, call, trap, timeout, malformed answer
  | 'E_PLUGIN_DENIED' // a plugin asked for something its permissions do not grant
  | 'E_COORDINATION' // --coordinate: Redis refuses this instance (auth) or the job's instances disagree on its schedule
  | 'E_OUTPUT'; // rpr's standard output cannot be written (a full disk, an I/O error)

export interface RprErrorOptions {
  /** One short sentence telling the user what to do instead. */
  hint?: string;
  cause?: unknown;
}

export class RprError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  constructor(code: ErrorCode, message: string, options: RprErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RprError';
    this.code = code;
    this.hint = options.hint;
  }
}

export const usageError = (message: string, hint?: string): RprError => new RprError('E_USAGE', message, { hint });

export function isRprError(error: unknown): error is RprError {
  return error instanceof RprError;
}
