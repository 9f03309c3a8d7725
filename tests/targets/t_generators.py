"""Generators, yield from, generator expressions, send/close/throw."""


def count_up(n):
    i = 0
    while i < n:
        yield i
        i += 1


def squares(n):
    for i in count_up(n):
        yield i * i


def chained(n):
    yield from count_up(n)
    yield from squares(n)


def echo():
    received = []
    try:
        while True:
            value = yield len(received)
            received.append(value)
    except GeneratorExit:
        received.append("closed")
        raise
    finally:
        received.append("finally")


def resilient():
    caught = 0
    while True:
        try:
            yield caught
        except ValueError:
            caught += 1


def evens(limit):
    return (x for x in range(limit) if x % 2 == 0)


def main():
    out = []
    out.append(sum(count_up(10)))
    out.append(list(squares(6)))
    out.append(list(chained(4)))
    out.append(sum(x * 2 for x in range(20)))
    out.append(max(len(str(x)) for x in count_up(15)))
    out.append(list(evens(12)))
    gen = echo()
    next(gen)
    for word in ("a", "b", "c"):
        gen.send(word)
    gen.close()
    r = resilient()
    next(r)
    for _ in range(3):
        out.append(r.throw(ValueError))
    r.close()
    it = count_up(3)
    while True:
        try:
            out.append(next(it))
        except StopIteration:
            break
    first_big = next(x for x in squares(50) if x > 100)
    out.append(first_big)
    return out


if __name__ == "__main__":
    print(main())
