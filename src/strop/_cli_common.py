"""What the command-line modules share, below all of them and below the
library: the usage error and its one-line report, argument types, the check of
an output path before anything runs, and the split of a command line into
strop's options and the program's.  cli.py (the top) and the command modules
(_sample_cli.py, _speed_cli.py) import from here; the library (_profile.py)
may too; nothing here imports them.
"""
import argparse
import os
import re
import shutil
import sys

from ._formats import format_of

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

class UsageError(Exception):
    """Bad input from the user: reported as one line, exit status 2."""


def unreadable(path, error):
    """The UsageError for an input file that could not be opened or read."""
    if isinstance(error, FileNotFoundError):
        why = "no such file"
    elif isinstance(error, IsADirectoryError):
        why = "it is a directory"
    elif isinstance(error, PermissionError):
        why = "permission denied"
    else:
        why = error.strerror or str(error)
    return UsageError(f"cannot read {path}: {why}")


def _fail(message):
    print(f"strop: {message}", file=sys.stderr)
    return EXIT_USAGE


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{message} (see 'strop {self.prog.split()[-1]} --help')")


def _sort_key(value):
    """A pstats sort key from a name or a prefix.  Unlike pstats, a prefix
    shared by keys that sort alike ('cum': cumulative, cumtime) is accepted."""
    import pstats

    if value in ("-1", "0", "1", "2"):
        return int(value)
    keys = pstats.Stats.sort_arg_dict_default
    matches = [k for k in keys if k.startswith(value)]
    if value in keys:
        return value
    if matches and all(keys[k][0] == keys[matches[0]][0] for k in matches):
        return matches[0]
    if matches:
        raise argparse.ArgumentTypeError(
            f"ambiguous sort key {value!r}: it may mean {', '.join(sorted(matches))}")
    raise argparse.ArgumentTypeError(
        f"unknown sort key {value!r}; use one of: calls, cumulative, filename, line, name, "
        "nfl, pcalls, stdname, time (or a prefix)"
    )


def _share(value):
    try:
        pct = float(value)
    except ValueError:
        pct = -1
    if not 0 <= pct <= 100:
        raise argparse.ArgumentTypeError(f"expected a percentage from 0 to 100, not {value!r}")
    return pct


def _positive_int(value):
    try:
        n = int(value)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {value!r}")
    return n


MAX_INPUT = 1 << 30  # the most a profile file, or the gzip data in it, may hold


