"""strop.memory_grow(): does calling a function again and again make memory grow?

As CPython's `regrtest -R` hunts reference leaks: the function is called
`warmups` times (caches fill, imports happen), then `runs` times with a
measurement after each call (after gc.collect()): the objects of a whole-heap
census and their bytes (C: heap.c), sys.getallocatedblocks(),
sys.gettotalrefcount() where the build has it, the bytes malloc has handed
out (mallinfo2) and the resident set. A series grows when every call added
to it (regrtest's rule: each delta at least 1); it is noise when it rose on
average by one a call or more without rising every time.

A leak is then named: the objects created during the runs and still alive
(setrelheap's baseline, C), by kind and per call, with a path from a root to
a sample of each kind and the function that made them (one more call, under
allocation tracing); objects whose references grew by about one per call
while no object the census sees took them (a missing Py_DECREF in C:
HeapGraph.ref_growth); and growth of malloc's bytes while no Python object
grows (the leak is below Python, in C).

memory_grow replaces setrelheap()'s baseline with its own.
"""
import gc
import statistics
import sys
from array import array

from . import _engine
from ._memory import Partition, path_to

__all__ = ["memory_grow", "GrowReport"]

_SERIES = ("objects", "bytes", "blocks", "refs", "native", "rss")


def _rss():
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * 4096
    except (OSError, IndexError, ValueError):
        return 0


def _measure(series, i):
    """Fills column i of every series.  Keeps nothing alive: the census is
    dropped before malloc's figures are read.  The blocks the census itself
    leaves allocated are not the function's: on 3.11 it kept one more at each
    census for a while (its reading of the running frames' locals), a leak of
    one block a call to the eye; each census's own rise is added up in
    series[-1][0] and taken off."""
    objects, size, before, after = _engine.heap_census_counts()
    series[0][i] = objects
    series[1][i] = size
    series[2][i] = before - series[-1][0]
    series[-1][0] += after - before
    series[3][i] = sys.gettotalrefcount() if hasattr(sys, "gettotalrefcount") else 0
    native = _engine.native_bytes()
    series[4][i] = native if native is not None else 0
    series[5][i] = _rss()


def _grows(deltas):
    return bool(deltas) and all(d >= 1 for d in deltas)


def _noisy(deltas):
    """Objects: up by one a call on average without rising every call."""
    return not _grows(deltas) and sum(deltas) >= len(deltas)


def _allocator_grows(deltas):
    """Malloc's bytes also move with what other threads allocate and free
    meanwhile (pytest-xdist's messenger thread
    showed [+160, +0, +80, +80, +80] for 80 bytes leaked a call): they grow
    when they rose on every call but one (every call, under 4 calls) and by
    at least one a call on average."""
    rising = sum(1 for d in deltas if d >= 1)
    return rising >= len(deltas) - (1 if len(deltas) >= 4 else 0) and sum(deltas) >= len(deltas)


def _mostly_rising(deltas):
    """Allocator figures that rose on every call but one without growing:
    CPython's own caches (the arenas' radix tree, free lists, malloc's
    per-thread cache) filling, or noise."""
    return not _grows(deltas) and sum(1 for d in deltas if d >= 1) >= len(deltas) - 1 \
        and sum(deltas) > 0


