"""Direct, mutual and indirect recursion (counts: nc != cc)."""


def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)


def walk(node, depth=0):
    """Recursion through a helper: walk -> visit -> walk."""
    return visit(node, depth)


def visit(node, depth):
    total = depth
    for child in node:
        total += walk(child, depth + 1)
    return total


def tree(depth):
    return [] if depth == 0 else [tree(depth - 1), tree(depth - 1)]


def main():
    results = [fact(10), fact(5), fib(12), is_even(25), is_odd(8)]
    results.append(walk(tree(5)))
    return results


if __name__ == "__main__":
    print(main())
