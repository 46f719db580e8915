/**
 * The wire format between rpr and its launcher (launcher.ts), and the
 * launcher itself: a small Python program that starts each run with
 * posix_spawn, which costs a vfork and an exec however big the caller is,
 * where Node's own spawn() forks the whole Node process.
 *
 * rpr -> launcher, on the launcher's stdin: messages made of NUL-terminated
 * fields, the first giving how many fields follow. Arguments and environment
 * strings can hold any byte but NUL (as in exec itself), so nothing is quoted.
 *   env <KEY=VALUE>...                               once, first: rpr's environment
 *   run <inherit|null> <inherit|null> <argc> <arg>... <KEY=VALUE>...
 *                                                    stdout, stderr, argv, extra variables
 * launcher -> rpr, on fd 3: ASCII lines.
 *   ready <launcher pid>                             after env
 *   started <pid> | error <ERRNO> | unsupported <why>  one per run request, in order
 *   exit <pid> <code> | signal <pid> <signo>         when a run's process has ended
 *   fatal <why>                                      the launcher is giving up
 */

export type LauncherStdio = 'inherit' | 'null';

export interface LaunchRequest {
  /** argv[0] is looked up in PATH as execvp does. */
  argv: readonly string[];
  /** Variables set on top of rpr's environment. */
  env: Record<string, string>;
  stdout: LauncherStdio;
  stderr: LauncherStdio;
}

export type Reply =
  | { type: 'ready'; pid: number }
  | { type: 'started'; pid: number }
  | { type: 'error'; code: string }
  | { type: 'unsupported'; reason: string }
  | { type: 'exit'; pid: number; code: number }
  | { type: 'signal'; pid: number; signo: number }
  | { type: 'fatal'; reason: string };

const NUL = '\0';

/** Whether a string can travel as one field (exec cannot take a NUL either). */
const fieldSafe = (s: string): boolean => !s.includes(NUL);
const envEntrySafe = ([key, value]: [string, string]): boolean =>
  key.length > 0 && !key.includes('=') && fieldSafe(key) && fieldSafe(value);

/** Whether a run can be expressed exactly in the protocol. */
export function canEncodeRun(request: LaunchRequest): boolean {
  return (
    request.argv.length > 0 &&
    request.argv[0] !== '' &&
    request.argv.every(fieldSafe) &&
    Object.entries(request.env).every(envEntrySafe)
  );
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
  return message([
    'run',
    request.stdout,
    request.stderr,
    String(request.argv.length),
    ...request.argv,
    ...Object.entries(request.env).map(([k, v]) => `${k}=${v}`),
  ]);
}

const INT = /^(0|[1-9]\d{0,9})$/;

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
    case 'ready':
    case 'started': {
      const [pid] = ints(1) ?? [];
      return pid ? { type: word, pid } : null;
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

/**
 * The launcher, run as `python3 -I -S -c LAUNCHER_SCRIPT` (Python >= 3.8, for
 * os.posix_spawnp with setsid). Each run gets what Node's spawn with
 * `detached: true` gives it: a new session (pid = process group id = session
 * id), stdin from /dev/null, stdout/stderr inherited (made blocking, as libuv
 * does) or /dev/null, signals 1-31 at their default disposition and none
 * blocked, no other open descriptors, and the environment rpr sent plus the
 * run's variables. The launcher also uses rpr's PATH to find the program.
 * Runs may overlap: their ends are reaped from a select loop woken by SIGCHLD.
 */
export const LAUNCHER_SCRIPT = String.raw`
import errno, os, select, signal, sys
REPLY = 3

def reply(text):
    data = (text + '\n').encode()
    while data:
        data = data[os.write(REPLY, data):]

def main():
    if sys.version_info < (3, 8) or not hasattr(os, 'posix_spawnp'):
        reply('fatal python 3.8 or later is needed')
        return
    os.set_inheritable(REPLY, False)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    signal.signal(signal.SIGCHLD, lambda signo, frame: None)
    sigdef = [s for s in range(1, 32) if s not in (signal.SIGKILL, signal.SIGSTOP)]
    base = {}
    fields = []
    partial = b''

    def reap():
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if os.WIFSIGNALED(status):
                reply('signal %d %d' % (pid, os.WTERMSIG(status)))
            elif os.WIFEXITED(status):
                reply('exit %d %d' % (pid, os.WEXITSTATUS(status)))

    def run(msg):
        argc = int(msg[3])
        argv = msg[4:4 + argc]
        env = dict(base)
        for entry in msg[4 + argc:]:
            key, _, value = entry.partition(b'=')
            env[key] = value
        actions = [(os.POSIX_SPAWN_OPEN, 0, '/dev/null', os.O_RDONLY, 0)]
        try:
            for fd, mode in ((1, msg[1]), (2, msg[2])):
                if mode == b'null':
                    actions.append((os.POSIX_SPAWN_OPEN, fd, '/dev/null', os.O_RDWR, 0))
                else:
                    os.set_blocking(fd, True)
            pid = os.posix_spawnp(argv[0], argv, env, file_actions=actions,
                                  setsid=True, setsigdef=sigdef, setsigmask=())
        except OSError as e:
            reply('error ' + errno.errorcode.get(e.errno, 'EUNKNOWN'))
            return
        except Exception as e:
            reply('unsupported %s' % type(e).__name__)
            return
        reply('started %d' % pid)

    while True:
        ready = select.select([0, wake_r], [], [])[0]
        if wake_r in ready:
            try:
                while os.read(wake_r, 512):
                    pass
            except BlockingIOError:
                pass
            reap()
        if 0 not in ready:
            continue
        chunk = os.read(0, 65536)
        if not chunk:
            return
        parts = (partial + chunk).split(b'\0')
        partial = parts.pop()
        fields.extend(parts)
        i = 0
        while i < len(fields) and len(fields) - i - 1 >= int(fields[i]):
            msg = fields[i + 1:i + 1 + int(fields[i])]
            i += 1 + len(msg)
            if msg[0] == b'run':
                run(msg)
            elif msg[0] == b'env':
                base = dict(entry.partition(b'=')[::2] for entry in msg[1:])
                if b'PATH' in base:
                    os.environb[b'PATH'] = base[b'PATH']
                else:
                    os.environb.pop(b'PATH', None)
                reply('ready %d' % os.getpid())
        del fields[:i]

try:
    main()
except (BrokenPipeError, KeyboardInterrupt):
    pass
except Exception as e:
    try:
        reply('fatal %s: %s' % (type(e).__name__, str(e).replace('\n', ' ')))
    except Exception:
        pass
    sys.exit(70)
`;
