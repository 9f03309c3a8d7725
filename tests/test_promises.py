"""README promises that no other test checked (issue 13, item 7), each
against a real consumer, a published spec or what the program itself knows.

- The Chrome trace (`strop run --timeline -o trace.json`): no consumer of it
  installs from PyPI without downloading a binary when it runs (Perfetto's
  `perfetto` package fetches trace_processor_shell; Catapult is not on PyPI),
  so it is checked against the Trace Event Format document field by field,
  and its spans against p_tree.py's known call tree and its own timings.
- `.png`, `.pprof` and `.callgrind` names on the command line, read back by
  their consumers; `--node-thres` / `--edge-thres` on the command line.
- The tracer's own bookkeeping is not charged to the program.
- `strop dump --pid` names a thread's wait for its child process.
- `strop sample --threads` in pprof (thread_name labels, read by go tool
  pprof) and speedscope (one profile per thread).
- `strop compare`'s confidence interval and p-value against scipy's.
- coverage.py running beside `strop run`, both right.
- The HTML report's hover (place, time, share) in headless Chromium.
- `strop top`'s `o` key, in a pseudo-terminal.
"""
import json
import marshal
import os
import random
import re
import shutil
import statistics
import struct
import subprocess
import sys
import time

import pytest

from conftest import IN_CI, TARGETS, child_env, describe, require_module, run_python, run_strop
from test_call_paths import (ASKED, GROUPS, PERF, SHARED_PATH, SLEEP, TRUTH_CALLS, collect,
                             frame, require_tool)

P_TREE = TARGETS / "p_tree.py"


def run_p_tree(tmp_path, *args, scale=1):
    truth = tmp_path / "truth.json"
    proc = run_strop("run", "-q", *args, P_TREE, truth, scale)
    assert proc.returncode == 0, describe(proc)
    return json.loads(truth.read_text())


# --- The Chrome trace, against the Trace Event Format ----------------------------------------

SPAN_NAME = re.compile(r"^(.*) \((.*):(\d+)\)$")


def check_trace_format(doc):
    """The Trace Event Format's rules for what strop writes (JSON Object Format):
    traceEvents a list; displayTimeUnit "ms" or "ns"; every event a `ph`;
    complete events ("X") with name, pid, tid, ts and dur (µs, numbers,
    dur >= 0); metadata events ("M") named thread_name/process_name/... with
    args.name; begin/end ("B"/"E") matched per thread; spans of one thread
    nested (contained or disjoint), as the format requires of X events."""
    assert isinstance(doc, dict) and isinstance(doc["traceEvents"], list)
    assert doc.get("displayTimeUnit", "ms") in ("ms", "ns")
    spans = {}
    open_b = {}
    for e in doc["traceEvents"]:
        ph = e["ph"]
        assert ph in ("X", "B", "E", "M", "i", "I", "C"), e
        assert isinstance(e["pid"], int) and isinstance(e["tid"], int), e
        if ph == "M":
            assert e["name"] in ("process_name", "thread_name", "process_sort_index",
                                 "thread_sort_index", "process_labels"), e
            assert "args" in e
            if e["name"].endswith("_name"):
                assert isinstance(e["args"]["name"], str)
            continue
        assert isinstance(e["name"], str) and isinstance(e["ts"], (int, float)), e
        if ph == "X":
            assert isinstance(e["dur"], (int, float)) and e["dur"] >= 0, e
            spans.setdefault((e["pid"], e["tid"]), []).append(e)
        elif ph == "B":
            open_b.setdefault((e["pid"], e["tid"]), []).append(e)
        elif ph == "E":
            began = open_b[(e["pid"], e["tid"])].pop()
            assert e["ts"] >= began["ts"]
    assert all(not v for v in open_b.values()), "B events without their E"
    # Nesting: sorted by start (longer first on ties), each span inside the
    # innermost open one or after it.
    for key, events in spans.items():
        events.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []
        for e in events:
            while stack and e["ts"] >= stack[-1]["ts"] + stack[-1]["dur"] - 1e-3:
                stack.pop()
            if stack:
                outer = stack[-1]
                assert e["ts"] + e["dur"] <= outer["ts"] + outer["dur"] + 1e-3, (
                    "spans overlap on %r: %r and %r" % (key, outer, e))
            stack.append(e)
    return spans


