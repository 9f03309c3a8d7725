"""Target for windowed tables (strop top's last second): spins in phase_a
for SECONDS, then creates READY_FILE and spins in phase_b until killed.
Usage: s_phases.py SECONDS READY_FILE"""
import os
import sys
from time import perf_counter


def phase_a(seconds):
    end = perf_counter() + seconds
    while perf_counter() < end:
        pass


def phase_b():
    while True:
        pass


def main(seconds, ready):
    phase_a(seconds)
    with open(ready + ".tmp", "w") as f:
        f.write("b")
    os.rename(ready + ".tmp", ready)
    phase_b()


if __name__ == "__main__":
    main(float(sys.argv[1]), sys.argv[2])
