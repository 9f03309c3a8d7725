"""Exceptions raised and caught: in Python frames, from C functions, through several frames."""


class Suppress:
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        return exc_type is not None and issubclass(exc_type, LookupError)


def raiser(n):
    if n % 3 == 0:
        raise ValueError(n)
    return n


def deep_raise(depth):
    if depth == 0:
        raise RuntimeError("bottom")
    return deep_raise(depth - 1)


def catcher(n):
    try:
        return raiser(n)
    except ValueError:
        return -n


def reraiser():
    try:
        deep_raise(4)
    except RuntimeError as exc:
        raise TypeError("wrapped") from exc


def with_finally(n):
    try:
        return raiser(n)
    finally:
        helper()


def helper():
    return 1


def c_raises():
    d = {}
    hits = 0
    for key in ("a", "b"):
        try:
            d.pop(key)
        except KeyError:
            hits += 1
    try:
        next(iter([]))
    except StopIteration:
        hits += 1
    try:
        int("not a number")
    except ValueError:
        hits += 1
    with Suppress():
        [].pop()
    return hits


def bad_key(x):
    if x == 3:
        raise LookupError(x)
    return -x


def through_c():
    """Exceptions that cross C functions: raised in C, and raised in Python called from C."""
    hits = 0
    try:
        sorted([3, "a", 1])
    except TypeError:
        hits += 1
    try:
        sorted([1, 2, 3, 4], key=bad_key)
    except LookupError:
        hits += 1
    try:
        list(map(bad_key, range(5)))
    except LookupError:
        hits += 1
    return hits


class Resource:
    def __init__(self, log):
        self.log = log

    def __del__(self):
        self.log.append(helper())


def finalizers():
    """Python code run by the interpreter at deallocation: __del__ and a generator's finally."""
    log = []
    r = Resource(log)
    del r
    gen = closing_generator(log)
    next(gen)
    del gen
    return log


def closing_generator(log):
    try:
        yield 1
        yield 2
    finally:
        log.append(helper())


def main():
    out = [catcher(i) for i in range(7)]
    out.append(through_c())
    out.append(finalizers())
    try:
        reraiser()
    except TypeError:
        out.append("caught")
    for i in (1, 3):
        try:
            out.append(with_finally(i))
        except ValueError:
            out.append("finally-ran")
    out.append(c_raises())
    return out


if __name__ == "__main__":
    print(main())