def trace_paths(events):
    """(root-first stack, 1, dur µs) per X span, the stack from containment."""
    items, stack = [], []
    for e in sorted(events, key=lambda e: (e["ts"], -e["dur"])):
        while stack and e["ts"] >= stack[-1][1] - 1e-3:
            stack.pop()
        m = SPAN_NAME.match(e["name"])
        name = frame(m.group(1), m.group(2)) if m else frame(e["name"])
        stack.append((name, e["ts"] + e["dur"]))
        items.append(([s[0] for s in stack], 1, e["dur"]))
    return items


def test_chrome_trace_follows_the_format_and_the_program(tmp_path):
    out = tmp_path / "trace.json"
    measured = run_p_tree(tmp_path, "--timeline", "-o", out)
    doc = json.loads(out.read_text())
    spans = check_trace_format(doc)
    assert list(spans) == [(measured["pid"], measured["native_tid"])]
    names = [e for e in doc["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name"]
    assert [e["args"]["name"] for e in names] == ["MainThread"]
    paths = collect(trace_paths(next(iter(spans.values()))))
    # Every span under main is one call of the program's tree, each path's
    # count exact.
    assert {p: v[0] for p, v in paths.items()} == TRUTH_CALLS
    for group in GROUPS:
        seconds = paths[SHARED_PATH[group] + (SLEEP,)][1] / 1e6  # ts and dur are µs
        assert ASKED[group] * 0.99 <= seconds <= measured[group] * 1.01 + 0.0002, (
            group, seconds, measured[group])


def test_trace_checker_rejects_overlap_and_bad_fields():
    good = {"traceEvents": [
        {"ph": "X", "name": "a", "pid": 1, "tid": 1, "ts": 0, "dur": 10},
        {"ph": "X", "name": "b", "pid": 1, "tid": 1, "ts": 2, "dur": 5}]}
    check_trace_format(good)
    overlap = json.loads(json.dumps(good))
    overlap["traceEvents"][1]["dur"] = 20
    with pytest.raises(AssertionError, match="overlap"):
        check_trace_format(overlap)
    no_dur = json.loads(json.dumps(good))
    del no_dur["traceEvents"][0]["dur"]
    with pytest.raises(KeyError):
        check_trace_format(no_dur)


# --- File names on the command line, read by their consumers ---------------------------------

def png_size(data):
    """(width, height) from a PNG's signature and IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature: %r" % data[:8]
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def test_png_output(tmp_path):
    require_tool("dot", "graphviz")
    out = tmp_path / "graph.png"
    run_p_tree(tmp_path, "-o", out)
    width, height = png_size(out.read_bytes())
    # The graph has at least main -> alpha/beta/gamma -> mid -> shared -> sleep:
    # several rows of boxes, wider than one box.
    assert 200 <= width <= 20000 and 200 <= height <= 20000, (width, height)
    assert out.read_bytes()[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82"


def test_pprof_name_read_by_go_tool_pprof(tmp_path):
    go = require_tool("go", "golang-go")
    out = tmp_path / "p.pprof"
    run_p_tree(tmp_path, "-o", out)
    proc = subprocess.run([go, "tool", "pprof", "-traces", "-sample_index=calls", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, describe(proc)
    # The path alpha -> mid -> shared -> sleep, 6 calls, as go tool pprof prints it.
    assert re.search(r"^\s+6\s+<built-in method time.sleep>\n\s+shared\n\s+mid\n\s+alpha\n",
                     proc.stdout, re.M), proc.stdout[-3000:]


def test_callgrind_name_read_by_callgrind_annotate(tmp_path):
    annotate = require_tool("callgrind_annotate", "valgrind")
    out = tmp_path / "p.callgrind"
    measured = run_p_tree(tmp_path, "-o", out)
    proc = subprocess.run([annotate, "--threshold=100", str(out)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, describe(proc)
    m = re.search(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+~:<built-in method time.sleep>", proc.stdout,
                  re.M)
    assert m, proc.stdout[:3000]
    slept = int(m.group(1).replace(",", "")) / 1e9  # ns
    asked = sum(ASKED.values())
    assert asked * 0.99 <= slept <= sum(measured[g] for g in GROUPS) * 1.01 + 0.0005


# --- --node-thres and --edge-thres ------------------------------------------------------------

DOT_NODE = re.compile(r'^\s*(f\d+) \[.*label="(.*?)"\];$')
DOT_EDGE = re.compile(r'^\s*(f\d+) -> (f\d+) \[.*label="([\d.]+)%\\n')


def dot_graph(text):
    nodes, edges = {}, {}
    for line in text.splitlines():
        m = DOT_EDGE.match(line)
        if m:
            edges[(m.group(1), m.group(2))] = float(m.group(3))
            continue
        m = DOT_NODE.match(line)
        if m:
            parts = m.group(2).split("\\n")
            share = next(float(p[:-1]) for p in parts if p.endswith("%") and
                         not p.startswith("("))
            name = parts[1] if len(parts) == 5 else parts[0]
            nodes[m.group(1)] = (name, share)
    return nodes, edges


def test_node_and_edge_thresholds_on_the_cli(tmp_path):
    """Four runs of p_tree.py with its sleeps 5 times longer (so that its
    branches' shares stay far from the thresholds whatever imports and the
    profiler cost: alpha's branch about half of the run, beta's and gamma's
    under a fifth each); shares move a few points between runs, so edges are
    compared across runs only 10 points away from the threshold."""
    require_tool("dot", "graphviz")
    everything = tmp_path / "all.dot"
    run_p_tree(tmp_path, "-o", everything, "--node-thres", "0", "--edge-thres", "0", scale=5)
    nodes, edges = dot_graph(everything.read_text())
    names = {n[0] for n in nodes.values()}
    assert {"main", "alpha", "beta", "gamma", "mid", "shared", SLEEP, PERF} <= names
    # perf_counter takes microseconds of a run of about 250 ms.
    assert [n for n in nodes.values() if n[0] == PERF][0][1] < 0.5

    default = tmp_path / "default.dot"
    run_p_tree(tmp_path, "-o", default, scale=5)
    dnodes, _ = dot_graph(default.read_text())
    assert PERF not in {n[0] for n in dnodes.values()}  # 0.5% by default
    assert {"main", "alpha", "mid", "shared", SLEEP} <= {n[0] for n in dnodes.values()}

    cut = tmp_path / "cut.dot"
    run_p_tree(tmp_path, "-o", cut, "--node-thres", "30", "--edge-thres", "0", scale=5)
    cnodes, cedges = dot_graph(cut.read_text())
    kept = {n[0] for n in cnodes.values()}
    assert "alpha" in kept and "beta" not in kept and "gamma" not in kept and PERF not in kept
    assert all(share >= 30 for _, share in cnodes.values())
    assert all(a in cnodes and b in cnodes for a, b in cedges)

    cut = tmp_path / "edges.dot"
    run_p_tree(tmp_path, "-o", cut, "--node-thres", "0", "--edge-thres", "30", scale=5)
    enodes, eedges = dot_graph(cut.read_text())
    def unaddressed(names):  # "<built-in method __new__ of type object at 0x...>"
        return {re.sub(r" at 0x[0-9a-f]+", "", n) for n in names}

    assert unaddressed(n[0] for n in enodes.values()) == unaddressed(names)  # nodes untouched
    assert eedges and all(share >= 30 for share in eedges.values())
    by_name = {v[0]: k for k, v in enodes.items()}
    assert (by_name["main"], by_name["alpha"]) in eedges
    assert (by_name["main"], by_name["beta"]) not in eedges
    assert (by_name["main"], by_name["gamma"]) not in eedges
    full_names = {k: v[0] for k, v in nodes.items()}
    wanted = {(full_names[a], full_names[b]) for (a, b), s in edges.items() if s >= 40}
    got = {(enodes[a][0], enodes[b][0]) for a, b in eedges}
    assert wanted <= got


# --- strop's own bookkeeping is not charged to the program -----------------------------------

def test_own_time_per_call_is_the_work_not_the_bookkeeping(tmp_path):
    """p_percall.py knows what one call of `work` costs inside the function
    (B: the same loop timed inline, where no hook fires) and what a call
    costs in all under the profiler (C: its own timing of batches of calls,
    hooks included).  strop's own time per call (S) must hold the work and
    little of the rest: S >= 0.8 B, and S - B at most 45% of C - B.

    Both are timed on the thread's CPU clock with `--timer cpu`: on this
    2-core machine at load 7, wall-clock batches are preempted unevenly and
    S/B moved between 0.44 and 0.96 over four runs; on CPU time it held at
    0.94-0.99 (LOOPS=10).  With the 2-iteration loop used here, S - B was
    15-21% of C - B over ten runs (the interpreter's own frame set-up and
    return lie between the hook's time stamps), 28% with the measured event
    cost not subtracted (an 11 ns difference that this bound cannot see), and
    55-70% with four event costs charged to each interval (tracer.c's
    `d = raw + 4 * event_cost`): a share above 45% means strop charges about
    45 ns or more of the ~100 ns that profiling adds to each call.
    """
    if os.environ.get("STROP_UNDER_SANITIZER") == "1":
        pytest.skip("costs are measured in the plain runs of every Python: the sanitizer "
                    "multiplies the engine's own, not the interpreter's")
    truth = tmp_path / "percall.json"
    out = tmp_path / "percall.prof"
    proc = run_strop("run", "-q", "--timer", "cpu", "-o", out, TARGETS / "p_percall.py", truth,
                     "cpu", "2")
    assert proc.returncode == 0, describe(proc)
    known = json.loads(truth.read_text())
    with open(out, "rb") as f:
        stats = marshal.load(f)
    (key,) = [k for k in stats if k[2] == "work" and k[0].endswith("p_percall.py")]
    _cc, nc, tt, _ct, _callers = stats[key]
    assert nc == known["calls"]
    own, inline, called = tt / nc, known["inline_seconds"], known["called_seconds"]
    detail = "strop %.1f ns, inline %.1f ns, called %.1f ns" % (own * 1e9, inline * 1e9,
                                                               called * 1e9)
    assert called > inline > 0, detail
    assert own >= 0.8 * inline, detail
    assert own - inline <= 0.45 * (called - inline), detail


# --- strop dump: a thread waiting on its child process ---------------------------------------

def test_dump_names_the_child_a_thread_waits_for(tmp_path):
    proc = subprocess.Popen([sys.executable, str(TARGETS / "p_waitchild.py")],
                            stdout=subprocess.PIPE, text=True, env=child_env())
    child = None
    try:
        child = int(proc.stdout.readline())
        # Popen.wait() waits in os.waitpid(pid, 0): the wait4 system call on that pid.
        wanted = "    waiting: wait4 for process %d" % child
        deadline = time.monotonic() + 20
        while True:
            dump = run_strop("dump", "--pid", proc.pid)
            assert dump.returncode == 0, describe(dump)
            blocks = dump.stdout.split("\n\n")
            waiter = [b for b in blocks if '"child-waiter"' in b]
            assert len(waiter) == 1, dump.stdout
            lines = waiter[0].splitlines()
            if lines[-1] == wanted or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert lines[-1] == wanted, dump.stdout
        assert any(ln.endswith("in wait_for_child") and "p_waitchild.py" in ln for ln in lines)
        assert "(native id %d)" % proc.pid in dump.stdout  # the main thread's id is the pid
    finally:
        if child is not None:
            try:
                os.kill(child, 15)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0


# --- strop sample --threads: pprof labels, a speedscope profile per thread ---------------------

def sample_threads(tmp_path, name):
    out, truth = tmp_path / name, tmp_path / (name + ".json")
    proc = run_strop("sample", "-q", "--threads", "--rate", "200", "-o", out,
                     TARGETS / "p_threads.py", truth, "1")
    assert proc.returncode == 0, describe(proc)
    return out, json.loads(truth.read_text())


def test_sample_threads_pprof_labels(tmp_path):
    go = require_tool("go", "golang-go")
    out, seen = sample_threads(tmp_path, "threads.pb.gz")
    proc = subprocess.run([go, "tool", "pprof", "-traces", str(out)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, describe(proc)
    owner = {"work_a": "worker-a", "work_b": "worker-b", "main": "MainThread"}
    checked = set()
    for block in proc.stdout.split("-----------+")[1:]:
        if not block.strip().strip("-"):
            continue  # the closing rule
        labels = dict(re.findall(r"^\s*(thread_name|thread_id):\s+(.*?)\s*$", block, re.M))
        assert set(labels) == {"thread_name", "thread_id"}, block
        name = labels["thread_name"]
        assert name in seen, block
        assert int(labels["thread_id"]) == seen[name]["native_id"], block
        frames = re.findall(r"^\s+(?:[\d.]+\w*\s+)?(\S+)\s*$", block, re.M)
        for func, thread in owner.items():
            if func in frames:
                assert name == thread, block
                checked.add(func)
    assert checked == set(owner)
    # Each worker slept one second: its share of the samples says so.
    proc = subprocess.run([go, "tool", "pprof", "-tags", str(out)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, describe(proc)
    part = proc.stdout[proc.stdout.index("thread_name:"):]
    for worker in ("worker-a", "worker-b"):
        m = re.search(r"([\d.]+)(ms|s) \(\s*[\d.]+%\): " + worker + "$", part, re.M)
        assert m, part
        seconds = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
        assert 0.8 <= seconds <= 1.3, (worker, seconds)


def test_sample_threads_speedscope_profile_per_thread(tmp_path):
    out, seen = sample_threads(tmp_path, "threads.speedscope.json")
    doc = json.loads(out.read_text())
    frames = [f["name"] for f in doc["shared"]["frames"]]
    profiles = {}
    for p in doc["profiles"]:
        names = [n for n in seen if n in p["name"]]
        assert len(names) == 1, (p["name"], list(seen))
        assert names[0] not in profiles
        profiles[names[0]] = p
    assert set(profiles) == set(seen)
    for thread, func, others in (("worker-a", "work_a", ("work_b", "main")),
                                 ("worker-b", "work_b", ("work_a", "main")),
                                 ("MainThread", "main", ("work_a", "work_b"))):
        p = profiles[thread]
        stacks = [[frames[i] for i in s] for s in p["samples"]]
        assert any(func in s for s in stacks), (thread, stacks)
        assert not any(o in s for s in stacks for o in others), (thread, stacks)
    for worker in ("worker-a", "worker-b"):
        p = profiles[worker]
        seconds = sum(p["weights"]) / 1e9
        assert p["endValue"] - p["startValue"] == sum(p["weights"])
        assert 0.8 <= seconds <= 1.3, (worker, seconds)


# --- strop compare against scipy ----------------------------------------------------------------

def _bench_file(path, values):
    doc = {"format": "strop-bench", "version": 1, "python": "3", "benchmarks": {
        "x": {"values": values, "number": 1, "unit": "seconds"}}}
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("case", ["slower", "same", "ties"])
def test_compare_interval_and_p_value_agree_with_scipy(tmp_path, case):
    """strop compare's p is a two-sided Mann-Whitney U test (normal
    approximation, tie-corrected variance, continuity correction): scipy's
    mannwhitneyu with method="asymptotic" gives the same number.  Its interval
    is a bootstrap percentile interval of median(new) / median(old) with each
    sample resampled apart, which is what scipy.stats.bootstrap does with
    method="percentile".  Both are Monte Carlo (strop 2,000 seeded resamples,
    scipy 20,000 here), but a bootstrapped median of 25-31 values takes few
    distinct values, so the bounds land on the same order statistics: they
    agreed within 0.5% of the interval's width for every scipy seed tried.
    The bound is 4% of the width plus the printed rounding (0.0005); a 90%
    interval printed as the 95% one moves the bounds by 7-10% of it."""
    stats = require_module("scipy.stats", "the reference for strop compare").__dict__
    rng = random.Random(7)
    old = [1e-3 * (1 + rng.gauss(0, 0.03)) for _ in range(25)]
    if case == "slower":
        new = [1.08e-3 * (1 + rng.gauss(0, 0.03)) for _ in range(31)]
    elif case == "same":
        new = [1e-3 * (1 + rng.gauss(0, 0.03)) for _ in range(31)]
    else:  # timer-resolution values: many ties across and within samples
        old = [round(v, 5) for v in old]
        new = [round(1.02e-3 * (1 + rng.gauss(0, 0.03)), 5) for _ in range(31)]
    proc = run_strop("compare", _bench_file(tmp_path / "old.json", old),
                     _bench_file(tmp_path / "new.json", new))
    assert proc.returncode == 0, describe(proc)
    row = [ln for ln in proc.stdout.splitlines() if ln.startswith("x ")]
    assert len(row) == 1, proc.stdout
    # ratio (CI), then the ratio in kstones ('-' without recorded machine
    # speeds), the p-value and the verdict.
    m = re.search(r"([\d.]+) \(([\d.]+)-([\d.]+)\)\s+(?:\S+\s+)?(\S+)\s+"
                  r"(slower|faster|no significant)", row[0])
    assert m, row[0]
    ratio, low, high, p = (float(m.group(i)) for i in range(1, 5))

    assert ratio == pytest.approx(statistics.median(new) / statistics.median(old), abs=6e-4)
    want_p = stats["mannwhitneyu"](old, new, alternative="two-sided", method="asymptotic",
                                   use_continuity=True).pvalue
    assert m.group(4) == "%.3g" % want_p, (row[0], want_p)
    import numpy
    ci = stats["bootstrap"]((numpy.array(old), numpy.array(new)),
                            lambda a, b, axis=-1: numpy.median(b, axis=axis) /
                            numpy.median(a, axis=axis),
                            n_resamples=20000, confidence_level=0.95, method="percentile",
                            vectorized=True, random_state=numpy.random.default_rng(1)
                            ).confidence_interval
    width = ci.high - ci.low
    slack = 0.04 * width + 0.0005
    assert abs(low - ci.low) <= slack and abs(high - ci.high) <= slack, (row[0], ci)
    if case == "slower":
        assert m.group(5) == "slower" and ci.low > 1.03


# --- coverage.py beside strop ---------------------------------------------------------------

@pytest.mark.parametrize("core", ["ctrace", "sysmon"])
def test_coverage_and_strop_both_right(tmp_path, core):
    """`coverage run -m strop run ...`: coverage's lines are exactly the lines
    p_cov.py marks as run, and strop's counts are the program's calls."""
    require_module("coverage", "runs beside strop (PyPI coverage)")
    if core == "sysmon" and sys.version_info < (3, 12):
        pytest.skip("coverage's sys.monitoring core needs Python 3.12+")
    target = TARGETS / "p_cov.py"
    data, prof = tmp_path / "cov.data", tmp_path / "cov.prof"
    env = child_env(COVERAGE_CORE=core)
    proc = subprocess.run([sys.executable, "-m", "coverage", "run", "--data-file=%s" % data,
                           "-m", "strop", "run", "-q", "-o", str(prof), str(target), "7"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout == "56\n"  # 2 * (1 + ... + 7): the program ran as without either
    source = target.read_text().splitlines()
    ran = {i for i, line in enumerate(source, 1) if line.endswith("# run")}
    not_ran = {i for i, line in enumerate(source, 1) if line.endswith("# not run")}
    assert ran and not_ran
    code = ("import coverage, json, sys\n"
            "c = coverage.Coverage(data_file=sys.argv[1]); c.load()\n"
            "print(json.dumps(sorted(c.get_data().lines(sys.argv[2]) or [])))\n")
    lines = run_python("-c", code, data, str(target))
    assert lines.returncode == 0, describe(lines)
    assert set(json.loads(lines.stdout)) == ran
    with open(prof, "rb") as f:
        stats = marshal.load(f)
    calls = {k[2]: v[1] for k, v in stats.items() if k[0] == str(target)}
    assert calls == {"<module>": 1, "loop": 1, "branchy": 7}


# --- The HTML report's hover, in headless Chromium ----------------------------------------------

@pytest.fixture(scope="module")
def chromium():
    # As tests/test_report.py: one Python version of a CI run drives the browser.
    if os.environ.get("STROP_BROWSER_TESTS") == "0":
        pytest.skip("browser tests run in another of this CI run's Python versions")
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        message = "playwright is not importable (%s; PyPI playwright)" % exc
        if IN_CI:
            pytest.fail("CI=true and " + message)
        pytest.skip(message)
    if exe is None:
        message = "chromium is not installed (Debian chromium)"
        if IN_CI:
            pytest.fail("CI=true and " + message)
        pytest.skip(message)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe)
        try:
            yield browser
        finally:
            browser.close()


TIME_UNITS = {"ns": 1e-9, "\u00b5s": 1e-6, "ms": 1e-3, "s": 1.0}


def tooltip_at(page, name):
    """The tooltip's (name, place, {row: text}) with the mouse on the widest frame `name`."""
    r = page.evaluate("n => window.stropReport.rectOf(n)", name)
    assert r is not None, "no frame %r drawn" % name
    box = page.locator("#flame").bounding_box()
    # The point in view (a deep flame graph is taller than the window), and
    # the mouse away first, so that moving onto it is a move.
    page.evaluate("y => window.scrollBy(0, y)", box["y"] + r["y"] - 300)
    box = page.locator("#flame").bounding_box()
    page.mouse.move(1, 1)
    page.mouse.move(box["x"] + r["x"], box["y"] + r["y"])
    page.wait_for_selector("#tooltip:not([hidden])")
    rows = page.eval_on_selector_all(
        "#tooltip tr", "trs => trs.map(tr => [tr.cells[0].textContent, tr.cells[1].textContent])")
    where = page.locator("#tooltip .where")
    return (page.text_content("#tooltip .name"),
            where.text_content() if where.count() else None, dict(rows))


def seconds_and_share(text):
    m = re.match(r"^([\d.]+) (ns|\u00b5s|ms|s), ([\d.]+)% of all", text)
    assert m, text
    return float(m.group(1)) * TIME_UNITS[m.group(2)], float(m.group(3)) / 100


def test_html_hover_place_time_and_share(chromium, tmp_path):
    out = tmp_path / "report.html"
    measured = run_p_tree(tmp_path, "-o", out)
    page = chromium.new_page(viewport={"width": 1600, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(out.as_uri())
        page.wait_for_function("window.stropReport && window.stropReport.ready", timeout=20000)
        source = P_TREE.read_text().splitlines()
        for group in ("alpha", "gamma"):
            name, where, rows = tooltip_at(page, group)
            assert name == group
            line = next(i for i, s in enumerate(source, 1) if s.startswith("def %s(" % group))
            assert where == "%s:%d" % (P_TREE, line)
            seconds, share = seconds_and_share(rows["total"])
            # The branch's sleeps, asked and measured by the program (+1 ms for
            # its few calls and the 3 significant digits shown).
            assert ASKED[group] * 0.99 <= seconds <= measured[group] * 1.01 + 0.001, (
                group, rows)
            assert rows["calls"] == str(TRUTH_CALLS[("main", group)])
            # The share is of the whole profile: the root frame's total.
            _, _, root_rows = tooltip_at(page, "<built-in method builtins.exec>")
            whole, _ = seconds_and_share(root_rows["total"])
            assert share == pytest.approx(seconds / whole, abs=0.0015), (rows, root_rows)
        assert errors == []
    finally:
        page.close()


# --- strop top's o key, in a pseudo-terminal ---------------------------------------------------

TOP_ROW = re.compile(r"^\s*([\d.]+)%\s+([\d.]+)%\s+(\S+)")


def test_top_o_key_sorts_by_own_share():
    """The screen as a terminal shows it (pyte, a VT100 emulator, reads what
    strop top writes): after `t` the rows are in order of total share, after
    `o` in order of own share, with s_shares.py's f60 (60% of its time in its
    own loop, 0% below it) first and f30, f10 after it, once 400 samples
    since the start make that order sure (standard error of a share: 2.5
    points, the gaps 20-30)."""
    pyte = require_module("pyte", "a terminal emulator to read strop top's screen (PyPI pyte)")
    # TERM=vt100: what pyte emulates fully.  With xterm's terminfo, curses
    # also sends sequences pyte does not know (repeat a character, say), and
    # the screen pyte showed was garbled in one run.
    import pty
    import select

    target = subprocess.Popen([sys.executable, str(TARGETS / "s_shares.py"), "30"],
                              stdout=subprocess.DEVNULL, env=child_env())
    screen = pyte.Screen(120, 30)
    stream = pyte.ByteStream(screen)
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execve(sys.executable, [sys.executable, "-m", "strop", "top", "--pid",
                                       str(target.pid), "--rate", "200"],
                      child_env(TERM="vt100", LINES="30", COLUMNS="120"))
        finally:
            os._exit(127)  # never back into pytest

    def rows():
        out = []
        for line in screen.display[3:]:
            m = TOP_ROW.match(line)
            if m:
                out.append((float(m.group(1)), float(m.group(2)), m.group(3)))
        return out

    def wait_for(test, seconds=20):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    stream.feed(os.read(fd, 65536))
                except OSError:
                    break
                if test():
                    return True
        return False

    def sorted_by(column):
        r = rows()
        names = [x[2] for x in r]
        return (len(r) >= 4 and "f60" in names and "f10" in names and
                all(a[column] >= b[column] for a, b in zip(r, r[1:])))

    def samples():
        m = re.search(r"since start: (\d+) samples", screen.display[0])
        return int(m.group(1)) if m else 0

    try:
        # Since start, not the last second: a second holds too few of
        # s_shares.py's random-length cycles for f30 to be sure to beat f10.
        os.write(fd, b"a")
        os.write(fd, b"t")
        assert wait_for(lambda: "sorted by total" in screen.display[1] and sorted_by(1)
                        and "since start" in screen.display[1]), "\n".join(screen.display)
        assert rows()[0][2] in ("<module>", "main"), "\n".join(screen.display)
        os.write(fd, b"o")
        assert wait_for(lambda: "sorted by own" in screen.display[1] and sorted_by(0)
                        and samples() >= 400), "\n".join(screen.display)
        r = rows()
        assert [x[2] for x in r[:3]] == ["f60", "f30", "f10"], "\n".join(screen.display)
        assert 40 <= r[0][0] <= 80, "\n".join(screen.display)
        os.write(fd, b"q")
        deadline, status = time.monotonic() + 10, None
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            wait_for(lambda: False, 0.1)
        assert status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        pid = None
    finally:
        if pid:
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except OSError:
                pass
        os.close(fd)
        target.kill()
        target.wait()
