"""Target that works half of its time and sleeps the other half, and says
how the split really came out (a loaded machine oversleeps).  The spells last
4 to 16 ms at random, so that no sampling rate can lock onto them.
Usage: s_sleep.py SECONDS [SPLIT.json]"""
import json
import random
import sys
import time
from time import perf_counter


def work(end):
    while perf_counter() < end: pass


def nap(seconds):
    time.sleep(seconds)


def main(seconds):
    rng = random.Random(1)
    spent = {"work": 0.0, "nap": 0.0}
    stop = perf_counter() + seconds
    while perf_counter() < stop:
        t0 = perf_counter()
        work(t0 + rng.uniform(0.004, 0.016))
        t1 = perf_counter()
        nap(rng.uniform(0.004, 0.016))
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
