"""Every way a Python frame can start without a plain call, each done often
enough (300 times) for the interpreter to specialize the instruction that
starts it: class instantiation (3.13's CALL_ALLOC_AND_ENTER_INIT), properties,
__getattr__ and __getitem__ called by the interpreter, generators resumed by
next, send and throw, coroutines, __del__ and weakref callbacks,
__init_subclass__, __set_name__, class bodies, and functions called back from
C (map, sorted(key=), functools.reduce, filter)."""
import functools
import gc
import weakref

N = 300


class Shape:
    def __init__(self, w, h):
        self.w = w
        self.h = h

    @property
    def area(self):
        return self.w * self.h


class Lazy:
    def __getattr__(self, name):
        return len(name)


class Table:
    def __getitem__(self, i):
        return i * 2

    def __len__(self):
        return 3


class Mortal:
    deaths = 0

    def __del__(self):
        Mortal.deaths += 1


def on_collect(_ref):
    pass


class Holder:
    pass


def counter():
    total = 0
    while True:
        try:
            got = yield total
        except ValueError:
            got = -1
        total += got or 1


async def coro(x):
    return x + 1


def run_coro(x):
    c = coro(x)
    try:
        c.send(None)
    except StopIteration as stop:
        return stop.value


class Named:
    def __set_name__(self, owner, name):
        self.name = name


class Plugin:
    registry = []

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Plugin.registry.append(cls.__name__)


def make_classes(n):
    for i in range(n):
        class Sub(Plugin):
            field = Named()

            def method(self):
                return i


def double(x):
    return 2 * x


def is_even(x):
    return x % 2 == 0


def add(a, b):
    return a + b


def key(x):
    return -x


def main():
    areas = 0
    for i in range(N):
        s = Shape(i, i + 1)
        areas += s.area
    lazy, table = Lazy(), Table()
    looked = sum(getattr(lazy, "abc") + lazy.xy + table[i] for i in range(N))
    g = counter()
    next(g)
    for i in range(N):
        g.send(i)
        if i % 3 == 0:
            g.throw(ValueError)
    g.close()
    coros = sum(run_coro(i) for i in range(N))
    for _ in range(N):
        Mortal()
    refs = []
    for _ in range(N):
        h = Holder()
        refs.append(weakref.ref(h, on_collect))
        del h
    gc.collect()
    make_classes(N)
    mapped = sum(map(double, range(N))) + len(list(filter(is_even, range(N))))
    ordered = sorted(range(N), key=key)[0]
    reduced = functools.reduce(add, range(N))
    return (areas, looked, coros, Mortal.deaths, len(Plugin.registry), mapped, ordered, reduced)
