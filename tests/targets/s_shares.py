"""CPU-bound target with known shares: f60, f30 and f10 spin for 60%, 30% and
10% of the time (by the clock, so the shares hold on any machine).
Usage: s_shares.py SECONDS"""
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
    stop = perf_counter() + seconds
    while perf_counter() < stop:
        unit = rng.uniform(0.0005, 0.0015)
        now = perf_counter()
        f60(now + 6 * unit)
        now = perf_counter()
        f30(now + 3 * unit)
        now = perf_counter()
        f10(now + unit)


if __name__ == "__main__":
    main(float(sys.argv[1]))
    print("done")
