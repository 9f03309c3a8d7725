#!/usr/bin/env python3
"""What the statistical profiler costs: the target's slowdown, the reader's
highest sustained rate and its own CPU, with py-spy and Austin beside it when
installed (`pip install py-spy "austin-dist<4"`: Austin 4 needs glibc 2.38).

Not a test: a script that prints tables.

1. Slowdown.  A target (a CPU-bound workload 20 frames deep) times itself
   with perf_counter around the workload only, after the reader attached.
   Each round runs it once plain and once sampled, in alternating order, so
   both see the same machine; the slowdown at a rate is the median over the
   rounds of sampled / plain.  Rates 100 Hz, 1 kHz, 10 kHz; strop's reader
   runs in this process (strop._engine.Sampler, GIL released while it reads),
   py-spy as its own process (`py-spy record --nonblocking`), Austin too
   (`austin -i INTERVAL_US -p PID`, which never stops its target).
2. Highest sustained rate.  A target spinning 50 frames deep is sampled for
   one second at rising asked rates; the achieved rate is readings / second,
   sustained while at least 95% of the asked rate is met.
3. The reader's own CPU: thread CPU time of the sampling thread / wall time.
4. Accuracy (--accuracy raytrace:4,richards:30,...: only this section).  Each
   of pyperformance's benchmark scripts named (`pip install pyperformance`;
   NAME:LOOPS sets its loops, --loops the others': enough for a second or two,
   or startup's imports dominate) runs once under `strop sample --rate 1000`,
   once under `py-spy record -r 1000` and once under `austin -i 1000` (when
   installed), and on 3.12+ once under Linux perf (`perf record -F 999
   --call-graph dwarf` of `python -X perf`: the innermost Python frame of each
   sample, from the trampoline symbols; when perf is installed and allowed).
   Printed: each tool's unreadable share, the own share of every function
   above 2% in any, side by side, by qualified name, strop's distance from the
   median of the others, the largest such distance, and what perf's
   trampolines add to the benchmark's wall time (median of 3 runs with and
   without -X perf).  Separate runs of a benchmark differ by a point or two on
   their own.

On a loaded machine wall times swing widely; the target's own CPU time
(thread_time around the workload) is printed beside them, steadier, and
catches the cost a reader puts on the target (cache misses, page-table
walks of process_vm_readv).

Usage: bench_sampler.py [--rounds 5] [--seconds 0.4] [--no-py-spy] [--no-austin]
       bench_sampler.py --accuracy raytrace:4,richards:30,deltablue:300 [--loops 3]
"""
import argparse
import collections
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TARGET = r'''
import sys, time
def work(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total
def deep(depth, seconds, spin):
    if depth:
        return deep(depth - 1, seconds, spin)
    if spin:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            work(1000)
        return 0
    start, cpu = time.perf_counter(), time.thread_time()
    n = 0
    while n < ITERATIONS:
        work(1000)
        n += 1
    return "%r %r" % (time.perf_counter() - start, time.thread_time() - cpu)
mode, depth, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
ITERATIONS = int(sys.argv[4]) if len(sys.argv) > 4 else 0
sys.setrecursionlimit(10000)
print("ready", flush=True)
sys.stdin.readline()
if mode == "spin":
    deep(depth, seconds, True)
else:
    print(deep(depth, seconds, False), flush=True)
'''


def _engine():
    from strop import _engine

    return _engine


