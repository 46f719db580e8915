# rpr's launcher: starts each run of a job with posix_spawn, which costs a vfork and an exec however
# big the caller is, where Node's own spawn() forks the whole Node process. Run by run/launcher.ts as
# `python3 -I -S launcher.py` (Python >= 3.8, for os.posix_spawnp with setsid); the wire format is
# described in run/launcher-protocol.ts.
#
# Each run gets what Node's spawn with `detached: true` gives it: a new session (pid = process group
# id = session id), stdin from /dev/null, stdout/stderr inherited (made blocking, as libuv does) or
# /dev/null, signals 1-31 at their default disposition and none blocked, no other open descriptors
# (Python opens its own non-inheritable), and the environment rpr sent plus the run's variables. The
# launcher also uses rpr's PATH to find the program. Runs may overlap: their ends are reaped from a
# select loop woken by SIGCHLD, and so are the orphans the launcher adopts (adopt_orphans), which
# rpr ignores.
import errno, os, select, sys, time
# The C module under `signal`: the same functions and numbers, without the enums `signal` builds on
# import (about 6 ms of the launcher's start, which a 1-run job waits for).
try:
    import _signal as signal
except ImportError:
    import signal
REPLY = 3


def reply(text):
    data = (text + '\n').encode()
    while data:
        data = data[os.write(REPLY, data):]


def adopt_orphans():
    # PR_SET_CHILD_SUBREAPER (Linux >= 3.4): a process that leaves its parent behind (a daemon's
    # double fork, `setsid cmd &`) becomes the launcher's child instead of init's. rpr then finds
    # what runs left behind among the launcher's descendants, instead of reading the environment
    # of every process on the machine (run/tagged.ts).
    try:
        import ctypes
        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0
    except Exception:
        return False


def main():
    if sys.version_info < (3, 8) or not hasattr(os, 'posix_spawnp'):
        reply('fatal python 3.8 or later is needed')
        return
    os.set_inheritable(REPLY, False)
    # rpr, whose requests these are. Killed, it leaves its last requests in the pipe, and they are
    # read before the end of file: a run started then would have nobody to watch, time or end it.
    rpr = os.getppid()
    adopts = adopt_orphans()
    # A run with a working directory of its own: os.posix_spawn has no chdir action, so the
    # launcher (one thread) changes directory around the spawn and returns here. O_PATH needs no
    # read permission on rpr's directory; without it such runs are left to execa.
    try:
        home = os.open('.', getattr(os, 'O_PATH', os.O_RDONLY) | os.O_DIRECTORY)
    except OSError:
        home = None
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
        cwd = msg[3]
        argc = int(msg[4])
        argv = msg[5:5 + argc]
        env = dict(base)
        for entry in msg[5 + argc:]:
            key, _, value = entry.partition(b'=')
            env[key] = value
        actions = [(os.POSIX_SPAWN_OPEN, 0, '/dev/null', os.O_RDONLY, 0)]
        moved = False
        try:
            for fd, mode in ((1, msg[1]), (2, msg[2])):
                if mode == b'null':
                    actions.append((os.POSIX_SPAWN_OPEN, fd, '/dev/null', os.O_RDWR, 0))
                else:
                    os.set_blocking(fd, True)
            if cwd:
                if home is None:
                    raise OSError(errno.ENOTSUP, 'no way back to the launcher directory')
                os.chdir(cwd)
                moved = True
            pid = os.posix_spawnp(argv[0], argv, env, file_actions=actions,
                                  setsid=True, setsigdef=sigdef, setsigmask=())
        except OSError as e:
            reply('error ' + errno.errorcode.get(e.errno, 'EUNKNOWN'))
            return
        except Exception as e:
            reply('unsupported %s' % type(e).__name__)
            return
        finally:
            if moved:
                os.fchdir(home)
        # When the run's exec was done (posix_spawn returns after it), on CLOCK_MONOTONIC as rpr
        # reads it: what rpr times the run from, however late the launcher got to the request.
        reply('started %d %d' % (pid, time.monotonic_ns() // 1000))

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
                if os.getppid() != rpr:
                    return
                run(msg)
            elif msg[0] == b'env':
                base = dict(entry.partition(b'=')[::2] for entry in msg[1:])
                if b'PATH' in base:
                    os.environb[b'PATH'] = base[b'PATH']
                else:
                    os.environb.pop(b'PATH', None)
                reply('ready %d %d' % (os.getpid(), 1 if adopts else 0))
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
