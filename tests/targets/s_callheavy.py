"""Target for sampled shares on call-heavy code.  Alternates two phases in
slices for SECONDS in all, timing each slice itself, and writes the seconds
spent in each as JSON to OUT at the end:
  calls(): microsecond-long calls through methods, operators (__sub__,
    __mul__), constructors (__init__ through type's call), a property and a
    builtin's callback (sorted's key): on 3.11 and 3.12 most of them enter and
    leave an eval loop through C, which is where a reader racing the thread
    used to lose its samples;
  steady(): arithmetic without a call: its frame stays put.
A sampler that drops the samples it cannot read leans toward steady().
Usage: s_callheavy.py SECONDS OUT"""
import json
import sys
from time import perf_counter

CALLS_SLICE = 0.012
STEADY_SLICE = 0.008


class Vec:
    __slots__ = ("x", "y", "z")

    def __init__(self, x, y, z):
        self.x = x
        self.y = y
        self.z = z

    def __sub__(self, other):
        return Vec(self.x - other.x, self.y - other.y, self.z - other.z)

    def __mul__(self, k):
        return Vec(self.x * k, self.y * k, self.z * k)

    def dot(self, other):
        return self.x * other.x + self.y * other.y + self.z * other.z

    @property
    def norm2(self):
        return self.dot(self)


def key(v):
    return v.z


def calls(deadline):
    a = Vec(1.0, 2.0, 3.0)
    b = Vec(0.5, 0.25, 1.0)
    n = 0
    while perf_counter() < deadline:
        for _ in range(20):
            c = (a - b) * 0.5
            n += c.norm2 > 0
        n += len(sorted([a, b, a - b], key=key))
    return n


def steady(deadline):
    x = 0
    while perf_counter() < deadline:
        for i in range(300):
            x = (x * 31 + i) % 1000003
    return x


def main(seconds, out):
    spent = {"calls": 0.0, "steady": 0.0}
    end = perf_counter() + seconds
    while perf_counter() < end:
        t0 = perf_counter()
        calls(t0 + CALLS_SLICE)
        t1 = perf_counter()
        steady(t1 + STEADY_SLICE)
        t2 = perf_counter()
        spent["calls"] += t1 - t0
        spent["steady"] += t2 - t1
    with open(out + ".tmp", "w") as f:
        json.dump(spent, f)
    import os
    os.rename(out + ".tmp", out)


if __name__ == "__main__":
    main(float(sys.argv[1]), sys.argv[2])
