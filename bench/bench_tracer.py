#!/usr/bin/env python3
"""How much the deterministic profilers slow a program down, per Python version.

Not a test: a script that prints tables. For each Python (the running one, or
those given with --pythons) and each workload it runs, in fresh child
processes, the workload plain and under each profiler: cProfile, strop
(default: builtins counted), strop fast (--no-builtins: the eval-frame hook
on 3.9-3.11, sys.monitoring's Python events on 3.12+), and yappi and
pyinstrument when that Python can import them; and, when the engine offers
them (strop._engine._baseline_hook), the empty hooks of the mechanisms strop
uses (empty-hook: the default mode's; empty-fast-hook: fast mode's;
empty-evalframe: the eval-frame hook, which fast mode used on 3.12 and 3.13
until it was found to lose __init__ calls and deep recursion there), so that the issue's budgets (strop at most 1.10 x the
empty hook; fast mode at most 1.5x / 1.15x) are checked in the same run. The runs are
interleaved: each round runs plain and every profiler once, in an order that
rotates from round to round, so that all see the same machine. The slowdown
of a profiler is the median, over the rounds, of profiled wall / plain wall
of the same round. Each child times only the workload (perf_counter around
it, the profiler enabled inside), after one unprofiled warm-up run, best of
--inner runs each under a new profiler object, and prints the seconds as
JSON: interpreter start-up is not counted.

Workloads:
  call-heavy  recursive fib(25)
  oo          a small task scheduler with classes, methods, properties
  stdlib      json dumps/loads, re, ast.parse, sorting with keys

It also times the pstats files of a 100,000-function profile: strop writing
a real profile of 100,000 distinct functions (Profile.dump) and loading it
(strop.Stats), and loading a synthetic 100,000-function dict written with
marshal by strop.Stats and by the stdlib's pstats.Stats, and strop.Stats's
dump_stats.

usage:
  python bench/bench_tracer.py [--pythons PY [PY ...]] [--rounds N]
                               [--workloads call-heavy,oo,stdlib] [--modes ...]
                               [--inner N] [--no-pstats] [--json FILE] [-v]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

WORKLOADS = ["call-heavy", "oo", "stdlib"]
MODES = ["plain", "cProfile", "empty-hook", "strop", "empty-evalframe", "empty-fast-hook",
         "strop-fast", "yappi", "pyinstrument"]
# What a mode needs in the child: a statement that fails when it cannot run there.
NEEDS = {
    "cProfile": "import cProfile",
    "strop": "import strop",
    "strop-fast": "import strop",
    "yappi": "import yappi",
    "pyinstrument": "import pyinstrument",
    # Empty hooks of the mechanisms strop uses, from the engine (benchmarks only).
    "empty-hook": "import strop._engine as e; assert hasattr(e, '_baseline_hook')",
    "empty-evalframe": "import strop._engine as e; assert e.HAVE_EVALFRAME and "
                       "hasattr(e, '_baseline_hook')",
    "empty-fast-hook": "import strop._engine as e; assert hasattr(e, '_baseline_hook')",
}
# The budgets: strop default at most 1.10 x the empty hook of its mechanism;
# fast mode at most 1.5x on call-heavy and 1.15x on the others.
DEFAULT_VS_HOOK = 1.10
FAST_BUDGET = {"call-heavy": 1.5, "oo": 1.15, "stdlib": 1.15}

# -- workloads (run in the child) ---------------------------------------------------------------


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def call_heavy():
    return fib(25)


class Task:
    __slots__ = ("name", "priority", "remaining", "done_steps")

    def __init__(self, name, priority, work):
        self.name = name
        self.priority = priority
        self.remaining = work
        self.done_steps = 0

    @property
    def finished(self):
        return self.remaining <= 0

    def step(self):
        self.remaining -= 1
        self.done_steps += 1
        return self.remaining


class IOTask(Task):
    __slots__ = ("waits",)

    def __init__(self, name, priority, work):
        super().__init__(name, priority, work)
        self.waits = 0

    def step(self):
        if self.remaining % 3 == 0:
            self.waits += 1
        return super().step()


class RunQueue:
    def __init__(self):
        self.levels = {}

    def push(self, task):
        self.levels.setdefault(task.priority, []).append(task)

    def pop(self):
        for priority in sorted(self.levels):
            queue = self.levels[priority]
            if queue:
                return queue.pop(0)
        return None

    def __len__(self):
        return sum(len(q) for q in self.levels.values())


class Scheduler:
    def __init__(self):
        self.queue = RunQueue()
        self.clock = 0
        self.log = []

    def spawn(self, task):
        self.queue.push(task)

    def tick(self):
        task = self.queue.pop()
        if task is None:
            return False
        self.clock += 1
        task.step()
        if task.finished:
            self.log.append((self.clock, task.name))
        else:
            self.queue.push(task)
        return True

    def run(self):
        while self.tick():
            pass
        return self.clock


def oo():
    scheduler = Scheduler()
    for i in range(400):
        cls = IOTask if i % 2 else Task
        scheduler.spawn(cls("task%d" % i, i % 5, 20 + i % 13))
    return scheduler.run()


SOURCE = '''
import os
class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y
    def norm(self):
        return (self.x ** 2 + self.y ** 2) ** 0.5
def walk(top):
    for root, dirs, files in os.walk(top):
        yield from (os.path.join(root, f) for f in files if f.endswith(".py"))
'''


def stdlib():
    import ast
    import json as json_module
    import re
    data = {"items": [{"id": i, "name": "item%d" % i, "tags": ["a", "b", str(i % 7)],
                       "price": i * 1.25} for i in range(300)]}
    total = 0
    for _ in range(5):
        text = json_module.dumps(data)
        total += len(json_module.loads(text)["items"])
    words = re.findall(r"[a-z]+\d*", text)
    total += len(re.sub(r"(\d+)", lambda m: str(int(m.group(1)) * 2), text[:20000]))
    for _ in range(40):
        tree = ast.parse(SOURCE)
        total += sum(1 for _ in ast.walk(tree))
        total += len(ast.dump(tree))
    records = [("k%05d" % ((i * 7919) % 10007), i) for i in range(20000)]
    records.sort(key=lambda r: (r[0][-2:], r[1]))
    total += len(sorted(words, key=str.lower))
    return total


RUN = {"call-heavy": call_heavy, "oo": oo, "stdlib": stdlib}
# Times each workload runs in the timed region, so that plain Python takes about 0.1 s.
REPEAT = {"call-heavy": 5, "oo": 4, "stdlib": 1}


def child_workload(workload, mode, inner="3"):
    """Run one workload under one profiler; print {"seconds": ...} (the workload only).

    The workload is timed `inner` times, each time under a new profiler object
    (so each pays the profiler's first-call costs); the best time is printed,
    which removes most of the noise of a shared machine.
    """
    once, repeat = RUN[workload], REPEAT[workload]

    def work():
        for _ in range(repeat):
            once()

    once()  # warm-up, unprofiled, for every mode alike
    times = [time_once(work, mode) for _ in range(int(inner))]
    print(json.dumps({"seconds": min(times), "all": times}))


def time_once(work, mode):
    if mode == "plain":
        start = time.perf_counter()
        work()
        return time.perf_counter() - start
    if mode == "cProfile":
        import cProfile
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        work()
        profiler.disable()
        return time.perf_counter() - start
    if mode in ("strop", "strop-fast"):
        import strop
        profiler = strop.Profile(builtins=(mode == "strop"))
        start = time.perf_counter()
        profiler.enable()
        work()
        profiler.disable()
        return time.perf_counter() - start
    if mode in ("empty-hook", "empty-evalframe", "empty-fast-hook"):
        from strop import _engine
        builtins = mode == "empty-hook"
        mechanism = ("evalframe" if mode == "empty-evalframe" else
                     default_mechanism(builtins))
        start = time.perf_counter()
        _engine._baseline_hook(mechanism, True, builtins)
        work()
        _engine._baseline_hook(mechanism, False, builtins)
        return time.perf_counter() - start
    if mode == "yappi":
        import yappi
        yappi.clear_stats()
        yappi.set_clock_type("wall")
        start = time.perf_counter()
        yappi.start()
        work()
        yappi.stop()
        return time.perf_counter() - start
    if mode == "pyinstrument":
        from pyinstrument import Profiler
        profiler = Profiler()
        start = time.perf_counter()
        profiler.start()
        work()
        profiler.stop()
        return time.perf_counter() - start
    raise SystemExit("unknown mode %r" % mode)


def default_mechanism(builtins=True):
    """The hook strop uses on this Python: in its default mode, or in fast mode."""
    import strop
    probe = strop.Profile(builtins=builtins)
    probe.enable()
    probe.disable()
    return probe.info["mechanism"]


# -- pstats files of 100,000 functions (run in the child) ---------------------------------------

N_FUNCTIONS = 100000


def synthetic_stats(n):
    """A pstats dict of n functions in n // 100 files, each called by two others."""
    stats = {}
    keys = [("/srv/app/pkg%d/module%d.py" % (i // 5000, i // 100), 10 + i % 100 * 7,
             "function_%d" % i) for i in range(n)]
    for i, key in enumerate(keys):
        callers = {keys[(i * 31 + 7) % n]: (3, 3, 0.000125, 0.0025),
                   keys[(i * 17 + 3) % n]: (2, 1, 0.0000625, 0.00125)}
        stats[key] = (4, 5, 0.0001875, 0.00375, callers)
    return stats


def child_pstats(directory):
    """Time strop writing and loading pstats files of N_FUNCTIONS functions; print JSON."""
    import marshal
    import pstats
    import types
    result = {"functions": N_FUNCTIONS}
    try:
        import strop
    except ImportError as exc:
        result["error"] = "strop not importable: %s" % exc
        print(json.dumps(result))
        return

    # 1. A real profile of N distinct functions, written by strop's engine.
    template = compile("def f():\n    return 0\n", "<bench>", "exec").co_consts[0]
    functions = [types.FunctionType(template.replace(co_name="f%d" % i, co_firstlineno=i + 1,
                                                     co_filename="/srv/gen/m%d.py" % (i // 1000)),
                                    {}) for i in range(N_FUNCTIONS)]

    def call_all():
        for f in functions:
            f()

    profiler = strop.Profile(builtins=False)
    profiler.runcall(call_all)
    real = os.path.join(directory, "real.prof")
    start = time.perf_counter()
    profiler.dump(real)
    result["strop_dump_real"] = time.perf_counter() - start
    start = time.perf_counter()
    loaded = strop.Stats(real)
    result["strop_load_real"] = time.perf_counter() - start
    result["real_keys"] = len(loaded.stats)
    result["real_bytes"] = os.path.getsize(real)

    # 2. A synthetic dict written with marshal (callers on every function).
    synthetic = os.path.join(directory, "synthetic.prof")
    stats = synthetic_stats(N_FUNCTIONS)
    start = time.perf_counter()
    with open(synthetic, "wb") as f:
        marshal.dump(stats, f)
    result["marshal_dump_synthetic"] = time.perf_counter() - start
    del stats
    start = time.perf_counter()
    loaded = strop.Stats(synthetic)
    result["strop_load_synthetic"] = time.perf_counter() - start
    result["synthetic_keys"] = len(loaded.stats)
    again = os.path.join(directory, "again.prof")
    start = time.perf_counter()
    loaded.dump_stats(again)
    result["strop_dump_stats_synthetic"] = time.perf_counter() - start
    del loaded
    start = time.perf_counter()
    pstats.Stats(synthetic)
    result["stdlib_load_synthetic"] = time.perf_counter() - start
    print(json.dumps(result))


# -- the parent ---------------------------------------------------------------------------------

def run_child(python, *args, timeout=600):
    """Run this script as a child with --child ARGS; return the JSON of its last line."""
    proc = subprocess.run([python, os.path.abspath(__file__), "--child", *args],
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError("%s %s failed (exit %d):\n%s" % (python, " ".join(args),
                                                            proc.returncode, proc.stderr[-2000:]))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def python_version(python):
    out = subprocess.run([python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def available_modes(python, modes):
    found = []
    for mode in modes:
        need = NEEDS.get(mode)
        if need is None or subprocess.run([python, "-c", need],
                                          capture_output=True).returncode == 0:
            found.append(mode)
    return found


def bench_python(python, workloads, modes, rounds, inner, log):
    """{workload: {mode: {"ratios": [...], "seconds": [...]}}} for one interpreter."""
    results = {w: {m: {"ratios": [], "seconds": []} for m in modes} for w in workloads}
    profiled = [m for m in modes if m != "plain"]
    for r in range(rounds):
        for workload in workloads:
            # Rotate the order of the profilers each round; plain runs first and last and
            # the pair's reference is the mean of the two, so a drift of the machine during
            # the round does not favour the profilers that run early.
            order = profiled[r % len(profiled):] + profiled[:r % len(profiled)] if profiled else []
            before = run_child(python, workload, "plain", str(inner))["seconds"]
            seconds = {m: run_child(python, workload, m, str(inner))["seconds"] for m in order}
            after = run_child(python, workload, "plain", str(inner))["seconds"]
            plain = (before + after) / 2
            results[workload]["plain"]["seconds"].append(plain)
            results[workload]["plain"]["ratios"].append(1.0)
            for m, s in seconds.items():
                results[workload][m]["seconds"].append(s)
                results[workload][m]["ratios"].append(s / plain)
            log("  round %d/%d %-10s plain %.3fs  %s" % (
                r + 1, rounds, workload, plain,
                "  ".join("%s %.2fx" % (m, seconds[m] / plain) for m in order)))
    return results


def print_table(version, results, workloads, modes, rounds):
    print()
    print("Python %s: slowdown = profiled wall / plain wall, median of %d paired rounds"
          % (version, rounds))
    header = ["workload", "plain (s)"] + [m for m in modes if m != "plain"]
    rows = []
    for w in workloads:
        row = [w, "%.3f" % statistics.median(results[w]["plain"]["seconds"])]
        for m in modes:
            if m == "plain":
                continue
            ratios = results[w][m]["ratios"]
            row.append("%.2fx" % statistics.median(ratios) if ratios else "n/a")
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    print("  ".join(h.ljust(wd) if i == 0 else h.rjust(wd)
                    for i, (h, wd) in enumerate(zip(header, widths))))
    for row in rows:
        print("  ".join(c.ljust(wd) if i == 0 else c.rjust(wd)
                        for i, (c, wd) in enumerate(zip(row, widths))))
    print_budgets(results, workloads, modes)


def print_budgets(results, workloads, modes):
    """The issue's budgets, each against its measure (medians of the paired ratios)."""
    def median_of(w, m):
        ratios = results[w][m]["ratios"] if m in modes else []
        return statistics.median(ratios) if ratios else None

    lines = []
    for w in workloads:
        strop_x, hook_x = median_of(w, "strop"), median_of(w, "empty-hook")
        if strop_x is not None and hook_x is not None:
            ratio = strop_x / hook_x
            lines.append("  %-10s strop / empty hook of its mechanism = %.3f (budget %.2f)%s" % (
                w, ratio, DEFAULT_VS_HOOK, "" if ratio <= DEFAULT_VS_HOOK else "  OVER"))
        fast_x = median_of(w, "strop-fast")
        if fast_x is not None:
            budget = FAST_BUDGET[w]
            lines.append("  %-10s strop-fast slowdown = %.3fx (budget %.2fx)%s" % (
                w, fast_x, budget, "" if fast_x <= budget else "  OVER"))
    if lines:
        print("Budgets of issue 2:")
        print("\n".join(lines))


def print_pstats(version, result):
    print()
    print("Python %s: pstats files of %d functions (limit: 0.5 s each for writing and loading)"
          % (version, result["functions"]))
    if "error" in result:
        print("  " + result["error"])
        return
    lines = [
        ("strop Profile.dump, real profile (%d keys, %.1f MB)"
         % (result["real_keys"], result["real_bytes"] / 1e6), "strop_dump_real"),
        ("strop.Stats(path), that file", "strop_load_real"),
        ("marshal.dump of a synthetic dict (Python, for reference)", "marshal_dump_synthetic"),
        ("strop.Stats(path), synthetic (%d keys, 2 callers each)" % result["synthetic_keys"],
         "strop_load_synthetic"),
        ("strop.Stats.dump_stats, synthetic", "strop_dump_stats_synthetic"),
        ("pstats.Stats(path), synthetic (stdlib, for reference)", "stdlib_load_synthetic"),
    ]
    for label, key in lines:
        verdict = ""
        if key.startswith("strop"):
            verdict = "  ok" if result[key] < 0.5 else "  OVER 0.5 s"
        print("  %-66s %7.3f s%s" % (label, result[key], verdict))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--pythons", nargs="+", default=[sys.executable],
                        help="interpreters to measure (default: this one)")
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds (default 5)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--modes", default=",".join(MODES),
                        help="profilers to compare (plain is always run)")
    parser.add_argument("--inner", type=int, default=3,
                        help="timed runs in each child, best kept (default 3)")
    parser.add_argument("--no-pstats", action="store_true", help="skip the pstats file timings")
    parser.add_argument("--json", help="also write all measurements to this file")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every round")
    args = parser.parse_args(argv)

    if args.child:
        if args.child[0] == "pstats":
            import tempfile
            with tempfile.TemporaryDirectory() as directory:
                child_pstats(directory)
        else:
            child_workload(*args.child)
        return 0

    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    workloads = [w for w in args.workloads.split(",") if w]
    for w in workloads:
        if w not in RUN:
            parser.error("unknown workload %r (choose from %s)" % (w, ", ".join(WORKLOADS)))
    wanted = ["plain"] + [m for m in args.modes.split(",") if m and m != "plain"]
    for m in wanted:
        if m not in MODES:
            parser.error("unknown mode %r (choose from %s)" % (m, ", ".join(MODES)))

    def log(message):
        if args.verbose:
            print(message, file=sys.stderr, flush=True)

    everything = {}
    for python in args.pythons:
        version = python_version(python)
        modes = available_modes(python, wanted)
        missing = [m for m in wanted if m not in modes]
        print("== %s (Python %s)%s" % (python, version,
                                       ", not importable: " + ", ".join(missing)
                                       if missing else ""), flush=True)
        results = bench_python(python, workloads, modes, args.rounds, args.inner, log)
        print_table(version, results, workloads, modes, args.rounds)
        entry = {"python": python, "version": version, "slowdown": results}
        if not args.no_pstats and "strop" in modes:
            pstats_result = run_child(python, "pstats")
            print_pstats(version, pstats_result)
            entry["pstats"] = pstats_result
        everything[python] = entry
        print(flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(everything, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
