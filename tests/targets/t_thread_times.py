"""Two threads: one sleeps 0.2 s inside a(), the other spins in b().

REPORT holds the durations each function measured for itself (wall and
thread CPU), to compare with the profile.
"""
import threading
import time

REPORT = {}


def a():
    t0 = time.perf_counter()
    c0 = time.thread_time()
    time.sleep(0.2)
    REPORT["a_wall"] = time.perf_counter() - t0
    REPORT["a_cpu"] = time.thread_time() - c0


def b():
    t0 = time.perf_counter()
    c0 = time.thread_time()
    x = 0
    while True:
        for i in range(20000):
            x += i * i
        if time.perf_counter() - t0 > 0.3:
            break
    REPORT["b_wall"] = time.perf_counter() - t0
    REPORT["b_cpu"] = time.thread_time() - c0
    return x


def main():
    ta = threading.Thread(target=a)
    tb = threading.Thread(target=b)
    ta.start()
    tb.start()
    ta.join()
    tb.join()
    return REPORT
