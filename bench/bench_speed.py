"""What strop's speed tests are worth, measured: prints figures, asserts nothing.

1. Machine independence: one workload measured alone and while a CPU hog
   shares its core (both pinned with `taskset -c 0`): seconds should differ by
   30% or more, kstones by at most 5%.
2. A/A budgets: a budget at 1.25x the measured cost should fail in under 1% of
   the trials, one at 0.75x in over 99%.
3. compare: two measurements of the same code should give "no significant
   change" in at least 95% of the trials; a 10% slowdown should be flagged
   in at least 90%.
4. The timing loop: what strop.timeit('pass') reports, and what the C loop
   adds per call.

Usage: python bench/bench_speed.py [--trials N] [--only 1,2,3,4]
"""
import argparse
import functools
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import time

import warnings

import strop
from strop import _engine, _speed, _speed_cli

warnings.simplefilter("ignore", strop.BudgetWarning)  # counted, not printed


def workload(n=60000):
    """Ordinary Python work: dict and list building, arithmetic, calls."""
    d = {}
    for i in range(n):
        d[i % 997] = d.get(i % 997, 0) + (i * 3) % 7
    return sorted(d.values())[len(d) // 2]


CHILD = """
import sys, time
sys.path.insert(0, {bench!r})
import strop
strop._speed.EXCLUDE_WAITS = {exclude}
from bench_speed import workload
strop.to_kstones(1)
seconds, kstones = [], []
for _ in range({rounds}):
    with strop.budget(kstones=1e12, raise_on_exceeded=False) as b:
        for _ in range(10):
            workload()
    seconds.append(b.seconds)
    kstones.append(b.kstones)
print(repr((seconds, kstones)))
"""


def machine_independence(rounds=9):
    print("== 1. machine independence (taskset -c 0, alone vs with a CPU hog on the same core)")
    if shutil.which("taskset") is None:
        print("   taskset is not installed: skipped")
        return
    for exclude in (True, False):
        code = CHILD.format(bench=os.path.dirname(os.path.abspath(__file__)), rounds=rounds,
                            exclude=exclude)

        def measure():
            out = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", code],
                                 capture_output=True, text=True, check=True).stdout
            seconds, kstones = eval(out)
            return statistics.median(seconds), statistics.median(kstones), kstones

        alone = measure()
        hog = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-c", "while True: pass"])
        try:
            time.sleep(0.2)
            shared = measure()
        finally:
            hog.kill()
            hog.wait()
        print("   " + ("leaving out the waits for a CPU (the default):" if exclude else
                       "wall clock only (strop._speed.EXCLUDE_WAITS = False):"))
        print(f"     alone:     {alone[0]:.4f} s  {alone[1]:8.2f} kstones")
        print(f"     with hog:  {shared[0]:.4f} s  {shared[1]:8.2f} kstones")
        ds = shared[0] / alone[0] - 1
        dk = shared[1] / alone[1] - 1
        print(f"     seconds differ by {ds:+.1%} (want >= 30%), kstones by {dk:+.1%} "
              "(want within 5%)")
        print(f"     kstones per round with the hog: {', '.join(f'{k:.1f}' for k in shared[2])}")


def aa_budgets(trials):
    print(f"== 2. A/A budgets ({trials} trials each)")
    work = functools.partial(workload, 20000)
    costs = []
    for _ in range(15):
        with strop.budget(kstones=1e12, raise_on_exceeded=False) as b:
            work()
        costs.append(b.kstones)
    cost = statistics.median(costs)
    print(f"   measured cost: {cost:.2f} kstones (median of 15)")
    for factor in (1.25, 0.75):
        verdicts = {"pass": 0, "exceeded": 0, "inconclusive": 0}
        for _ in range(trials):
            b = strop.budget(kstones=cost * factor, raise_on_exceeded=False)
            with b:
                work()
            verdicts[b.verdict] += 1
        fails = verdicts["exceeded"] / trials
        want = "want < 1%" if factor > 1 else "want > 99%"
        print(f"   budget {factor:.2f}x: failed {fails:.1%} ({want}); "
              f"pass {verdicts['pass']}, inconclusive {verdicts['inconclusive']}")


def compare_trials(trials):
    print(f"== 3. compare ({trials} trials each)")
    same = slow = 0
    for _ in range(trials):
        a = strop.timeit(functools.partial(workload, 5000), number=5, repeat=7)
        b = strop.timeit(functools.partial(workload, 5000), number=5, repeat=7)
        c = strop.timeit(functools.partial(workload, 5500), number=5, repeat=7)
        rows = _speed_cli.compare_benchmarks({"x": {"values": a.values}},
                                             {"x": {"values": b.values}})
        same += rows[0][-1] == "no significant change"
        rows = _speed_cli.compare_benchmarks({"x": {"values": a.values}},
                                             {"x": {"values": c.values}})
        slow += rows[0][-1] == "slower"
    print(f"   same code: 'no significant change' in {same / trials:.0%} (want >= 95%)")
    print(f"   10% more work: 'slower' in {slow / trials:.0%} (want >= 90%)")


def timing_loop():
    print("== 4. the timing loop")
    r = strop.timeit("pass")
    print(f"   strop.timeit('pass'): median {_engine.format_seconds(r.median)} "
          f"(subtracted {_engine.format_seconds(r.overhead)} per loop)")
    n = 2_000_000
    bare = min(_engine.time_loop(None, n) for _ in range(5)) / n
    calls = {}
    for name, f in (("int (C)", int), ("lambda: None", lambda: None)):
        c = min(_engine.time_loop(f, n) for _ in range(5)) / n
        py = min(_py_loop(f, n) for _ in range(5)) / n
        calls[name] = (c, py)
    print(f"   bare C loop: {bare * 1e9:.2f} ns per iteration")
    for name, (c, py) in calls.items():
        print(f"   calling {name:<13}: C loop {c * 1e9:6.1f} ns per call, "
              f"Python for-loop (stdlib timeit's) {py * 1e9:6.1f} ns")
    print("   what the C loop adds to a call: the bare loop plus the vectorcall dispatch, "
          f"at most {calls['int (C)'][0] * 1e9:.1f} ns (the whole cost of calling int())")


def _py_loop(f, n):
    """The stdlib timeit's loop: `for _ in itertools.repeat(None, n): f()`."""
    it = itertools.repeat(None, n)
    t0 = time.perf_counter()
    for _ in it:
        f()
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=200)
    p.add_argument("--only", default="1,2,3,4")
    opts = p.parse_args()
    parts = set(opts.only.split(","))
    print(f"strop {strop.__version__}, Python {sys.version.split()[0]}, "
          f"{_speed.stones_rate():,.0f} stones/s")
    if "4" in parts:
        timing_loop()
    if "1" in parts:
        machine_independence()
    if "2" in parts:
        aa_budgets(opts.trials)
    if "3" in parts:
        compare_trials(max(1, opts.trials // 2))


if __name__ == "__main__":
    main()
