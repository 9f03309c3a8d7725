"""A program that keeps 1234 Record objects and their names in a global list."""
import sys


class Record:
    def __init__(self, i):
        self.name = "record-%d" % i


KEPT = [Record(i) for i in range(1234)]
print("kept", len(KEPT))
if sys.argv[1:] == ["fail"]:
    raise ValueError("the program's own error")
