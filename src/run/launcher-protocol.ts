/**
 * The wire format between rpr (launcher.ts) and its launcher, the small
 * Python program in launcher.py that starts each run with posix_spawn, which
 * costs a vfork and an exec however big the caller is, where Node's own
 * spawn() forks the whole Node process.
 *
 * rpr -> launcher, on the launcher's stdin: messages made of NUL-terminated
 * fields, the first giving how many fields follow. Arguments and environment
 * strings can hold any byte but NUL (as in exec itself), so nothing is quoted.
 *   env <KEY=VALUE>...                               once, first: rpr's environment
 *   run <inherit|null> <inherit|null> <cwd> <argc> <arg>... <KEY=VALUE>...
 *                                                    stdout, stderr, working directory (empty:
 *                                                    rpr's), argv, extra variables
 * launcher -> rpr, on fd 3: ASCII lines.
 *   ready <launcher pid> <adopts 0|1>                after env; 1: it is its runs' subreaper
 *                                                    (what leaves a run's process tree is its child)
 *   started <pid> <µs> | error <ERRNO> | unsupported <why>
 *                                                    one per run request, in order; µs: CLOCK_MONOTONIC
 *                                                    when the run's exec was done
 *   exit <pid> <code> | signal <pid> <signo>         when a run's process (or an adopted one) has ended
 *   fatal <why>                                      the launcher is giving up
 */

type LauncherStdio = 'inherit' | 'null';

export interface LaunchRequest {
  /** argv[0] is looked up in PATH as execvp does. */
  argv: readonly string[];
  /** Variables set on top of rpr's environment. */
  env: Record<string, string>;
  /** An absolute working directory; rpr's own when absent. */
  cwd?: string;
  stdout: LauncherStdio;
  stderr: LauncherStdio;
}

export type Reply =
  | { type: 'ready'; pid: number; adopts: boolean }
  | { type: 'started'; pid: number; atMs: number }
  | { type: 'error'; code: string }
  | { type: 'unsupported'; reason: string }
  | { type: 'exit'; pid: number; code: number }
  | { type: 'signal'; pid: number; signo: number }
  | { type: 'fatal'; reason: string };

const NUL = '\0';

/** Whether a string can travel as one field (exec cannot take a NUL either). */
const fieldSafe = (s: string): boolean => !s.includes(NUL);
const envEntrySafe = ([key, value]: [string, string]): boolean => key.length > 0 && !key.includes('=') && fieldSafe(key) && fieldSafe(value);

/** Whether a run can be expressed exactly in the protocol. */
export function canEncodeRun(request: LaunchRequest): boolean {
  return request.argv.length > 0 && request.argv[0] !== '' && request.argv.every(fieldSafe) && fieldSafe(request.cwd ?? '') && Object.entries(request.env).every(envEntrySafe);
}

function message(fields: readonly string[]): Buffer {
  return Buffer.from(`${fields.length}${NUL}${fields.map((f) => f + NUL).join('')}`, 'utf8');
}

/** The first message: the environment every run starts from (undefined values are left out). */
export function encodeEnv(env: Record<string, string | undefined>): Buffer {
  const entries: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && envEntrySafe([key, value])) entries.push(`${key}=${value}`);
  }
  return message(['env', ...entries]);
}

export function encodeRun(request: LaunchRequest): Buffer {
  if (!canEncodeRun(request)) throw new Error('run request cannot be encoded (empty argv, NUL byte or bad variable name)');
  return message(['run', request.stdout, request.stderr, request.cwd ?? '', String(request.argv.length), ...request.argv, ...Object.entries(request.env).map(([k, v]) => `${k}=${v}`)]);
}

const INT = /^(0|[1-9]\d{0,9})$/;
/** Microseconds of CLOCK_MONOTONIC: up to 2^53 (285 years of uptime). */
const MICROS = /^(0|[1-9]\d{0,15})$/;

/** One reply line (without its newline); null when it is not one. */
export function parseReply(line: string): Reply | null {
  const space = line.indexOf(' ');
  const word = space === -1 ? line : line.slice(0, space);
  const rest = space === -1 ? '' : line.slice(space + 1);
  const ints = (n: number): number[] | null => {
    const parts = rest.split(' ');
    return parts.length === n && parts.every((p) => INT.test(p)) ? parts.map(Number) : null;
  };
  switch (word) {
    case 'ready': {
      const [pid, adopts] = ints(2) ?? [];
      return pid && (adopts === 0 || adopts === 1) ? { type: 'ready', pid, adopts: adopts === 1 } : null;
    }
    case 'started': {
      const parts = rest.split(' ');
      const [pid, micros] = parts;
      return parts.length === 2 && INT.test(pid!) && Number(pid) > 0 && MICROS.test(micros!) ? { type: 'started', pid: Number(pid), atMs: Number(micros) / 1000 } : null;
    }
    case 'exit': {
      const [pid, code] = ints(2) ?? [];
      return pid && code !== undefined && code <= 255 ? { type: 'exit', pid, code } : null;
    }
    case 'signal': {
      const [pid, signo] = ints(2) ?? [];
      return pid && signo ? { type: 'signal', pid, signo } : null;
    }
    case 'error':
      return /^E[A-Z0-9]+$/.test(rest) ? { type: 'error', code: rest } : null;
    case 'unsupported':
    case 'fatal':
      return { type: word, reason: rest };
    default:
      return null;
  }
}

/** Splits the reply stream into lines across chunk boundaries. */
export class ReplyReader {
  private partial = '';

  /** The complete replies in this chunk; lines that are not replies come back as null. */
  push(chunk: Buffer | string): (Reply | null)[] {
    const lines = (this.partial + chunk.toString('latin1')).split('\n');
    this.partial = lines.pop()!;
    return lines.map(parseReply);
  }
}
