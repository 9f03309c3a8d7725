#!/usr/bin/env python3
"""How much allocation tracing slows a program down, beside its peers, in one run.

Not a test: a script that prints tables. For each workload it runs, in fresh
child processes, the workload plain and under each tracker:

  floor          the empty allocator hook (mem and obj domains) plus the
                 empty frame hook of the mechanism strop mem uses: the cost
                 before any tracking work
  strop-tracer   the tracer alone, on the mechanism strop mem uses (Python
                 functions only): the shadow stack that the others charge to
  strop-mem      strop.track_memory(): every Python allocation charged to its
                 full call path (from the tracer's shadow stack)
  strop-sampled  strop.track_memory(sample_bytes=524288): one allocation per
                 512 KiB on average, on the same shadow stack
  tracemalloc-1  tracemalloc.start(1)
  tracemalloc-64 tracemalloc.start(64): full call paths by a stack walk on
                 every allocation
  memray         memray.Tracker (pymalloc's arenas and malloc only), when
                 memray imports
  memray-py      memray.Tracker(trace_python_allocators=True), every Python
                 allocation

The runs are interleaved: each round runs plain and every tracker once, in an
order that rotates from round to round, so that all see the same machine. A
tracker's slowdown is the median over the rounds of its wall time / plain
wall time of the same round. Each child times the workload only (after an
untracked warm-up), best of --inner runs, each under a new tracker; from each
wall time the time the thread spent waiting for a CPU (run-queue delay, from
/proc/self/schedstat) is taken off, so that other programs on a shared
machine count less.

Then, in one child per tracker, 1,000,000 one-item tuples (2,000,000 blocks) are kept alive and the
tracker's own memory is divided by them: strop's table of live blocks (and
its per-node records, apart), and tracemalloc's get_tracemalloc_memory().

Workloads:
  stdlib  json dumps/loads, re, ast.parse, sorting with keys (bench_tracer's)
  alloc   building and dropping dicts and lists

usage:
  python bench/bench_memory.py [--rounds N] [--inner N] [--workloads stdlib,alloc]
                               [--modes floor,strop-mem,...]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = ["stdlib", "alloc"]
MODES = ["plain", "floor", "strop-tracer", "strop-mem", "strop-sampled", "tracemalloc-1",
         "tracemalloc-64", "memray", "memray-py"]
# What a mode needs in the child.
NEEDS = {"memray": "import memray", "memray-py": "import memray",
         "strop-mem": "import strop", "strop-sampled": "import strop", "floor": "import strop",
         "strop-tracer": "import strop"}
# The budgets for full tracing: 1.5x on stdlib, 2x on alloc.
BUDGET = {"stdlib": 1.5, "alloc": 2.0}


# -- workloads (run in the child) ---------------------------------------------------------------

def alloc_heavy():
    total = 0
    for round_ in range(6):
        rows = [{"id": i, "name": "row%d" % i, "tags": [i, i + 1, i + 2], "score": i * 0.5}
                for i in range(8000)]
        index = {row["name"]: row for row in rows}
        groups = {}
        for row in rows:
            groups.setdefault(row["id"] % 17, []).append(row)
        total += sum(len(v) for v in groups.values()) + len(index)
        pairs = [(a, b) for a in range(150) for b in range(40)]
        total += len(pairs)
        del rows, index, groups, pairs
    return total


def stdlib():
    sys.path.insert(0, HERE)
    import bench_tracer
    return bench_tracer.stdlib()


RUN = {"stdlib": stdlib, "alloc": alloc_heavy}
# Times each workload runs in the timed region, so that plain Python takes
# about 0.1 s: shorter runs make the ratios noise.
REPEAT = {"stdlib": 3, "alloc": 3}


def mem_mechanism():
    from strop import _memtrace
    return "monitoring" if _memtrace._mechanism() == "monitoring" else None


def _waited():
    """Seconds this thread has waited for a CPU so far (schedstat), or 0."""
    from strop import _engine
    waited = _engine.run_delay()
    return waited or 0.0


def time_once(work, mode, tmp):
    """Wall seconds of work() under `mode`, less the time the thread waited
    for a CPU meanwhile (other programs on a shared machine)."""
    waited = _waited()
    elapsed = _time_once(work, mode, tmp)
    return elapsed - (_waited() - waited)


def _time_once(work, mode, tmp):
    if mode == "plain":
        start = time.perf_counter()
        work()
        return time.perf_counter() - start
    if mode == "floor":
        import strop
        from strop import _engine
        # The frame hook strop mem uses: what a MemoryProfile reports.
        probe = strop.MemoryProfile()
        probe.enable()
        probe.disable()
        mechanism = probe._tracer.info()["mechanism"]
        start = time.perf_counter()
        _engine._baseline_alloc_hook(True)
        _engine._baseline_hook(mechanism, True, False)
        work()
        _engine._baseline_hook(mechanism, False, False)
        _engine._baseline_alloc_hook(False)
        return time.perf_counter() - start
    if mode == "strop-tracer":
        import strop
        from strop import _memtrace
        profile = strop.Profile(builtins=False, mechanism=_memtrace._mechanism())
        start = time.perf_counter()
        profile.enable()
        work()
        profile.disable()
        return time.perf_counter() - start
    if mode in ("strop-mem", "strop-sampled"):
        import strop
        start = time.perf_counter()
        with strop.track_memory(sample_bytes=524288 if mode == "strop-sampled" else 0):
            work()
        return time.perf_counter() - start
    if mode.startswith("tracemalloc"):
        import tracemalloc
        frames = int(mode.split("-")[1])
        start = time.perf_counter()
        tracemalloc.start(frames)
        work()
        tracemalloc.stop()
        return time.perf_counter() - start
    if mode.startswith("memray"):
        import memray
        path = os.path.join(tmp, "memray-%d.bin" % time.monotonic_ns())
        start = time.perf_counter()
        with memray.Tracker(path, trace_python_allocators=(mode == "memray-py")):
            work()
        elapsed = time.perf_counter() - start
        os.unlink(path)
        return elapsed
    raise SystemExit("unknown mode %r" % mode)


def child(workload, mode, inner):
    once, repeat = RUN[workload], REPEAT[workload]

    def work():
        for _ in range(repeat):
            once()

    once()  # warm-up, untracked
    with tempfile.TemporaryDirectory() as tmp:
        times = [time_once(work, mode, tmp) for _ in range(inner)]
    print(json.dumps({"seconds": min(times)}))


def child_footprint(mode):
    """Tracker bytes per live block with 1,000,000 small blocks alive."""
    n = 1000000
    if mode == "strop-mem":
        import strop
        with strop.track_memory() as t:
            kept = [(i,) for i in range(n)]
            info = t.info
        live = info["end_blocks"]
        print(json.dumps({"live": live, "table": info["table_bytes"] / live,
                          "nodes": info["node_bytes"] / live}))
    elif mode == "tracemalloc-1":
        import tracemalloc
        tracemalloc.start(1)
        kept = [(i,) for i in range(n)]
        used = tracemalloc.get_tracemalloc_memory()
        live = len(tracemalloc.take_snapshot().traces)
        tracemalloc.stop()
        print(json.dumps({"live": live, "table": used / live, "nodes": 0}))
    del kept


# -- the parent ---------------------------------------------------------------------------------

def available(mode):
    need = NEEDS.get(mode)
    if need is None:
        return True, ""
    proc = subprocess.run([sys.executable, "-c", need], capture_output=True, text=True)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return False, lines[-1] if lines else "failed"
    return True, ""


def run_child(*args):
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", *args],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise SystemExit("child %s failed:\n%s" % (args, proc.stderr))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--inner", type=int, default=3)
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--modes", default=",".join(MODES[1:]),
                   help="trackers to run beside plain (default: all)")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    opts = p.parse_args()
    if opts.child:
        if opts.child[0] == "footprint":
            child_footprint(opts.child[1])
        else:
            child(opts.child[0], opts.child[1], opts.inner)
        return
    print("Python %s, %d rounds, best of %d inner runs each" % (
        sys.version.split()[0], opts.rounds, opts.inner))
    modes = []
    for mode in ["plain"] + [m for m in opts.modes.split(",") if m != "plain"]:
        if mode not in MODES:
            raise SystemExit("unknown mode %r: choose from %s" % (mode, ", ".join(MODES[1:])))
        ok, why = available(mode)
        if ok:
            modes.append(mode)
        else:
            print("skipping %s: %s" % (mode, why))
    workloads = opts.workloads.split(",")
    results = {}
    for workload in workloads:
        ratios = {m: [] for m in modes if m != "plain"}
        plain_times = []
        for r in range(opts.rounds):
            order = modes[r % len(modes):] + modes[:r % len(modes)]
            times = {m: run_child(workload, m, "--inner", str(opts.inner))["seconds"]
                     for m in order}
            plain_times.append(times["plain"])
            for m in ratios:
                ratios[m].append(times[m] / times["plain"])
        results[workload] = (statistics.median(plain_times),
                             {m: statistics.median(v) for m, v in ratios.items()})
    print()
    print("slowdown (median over rounds of tracked / plain wall time of the same round)")
    print("%-16s" % "" + "".join("%12s" % w for w in workloads))
    print("%-16s" % "plain (s)" + "".join("%12.4f" % results[w][0] for w in workloads))
    for m in modes[1:]:
        print("%-16s" % m + "".join("%11.2fx" % results[w][1][m] for w in workloads))
    if "floor" in modes and "strop-mem" in modes:
        print("%-16s" % "strop / floor" + "".join(
            "%11.2fx" % (results[w][1]["strop-mem"] / results[w][1]["floor"])
            for w in workloads))
    print("%-16s" % "budget (strop)" + "".join("%11.2fx" % BUDGET.get(w, 0)
                                                  for w in workloads))
    print()
    print("tracker memory with 1,000,000 one-item tuples alive (a tuple and an int each: about 2,000,000 blocks), bytes per live block")
    for m in ("strop-mem", "tracemalloc-1"):
        f = run_child("footprint", m)
        extra = " (+ %.2f for per-node records)" % f["nodes"] if f["nodes"] else ""
        print("%-16s %6.1f%s   [%d live blocks]" % (m, f["table"], extra, f["live"]))


if __name__ == "__main__":
    main()
