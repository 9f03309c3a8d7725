"""strop.track_memory: where memory comes from, charged to the call tree.

Every Python allocation (the mem and obj domains of PEP 445) is charged to
the call path that made it, as the tracer's shadow stack knows it; the engine
(alloc.c, memview.c) keeps per call path the bytes and blocks allocated, live,
at the exact peak, and temporary.  This module is the thin layer: starting
and stopping, the table, and writing through the same writers as every other
profile (_formats.write_tree).  It sits below the command line (cli.py's
`strop mem`) and beside _profile.py; nothing here imports cli.py.
"""
import functools
import os
import sys

from . import _engine
from ._formats import format_of, write_tree
from ._profile import _thread_names

__all__ = ["MemoryProfile", "track_memory", "VIEWS", "MEMORY_FORMATS"]

VIEWS = ("peak", "leaks", "allocated", "temporary")
# The writers that draw a memory profile (bytes, not times).
MEMORY_FORMATS = ("pprof", "folded", "speedscope", "html")

_OWN_FOLDER = os.path.join(os.path.dirname(__file__), "")

# How the table says what it is ordered by.
_COLUMNS = {
    "peak": "peak", "leaks": "at end", "allocated": "allocated", "temporary": "temporary",
}


def _mechanism():
    # Python functions only: sys.monitoring's PY_START/PY_RETURN on 3.12+,
    # else the engine's choice (the frame-evaluation hook on 3.9-3.11).
    return "monitoring" if _engine.HAVE_MONITORING else "auto"


