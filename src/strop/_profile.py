"""strop.Profile: the deterministic profiler, cProfile's interface on strop's engine."""
import functools
import os
import sys

from . import _engine
from ._formats import format_of, write_tree
from ._stats import Stats
from ._cli_common import TIMELINE_CALLS

if not hasattr(_engine, "Tracer"):  # the sources' folder, seen as a namespace package
    raise ImportError("strop's C engine is not built for this Python: install strop with "
                      "'pip install .' from its source tree")

__all__ = ["Profile", "profile"]

# strop's own code (this package's folder, spelt as its code objects spell
# it): the tracer leaves it out of every profile, with the engine's own C
# functions (Tracer.disable, ...).
_OWN_FOLDER = os.path.join(os.path.dirname(__file__), "")


class _StatsDict(dict):
    """cProfile's `.stats` dict which, called, gives strop's Stats object."""

    def __init__(self, data, profile):
        super().__init__(data)
        self._profile = profile

    def __call__(self):
        return Stats(self._profile)


class Profile:
    """Records every call of the program, on every thread.

    builtins: count C functions too, as cProfile does; False counts Python
        functions only, on a cheaper hook (the frame-evaluation hook on
        3.9-3.11, sys.monitoring's Python events on 3.12+).
    timer: 'wall' (elapsed time) or 'cpu' (the thread's CPU time).
    threads: each thread's calls under a root frame '<thread NAME>', which
        pprof writes as thread_name/thread_id labels and speedscope as one
        profile per thread.
    waits: also add up the C calls that block (a socket's recv/send/connect/
        accept, time.sleep, select/poll, a lock's acquire) by endpoint, the
        socket's peer read from the kernel: endpoints() and waits_table().
        Needs builtins and the wall timer.
    """

    def __init__(self, builtins=True, timer="wall", *, timeline=False, mechanism="auto",
                 threads=False, waits=False):
        self.builtins = builtins
        self.timer = timer
        self.threads = threads
        if timeline is True:
            timeline = TIMELINE_CALLS
        self._tracer = _engine.Tracer(builtins=builtins, timer=timer, mechanism=mechanism,
                                      timeline=int(timeline or 0), threads=bool(threads),
                                      hide=_OWN_FOLDER, waits=bool(waits))
        self._stats_dict = {}
        self._created = False

    def enable(self):
        self._tracer.enable()

    def endpoints(self):
        """waits=True: the blocking calls by endpoint, most time first, as
        dicts of endpoint, service, calls, time, longest, share, caller."""
        return self._tracer.endpoints()

    def waits_table(self):
        """endpoints() as the report prints them; '' when none."""
        return self._tracer.waits_table()

    def disable(self):
        self._tracer.disable()

    def __enter__(self):
        self.enable()
        return self

    def __exit__(self, *exc_info):
        self.disable()

    def runcall(self, func, /, *args, **kw):
        self.enable()
        try:
            return func(*args, **kw)
        finally:
            self.disable()

    def run(self, cmd):
        import __main__

        return self.runctx(cmd, __main__.__dict__, __main__.__dict__)

    def runctx(self, cmd, globals, locals):
        self.enable()
        try:
            exec(cmd, globals, locals)
        finally:
            self.disable()
        return self

    @property
    def stats(self):
        """Call it, `p.stats()`, for a strop.Stats of the profile so far.

        After create_stats() it is cProfile's plain dict instead, which is
        what pstats.Stats(profile) and marshal read, until it is reassigned."""
        if self._created:
            return self._stats_dict
        return _StatsDict(self._stats_dict, self)

    @stats.setter
    def stats(self, value):
        self._stats_dict = dict(value)
        self._created = False

    def create_stats(self):
        """Stops recording and fills .stats (what pstats.Stats(profile) reads)."""
        self.disable()
        if self.threads:
            self._tracer._name_threads(_thread_names(finished=True))
        self._stats_dict = self._tracer.stats()
        self._created = True

    def dump(self, path, format=None, *, command=None, node_thres=0.005, edge_thres=0.001,
             machine=None):
        """Stops recording and writes the profile.  `format`: pstats (the
        default for unknown names), folded, callgrind, pprof, speedscope, dot,
        svg, png, html, or timeline (a Chrome trace, for a Profile made with
        timeline=True); None chooses by the file name (.prof, .folded, .pb.gz,
        callgrind.out.*, .speedscope.json, .dot, .svg, .png, .html, .json).
        `machine`: text on the machine during the run, for the HTML report."""
        self.disable()
        if self.threads:
            self._tracer._name_threads(_thread_names(finished=True))
        format = format_of(os.fspath(path), format)
        if format == "timeline":
            self._tracer.dump_timeline(path, _thread_names(), command)
        else:
            write_tree(self._tracer, path, format, command, node_thres, edge_thres,
                       machine=machine)
        return path

    def dump_stats(self, path):
        """cProfile's name: writes a pstats file."""
        return self.dump(path, "pstats")

    def print_stats(self, sort=-1):
        Stats(self).strip_dirs().sort_stats(sort).print_stats()

    def clear(self):
        self._tracer.clear()
        self._stats_dict = {}
        self._created = False

    @property
    def info(self):
        """Mechanism, clock, counters, and warnings about what was not seen."""
        return self._tracer.info()

    @property
    def warnings(self):
        return list(self._tracer.info()["warnings"])


def _thread_names(finished=False):
    """{OS thread id: name} of the threads threading knows now (their ident
    where the OS id is unknown); with `finished`, also of the finished ones
    whose Thread object is still alive (threading keeps them in the private
    WeakSet `_dangling`, when it has one).  The OS id, because threading's
    ident of a finished thread is often the next thread's."""
    import threading

    threads = list(getattr(threading, "_dangling", ())) if finished else []
    threads += threading.enumerate()  # the running ones last: an id is reused
    names = {}
    for t in threads:
        key = getattr(t, "native_id", None) or t.ident
        if key is not None:
            names[key] = t.name
    return names


def profile(func=None, *, sort="time", limit=6, builtins=True, timer="wall", stream=None):
    """Decorator: profiles each call of the function and prints the top of the
    table (to stderr unless `stream` says otherwise).  Usable bare
    (`@strop.profile`) or with arguments (`@strop.profile(sort='cumulative')`)."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kw):
            p = Profile(builtins=builtins, timer=timer)
            try:
                return p.runcall(function, *args, **kw)
            finally:
                out = stream if stream is not None else sys.stderr
                Stats(p, stream=out).sort_stats(sort).print_stats(limit)

        wrapper.__wrapped__ = function
        return wrapper

    if func is not None and callable(func):
        return decorate(func)
    return decorate
