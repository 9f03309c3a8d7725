#!/usr/bin/env python3
"""How long strop.Stats takes to read a 100,000-function pstats file.

Not a test: a script that prints one table of seconds (the median of
--rounds runs).  It generates a pstats dict of 100,000 functions in 500 files,
each called by 3 others, and writes it twice: with marshal.dump (as cProfile
does: no shared key tuples) and with strop's own writer (key tuples and file
names shared through marshal references).  Then, for each file:

  marshal.loads     what strop.Stats read with before issue 14 (gc off, as then);
  read_pstats       the engine's bounded reader (_engine.read_pstats, gc off);
  Stats (marshal)   strop.Stats(path) reading with marshal.loads, as before;
  strop.Stats       strop.Stats(path) as it is, with read_pstats;
  pstats.Stats      the stdlib, for reference.

usage: python bench/bench_pstats_read.py [--rounds N] [--functions N]
"""
import argparse
import gc
import marshal
import os
import pstats
import random
import statistics
import tempfile
import time

import strop
from strop import _engine


def make_stats(n_functions, seed=1):
    rng = random.Random(seed)
    keys = [(f"/src/pkg/module_{i % 500}.py", 10 + i, f"func_{i}") for i in range(n_functions)]
    stats = {}
    for i, key in enumerate(keys):
        callers = {}
        for c in rng.sample(range(n_functions), 3):
            if c != i:
                k = keys[c]
                callers[(k[0], k[1], k[2])] = (rng.randrange(1, 50), rng.randrange(1, 50),
                                               rng.random(), rng.random())
        nc = rng.randrange(1, 1000)
        stats[(key[0], key[1], key[2])] = (nc, nc, rng.random(), rng.random() * 2, callers)
    return stats


def old_read(path):
    with open(path, "rb") as f:
        data = f.read()
    enabled = gc.isenabled()
    gc.disable()
    try:
        return marshal.loads(data)
    finally:
        if enabled:
            gc.enable()


def new_read(path):
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _engine.read_pstats(path)
    finally:
        if enabled:
            gc.enable()


def old_stats(path):
    from strop import _stats

    saved = _stats._read_pstats_file
    _stats._read_pstats_file = old_read
    try:
        return strop.Stats(path)
    finally:
        _stats._read_pstats_file = saved


def medians_of(rounds, funcs):
    """Median CPU seconds of each of `funcs`, run in turn in every round (so
    that a busy machine weighs on them alike)."""
    times = [[] for _ in funcs]
    for _ in range(rounds):
        for i, func in enumerate(funcs):
            start = time.process_time()
            func()
            times[i].append(time.process_time() - start)
    return [statistics.median(t) for t in times]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--functions", type=int, default=100_000)
    opts = parser.parse_args()
    stats = make_stats(opts.functions)
    with tempfile.TemporaryDirectory() as tmp:
        cprofile_path = os.path.join(tmp, "cprofile.prof")
        strop_path = os.path.join(tmp, "strop.prof")
        with open(cprofile_path, "wb") as f:
            marshal.dump(stats, f)
        _engine.load_stats(stats).dump(strop_path, "pstats")
        assert _engine.read_pstats(cprofile_path) == old_read(cprofile_path)
        assert _engine.read_pstats(strop_path) == old_read(strop_path)
        print(f"{'file':<12}{'bytes':>12}{'marshal.loads':>15}{'read_pstats':>13}"
              f"{'Stats (marshal)':>17}{'strop.Stats':>13}{'pstats.Stats':>14}")
        for name, path in (("cProfile's", cprofile_path), ("strop's", strop_path)):
            row = medians_of(opts.rounds, [lambda: old_read(path), lambda: new_read(path),
                                           lambda: old_stats(path), lambda: strop.Stats(path),
                                           lambda: pstats.Stats(path)])
            print(f"{name:<12}{os.path.getsize(path):>12,}" + "".join(
                f"{t:>{w}.3f}" for t, w in zip(row, (15, 13, 17, 13, 14))))


if __name__ == "__main__":
    main()