def format_bytes(n):
    """Bytes with three significant digits and a binary unit: '6.07 MiB'."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            if unit == "B":
                return "%d B" % n
            return ("%.3g %s" % (n, unit)) if abs(n) < 1000 else ("%.0f %s" % (n, unit))
        n /= 1024
    return "%.3g TiB" % n  # not reached


class MemoryProfile:
    """One recording of allocations, charged to the calling-context tree."""

    def __init__(self, threads=False, sample_bytes=0, max_memory=0):
        """sample_bytes: 0 tracks every allocation; N tracks one allocation
        per N bytes on average (Poisson spacing, as tcmalloc and Go), each
        weighted by the inverse of its chance of being picked, so that every
        figure is an unbiased estimate at a fraction of the cost."""
        if not isinstance(sample_bytes, int) or sample_bytes < 0:
            raise ValueError("sample_bytes must be a whole number of bytes, 0 for every "
                             "allocation, not %r" % (sample_bytes,))
        self._tracer = _engine.Tracer(builtins=False, mechanism=_mechanism(), memory=True,
                                      threads=bool(threads), hide=_OWN_FOLDER,
                                      sample_bytes=sample_bytes)
        if not isinstance(max_memory, int) or max_memory < 0:
            raise ValueError("max_memory must be a whole number of bytes, 0 for no limit, not "
                             "%r" % (max_memory,))
        self._tracer.set_memory_limit(max_memory)
        self.threads = bool(threads)
        self.command = None

    def enable(self):
        self._tracer.enable()

    def disable(self):
        self._tracer.disable()
        if self.threads:  # each thread's root frame, '<thread NAME>'
            self._tracer._name_threads(_thread_names(finished=True))

    @property
    def info(self):
        """peak_bytes, peak_blocks, end_bytes, end_blocks, allocations,
        untracked, failed, and the tracker's own table_bytes and node_bytes."""
        return self._tracer.memory_info()

    @property
    def series(self):
        """Memory over time: [(seconds, traced bytes, resident bytes, private
        resident bytes)], a point at most every 10 ms while allocations
        happen (-1 where /proc could not be read)."""
        return self._tracer.memory_series()

    @property
    def warnings(self):
        """What the tracer could not see (its info()'s warnings)."""
        return list(self._tracer.info()["warnings"])

    def table(self, view="peak"):
        """Per function: (file, line, name), then peak bytes and blocks,
        allocated bytes and allocations, live bytes and blocks at the end,
        temporary bytes and blocks; largest first in `view`."""
        _check_view(view)
        return self._tracer.memory_table(view)

    def print_table(self, view="peak", limit=25, stream=None):
        """Prints the totals and the functions holding most in `view`."""
        _check_view(view)
        out = stream if stream is not None else sys.stdout
        info = self.info
        print("Memory: peak %s in %s blocks; live at end %s in %s blocks; %s allocations, %s "
              "in total" % (format_bytes(info["peak_bytes"]), "{:,}".format(info["peak_blocks"]),
                            format_bytes(info["end_bytes"]), "{:,}".format(info["end_blocks"]),
                            "{:,}".format(info["allocations"]),
                            format_bytes(sum(r[3] for r in self.table("allocated")))), file=out)
        if info["sample_bytes"]:
            print("Sampled: one allocation per %s on average (%s samples); every figure is an "
                  "estimate" % (format_bytes(info["sample_bytes"]),
                                "{:,}".format(info["samples"])), file=out)
        if info["failed"]:
            print("strop: warning: the tracker ran out of memory: allocations after that are "
                  "not in the profile", file=out)
        line = sparkline_text(self.series, peak_bytes=info["peak_bytes"])
        if line:
            print(line, file=out)
        if info["limit_hit"]:
            print("The traced memory passed the limit of %s: the program was stopped with "
                  "MemoryError, and the peak is what was alive then"
                  % format_bytes(info["limit_bytes"]), file=out)
        rows = self._tracer.memory_table(view)
        print("", file=out)
        print("   Ordered by: %s%s" % (_COLUMNS[view], "" if view != "leaks"
                                        else " (live when tracking stopped)"), file=out)
        print("", file=out)
        head = "%11s %9s %11s %9s %11s %9s" % ("peak", "blocks", "allocated", "allocs",
                                                "at end", "blocks")
        if view == "temporary":
            head += " %11s %9s" % ("temporary", "blocks")
        print(head + " filename:lineno(function)", file=out)
        for row in rows[:limit] if limit else rows:
            (file, line, name), pb, pk, ab, an, lb, lk, tb, tk = row
            text = "%11s %9s %11s %9s %11s %9s" % (format_bytes(pb), pk, format_bytes(ab), an,
                                                   format_bytes(lb), lk)
            if view == "temporary":
                text += " %11s %9s" % (format_bytes(tb), tk)
            where = name if file == "~" else "%s:%d(%s)" % (file, line, name)
            print(text + " " + where, file=out)
        print("", file=out)

    def dump(self, path, format=None, *, view="peak", command=None):
        """Writes `view` of the recording: pprof (a heap profile with
        alloc_objects, alloc_space, inuse_objects, inuse_space; in use means
        at the peak for the peak view, at the end otherwise), folded stacks
        weighted by bytes, speedscope in bytes, or the HTML page.  `format`
        None chooses by the file name, as Profile.dump does."""
        _check_view(view)
        self.disable()
        format = format_of(os.fspath(path), format)
        if format not in MEMORY_FORMATS:
            raise ValueError(
                "a memory profile is written as pprof (.pb.gz), folded (.folded), speedscope "
                "(.speedscope.json) or html (.html), not %s" % format)
        self._tracer.set_memory_view(view)
        try:
            write_tree(self._tracer, path, format, command or self.command)
        finally:
            self._tracer.set_memory_view(None)
        return path


_BARS = " ▁▂▃▄▅▆▇█"


