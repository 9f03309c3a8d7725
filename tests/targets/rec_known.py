"""A recursive program whose counts are known by heart.

fact: 13 calls, 2 primitive. Edges: main -> fact (nc 2, cc 2),
fact -> fact (nc 11, cc 2): the edge is re-entered while active 9 and 2 times.
"""


def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)


def main():
    return fact(10) + fact(3)


if __name__ == "__main__":
    main()
