"""Target that works half of its time and sleeps the other half, and says
how the split really came out (a loaded machine oversleeps).
Usage: s_sleep.py SECONDS [SPLIT.json]"""
import json
import sys
import time
from time import perf_counter


def work(end):
    while perf_counter() < end: pass


def nap(seconds):
    time.sleep(seconds)


def main(seconds):
    spent = {"work": 0.0, "nap": 0.0}
    stop = perf_counter() + seconds
    while perf_counter() < stop:
        t0 = perf_counter()
        work(t0 + 0.01)
        t1 = perf_counter()
        nap(0.01)
        t2 = perf_counter()
        spent["work"] += t1 - t0
        spent["nap"] += t2 - t1
    return spent


if __name__ == "__main__":
    spent = main(float(sys.argv[1]))
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            json.dump(spent, f)
    sys.exit(3)
