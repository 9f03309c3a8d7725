"""A program that keeps 1234 Record objects and their names in a global list."""
import os
import signal
import sys


class Record:
    def __init__(self, i):
        self.name = "record-%d" % i


KEPT = [Record(i) for i in range(1234)]
print("kept", len(KEPT))
if sys.argv[1:] == ["fail"]:
    raise ValueError("the program's own error")
if sys.argv[1:2] == ["signal"]:
    sys.stdout.flush()
    os.kill(os.getpid(), getattr(signal, sys.argv[2]))
