"""Target for --subprocesses with short-lived children: the parent runs
COUNT children of sys.executable one after another, each spinning for
SECONDS in short_work.  Usage: s_short_children.py COUNT SECONDS"""
import subprocess
import sys
from time import perf_counter


def short_work(seconds):
    end = perf_counter() + seconds
    while perf_counter() < end:
        pass


def main():
    if sys.argv[1] == "child":
        short_work(float(sys.argv[2]))
        return
    for _ in range(int(sys.argv[1])):
        subprocess.run([sys.executable, __file__, "child", sys.argv[2]], check=True)


if __name__ == "__main__":
    main()