class GrowReport:
    """What memory_grow found.

    ``verdict``: "grows", "stable" or "inconclusive (too noisy)".
    ``deltas``: per series (objects, bytes, blocks, refs, native, rss) the change
    each measured call made (the last round's).  ``per_call``: the mean of each
    for the census (objects, bytes) and references, the median for the
    allocator's figures (blocks, native: malloc's bytes, rss), which move in
    bursts as caches fill; for malloc's bytes rising call after call, the
    smallest rise.  ``survivors``: a
    Partition of the objects made during the runs and alive after them.
    ``samples``: [(kind, count per call, bytes per call, RefPath)] for the
    biggest kinds of survivors; ``made_in``: {kind: "file:line(function)"},
    the function that made them, found by one more call under allocation
    tracing.  ``ref_leaks``: [(kind, references per call,
    RefPath)].  ``native_leak``: malloc's bytes grew every call while Python's
    objects did not.
    """

    __slots__ = ("name", "verdict", "warmups", "runs", "deltas", "per_call", "survivors",
                 "samples", "ref_leaks", "native_leak", "reasons", "has_refs", "has_native",
                 "rounds", "refcount_grows", "made_in")

    def __str__(self):
        lines = ["memory_grow(%s): %s, after %d warm-up%s and %d round%s of %d measured "
                 "call%s." % (self.name, self.verdict, self.warmups,
                              "" if self.warmups == 1 else "s", self.rounds,
                              "" if self.rounds == 1 else "s", self.runs,
                              "" if self.runs == 1 else "s")]
        for reason in self.reasons:
            lines.append("  " + reason)
        per = self.per_call
        lines.append("Per call: %+.1f objects, %+.0f bytes (census); %+.1f allocated blocks; "
                     "%s references; %s malloc bytes; %+.0f resident bytes."
                     % (per["objects"], per["bytes"], per["blocks"],
                        "%+.1f" % per["refs"] if self.has_refs else "no count of",
                        "%+.0f" % per["native"] if self.has_native else "no count of",
                        per["rss"]))
        for kind, count, size, where in self.samples:
            holder = where.holder
            held = ""
            if holder is not None and not where.held_by_c:
                held = ", held by %s %s" % (type(holder).__name__, _holder_name(where))
            made = self.made_in.get(kind)
            lines.append("  %.1f %s (%.0f bytes) a call%s%s: e.g. %s"
                         % (count, kind, size, ", made in %s" % made if made else "", held, where))
        for kind, growth, where in self.ref_leaks:
            lines.append("  reference leak: %.1f reference%s a call to a %s that nothing the "
                         "census sees holds (a missing Py_DECREF in C): %s"
                         % (growth, "" if growth == 1 else "s", kind, where))
        if self.native_leak and _allocator_grows(self.deltas["native"]):
            lines.append("  malloc's bytes grew by %.0f a call while no Python object grew: "
                         "the leak is below Python, in C." % per["native"])
        elif self.native_leak:
            lines.append("  CPython's allocator kept %.0f more block%s a call while no Python "
                         "object grew: C code takes memory (PyMem_Malloc, PyObject_Malloc) and "
                         "does not give it back." % (per["blocks"], "" if per["blocks"] == 1
                                                     else "s"))
        return "\n".join(lines)

    __repr__ = __str__


def _holder_name(where):
    """The holder on a path, by its name: `d` of ``sys.modules['m'].d[5]``,
    `cache[17]` of ``sys.modules['m'].cache[17].history``, with its whole
    expression beside it."""
    steps = where.steps[:-1]
    short = []
    for step in reversed(steps):
        short.insert(0, step)
        if step.startswith(".") or not step.startswith(("[", "<")):
            break
    name = "".join(short).lstrip(".")
    whole = "".join(steps)
    return "`%s`" % name if whole == name else "`%s` (%s)" % (name, whole)


def memory_grow(function, *args, warmups=3, runs=5, **kwargs):
    """Calls function(*args, **kwargs) `warmups` times, then `runs` times
    measuring after each, and returns a GrowReport with a verdict: "grows",
    "stable" or "inconclusive (too noisy)".  When a round of `runs` calls
    grows, up to two more rounds are run and the last one decides: a cache
    that fills for a while (CPython's free lists, malloc's per-thread cache,
    an lru_cache larger than the warm-ups) stops growing; a leak does not."""
    if runs < 2:
        raise ValueError("memory_grow needs runs >= 2, not %r" % (runs,))
    if warmups < 0:
        raise ValueError("memory_grow needs warmups >= 0, not %r" % (warmups,))
    series = [array("q", bytes(8 * (runs + 1))) for _ in _SERIES] + [array("q", [0])]
    # The measurement warms up too: malloc's per-thread cache (tcache) keeps
    # up to 7 freed chunks of each small size, which mallinfo counts as in
    # use, and the census's own allocations fill it during the first calls.
    for _ in range(warmups):
        function(*args, **kwargs)
        _measure(series, 0)
    for rounds in range(1, 4):
        grown, survivors = _round(function, args, kwargs, runs, series)
        report = _report(function, warmups, runs, series, grown, survivors)
        if report.verdict == "stable":
            break
        del grown, survivors
    report.rounds = rounds
    report.made_in = {}
    if report.samples:
        report.made_in = _made_in(function, args, kwargs, [kind for kind, *_ in report.samples])
    return report


def _made_in(function, args, kwargs, kinds):
    """Where one more call makes the objects of `kinds` that outlive it:
    {kind: "file:line(function)"} of the function that allocated most of
    them, by allocation tracing (the tracing running already, or one of its
    own); {} when it cannot say."""
    from ._memtrace import MemoryProfile

    profile = None
    try:
        if not _engine.memory_tracing():
            profile = MemoryProfile()
            profile.enable()
        _engine.heap_setrelheap()
        # A full collection empties CPython's free lists: the call's objects
        # then come from the allocator, where the tracing sees them made.
        gc.collect()
        function(*args, **kwargs)
        gc.collect()
        made = Partition(_engine.heap_census(None, True))
        names = [name for name, _, _ in made.rows]
        sites = {}
        for kind in kinds:
            if kind in names:
                traced = [site for site, _, _ in made[names.index(kind)].bysite.rows
                          if not site.startswith("<")]
                if traced:
                    sites[kind] = traced[0]
        return sites
    except Exception:  # the function's own error, or no tracing to be had: nothing to say
        return {}
    finally:
        if profile is not None:
            profile.disable()


