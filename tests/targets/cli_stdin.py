"""Echoes stdin (upper-cased), and pickles an instance of a class defined in __main__."""
import pickle
import sys


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y


def main():
    data = sys.stdin.read()
    sys.stdout.write(data.upper())
    point = pickle.loads(pickle.dumps(Point(1, 2)))
    print(type(point).__module__, type(point).__qualname__, point.x + point.y)


if __name__ == "__main__":
    main()