def _size(value):
    """A byte count: 5000000, 64K, 200M, 2G or 2GiB (powers of 1024)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*([KMGT]?)(?:I?B)?\s*", value, re.IGNORECASE)
    n = float(m.group(1)) * 1024 ** " KMGT".index(m.group(2).upper() or " ") if m else 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a size such as 500M or 2G, not {value!r}")
    return int(n)


def _check_output(path, format, timeline=False):
    """Refuses an output that cannot be written, before anything runs."""
    if format_of(path, format) == "timeline" and not timeline:
        raise UsageError(f"cannot write {path}: a .json file is the Chrome trace timeline, which "
                         "needs --timeline (or name a .speedscope.json file)")
    if format_of(path, format) in ("svg", "png") and shutil.which("dot") is None:
        raise UsageError(f"cannot write {path}: drawing the call graph needs graphviz's 'dot' "
                         "(apt-get install graphviz), or write a .dot file")
    if os.path.isdir(path):
        raise UsageError(f"cannot write {path}: it is a directory; name a file")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"cannot write {path}: no such directory {folder}")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise UsageError(f"cannot write {path}: permission denied")


def split_target(argv, value_opts, kinds=("-m", "-c")):
    """Splits a command's arguments into (options, kind, target, args): the
    program starts at the first argument that is not an option (one of
    `value_opts` takes the next argument along), or after `--`, or at -m
    (kind "module") or -c (kind "code") when `kinds` has them; a path is kind
    "script", and no program at all is kind None."""
    names = {"-m": "module", "-c": "code"}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in kinds:
            if i + 1 >= len(argv):
                raise UsageError(f"{arg} needs a {'module' if arg == '-m' else 'command'}")
            return argv[:i], names[arg], argv[i + 1], argv[i + 2:]
        if arg == "--":
            if i + 1 >= len(argv):
                break
            return argv[:i], "script", argv[i + 1], argv[i + 2:]
        if arg.startswith("-"):
            if arg in value_opts:
                i += 1
            i += 1
            continue
        return argv[:i], "script", arg, argv[i + 1:]
    return argv, None, None, []


# Calls a timeline keeps by default (24 bytes each); the rest are counted.
TIMELINE_CALLS = 1000000


# ---- the program under study, run as python would --------------------------

def _prepare_script(path, args):
    """Code and globals to run `path` as `python path args` would."""
    if not os.path.exists(path):
        raise UsageError(f"can't open file {path!r}: no such file")
    if os.path.isdir(path):
        raise UsageError(f"{path} is a directory; give a script, or -m for a package")
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        raise UsageError(f"can't open file {path!r}: {e.strerror}") from None
    # Python 3.9+ names the main script by its absolute path, 3.8 as given.
    filename = os.path.abspath(path) if sys.version_info >= (3, 9) else path
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as e:
        raise _TargetCompileError(e) from None
    sys.argv[:] = [path] + args
    sys.path[0] = os.path.dirname(os.path.abspath(path))
    return code, _fresh_main(filename)


def _fresh_main(filename):
    import builtins
    import types

    main = types.ModuleType("__main__")
    main.__dict__.update({"__file__": filename, "__builtins__": builtins,
                          "__spec__": None, "__loader__": None, "__package__": None})
    if filename is None:
        del main.__file__
    sys.modules["__main__"] = main
    return main.__dict__


class _TargetCompileError(Exception):
    """The program does not compile: Python's own message, exit status 1."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


# Signals whose default is to end the process without a word: a program
# ended by one still leaves its profile (written by `finish`), then dies by it.
_ENDING_SIGNALS = ("SIGTERM", "SIGHUP")


def on_ending_signals(finish):
    """While the program has not chosen what SIGTERM and SIGHUP do (their
    handler is the default), one of them calls finish(-signum) (which stops
    recording, writes the profile and prints the table) and ends the process by
    the same signal, as it would have ended without strop: no finally block
    or atexit handler of the program runs, its exit status is the signal's.
    A process forked from the program dies at once, as before (the engine's
    guard, endsig.c, acts before Python's handler there).  Returns a
    function that puts the old handlers back."""
    import signal

    from . import _engine

    pid = os.getpid()
    installed = []

    def ending(signum, frame):
        for number, _ in installed:
            signal.signal(number, signal.SIG_DFL)  # a second signal ends it at once
        if os.getpid() == pid:
            try:
                finish(-signum)
            except BaseException:  # a fault of strop's own: the signal still ends it
                pass
        # The program's unwritten stdout is lost, as without strop.
        os._exit(die_like(-signum, streams=(sys.stderr,)))

    for name in _ENDING_SIGNALS:
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) == signal.SIG_DFL:
            signal.signal(number, ending)
            installed.append((number, signal.SIG_DFL))
            _engine.guard_ending_signal(number)

    def restore():
        for number, old in installed:
            if signal.getsignal(number) is ending:
                signal.signal(number, old)

    return restore


def die_like(status, streams=None):
    """Ends strop as the program under study ended.  A negative status is a
    death by signal -status (as subprocess reports it): strop dies by the same
    signal, so that a parent's waitpid() sees what it would have seen without
    strop, not the shell's 128 + N.  `streams` (default stdout and stderr)
    are flushed first.  Returns the status to exit with when the signal does
    not end the process."""
    import signal

    if not isinstance(status, int) or status >= 0:
        return status
    for stream in streams or (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    try:
        signal.signal(-status, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [-status])
        os.kill(os.getpid(), -status)
    except (OSError, ValueError):
        pass
    return 128 - status


def _exit_status(e):
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF  # what the system keeps of it: sys.exit(-1) is 255, no signal
    print(code, file=sys.stderr)
    return 1
