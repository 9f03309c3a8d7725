"""Threads running Python at once (two, or as many as the first argument
says): they take turns with the GIL.

strop sample examples/gil_contention.py shows each one's <waiting: GIL>
leaf, and the GIL as an endpoint of the waits table."""
import sys, threading, time

def spin(seconds):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n

count = int(sys.argv[1]) if len(sys.argv) > 1 else 2
ts = [threading.Thread(target=spin, args=(1.5,), name=f"spinner-{i}") for i in range(count)]
for t in ts:
    t.start()
for t in ts:
    t.join()
