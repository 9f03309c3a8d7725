"""Unusual ways to call: unbound C methods, star-args, keywords, protocols called from C."""
import contextlib
import io
import operator


class Meta(type):
    def __instancecheck__(cls, obj):
        return hasattr(obj, "quack")


class Duck(metaclass=Meta):
    pass


class Squares:
    """An iterator class: __iter__ and __next__ are called by the interpreter."""

    def __init__(self, n):
        self.i, self.n = 0, n

    def __iter__(self):
        return self

    def __next__(self):
        if self.i >= self.n:
            raise StopIteration
        self.i += 1
        return self.i * self.i


class Defaulting(dict):
    def __missing__(self, key):
        return key * 2


class Lazy:
    def __getattr__(self, name):
        return name.upper()

    def __getitem__(self, index):
        if index >= 3:
            raise IndexError(index)
        return index


class Celsius:
    def __set_name__(self, owner, name):
        self.name = "_" + name

    def __get__(self, obj, objtype=None):
        return getattr(obj, self.name, 0)

    def __set__(self, obj, value):
        setattr(obj, self.name, value)


class Thermometer:
    temperature = Celsius()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.registered = True


def define_subclass():
    class Outdoor(Thermometer):
        pass
    return Outdoor


@contextlib.contextmanager
def managed(log):
    log.append("enter")
    try:
        yield len(log)
    finally:
        log.append("exit")


def add3(a, b=0, *rest, c=1, **kw):
    return a + b + c + len(rest) + len(kw)


def nested_key(word):
    return sorted(word)


def main():
    out = []
    buf = []
    list.append(buf, 1)
    bound = buf.append
    bound(2)
    getattr(buf, "append")(3)
    out.append(str.join(",", ["a", "b"]))
    out.append(dict.get({"x": 1}, "x"))
    out.append(str.upper("abc"))
    out.append(operator.methodcaller("upper")("xyz"))
    args, kwargs = (1, 2, 3, 4), {"c": 5, "extra": 6}
    out.append(add3(*args, **kwargs))
    out.append(add3(1, c=2))
    out.append(len(*[buf]))
    out.append(max(*buf))
    out.append(sorted(*[["bb", "a", "ccc"]], **{"key": len}))
    out.append(sorted(["bb", "a"], reverse=True))
    stream = io.StringIO()
    print("to a stream", 42, sep="-", file=stream)
    out.append(stream.getvalue())
    out.append("{a}{b}".format(a=1, b=2))
    out.append(sorted(["pear", "fig", "apple"], key=nested_key))
    out.append(isinstance(Lazy(), Duck))
    out.append(list(Squares(4)))
    out.append(sum(x for x in Squares(3)))
    for value in Squares(2):
        out.append(value)
    out.append(Defaulting(a=1)[21])
    lazy = Lazy()
    out.append(lazy.anything)
    out.append(list(lazy))
    t = define_subclass()()
    t.temperature = 21
    out.append(t.temperature + t.registered)
    log = []
    with managed(log) as depth:
        out.append(depth)
    out.append(log)
    return out


if __name__ == "__main__":
    print(main())
