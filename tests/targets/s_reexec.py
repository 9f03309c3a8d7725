"""Target for --subprocesses with a child that re-executes itself: the
parent starts a child of sys.executable that spins in before_exec for
SECONDS, then os.execv()s a new Python on s_reexec_second.py, which spins in
after_exec for SECONDS under the same pid.  Usage: s_reexec.py SECONDS"""
import os
import subprocess
import sys
from time import perf_counter


def before_exec(seconds):
    end = perf_counter() + seconds
    while perf_counter() < end:
        pass


def main():
    seconds = sys.argv[1]
    if len(sys.argv) > 2:  # the child
        before_exec(float(seconds))
        second = os.path.join(os.path.dirname(os.path.abspath(__file__)), "s_reexec_second.py")
        os.execv(sys.executable, [sys.executable, second, seconds])
    subprocess.run([sys.executable, __file__, seconds, "child"], check=True)


if __name__ == "__main__":
    main()