def _round(function, args, kwargs, runs, series):
    gc.collect()
    census = _engine.heap_census(None)
    graph = _engine.heap_graph(census)
    snapshot = graph.unseen_snapshot()
    del graph, census
    _engine.heap_setrelheap()
    _measure(series, 0)
    for i in range(1, runs + 1):
        function(*args, **kwargs)
        _measure(series, i)
    gc.collect()
    # The survivors first: the list of leaked references is new too.
    survivors = _engine.heap_census(None, True)
    census = _engine.heap_census(None)
    graph = _engine.heap_graph(census)
    grown = graph.ref_growth(snapshot, runs)
    del graph, census
    return grown, survivors


def _report(function, warmups, runs, series, grown, survivors):
    r = GrowReport()
    r.name = getattr(function, "__qualname__", None) or repr(function)
    r.warmups, r.runs, r.rounds = warmups, runs, 1
    r.deltas = {name: [s[i + 1] - s[i] for i in range(runs)] for name, s in zip(_SERIES, series)}
    # The census's figures are exact: their mean.  The allocator's move with
    # its caches (a burst when malloc takes a new block of memory): the median;
    # for malloc's bytes rising call after call, the smallest rise, what every
    # call added at least (its per-thread cache filling read [+816, +944,
    # +816, +80, +80] for 64 bytes leaked a call on 3.13).
    r.per_call = {name: ((s[runs] - s[0]) / runs if name in ("objects", "bytes", "refs")
                         else statistics.median(r.deltas[name]))
                  for name, s in zip(_SERIES, series)}
    if _allocator_grows(r.deltas["native"]):
        r.per_call["native"] = min(d for d in r.deltas["native"] if d >= 1)
    r.has_refs = hasattr(sys, "gettotalrefcount")
    r.has_native = _engine.native_bytes() is not None
    r.survivors = Partition(survivors)
    r.reasons = []
    r.samples = []
    r.ref_leaks = []
    objects = r.deltas["objects"]
    py_grows = _grows(objects)
    if py_grows:
        r.reasons.append("Every call left more objects alive than it found (%s)."
                         % _fmt(objects))
        for index, (kind, count, size) in enumerate(r.survivors.rows[:3]):
            if count < runs:
                break
            sample = r.survivors[index].objects()[-1]
            r.samples.append((kind, count / runs, size / runs, path_to(sample)))
            del sample
    for obj, growth in grown:
        r.ref_leaks.append((type(obj).__qualname__, growth / runs, path_to(obj)))
    del grown
    if r.ref_leaks:
        r.reasons.append("References grew by one or more a call on %d object%s that no object "
                         "holds." % (len(r.ref_leaks), "" if len(r.ref_leaks) == 1 else "s"))
    refs = r.deltas["refs"]
    r.refcount_grows = r.has_refs and _grows(refs) and not py_grows
    if r.refcount_grows:
        r.reasons.append("sys.gettotalrefcount() grew on every call (%s) while the objects did "
                         "not: references leak (a missing Py_DECREF in C)." % _fmt(refs))
    native = r.deltas["native"]
    blocks = r.deltas["blocks"]
    # Blocks move by one with CPython's free lists: every call, as objects.
    r.native_leak = ((r.has_native and _allocator_grows(native)) or _grows(blocks)) \
        and not py_grows and not r.ref_leaks and not r.refcount_grows
    if r.native_leak:
        r.reasons.append("malloc's bytes (%s) or the allocated blocks (%s) grew call after call "
                         "while the objects did not." % (_fmt(native), _fmt(blocks)))
    if py_grows or r.ref_leaks or r.refcount_grows or r.native_leak:
        r.verdict = "grows"
    elif _noisy(objects) or _mostly_rising(blocks) or \
            (r.has_native and _mostly_rising(native) and not _allocator_grows(native)):
        r.verdict = "inconclusive (too noisy)"
        r.reasons.append("Objects %s, blocks %s, malloc bytes %s: up on average without "
                         "rising every call." % (_fmt(objects), _fmt(blocks), _fmt(native)))
    else:
        r.verdict = "stable"
    return r


def _fmt(deltas):
    return "[" + ", ".join("%+d" % d for d in deltas) + "]"


_engine.heap_own_types(GrowReport)
