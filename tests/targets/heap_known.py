"""A process that holds a known heap and waits: the ground truth of `strop heap --pid`
(tests/test_heap_remote.py).

Usage: heap_known.py TRUTH.json [idle|busy] [N_SMALL]

Builds 12,345 Rec instances, each holding a list of 3 ints, and 777 Pair
namedtuples, each holding a list of one int; collects; then counts its own
gc-tracked objects with gc.get_objects() by type name (type(o).__name__),
with their sys.getsizeof sums, writes them as JSON to TRUTH.json, prints
"ready" and sleeps. The census and the JSON encoding run once before the one
that is written, so that what they leave behind (caches, interned keys) is
alive already when the truth is taken. "busy": a thread keeps allocating and
freeing lists, dicts and Rec instances while strop reads, from after the
truth is taken. N_SMALL: that many more small objects (instances of a class
with one slot, 40 bytes each), for timing a large heap.
"""
import collections
import gc
import json
import os
import sys
import threading
import time


class Rec:
    def __init__(self, i):
        self.items = [i, i + 1, i + 2]


class Small:
    __slots__ = ("ref",)


Pair = collections.namedtuple("Pair", "left right")


def census(counts, sizes):
    """Fills counts and sizes ({type name: n}) from gc.get_objects(); returns the total.

    The dicts are made by the caller, before gc.get_objects(), so they are
    counted too, as the collector lists them."""
    objects = gc.get_objects()
    for obj in objects:
        name = type(obj).__name__
        counts[name] = counts.get(name, 0) + 1
        sizes[name] = sizes.get(name, 0) + sys.getsizeof(obj)
    total = len(objects)
    del objects, obj
    return total


def churn(stop):
    """Allocates and frees containers until stop is set: the lists change under strop."""
    n = 0
    while not stop.is_set():
        junk = [[i, {"i": i}] for i in range(500)]
        junk.append(Rec(n))
        del junk
        n += 1


def main():
    path = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else "idle"
    n_small = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    recs = [Rec(i) for i in range(12345)]
    pairs = [Pair(i, [i]) for i in range(777)]
    small = [Small() for _ in range(n_small)]
    stop = threading.Event()
    for _ in range(2):
        gc.collect()
        counts, sizes, truth = {}, {}, {}
        truth["total"] = census(counts, sizes)
        truth["counts"], truth["sizes"] = counts, sizes
        text = json.dumps(truth)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)
    if mode == "busy":
        threading.Thread(target=churn, args=(stop,), daemon=True).start()
    print("ready", flush=True)
    time.sleep(120)
    stop.set()
    return recs, pairs, small


if __name__ == "__main__":
    main()
