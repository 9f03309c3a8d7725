"""Threads started before and after the profiler is enabled.

setup() runs before the profiler is enabled: it starts two threads that wait
on an Event. main() (profiled) releases them, starts a third thread, and joins
all three. Each thread calls its own function N times.
"""
import threading

N = 500
go = threading.Event()
threads = []
REPORT = {}


def work_early_a(i):
    return i + 1


def work_early_b(i):
    return i * 2


def work_late(i):
    return i - 1


def early_a():
    go.wait()
    for i in range(N):
        work_early_a(i)


def early_b():
    go.wait()
    for i in range(N):
        work_early_b(i)


def late():
    for i in range(N):
        work_late(i)


def setup():
    go.clear()
    del threads[:]
    for target in (early_a, early_b):
        t = threading.Thread(target=target)
        t.start()
        threads.append(t)


def main():
    go.set()
    t = threading.Thread(target=late)
    t.start()
    threads.append(t)
    for t in threads:
        t.join()
    REPORT["N"] = N
    return N
