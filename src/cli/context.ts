/** What the CLI's pieces share while handling one invocation. */
export interface CliContext {
  /** Everything after the first --, or null when there was none. */
  commandArgv: string[] | null;
  exitCode: number;
}
