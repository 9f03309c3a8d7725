"""The program s_reexec.py's child execs: spins in after_exec for SECONDS.
Usage: s_reexec_second.py SECONDS"""
import sys
from time import perf_counter


def after_exec(seconds):
    end = perf_counter() + seconds
    while perf_counter() < end:
        pass


if __name__ == "__main__":
    after_exec(float(sys.argv[1]))