def _start(path, *args):
    proc = subprocess.Popen([sys.executable, path, *map(str, args)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _go(proc):
    proc.stdin.write("go\n")
    proc.stdin.flush()


class StropReader:
    """strop's reader on `pid` in a thread of this process."""

    def __init__(self, pid, rate, mode="wall"):
        self.sampler = _engine().Sampler(pid, rate=rate, mode=mode)
        self.cpu = 0.0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        start = time.thread_time()
        self.sampler.run()
        self.cpu = time.thread_time() - start

    def start(self):
        self.thread.start()
        time.sleep(0.05)

    def stop(self):
        self.thread.join()
        return self.sampler.info()


def _timed_run(path, iterations, reader=None, rate=0):
    proc = _start(path, "time", 20, 0, iterations)
    attached = None
    try:
        if reader == "strop":
            attached = StropReader(proc.pid, rate)
            attached.start()
        elif reader == "py-spy":
            attached = subprocess.Popen(["py-spy", "record", "--pid", str(proc.pid), "--rate",
                                         str(rate), "--nonblocking", "--format", "raw",
                                         "--output", os.devnull],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)  # py-spy attaches
        elif reader == "austin":
            attached = subprocess.Popen(["austin", "-i", str(max(1, round(1e6 / rate))),
                                         "-o", os.devnull, "-p", str(proc.pid)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)  # Austin attaches
        _go(proc)
        seconds = tuple(map(float, proc.stdout.readline().split()))
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if reader == "strop":
        attached.stop()
    elif reader in ("py-spy", "austin"):
        attached.wait(10)
    return seconds


def _calibrate(path, seconds):
    proc = _start(path, "time", 20, 0, 50)
    _go(proc)
    per = float(proc.stdout.readline().split()[0]) / 50
    proc.wait()
    return max(1, int(seconds / per))


def slowdown(path, iterations, readers, rates, rounds):
    rows = []
    for reader in readers:
        for rate in rates:
            ratios, cpu_ratios = [], []
            for r in range(rounds):
                if r % 2 == 0:
                    plain = _timed_run(path, iterations)
                    sampled = _timed_run(path, iterations, reader, rate)
                else:
                    sampled = _timed_run(path, iterations, reader, rate)
                    plain = _timed_run(path, iterations)
                ratios.append(sampled[0] / plain[0])
                cpu_ratios.append(sampled[1] / plain[1])
            wall, cpu = statistics.median(ratios), statistics.median(cpu_ratios)
            rows.append((reader, rate, wall, cpu))
            print(f"  {reader:<7} {rate:>6} Hz   wall {100 * (wall - 1):+6.2f}%"
                  f" (range {100 * (min(ratios) - 1):+.1f}% .. {100 * (max(ratios) - 1):+.1f}%)"
                  f"   target CPU {100 * (cpu - 1):+6.2f}%"
                  f" (range {100 * (min(cpu_ratios) - 1):+.1f}% .. "
                  f"{100 * (max(cpu_ratios) - 1):+.1f}%)", flush=True)
    return rows


def sustained(path, rates, depth=50, seconds=1.0):
    best = 0.0
    for rate in rates:
        proc = _start(path, "spin", depth, seconds + 1)
        _go(proc)
        time.sleep(0.2)
        sampler = _engine().Sampler(proc.pid, rate=rate, mode="wall", waits=False)
        start, cpu0 = time.monotonic(), time.thread_time()
        sampler.run(seconds)
        wall, cpu = time.monotonic() - start, time.thread_time() - cpu0
        info = sampler.info()
        stacks = sampler.stacks()
        proc.kill()
        proc.wait()
        depth_seen = max((len(thread[2]) for thread in stacks), default=0)
        achieved = info["achieved_rate"]
        bad = info["bad"] / max(1, info["samples"] + info["bad"])
        print(f"  asked {rate:>7} Hz: achieved {achieved:9.0f} Hz, reader CPU "
              f"{100 * cpu / wall:5.1f}%, {1e6 * cpu / max(1, info['ticks']):6.1f} us/reading, "
              f"bad {100 * bad:.2f}%, reads/reading {info['reads'] / max(1, info['ticks']):.1f}"
              f", stack depth {depth_seen}", flush=True)
        if achieved >= 0.95 * rate:
            best = max(best, achieved)
    return best


def _leaf_shares(folded):
    """{function name: own share} of a folded file ("a (f:1);b (f:2) N" lines)."""
    own, total = collections.Counter(), 0
    with open(folded) as f:
        for line in f:
            stack, n = line.rstrip("\n").rsplit(" ", 1)
            if not stack:
                continue  # py-spy: no Python stack yet (the process starting)
            leaf = stack.split(";")[-1].split(" (", 1)[0]
            own[leaf] += int(n)
            total += int(n)
    return {name: n / total for name, n in own.items()} if total else {}


def _austin_shares(path):
    """{qualified name: own share} of Austin's output ("P..;T..;file:name:line;... METRIC")."""
    own, total = collections.Counter(), 0
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            stack, n = line.rstrip("\n").rsplit(" ", 1)
            leaf = stack.split(";")[-1]
            if leaf.startswith(("P", "T")) and ":" not in leaf[1:].split(";")[0]:
                continue  # no Python frame
            parts = leaf.rsplit(":", 2)
            if len(parts) != 3 or parts[1] == "INVALID":
                continue
            own[parts[1]] += int(n)
            total += int(n)
    return {name: n / total for name, n in own.items()} if total else {}


def _perf_shares(data):
    """{qualified name: own share} of `perf script` over a perf record of
    `python -X perf`: each sample's innermost py:: trampoline symbol."""
    r = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym"], capture_output=True,
                       text=True)
    own, total, leaf = collections.Counter(), 0, None
    for line in r.stdout.splitlines() + [""]:
        if not line.strip():
            if leaf is not None:
                own[leaf] += 1
                total += 1
            leaf = None
            continue
        sym = line.strip().split(" ", 1)[-1]
        if leaf is None and sym.startswith("py::"):
            leaf = sym[4:].split(":", 1)[0]
    return {name: n / total for name, n in own.items()} if total else {}


def _wall(cmd, runs=3):
    times = []
    for _ in range(runs):
        start = time.monotonic()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.monotonic() - start)
    return statistics.median(times)


def accuracy(benchmarks, loops):
    try:
        import pyperformance
    except ImportError:
        sys.exit("--accuracy needs pyperformance: pip install pyperformance")
    root = os.path.join(os.path.dirname(pyperformance.__file__), "data-files", "benchmarks")
    spy, austin, perf = shutil.which("py-spy"), shutil.which("austin"), shutil.which("perf")
    if sys.version_info < (3, 12):
        perf = None  # python -X perf: 3.12+
    worst_all = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for spec in benchmarks:
            bench, _, n = spec.partition(":")
            script = os.path.join(root, f"bm_{bench}", "run_benchmark.py")
            cmd = [sys.executable, script, "--worker", "-l", n or str(loops), "-n", "1", "-w", "0"]
            ours = os.path.join(tmp, f"{bench}.strop.folded")
            r = subprocess.run([sys.executable, "-m", "strop", "sample", "--rate", "1000",
                                "-l", "1", "-o", ours, *cmd[1:]], capture_output=True, text=True)
            m = re.search(r"(\d+) samples in .*?; (\d+) could not be read", r.stderr)
            lost = f"{100 * int(m.group(2)) / max(1, int(m.group(1)) + int(m.group(2))):.2f}%" \
                if m else "?"
            shares = {"strop": _leaf_shares(ours)}
            unreliable = set()
            line = f"{bench}: strop unreadable {lost}"
            if spy:
                theirs = os.path.join(tmp, f"{bench}.spy.txt")
                r = subprocess.run([spy, "record", "-r", "1000", "-f", "raw", "-o", theirs,
                                    "--", *cmd], capture_output=True, text=True)
                m = re.search(r"Samples: (\d+) Errors: (\d+)", r.stdout + r.stderr)
                if m and os.path.exists(theirs):
                    line += (f", py-spy unreadable "
                             f"{100 * int(m.group(2)) / max(1, int(m.group(1))):.2f}%")
                    shares["py-spy"] = _leaf_shares(theirs)
            if austin:
                theirs = os.path.join(tmp, f"{bench}.austin")
                r = subprocess.run([austin, "-C", "-i", "1000", "-o", theirs, *cmd],
                                   capture_output=True, text=True)
                m = re.search(r"Error rate : \S*?(\d+)/(\d+)", re.sub(r"\x1b\[[0-9;]*m", "",
                                                                      r.stdout + r.stderr))
                if os.path.exists(theirs):
                    invalid = int(m.group(1)) / max(1, int(m.group(2))) if m else 0.0
                    line += f", austin unreadable {100 * invalid:.2f}%"
                    shares["austin"] = _austin_shares(theirs)
                    if invalid > 0.05:  # an opinion from under half its samples: shown, not counted
                        line += " (left out of the median: over 5% unreadable)"
                        unreliable.add("austin")
            if perf:
                data = os.path.join(tmp, f"{bench}.perf.data")
                r = subprocess.run([perf, "record", "-q", "-F", "999", "--call-graph",
                                    "dwarf,16384", "-o", data, "--", cmd[0], "-X", "perf",
                                    *cmd[1:]], capture_output=True, text=True)
                if r.returncode == 0 and os.path.exists(data):
                    shares["perf"] = _perf_shares(data)
                    plain = _wall(cmd)
                    line += (f", perf's trampolines add "
                             f"{100 * (_wall([cmd[0], '-X', 'perf', *cmd[1:]]) / plain - 1):+.0f}%"
                             f" to the wall time")
            for t, got in shares.items():
                if not got and t not in unreliable:  # an opinion of no samples at all
                    line += f" ({t} recorded no Python frame: left out)"
                    unreliable.add(t)
            print(line)
            tools = list(shares)
            names = sorted({n for s in shares.values() for n, v in s.items() if v >= 0.02},
                           key=lambda n: -shares["strop"].get(n, 0))
            header = "".join(f"{t:>9}" for t in tools)
            print("   " + header + ("  vs median" if len(tools) > 1 else "") +
                  "  function (own share)")
            worst = 0.0
            for name in names:
                row = [shares[t].get(name, 0.0) for t in tools]
                text = "   " + "".join(f"{100 * v:8.1f}%" for v in row)
                others = [shares[t].get(name, 0.0) for t in tools[1:] if t not in unreliable]
                if others:
                    gap = row[0] - statistics.median(others)
                    worst = max(worst, abs(gap))
                    text += f"  {100 * gap:+8.1f}"
                print(text + f"  {name}")
            if len(tools) > 1:
                print(f"   largest distance from the others' median: {100 * worst:.1f} points")
            worst_all = max(worst_all, worst)
    if len(benchmarks) > 1:
        print(f"largest distance over all: {100 * worst_all:.1f} points")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=0.4, help="the workload's length")
    p.add_argument("--no-py-spy", action="store_true")
    p.add_argument("--no-austin", action="store_true")
    p.add_argument("--accuracy", metavar="BENCH,...",
                   help="only: per-function shares on these pyperformance benchmarks")
    p.add_argument("--loops", type=int, default=3, help="--accuracy: the benchmarks' loops")
    opts = p.parse_args()
    if opts.accuracy:
        accuracy(opts.accuracy.split(","), opts.loops)
        return
    readers = ["strop"]
    if not opts.no_py_spy and shutil.which("py-spy"):
        readers.append("py-spy")
    if not opts.no_austin and shutil.which("austin"):
        readers.append("austin")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "target.py")
        with open(path, "w") as f:
            f.write(TARGET)
        print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
              f"load {os.getloadavg()[0]:.2f}")
        iterations = _calibrate(path, opts.seconds)
        print(f"Target slowdown (median of {opts.rounds} paired runs of {opts.seconds} s, "
              "20 frames deep):")
        slowdown(path, iterations, readers, (100, 1000, 10000), opts.rounds)
        print("Reader on a 50-deep stack, 1 s per rate:")
        best = sustained(path, (1000, 10000, 20000, 50000, 100000))
        print(f"Highest sustained rate: {best:.0f} Hz")


if __name__ == "__main__":
    main()
