#!/usr/bin/env python3
"""How long every writer and reader takes on a 100,000-node profile.

Not a test: a script that prints one table of seconds.  It writes folded
stacks of a generated calling-context tree (500 functions in 25 files; each
node has 10 children, 5 levels deep, about 111,000 nodes), reads them back
with the C reader (_engine.load_profile), then times:

  write <format>   LoadedProfile.dump() in pstats, folded, callgrind, pprof,
                   speedscope, dot and html (the template, no call graph);
  read folded      load_profile() of the folded file;
  read pprof       load_profile() of the pprof file it wrote;
  read pstats      marshal.load() of the pstats file plus load_stats(), which
                   rebuilds an approximate tree from the totals.

The issue's budget: each under a second.

usage: python bench/bench_formats.py [--rounds N]
"""
import argparse
import marshal
import os
import random
import sys
import tempfile
import time

from strop import _engine

FUNCTIONS = 500
BRANCHING = 10
LEVELS = 5
FORMATS = ("pstats", "folded", "callgrind", "pprof", "speedscope", "dot", "html")


def write_folded(path):
    """The generated tree as folded stacks; returns its number of nodes."""
    rng = random.Random(1)
    names = [f"func_{i} (/src/module_{i % 25}.py:{10 + i})" for i in range(FUNCTIONS)]
    nodes = 0
    with open(path, "w", encoding="utf-8") as f:
        level = [[]]
        for _ in range(LEVELS):
            nxt = []
            for stack in level:
                for name in rng.sample(names, BRANCHING):
                    child = stack + [name]
                    f.write(";".join(child) + " %d\n" % rng.randrange(1, 1000))
                    nxt.append(child)
                    nodes += 1
            level = nxt
    return nodes


def best_of(rounds, func):
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="best of N (default 3)")
    opts = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "src", "strop", "report.html"), encoding="utf-8") as f:
        template = f.read()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folded = os.path.join(tmp, "tree.folded")
        nodes = write_folded(folded)
        profile = _engine.load_profile(folded, "folded", 0.001)
        print(f"{nodes} stacks; {profile.info()['nodes']} nodes in the tree, "
              f"{profile.info()['functions']} functions", file=sys.stderr)
        for fmt in FORMATS:
            out = os.path.join(tmp, "out." + fmt)
            extra = {"template": template} if fmt == "html" else {}
            rows.append((f"write {fmt}", best_of(opts.rounds,
                                                 lambda: profile.dump(out, fmt, **extra))))
        rows.append(("read folded", best_of(opts.rounds,
                                            lambda: _engine.load_profile(folded, "folded"))))
        pprof = os.path.join(tmp, "out.pprof")
        rows.append(("read pprof", best_of(opts.rounds,
                                           lambda: _engine.load_profile(pprof, "pprof"))))
        pstats = os.path.join(tmp, "out.pstats")

        def read_pstats():
            with open(pstats, "rb") as f:
                _engine.load_stats(marshal.load(f))

        rows.append(("read pstats", best_of(opts.rounds, read_pstats)))
    width = max(len(name) for name, _ in rows)
    for name, seconds in rows:
        flag = "" if seconds < 1 else "  (over the 1 s budget)"
        print(f"{name:<{width}}  {seconds:8.3f} s{flag}")


if __name__ == "__main__":
    main()
