"""strop.Sampler: the statistical profiler aimed at the calling process.

    with strop.Sampler(rate=1000) as s:
        work()
    s.stats().sort_stats("tottime").print_stats(10)

A process cannot read its own stacks from outside while it runs, so this
starts a helper (``python -m strop._sampler_child``) that reads its parent
with the engine's out-of-process reader; on Linux the parent first allows it
with prctl(PR_SET_PTRACER), which Yama's ptrace_scope=1 asks for.  The helper
keeps its profile until the Sampler is closed, so dump() writes any format.
Stacks that pass through this file (the Sampler's own start and stop) are
left out of the profile.
"""
import ast
import os
import subprocess
import sys
import tempfile
import weakref

__all__ = ["Sampler"]

# Our frames (start, stop, the handshake with the helper) are not the user's:
# the helper leaves out every stack with a frame of this file.  Code objects
# carry the file name the module was imported by, as __file__ does.
_OWN_FILE = __file__


def _end(child):
    """Ends the helper: closing its stdin tells it to exit."""
    try:
        child.stdin.close()
    except OSError:
        pass
    try:
        child.wait(5)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


class Sampler:
    """Samples this process's Python stacks from a helper process.

    rate: samples a second; mode: 'wall' (every thread; blocked threads get a
    leaf frame naming the system call they wait in) or 'cpu' (threads on a
    CPU only); threads: a root frame per thread.
    """

    def __init__(self, rate=100, mode="wall", threads=False):
        if mode not in ("wall", "cpu"):
            raise ValueError(f"mode must be 'wall' or 'cpu', not {mode!r}")
        if not 0 < float(rate) <= 100000:
            raise ValueError(f"rate must be above 0 and at most 100000 Hz, not {rate!r}")
        self.rate, self.mode, self.threads = float(rate), mode, bool(threads)
        self._child = None
        self._stats = None
        self._finalizer = None

    def _ask(self, line):
        self._child.stdin.write(line + "\n")
        self._child.stdin.flush()
        answer = self._child.stdout.readline().strip()
        if not answer:
            raise RuntimeError("the sampler's helper process ended unexpectedly")
        if answer.startswith("error: "):
            raise OSError(answer[len("error: "):])
        return answer

    def start(self):
        """Starts sampling; returns self."""
        if self._child is not None:
            raise RuntimeError("this Sampler has started already")
        from . import _engine

        fd, self._path = tempfile.mkstemp(prefix="strop-sample-", suffix=".prof")
        os.close(fd)
        self._child = subprocess.Popen(
            [sys.executable, "-m", "strop._sampler_child", str(os.getpid()), repr(self.rate),
             self.mode, "1" if self.threads else "0", _OWN_FILE],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True)
        self._finalizer = weakref.finalize(self, _end, self._child)
        try:
            _engine._set_ptracer(self._child.pid)
            self._ask("go")
        except BaseException:
            self.close()
            raise
        return self

    def stop(self):
        """Stops sampling and loads the profile."""
        if self._child is None:
            raise RuntimeError("this Sampler has not started")
        if self._stats is not None:
            return
        from ._stats import Stats

        path = self._path  # made before sampling began, so as not to be sampled
        try:
            self._ask("stop " + path)
            self._stats = Stats(path)
        finally:
            os.unlink(path)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def stats(self):
        """The profile as strop.Stats (sample counts as call counts)."""
        if self._stats is None:
            raise RuntimeError("the Sampler is still sampling: stats() comes after stop()")
        return self._stats

    def dump(self, path, format=None):
        """Writes the profile to `path`: pstats, folded, callgrind, pprof,
        speedscope, dot, svg, png or html, by `format` or the file's name (as
        Profile.dump).  Returns path."""
        from ._formats import TREE_FORMATS, format_of

        format = format_of(os.fspath(path), format)
        if format not in TREE_FORMATS:
            raise ValueError(f"unknown format {format!r}: choose {', '.join(TREE_FORMATS)}")
        if self._stats is None:
            raise RuntimeError("the Sampler is still sampling: dump() comes after stop()")
        if self._finalizer is None or not self._finalizer.alive:
            raise RuntimeError("the Sampler is closed")
        self._ask(f"dump {os.path.abspath(path)} {format}")
        return path

    def report(self, limit=25, sort="own"):
        """The function table by own and total share of samples, as text."""
        if self._stats is None or self._finalizer is None or not self._finalizer.alive:
            raise RuntimeError("report() comes after stop() and before close()")
        return ast.literal_eval(self._ask(f"report {int(limit)} {sort}"))

    def close(self):
        """Ends the helper process (dump() is no longer possible)."""
        if self._finalizer is not None:
            self._finalizer()
