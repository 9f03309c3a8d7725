"""CPU-bound target with known shares: f60, f30 and f10 spin for 60%, 30% and
10% of the time (by the clock, so the shares hold on any machine).  On a busy
machine a function can overrun its deadline when the target loses its CPU, so
the target also measures the wall time each function really took and, given a
second argument, writes those shares there as JSON: the ground truth.
Usage: s_shares.py SECONDS [SHARES.json]"""
import json
import random
import sys
from time import perf_counter


def f60(end):
    while perf_counter() < end: pass  # HOT60


def f30(end):
    while perf_counter() < end: pass  # HOT30


def f10(end):
    while perf_counter() < end: pass  # HOT10


def main(seconds):
    # Cycles of random length, so that no sampling rate can lock onto them.
    rng = random.Random(1)
    spent = {"f60": 0.0, "f30": 0.0, "f10": 0.0}
    start = perf_counter()
    stop = start + seconds
    while perf_counter() < stop:
        unit = rng.uniform(0.0005, 0.0015)
        now = perf_counter()
        f60(now + 6 * unit)
        then = perf_counter()
        spent["f60"] += then - now
        f30(then + 3 * unit)
        now = perf_counter()
        spent["f30"] += now - then
        f10(now + unit)
        spent["f10"] += perf_counter() - now
    total = perf_counter() - start
    return {name: t / total for name, t in spent.items()}


if __name__ == "__main__":
    shares = main(float(sys.argv[1]))
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            json.dump(shares, f)
    print("done")
