"""Target that works half of its time and sleeps the other half.
Usage: s_sleep.py SECONDS"""
import sys
import time
from time import perf_counter


def work(end):
    while perf_counter() < end: pass


def nap(seconds):
    time.sleep(seconds)


def main(seconds):
    stop = perf_counter() + seconds
    while perf_counter() < stop:
        work(perf_counter() + 0.01)
        nap(0.01)


if __name__ == "__main__":
    main(float(sys.argv[1]))
    sys.exit(3)
