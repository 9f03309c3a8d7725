"""Why objects are alive: path_to, retained sizes, cycles, against truths strop did not make.

Ground truths: eval() of the expression path_to prints gives back the object;
for retained sizes, a brute force on small random object graphs: remove every
reference to one object, collect, and add up sys.getsizeof of what weak
references say died; for cycles, the cyclic collector itself (what
gc.collect() frees, __del__ calls observed).
"""
import gc
import random
import sys
import threading
import weakref

import pytest

import strop


class Conn:
    pass


class App:
    def __init__(self):
        self.cache = {"k": [1, 2, 3, Conn()]}
        self.cache["k"][3].conn = Conn()


class Slotted:
    __slots__ = ("inner",)


APP = App()
REGISTRY = {"a": (Slotted(),)}
REGISTRY["a"][0].inner = [bytearray(3)]


def test_path_to_a_module_global_evaluates_back():
    # (a local naming it would be the shortest path: none here)
    where = strop.path_to(APP.cache["k"][3].conn)
    assert where.expression == "sys.modules[%r].APP.cache['k'][3].conn" % __name__
    assert eval(where.expression, {"sys": sys}) is APP.cache["k"][3].conn
    assert where.objects[-1] is APP.cache["k"][3].conn and not where.held_by_c


def test_path_through_slots_and_tuples():
    where = strop.path_to(REGISTRY["a"][0].inner[0])
    assert where.expression == "sys.modules[%r].REGISTRY['a'][0].inner[0]" % __name__
    assert eval(where.expression, {"sys": sys}) is REGISTRY["a"][0].inner[0]


def test_path_to_a_local_of_another_thread():
    ready, done = threading.Event(), threading.Event()
    box = []

    def worker():
        secret = {"deep": [object()]}
        box.append(secret["deep"][0])
        ready.set()
        done.wait(30)

    t = threading.Thread(target=worker, name="keeper")
    t.start()
    try:
        assert ready.wait(30)
        where = strop.path_to(box.pop())
        assert where.expression == "secret['deep'][0]"
        assert "worker()" in where.root and "thread keeper" in where.root
    finally:
        done.set()
        t.join()


def test_an_object_only_c_holds():
    # A reference only C holds: the list's item array is not a list the
    # collector sees once the object is taken out of every container.
    obj = Conn()
    ref = weakref.ref(obj)
    holder = [obj]
    extra = sys.getrefcount(obj)
    from ctypes import pythonapi, py_object
    pythonapi.Py_IncRef(py_object(obj))  # a reference no object holds
    assert sys.getrefcount(obj) == extra + 1
    del obj, holder
    where = strop.path_to(ref())
    assert where.held_by_c and "held by C" in str(where)
    pythonapi.Py_DecRef(py_object(ref()))


# ---- retained sizes against brute force ------------------------------------


class Node:
    __slots__ = ("out", "__weakref__")


def _random_graph(seed, n):
    """n Nodes with random references among them, a few held by the root list."""
    rnd = random.Random(seed)
    nodes = [Node() for _ in range(n)]
    for node in nodes:
        node.out = [rnd.choice(nodes) for _ in range(rnd.choice([0, 0, 1, 1, 2, 3]))]
    roots = rnd.sample(nodes, rnd.randint(1, 3))
    # Each node reachable or not; unreachable ones die with the list below.
    return roots, [weakref.ref(x) for x in nodes]


def _brute_retained(seed, n, victim):
    """Bytes freed when every reference to node `victim` is removed."""
    roots, refs = _random_graph(seed, n)
    gc.collect()
    alive = [r() is not None for r in refs]
    target = refs[victim]()
    if target is None:
        return None
    sizes = [sys.getsizeof(r()) + sys.getsizeof(r().out) if r() is not None else 0 for r in refs]
    for r in refs:
        o = r()
        if o is not None:
            o.out = [x for x in o.out if x is not target]
    roots[:] = [x for x in roots if x is not target]
    del target, o
    gc.collect()
    return sum(size for size, was, r in zip(sizes, alive, refs) if was and r() is None)


def _strop_retained(seed, n):
    roots, refs = _random_graph(seed, n)
    gc.collect()
    graph = strop._memory._graph()
    result = [graph.retained_of(r()) if r() is not None else None for r in refs]
    del graph
    return result


@pytest.mark.parametrize("seed", range(30))
def test_retained_sizes_agree_with_brute_force(seed):
    n = 3 + seed % 12 if seed < 25 else 60
    mine = _strop_retained(seed, n)
    truth = [_brute_retained(seed, n, v) for v in range(n)]
    assert mine == truth


def test_retained_of_a_big_list_and_top_retainers():
    global BIG
    BIG = [bytearray(100 + i) for i in range(1000)]
    truth = sys.getsizeof(BIG) + sum(sys.getsizeof(b) for b in BIG)
    assert strop.retained(BIG) == truth
    top = strop.retainers(50)
    assert any(o is BIG and size == truth and kind == "list" for size, kind, o in top)
    sizes = [size for size, _, _ in top]
    assert sizes == sorted(sizes, reverse=True)
    del BIG


# ---- cycles ---------------------------------------------------------------


class WithDel:
    deleted = []

    def __init__(self, name):
        self.name = name

    def __del__(self):
        WithDel.deleted.append(self.name)


def test_cycles_lists_what_only_the_collector_frees():
    gc.collect()
    gc.disable()
    try:
        a, b = WithDel("a"), WithDel("b")
        a.other, b.other = b, a
        weak = weakref.ref(a)
        del a, b
        found = strop.cycles()
        kinds = dict((kind, count) for kind, count, _ in found.unreachable.rows)
        assert kinds.get(__name__ + ".WithDel") == 2
        assert weak() is not None  # cycles() collects nothing
        text = str(found)
        assert "PEP 442" in text and "gc.garbage: 0 objects" in text
        del found  # it holds what it lists
        # the collector's own word: these two are what it frees, __del__ runs once each
        assert gc.collect() >= 2
        assert weak() is None and sorted(WithDel.deleted[-2:]) == ["a", "b"]
        assert gc.garbage == []
        assert strop.cycles().unreachable.count == 0
    finally:
        gc.enable()


def test_retained_sizes_ignore_what_strop_holds():
    # strop's own sets hold every object alive: they must not count as holders
    global HELD
    HELD = [bytearray(50 + i) for i in range(100)]
    truth = sys.getsizeof(HELD) + sum(sys.getsizeof(b) for b in HELD)
    keep = strop._memory._graph(), strop.heap(), strop.retainers(3)
    assert strop.retained(HELD) == truth
    del keep, HELD
