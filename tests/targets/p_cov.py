# A program whose executed lines are known (tests/test_promises.py): every
# line that runs ends with the comment `run`, every statement that does not
# with `not run`.  No docstring: it would be a statement on its first line.
import sys  # run


def branchy(n):  # run
    if n > 0:  # run
        return n * 2  # run
    else:
        return -n  # not run


def never():  # run
    return 1  # not run


def loop(k):  # run
    total = 0  # run
    for i in range(k):  # run
        total += branchy(i + 1)  # run
    return total  # run


if __name__ == "__main__":  # run
    print(loop(int(sys.argv[1]) if len(sys.argv) > 1 else 7))  # run
