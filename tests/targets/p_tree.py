"""A program whose call tree is known exactly (tests/test_call_paths.py).

    main -> alpha x3 -> mid x2 each -> shared x1 each -> time.sleep(4 ms)
    main -> beta  x2 -> mid x1 each -> shared x4 each -> time.sleep(1 ms)
    main -> gamma x1 ->                shared x5      -> time.sleep(2 ms)

`shared` is reached through `mid` from two grandparents (alpha, beta), with
different counts and sleeps, so a profile that files calls under the wrong
grandparent is wrong in counts and in times.  Each `shared` call times its
own sleep with time.perf_counter and adds it to the total of its path; the
totals (seconds), the process id and the main thread's native id go to the
JSON file argv[1].  argv[2] scales every sleep
(1 for the tracer; larger for the sampler, which needs seconds); argv[3]
runs main that many times (default 1; the sampler's shares are steadier over
many short sleeps than over a few long ones, when its reader is starved for
a moment on a busy machine).

The only calls on these paths are the functions above, time.sleep and
time.perf_counter: no other built-in is called under main (loops run over
tuples, not range(), whose call some tracers count and others do not).
"""
import json
import os
import sys
import threading
import time

SCALE = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
REPEAT = int(sys.argv[3]) if len(sys.argv) > 3 else 1
# Seconds slept on each path, measured by the program itself.
slept = [0.0, 0.0, 0.0]
ALPHA, BETA, GAMMA = 0, 1, 2


def shared(path, seconds):
    t0 = time.perf_counter()
    time.sleep(seconds)
    t1 = time.perf_counter()
    slept[path] += t1 - t0


def mid(path, times, seconds):
    # `times` is a tuple, not range(n): a call of a type is traced on some
    # versions and not on others, and this tree must be the same on all.
    for _ in times:
        shared(path, seconds)


def alpha():
    for _ in (1, 2):
        mid(ALPHA, (1,), 0.004 * SCALE)


def beta():
    mid(BETA, (1, 2, 3, 4), 0.001 * SCALE)


def gamma():
    for _ in (1, 2, 3, 4, 5):
        shared(GAMMA, 0.002 * SCALE)


def main():
    for _ in (1, 2, 3):
        alpha()
    for _ in (1, 2):
        beta()
    gamma()


if __name__ == "__main__":
    for _ in range(REPEAT):
        main()
    with open(sys.argv[1], "w") as f:
        json.dump({"alpha": slept[ALPHA], "beta": slept[BETA], "gamma": slept[GAMMA],
                   "pid": os.getpid(), "native_tid": threading.get_native_id()}, f)
