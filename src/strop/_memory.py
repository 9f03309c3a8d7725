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

__all__ = ["heap", "setrelheap", "iso", "sizeof", "path_to", "retained", "retainers", "cycles",
           "Partition", "HeapDiff", "DeepSize", "RefPath", "Cycles"]

_ROWS_SHOWN = 10
_BY_TITLE = {"kind": "Kind (class / dict of class)", "type": "Type", "module": "Module",
             "rcs": "Referrers by Kind (class / dict of class)",
             "site": "Allocated in filename:lineno(function)"}

# True once setrelheap() has been called: heap() counts only what is newer.
_relative = False


class Partition:
    """A set of objects grouped by kind (or type, or module), printed as heapy prints.

    ``p.count`` objects, ``p.size`` bytes; ``p[i]`` is the set of row i (itself a
    Partition), ``p[i:j]`` the set of those rows; ``p.more`` shows the next rows;
    ``p.bytype``, ``p.bymodule``, ``p.byrcs`` (by the kinds of the referrers) and
    ``p.bysite`` (where they were allocated) group the same objects differently; ``p.diff(q)``
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
    def byrcs(self):
        """The same objects by the kinds of the objects that refer to them, as
        heapy's byrcs: "list", "dict of app.Node, list".  Referrers are looked
        for in the whole heap; an object that none refers to (held only by a
        running frame, a root such as sys.modules, or C) has its own row."""
        if self._grouped_by("rcs"):
            return Partition(self._set, "rcs")
        whole = _engine.heap_census()
        return Partition(self._set.with_referrers(whole), "rcs")

    @property
    def bysite(self):
        """The same objects by where they were allocated: the function
        ("file:line(function)") that the allocation tracing running now
        (`with strop.track_memory():`, `strop mem`) charged each one's memory
        to.  Objects made before it began (or not sampled) have their own row.
        ValueError when no tracing is running."""
        if self._grouped_by("site"):
            return Partition(self._set, "site")
        if not _engine.memory_tracing():
            raise ValueError("bysite needs allocation tracing running: take the census inside "
                             "'with strop.track_memory():' (or under 'strop mem')")
        return Partition(self._set.with_sites(), "site")

    def _grouped_by(self, by):
        try:
            self._set.rows(by)
        except ValueError:
            return False
        return True

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


# ---- why objects are alive: paths from roots, retained sizes, cycles --------

_STROP_DIR = __file__.rsplit("/", 1)[0] + "/"


def _frames():
    """(thread name, frame) of every Python frame of every thread, innermost
    first, leaving out strop's own frames."""
    import threading

    names = {t.ident: t.name for t in threading.enumerate()}
    out = []
    for ident, frame in sys._current_frames().items():
        while frame is not None:
            if not frame.f_code.co_filename.startswith(_STROP_DIR):
                out.append((names.get(ident, "thread %d" % ident), frame))
            frame = frame.f_back
    return out


def _roots():
    """The roots a path starts from: ([objects], [labels]).  Each module's
    globals first (so a module global wins a tie with a frame's local that
    reaches the same object through a function's __globals__), then
    sys.modules itself, then each local variable of every frame of every
    thread.  A label is (expression, where, attribute_mode)."""
    objs, labels = [], []
    for name, module in list(sys.modules.items()):
        namespace = getattr(module, "__dict__", None) if module is not None else None
        if isinstance(namespace, dict):
            objs.append(namespace)
            labels.append(("sys.modules[%r]" % name, None, True))
    objs.append(sys.modules)
    labels.append(("sys.modules", None, False))
    for thread, frame in _frames():
        if frame.f_locals is frame.f_globals:
            continue  # a module's body: its globals are reached through sys.modules
        where = "a local of %s() in thread %s, %s:%d" % (
            frame.f_code.co_name, thread, frame.f_code.co_filename, frame.f_lineno)
        for name, value in frame.f_locals.items():
            objs.append(value)
            labels.append((name, where, False))
    return objs, labels


