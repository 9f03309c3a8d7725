"""Target for --subprocesses: the parent spins in parent_work while a
multiprocessing child spins in child_work and a subprocess of
sys.executable spins in exec_work.  Usage: s_children.py SECONDS"""
import multiprocessing
import subprocess
import sys
from time import perf_counter


def spin(seconds):
    end = perf_counter() + seconds
    while perf_counter() < end:
        pass


def child_work(seconds):
    spin(seconds)


def parent_work(seconds):
    spin(seconds)


def main(seconds):
    if len(sys.argv) > 2:  # the exec'd child
        def exec_work():
            spin(seconds)
        exec_work()
        return
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=child_work, args=(seconds,))
    child.start()
    other = subprocess.Popen([sys.executable, __file__, str(seconds), "child"])
    parent_work(seconds)
    child.join()
    other.wait()


if __name__ == "__main__":
    main(float(sys.argv[1]))
