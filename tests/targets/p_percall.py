"""A call-heavy program whose per-call own time is known (tests/test_promises.py).

`work` runs a fixed loop of plain bytecode (no calls).  The program times,
in interleaved batches so that all see the same machine:
- the same loop inline, with no call around it (no profiler hook fires
  there: nothing is called), less an empty batch loop: what one call of
  `work` costs inside the function (`inline_seconds`);
- batches of calls of `work`, less the empty batch loop: what a call costs
  in all, with whatever a profiler adds to it (`called_seconds`).
Means per call, in seconds, and the number of calls of `work` go to the JSON
file argv[1].  argv[2] "cpu" times with the thread's CPU clock (else
perf_counter); argv[3] is the loop's length (default 10).
"""
import json
import sys
import time

ROUNDS = 40
BATCH = 2000
LOOPS = int(sys.argv[3]) if len(sys.argv) > 3 else 10
CLOCK = time.thread_time if len(sys.argv) > 2 and sys.argv[2] == "cpu" else time.perf_counter


def work():
    x = 0
    i = 0
    while i < LOOPS:
        x += i
        i += 1
    return x


def inline_batch(n):
    t0 = CLOCK()
    k = 0
    while k < n:
        x = 0
        i = 0
        while i < LOOPS:
            x += i
            i += 1
        k += 1
    return (CLOCK() - t0) / n


def empty_batch(n):
    t0 = CLOCK()
    k = 0
    while k < n:
        k += 1
    return (CLOCK() - t0) / n


def call_batch(n):
    t0 = CLOCK()
    k = 0
    while k < n:
        work()
        k += 1
    return (CLOCK() - t0) / n


def main():
    inline = called = 0.0
    for _ in range(ROUNDS):
        empty = empty_batch(BATCH)
        inline += inline_batch(BATCH) - empty
        called += call_batch(BATCH) - empty
    return inline / ROUNDS, called / ROUNDS


if __name__ == "__main__":
    inline, called = main()
    with open(sys.argv[1], "w") as f:
        json.dump({"inline_seconds": inline, "called_seconds": called,
                   "calls": ROUNDS * BATCH}, f)