class RefPath:
    """A chain of references from a root to an object: ``objects`` (root first),
    ``expression`` (Python that reaches the object from the root, where each step
    can be written so), ``root`` (what the root is)."""

    __slots__ = ("objects", "steps", "root", "held_by_c")

    def __init__(self, objects, steps, root, held_by_c=False):
        self.objects = objects
        self.steps = steps
        self.root = root
        self.held_by_c = held_by_c

    @property
    def expression(self):
        """The path as one expression (the steps joined)."""
        return "".join(self.steps)

    @property
    def holder(self):
        """The object that refers to the target last on the path (None for a root)."""
        return self.objects[-2] if len(self.objects) > 1 else None

    def __str__(self):
        if self.held_by_c:
            return self.expression
        return self.expression + ("  (%s)" % self.root if self.root else "")

    __repr__ = __str__


_ATTRS = ("__dict__", "__globals__", "__closure__", "__defaults__", "__kwdefaults__", "__code__",
          "__self__", "__func__", "__wrapped__", "__class__", "__bases__", "__mro__",
          "cell_contents", "f_back", "f_globals", "f_locals", "gi_frame", "cr_frame",
          "__objclass__", "fget", "fset", "__module__", "__doc__", "__name__", "__qualname__",
          "__annotations__", "__func__", "__traceback__", "__context__", "__cause__")


def _step(parent, child, attribute_mode):
    """How `child` is reached from `parent`: (text, next_is_attribute).  The
    text is Python where it can be ("[3]", ".conn", "['k']"), else a note in
    angle brackets.  Reads only builtin slots, and an instance's __dict__ only
    when the path went through it (it exists, so nothing is created) or the
    instance keeps its attributes inline (3.11+; then it is created)."""
    import types

    if isinstance(parent, dict):
        for key, value in parent.items():
            if value is child:
                if attribute_mode and isinstance(key, str) and key.isidentifier():
                    return "." + key, False
                return "[%r]" % (key,), False
        for key in parent:
            if key is child:
                return "<a key of the dict>", False
    if isinstance(parent, (list, tuple)):
        for i, value in enumerate(parent):
            if value is child:
                return "[%d]" % i, False
    if isinstance(parent, (set, frozenset)):
        return "<a member of the set>", False
    if isinstance(parent, (types.ModuleType, type)) or not isinstance(child, dict):
        pass
    else:
        try:
            if object.__getattribute__(parent, "__dict__") is child:
                return "", True
        except (AttributeError, TypeError):
            pass
    if isinstance(parent, (types.ModuleType, type, types.FunctionType)):
        if getattr(parent, "__dict__", None) is child:
            return "", True
    for cls in type(parent).__mro__:
        for name in getattr(cls, "__slots__", ()) if isinstance(
                getattr(cls, "__slots__", ()), (tuple, list)) else ():
            descr = cls.__dict__.get(name)
            if isinstance(descr, types.MemberDescriptorType):
                try:
                    if descr.__get__(parent) is child:
                        return "." + name, False
                except AttributeError:
                    pass
    if type(type(parent)).__module__ == "builtins" and type(parent).__module__ == "builtins":
        for name in _ATTRS:
            try:
                if getattr(parent, name) is child:
                    return "." + name, name in ("__dict__", "__globals__", "f_globals")
            except Exception:  # a builtin getter that refuses: not this step
                pass
    elif not isinstance(parent, type):
        # An instance whose attributes are inline (3.11+): their names are in its __dict__.
        try:
            for key, value in object.__getattribute__(parent, "__dict__").items():
                if value is child:
                    return "." + key, False
        except (AttributeError, TypeError):
            pass
    return "<%s>" % type(child).__name__, False


def _module_name(module):
    for name, value in list(sys.modules.items()):
        if value is module:
            return name
    return None