def sparkline(values, width=40):
    """`values` (a list of numbers at even times) as one line of `width`
    bars or fewer, each the largest value of its stretch, scaled to the
    largest of all."""
    if not values:
        return ""
    width = min(width, len(values))
    top = max(values) or 1
    cells = []
    for c in range(width):
        stretch = values[c * len(values) // width:(c + 1) * len(values) // width] or [0]
        cells.append(_BARS[max(0, min(8, int(round(8 * max(stretch) / top))))])
    return "".join(cells)


def sparkline_text(series, width=40, peak_bytes=None):
    """The line print_table shows: the traced memory over time as bars,
    its peak (`peak_bytes`, exact, when given) and about when, and the
    resident set's peak."""
    if len(series) < 8:  # too short a run to draw
        return ""
    end = series[-1][0] or 1e-9
    # The traced total at even times: the last point at or before each.
    steps, values, j = width * 4, [], 0
    for k in range(steps):
        t = end * k / (steps - 1)
        while j + 1 < len(series) and series[j + 1][0] <= t:
            j += 1
        values.append(max(series[j][1], 0))
    peak = max(series, key=lambda p: p[1])
    rss = max(series, key=lambda p: p[2])
    text = "Over %.2f s: %s  peak %s at about %.2f s" % (
        end, sparkline(values, width), format_bytes(peak[1] if peak_bytes is None
                                                    else peak_bytes), peak[0])
    if rss[2] > 0:
        text += "; resident set peak %s (private %s)" % (format_bytes(rss[2]),
                                                       format_bytes(max(rss[3], 0)))
    return text


def _check_view(view):
    if view not in VIEWS:
        raise ValueError("unknown memory view %r: choose %s" % (view, ", ".join(VIEWS)))


class _Tracking:
    """What track_memory() returns: a context manager and a decorator."""

    def __init__(self, view, limit, stream, output, sample_bytes, max_memory=0):
        _check_view(view)
        self.view, self.limit, self.stream, self.output = view, limit, stream, output
        self.sample_bytes = sample_bytes
        self.max_memory = max_memory
        self.profile = None

    def __enter__(self):
        if self.profile is not None:
            raise RuntimeError("this track_memory() is already tracking: it cannot be "
                               "entered twice")
        self.profile = MemoryProfile(sample_bytes=self.sample_bytes, max_memory=self.max_memory)
        self.profile.enable()
        return self.profile

    def __exit__(self, *exc_info):
        self.profile.disable()
        if self.output:
            self.profile.dump(self.output, view=self.view)
        return False

    def __call__(self, function):
        view, limit, stream, output = self.view, self.limit, self.stream, self.output
        sample_bytes, max_memory = self.sample_bytes, self.max_memory

        @functools.wraps(function)
        def wrapper(*args, **kw):
            profile = MemoryProfile(sample_bytes=sample_bytes, max_memory=max_memory)
            profile.enable()
            try:
                return function(*args, **kw)
            finally:
                profile.disable()
                profile.print_table(view, limit,
                                    stream if stream is not None else sys.stderr)
                if output:
                    profile.dump(output, view=view)

        wrapper.__wrapped__ = function
        return wrapper


def track_memory(func=None, *, view="peak", limit=10, stream=None, output=None,
                 sample_bytes=0, max_memory=0):
    """Charges every Python allocation to the call path that made it.

    As a context manager, ``with strop.track_memory() as t:`` gives a
    MemoryProfile (t.print_table(), t.dump('mem.pb.gz'), t.table()).  As a
    decorator, bare (``@strop.track_memory``) or with arguments, each call
    of the function is tracked and the table of `view` printed to stderr
    (or `stream`); `output` also writes the profile there.  One tracking at
    a time in a process: entering a second one raises RuntimeError.
    `sample_bytes` N > 0 tracks one allocation per N bytes on average, with
    unbiased estimates (see MemoryProfile).  `max_memory` N > 0 stops the
    program with MemoryError the first time its traced memory passes N
    bytes, as running out of memory would (Fil's report of what filled it):
    the peak view is then what was alive at that moment."""
    if func is not None and callable(func):
        return _Tracking(view, limit, stream, output, sample_bytes, max_memory)(func)
    return _Tracking(view, limit, stream, output, sample_bytes, max_memory)
