"""Calls 40 distinct functions (f<i> 100 + i times), so a 25-row table is cut."""
funcs = []
for _i in range(40):
    exec("def f%d(x):\n    return x + %d\n" % (_i, _i))
    funcs.append(globals()["f%d" % _i])


def main():
    for i, f in enumerate(funcs):
        for _ in range(100 + i):
            f(i)


if __name__ == "__main__":
    main()