def path_to(obj):
    """The shortest chain of references from a root (sys.modules, or a local
    variable of any thread's frame) to `obj`, as a RefPath whose text is an
    expression to paste into a debugger: ``sys.modules['app'].cache['k'][3]``.
    An object no root reaches is held by C (or by strop's caller only): the
    RefPath says so, with its reference count."""
    roots, labels = _roots()
    chain = _engine.heap_path(roots, obj)
    if chain is None:
        import gc

        referrers = [r for r in gc.get_referrers(obj) if r is not roots]
        text = ("no root reaches this %s: it is held by C (reference count %d, %d referrer%s "
                "the collector lists)" % (type(obj).__name__, sys.getrefcount(obj) - 2,
                                          len(referrers), "" if len(referrers) == 1 else "s"))
        return RefPath([obj], [text], None, held_by_c=True)
    start = next(i for i, r in enumerate(roots) if r is chain[0])
    name, where, attribute_mode = labels[start]
    del roots, labels
    if len(chain) == 1 and attribute_mode:
        name = "vars(%s)" % name  # the module's namespace itself
    parts = [name]
    for parent, child in zip(chain, chain[1:]):
        if parent is sys.modules and isinstance(child, type(sys)):
            module = _module_name(child)
            if module is not None:
                parts = ["sys.modules[%r]" % module]
                continue
        if isinstance(parent, type(sys)) and getattr(parent, "__dict__", None) is child:
            attribute_mode = True
            continue
        text, attribute_mode = _step(parent, child, attribute_mode)
        if text:
            parts.append(text)
    return RefPath(chain, parts, where)


def _graph():
    """A whole-heap census and its reference graph."""
    census = _engine.heap_census(None)
    return _engine.heap_graph(census)


def retained(obj):
    """Bytes that would be freed if `obj` went away: the sizes of every object
    that only it keeps alive (its dominated set in the heap's dominator tree),
    its own size included."""
    return _graph().retained_of(obj)


class Retainers(list):
    """[(retained bytes, kind, object)], largest first; printed as a table
    with the path from a root to each object."""

    __slots__ = ()

    def __str__(self):
        lines = ["  retained  kind: path"]
        for size, kind, obj in self:
            lines.append("%10d  %s: %s" % (size, kind, path_to(obj).expression))
        return "\n".join(lines)

    __repr__ = __str__


def retainers(n=10):
    """The n objects that keep the most memory alive: a Retainers list of
    (retained bytes, kind, object), largest first."""
    graph = _graph()
    rows = graph.top_retainers(n)
    del graph
    return Retainers((size, _kind_of(o), o) for o, size in rows)


def _kind_of(obj):
    return iso(obj).rows[0][0]


class Cycles:
    """What only the cyclic collector would free (``unreachable``, a Partition:
    objects alive now that no root reaches) and what it could not
    (``garbage``: gc.garbage's objects, a Partition)."""

    __slots__ = ("unreachable", "garbage")

    def __init__(self, unreachable, garbage):
        self.unreachable = unreachable
        self.garbage = garbage

    def __str__(self):
        del_note = ("On Python %d.%d (PEP 442, since 3.4) objects with __del__ in a cycle are "
                    "collected: each __del__ runs once, then the cycle is freed unless a __del__ "
                    "made it reachable again; gc.garbage stays empty unless gc.DEBUG_SAVEALL is "
                    "set or a C type has a legacy tp_del." % sys.version_info[:2])
        return ("Waiting for the cyclic collector: %d objects, %d bytes.\n%s\n"
                "gc.garbage: %d objects.%s\n%s"
                % (self.unreachable.count, self.unreachable.size, self.unreachable.format(),
                   self.garbage.count,
                   ("\n" + self.garbage.format()) if self.garbage.count else "", del_note))

    __repr__ = __str__


def cycles():
    """What only the cyclic collector would free now, by kind, and what sits
    in gc.garbage (see Cycles).  Collects nothing; the result holds what it
    lists, so the collector frees it only once the result is dropped."""
    import gc

    listed = gc.get_objects()
    everything = _engine.heap_census(listed)
    del listed
    alive = _engine.heap_census(None)
    left_out = everything.minus(alive)
    del everything, alive
    # What the census leaves out is not all garbage: on 3.11 the locals
    # dicts that reading the frames made are held by the frames, from C.
    # Garbage is what nothing outside it holds, directly or through others.
    held = _engine.heap_graph(left_out).held_from_outside()
    kept = _engine.heap_census(held)
    del held
    unreachable = left_out.minus(kept)
    del left_out, kept
    return Cycles(Partition(unreachable), iso(*gc.garbage))


_engine.heap_own_types(Partition, HeapDiff, DeepSize, RefPath, Cycles, Retainers)
