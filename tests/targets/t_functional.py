"""Lambdas, comprehensions, closures, functools.wraps decorators, lru_cache, partial, reduce."""
import functools


def logged(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapper


def twice(func):
    @functools.wraps(func)
    def wrapper(*args):
        func(*args)
        return func(*args)
    return wrapper


@logged
def add(a, b):
    return a + b


@logged
@twice
def shout(word):
    return word.upper()


@functools.lru_cache(maxsize=None)
def cached_fib(n):
    return n if n < 2 else cached_fib(n - 1) + cached_fib(n - 2)


@functools.lru_cache(maxsize=4)
def small_cache(x):
    return x * x


def make_counter():
    count = 0

    def inc(step=1):
        nonlocal count
        count += step
        return count
    return inc


def power(base, exp):
    return base ** exp


def main():
    out = []
    out.append([add(i, i) for i in range(5)])
    out.append(shout("hi"))
    out.append(cached_fib(30))
    out.append(cached_fib(30))
    out.append([small_cache(i % 6) for i in range(20)])
    square = lambda x: x * x  # noqa: E731
    out.append(list(map(square, range(5))))
    out.append(list(filter(lambda x: x % 3 == 0, range(15))))
    out.append({k: square(k) for k in range(4)})
    out.append({square(k) % 5 for k in range(10)})
    # Nested comprehensions on separate lines: cProfile keeps only one of two
    # code objects that share (file, line, name), so the ground truth needs them apart.
    out.append([
        [i * j for j in range(3)]
        for i in range(3)])
    out.append(functools.reduce(lambda a, b: a + b, range(10)))
    cube = functools.partial(power, exp=3)
    out.append([cube(i) for i in range(4)])
    counter = make_counter()
    for _ in range(5):
        counter()
    out.append(counter(10))
    out.append((lambda *a: sum(a))(1, 2, 3))
    return out


if __name__ == "__main__":
    print(main())
