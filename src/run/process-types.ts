/** What starting a process asks for and gives back, whichever way it starts (launcher, execa). */
import type { Readable } from 'node:stream';

export type StdioMode = 'inherit' | 'pipe' | 'ignore';

export interface SpawnRequest {
  argv: readonly string[];
  /** Run argv joined by spaces through sh -c. */
  shell: boolean;
  /** Extra variables on top of rpr's own environment. */
  env: Record<string, string>;
  cwd?: string | undefined;
  stdout: StdioMode;
  stderr: StdioMode;
}

export interface ProcessEnd {
  exitCode: number | null;
  signal: string | null;
  /** errno code when the process could not be started (ENOENT, EACCES). */
  spawnError: string | null;
}

export interface Spawned {
  pid: number | undefined;
  stdout: Readable | null;
  stderr: Readable | null;
  /** Settles when the process has exited and its piped streams have ended. */
  ended: Promise<ProcessEnd>;
  /** Settles when the process itself has exited (streams may still be open). */
  exited: Promise<void>;
  /** Signals the run's whole process group. */
  signal(name: NodeJS.Signals): void;
  /**
   * When the run's exec was done, on monotonicMs's clock, where the way it was started says so (the
   * launcher does); otherwise the run is timed from when it was asked for.
   */
  readonly startedAtMs?: number | undefined;
}
