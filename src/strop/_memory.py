"""What is alive: strop.heap(), setrelheap(), iso(), sizeof().

The census itself is C (strop._engine.heap_census, see _engine/heap.h): it
walks every object from the collector's lists through tp_traverse, counts
each once at its sys.getsizeof size and gives it a kind. This module only
wraps the result (a HeapSet) in a Partition that prints as Guppy's heapy
prints, and chooses the roots for iso() and sizeof().

Partition and DeepSize are registered with the engine as strop's own: a
census leaves their instances out, and they hold nothing else the collector
lists, so a census never counts strop's objects.
"""
import sys

from . import _engine

__all__ = ["heap", "setrelheap", "iso", "sizeof", "Partition", "HeapDiff", "DeepSize"]

_ROWS_SHOWN = 10
_BY_TITLE = {"kind": "Kind (class / dict of class)", "type": "Type", "module": "Module"}

# True once setrelheap() has been called: heap() counts only what is newer.
_relative = False


class Partition:
    """A set of objects grouped by kind (or type, or module), printed as heapy prints.

    ``p.count`` objects, ``p.size`` bytes; ``p[i]`` is the set of row i (itself a
    Partition), ``p[i:j]`` the set of those rows; ``p.more`` shows the next rows;
    ``p.bytype`` and ``p.bymodule`` group the same objects differently; ``p.diff(q)``
    says what is in one and not the other, by kind.
    """

    __slots__ = ("_set", "_by", "_start")

    def __init__(self, heapset, by="kind", start=0):
        self._set = heapset
        self._by = by
        self._start = start

    @property
    def count(self):
        """Number of objects."""
        return len(self._set)

    @property
    def size(self):
        """Total bytes: sys.getsizeof of each object."""
        return self._set.size

    @property
    def bad_sizeof(self):
        """Objects whose __sizeof__ raised or gave no size, counted at their basic size."""
        return self._set.bad_sizeof

    def __len__(self):
        return len(self._set)

    @property
    def rows(self):
        """[(name, count, size)] per group, biggest size first."""
        return self._set.rows(self._by)

    @property
    def bytype(self):
        """The same objects by type: every "dict of X" is "dict"."""
        return Partition(self._set, "type")

    @property
    def bymodule(self):
        """The same objects by the module that defines their class."""
        return Partition(self._set, "module")

    @property
    def bykind(self):
        """The same objects by kind (class, "dict of class")."""
        return Partition(self._set, "kind")

    @property
    def more(self):
        """The next rows of the table."""
        return Partition(self._set, self._by, self._start + _ROWS_SHOWN)

    def __getitem__(self, index):
        rows = self.rows
        if isinstance(index, slice):
            names = [row[0] for row in rows[index]]
        else:
            names = [rows[index][0]]
        return Partition(self._set.select(self._by, names), self._by)

    def entries(self):
        """[(object, size, kind)] of every object in the set."""
        return self._set.entries()

    def objects(self):
        """The objects of the set, as a list."""
        return [entry[0] for entry in self._set.entries()]

    def diff(self, other):
        """What this set has that `other` has not, and the reverse: a HeapDiff by kind."""
        if not isinstance(other, Partition):
            raise TypeError("diff() takes a Partition, not %s" % type(other).__name__)
        return HeapDiff(Partition(self._set.minus(other._set)),
                        Partition(other._set.minus(self._set)))

    def format(self, rows=_ROWS_SHOWN):
        """The table from this partition's first row: `rows` rows, None for all."""
        return _table(self.rows, self.count, self.size, self._start, _BY_TITLE[self._by], rows)

    def __str__(self):
        return self.format()

    __repr__ = __str__


class HeapDiff:
    """What was added (in the newer census only) and what went away, each a Partition."""

    __slots__ = ("added", "removed")

    def __init__(self, added, removed):
        self.added = added
        self.removed = removed

    @property
    def size(self):
        """Bytes added minus bytes removed."""
        return self.added.size - self.removed.size

    @property
    def count(self):
        """Objects added minus objects removed."""
        return self.added.count - self.removed.count

    def format(self, rows=_ROWS_SHOWN):
        """Both tables, `rows` rows each (None for all)."""
        return "Added:\n%s\nRemoved:\n%s" % (self.added.format(rows), self.removed.format(rows))

    def __str__(self):
        return self.format()

    __repr__ = __str__


class DeepSize:
    """strop.sizeof(obj): what obj reaches, split into what only it reaches and what the
    rest of the program also reaches."""

    __slots__ = ("own", "shared")

    def __init__(self, own, shared):
        self.own = own
        self.shared = shared

    @property
    def size(self):
        """Bytes of everything reachable from the object, each object once."""
        return self.own.size + self.shared.size

    @property
    def count(self):
        return self.own.count + self.shared.count

    def __int__(self):
        return self.size

    def __str__(self):
        return ("Deep size %d bytes in %d objects: %d bytes in %d objects reached only "
                "from it, %d bytes in %d objects also reached from the rest of the program."
                % (self.size, self.count, self.own.size, self.own.count, self.shared.size,
                   self.shared.count))

    __repr__ = __str__


def _table(rows, count, size, start, title, shown=_ROWS_SHOWN):
    lines = ["Partition of a set of %d object%s. Total size = %d bytes."
             % (count, "" if count == 1 else "s", size),
             " Index  Count   %     Size   % Cumulative  % " + title]
    cumulative = sum(row[2] for row in rows[:start])
    end = len(rows) if shown is None else min(start + shown, len(rows))
    for index in range(start, end):
        name, rcount, rsize = rows[index]
        cumulative += rsize
        lines.append("%6d %6d %3d %8d %3d %10d %3d %s" % (
            index, rcount, _percent(rcount, count), rsize, _percent(rsize, size),
            cumulative, _percent(cumulative, size), name))
    left = len(rows) - end
    if left > 0:
        lines.append("<%d more row%s. Type e.g. '_.more' to view.>"
                     % (left, "" if left == 1 else "s"))
    return "\n".join(lines)


def _percent(part, whole):
    return int(100 * part / whole) if whole else 0


def heap():
    """The census of every object alive (after setrelheap(): created since), as a Partition."""
    return Partition(_engine.heap_census(None, _relative))


def setrelheap():
    """Makes later heap() calls count only the objects created after this call."""
    global _relative
    _engine.heap_setrelheap()
    _relative = True


def iso(*objs):
    """The Partition of just these objects (each counted once, nothing they reach)."""
    return Partition(_engine.heap_census(objs, False, False))


def _program_roots():
    """What the rest of the program holds: every module and the frames of every thread.

    On 3.11+ a running frame does not show its locals to tp_traverse, so the
    values of each frame's f_locals are added (3.11 and 3.12 fill the frame's
    locals dict for it, as for any debugger; 3.13 gives a proxy).
    """
    roots = [sys.modules]
    me = sys._getframe()
    for frame in sys._current_frames().values():
        while frame is not None:
            if frame is not me:
                roots.append(frame)
                if sys.version_info >= (3, 11):
                    roots.append(list(frame.f_locals.values()))
            frame = frame.f_back
    return roots


def sizeof(obj):
    """Deep size of obj: everything reachable from it, each object once, as a DeepSize
    whose ``own`` part only obj reaches and whose ``shared`` part the rest of the
    program reaches too (through its modules and the frames of its threads)."""
    reach = _engine.heap_census((obj,))
    rest = _engine.heap_census(_program_roots(), False, True, obj)
    own = reach.minus(rest)
    return DeepSize(Partition(own), Partition(reach.minus(own)))


_engine.heap_own_types(Partition, HeapDiff, DeepSize)
