"""Full root-to-leaf call paths in every format, against a call tree that
the test knows (issue 13, item 5), not against strop's own numbers.

tests/targets/p_tree.py calls its functions along known paths with known
counts, and `shared` is reached through `mid` from two grandparents (alpha
and beta) with different counts and sleeps.  It measures each path's sleeps
itself (time.perf_counter around each time.sleep) and writes them out.

- The tracer (`strop run -o FILE`): every path under `main` must be one of
  the program's paths, with exactly its call count where the format carries
  counts (pprof, HTML), and the time of each path's time.sleep between what
  was asked (a sleep never ends early) and what the program measured around
  it (strop's interval lies inside the program's).  The lower bound against
  the measured time is 0.75: what lies between the two intervals is four hook
  passes (microseconds); only a preemption inside those few microseconds
  could cost more, and the bound still tells alpha's path (4 ms sleeps) from
  beta's (1 ms).
- The sampler (`strop sample -o FILE`): every sampled path under `main` must
  lie along a path of the program, and each branch's share of the samples
  must be the share of the program's own measured sleeping time, within 0.08
  (about 3 standard errors of a share at the ~370 samples taken; samples at
  a fixed rate vary less than independent draws).
- Formats read by outside programs are read through them: pprof through
  `go tool pprof -traces`, callgrind through `callgrind_annotate
  --tree=caller`.  pstats and callgrind hold caller->callee edges only, so
  there the edges are checked (a grandparent cannot be seen in them).

`strop sample -o x.html` is refused today (README promises it; another
branch adds it): that test is an expected failure until then, and must pass
once sampled HTML is written.

The checkers are shown to fail: test_checker_rejects_* feed them files whose
paths were altered by hand (calls filed under the wrong grandparent, a count
off by one, a sleep moved to another path).
"""
import json
import marshal
import re
import subprocess

import pytest

from conftest import describe, require_tool, run_strop, TARGETS

TARGET = TARGETS / "p_tree.py"
SLEEP = "<built-in method time.sleep>"
PERF = "<built-in method time.perf_counter>"
GROUPS = ("alpha", "beta", "gamma")

# The program's tree below main: path -> calls.
TRUTH_CALLS = {
    ("main",): 1,
    ("main", "alpha"): 3,
    ("main", "alpha", "mid"): 6,
    ("main", "alpha", "mid", "shared"): 6,
    ("main", "alpha", "mid", "shared", SLEEP): 6,
    ("main", "alpha", "mid", "shared", PERF): 12,
    ("main", "beta"): 2,
    ("main", "beta", "mid"): 2,
    ("main", "beta", "mid", "shared"): 8,
    ("main", "beta", "mid", "shared", SLEEP): 8,
    ("main", "beta", "mid", "shared", PERF): 16,
    ("main", "gamma"): 1,
    ("main", "gamma", "shared"): 5,
    ("main", "gamma", "shared", SLEEP): 5,
    ("main", "gamma", "shared", PERF): 10,
}
SHARED_PATH = {"alpha": ("main", "alpha", "mid", "shared"),
               "beta": ("main", "beta", "mid", "shared"),
               "gamma": ("main", "gamma", "shared")}
# Seconds asked of time.sleep on each path, at scale 1.
ASKED = {"alpha": 6 * 0.004, "beta": 8 * 0.001, "gamma": 5 * 0.002}
# main 10 times with sleeps 6 times longer: about 2.5 s of sleeping, ~370
# samples at 150 Hz, no sleep longer than 24 ms.
SAMPLER_SCALE, SAMPLER_REPEAT = 6, 10
# 150 Hz: a reader built with the sanitizers keeps it (it fell to 146 Hz of
# 250 asked), so that no run leans on a reader that cannot keep its rate.
SAMPLER_RATE = 150
SHARE_TOLERANCE = 0.08



# --- Frames and paths ---------------------------------------------------------------------

def frame(name, file=None):
    """A frame as the checkers know it: the bare name for the target's own
    functions and for built-ins, name@file for anything else (so that site's
    `main` is not the target's)."""
    if file and file.endswith("p_tree.py"):
        return name
    if not file or file == "~":
        return name
    return "%s@%s" % (name, file)


def below_main(stack):
    """The part of a root-first stack from the target's main, or None."""
    stack = tuple(stack)
    if "main" not in stack:
        return None
    return stack[stack.index("main"):]


def collect(items):
    """{path below main: [calls or None, value]} from (root-first stack, calls, value)."""
    paths = {}
    for stack, calls, value in items:
        path = below_main(stack)
        if path is None:
            continue
        entry = paths.setdefault(path, [None if calls is None else 0, 0])
        if calls is not None:
            entry[0] += calls
        entry[1] += value
    return paths


# --- The checkers ---------------------------------------------------------------------------

def check_traced(paths, measured, with_calls, scale=1.0):
    """Paths (ns of own time per path) of a traced profile against the truth."""
    unknown = sorted(set(paths) - set(TRUTH_CALLS))
    assert not unknown, "paths the program never took: %r" % unknown
    if with_calls:
        got = {p: paths.get(p, [0])[0] for p in TRUTH_CALLS}
        assert got == TRUTH_CALLS
    for group in GROUPS:
        path = SHARED_PATH[group] + (SLEEP,)
        assert path in paths, "no %r" % (path,)
        seconds = paths[path][1] / 1e9
        asked, around = ASKED[group] * scale, measured[group]
        # 1% and 0.2 ms: strop's calibrated clock against perf_counter's.
        assert seconds >= asked * 0.99, (group, seconds, asked)
        assert seconds <= around * 1.01 + 0.0002, (group, seconds, around)
        assert seconds >= around * 0.75, (group, seconds, around)


def check_sampled(paths, measured):
    """Paths (samples per path) of a sampled profile against the truth."""
    python_paths = {p for p in TRUTH_CALLS if p[-1] not in (SLEEP, PERF)}
    total = sum(v[1] for v in paths.values())
    assert total >= 200, "only %d samples under main" % total
    for path in paths:
        # The sampler's leaf for a sleeping thread is a frame of its own.
        py = tuple(f for f in path if not f.startswith("<sleeping") and
                   not f.startswith("<waiting"))
        assert py in python_paths, "a path the program never took: %r" % (path,)
    slept = sum(measured.values())
    for group in GROUPS:
        prefix = SHARED_PATH[group]
        n = sum(v[1] for p, v in paths.items() if p[:len(prefix)] == prefix)
        assert n / total == pytest.approx(measured[group] / slept, abs=SHARE_TOLERANCE), (
            group, n, total, measured)


# --- Readers of each format --------------------------------------------------------------

FOLDED_FRAME = re.compile(r"^(.*) \((.*):(\d+)\)$")


def folded_paths(text):
    items = []
    for line in text.splitlines():
        stack, count = line.rsplit(" ", 1)
        frames = []
        for f in stack.split(";"):
            m = FOLDED_FRAME.match(f)
            frames.append(frame(m.group(1), m.group(2)) if m else frame(f))
        items.append((frames, None, int(count)))
    return collect(items)


def speedscope_paths(doc):
    frames = [frame(f["name"], f.get("file")) for f in doc["shared"]["frames"]]
    items = []
    for profile in doc["profiles"]:
        assert profile["type"] == "sampled" and profile["unit"] == "nanoseconds"
        assert len(profile["samples"]) == len(profile["weights"])
        for stack, weight in zip(profile["samples"], profile["weights"]):
            items.append(([frames[i] for i in stack], None, weight))
    return collect(items)


def html_paths(html):
    m = re.search(r'<script type="application/json" id="strop-profile">(.*?)</script>', html,
                  re.S)
    assert m, "no profile data in the page"
    data = json.loads(m.group(1))
    funcs, tree = data["funcs"], data["tree"]
    names = [frame(f[0], f[1]) for f in funcs]
    stacks = []
    items = []
    for i, parent in enumerate(tree["parent"]):
        f = tree["func"][i]
        stack = (stacks[parent] if parent >= 0 else ()) + ((names[f],) if f >= 0 else ())
        stacks.append(stack)
        if f >= 0:
            items.append((stack, tree["calls"][i], tree["self"][i]))
    return collect(items)


TRACE_VALUE = re.compile(r"^\s*(-?[\d.]+)(ns|us|ms|s|)\s+(.*)$")
UNIT_NS = {"": 1, "ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}
PPROF_FRAME = re.compile(r"^(.*) (\S+):(\d+)$")


def pprof_traces(path, sample_index):
    """Stacks and values from `go tool pprof -traces -lines` (a real consumer)."""
    go = require_tool("go", "golang-go")
    proc = subprocess.run([go, "tool", "pprof", "-traces", "-lines",
                           "-sample_index=%s" % sample_index, str(path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, describe(proc)
    items = []
    for block in proc.stdout.split("-----------+")[1:]:
        lines = [ln for ln in block.splitlines()[1:] if ln.strip()]
        if not lines:
            continue
        m = TRACE_VALUE.match(lines[0])
        assert m, lines[0]
        value = float(m.group(1)) * UNIT_NS[m.group(2)]
        stack = [m.group(3).strip()] + [ln.strip() for ln in lines[1:]]
        frames = []
        for f in reversed(stack):  # pprof prints the leaf first
            fm = PPROF_FRAME.match(f)
            frames.append(frame(fm.group(1), fm.group(2)) if fm else frame(f))
        items.append((frames, None, value))
    return items


def pprof_paths(path, sampled):
    if sampled:
        return collect(pprof_traces(path, "samples"))
    calls = collect(pprof_traces(path, 0))
    times = collect(pprof_traces(path, 1))
    assert set(calls) == set(times)
    return {p: [int(round(calls[p][1])), times[p][1]] for p in calls}


# --- Running strop -------------------------------------------------------------------------

def strop_run(tmp_path, name):
    out, truth = tmp_path / name, tmp_path / (name + ".truth.json")
    proc = run_strop("run", "-q", "-o", out, TARGET, truth)
    assert proc.returncode == 0, describe(proc)
    measured = json.loads(truth.read_text())
    return out, {g: measured[g] for g in GROUPS}


def strop_sample(tmp_path, name):
    out, truth = tmp_path / name, tmp_path / (name + ".truth.json")
    proc = run_strop("sample", "-q", "--rate", SAMPLER_RATE, "-o", out, TARGET, truth,
                     SAMPLER_SCALE, SAMPLER_REPEAT)
    assert proc.returncode == 0, describe(proc)
    measured = json.loads(truth.read_text())
    return out, {g: measured[g] for g in GROUPS}


# --- The tracer ---------------------------------------------------------------------------

def test_tracer_folded(tmp_path):
    out, measured = strop_run(tmp_path, "t.folded")
    paths = folded_paths(out.read_text(encoding="utf-8"))
    # folded carries µs of own time, no counts
    check_traced({p: [None, v[1] * 1000] for p, v in paths.items()}, measured, with_calls=False)


def test_tracer_pprof(tmp_path):
    out, measured = strop_run(tmp_path, "t.pb.gz")
    check_traced(pprof_paths(out, sampled=False), measured, with_calls=True)


def test_tracer_speedscope(tmp_path):
    out, measured = strop_run(tmp_path, "t.speedscope.json")
    check_traced(speedscope_paths(json.loads(out.read_text())), measured, with_calls=False)


def test_tracer_html(tmp_path):
    out, measured = strop_run(tmp_path, "t.html")
    check_traced(html_paths(out.read_text(encoding="utf-8")), measured, with_calls=True)


def truth_edges():
    edges = {}
    for path, calls in TRUTH_CALLS.items():
        if len(path) >= 2:
            edges[path[-2:]] = edges.get(path[-2:], 0) + calls
    return edges


def test_tracer_pstats_edges(tmp_path):
    out, measured = strop_run(tmp_path, "t.prof")
    with open(out, "rb") as f:
        stats = marshal.load(f)
    names = {k: frame(k[2], k[0]) for k in stats}
    edges = {}
    for callee, (_cc, _nc, _tt, _ct, callers) in stats.items():
        for caller, (nc, _pcc, _ptt, pct) in callers.items():
            edges[(names[caller], names[callee])] = (nc, pct)
    wanted = truth_edges()
    ours = {e: v[0] for e, v in edges.items() if e[0] in set(n for p in TRUTH_CALLS for n in p)
            and e[0] != SLEEP and e[0] != PERF}
    assert ours == wanted
    # gamma is the only caller of shared other than mid: its edge's cumulative
    # time is gamma's sleeping and a little more.
    ct = edges[("gamma", "shared")][1]
    assert measured["gamma"] * 0.75 <= ct <= measured["gamma"] * 1.01 + 0.002


CALLER_LINE = re.compile(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+<\s+(.*):(.*) \((\d+)x\)")
SELF_LINE = re.compile(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+\*\s+(.*):(.*)$")


def test_tracer_callgrind_edges_through_callgrind_annotate(tmp_path):
    annotate = require_tool("callgrind_annotate", "valgrind")
    out, measured = strop_run(tmp_path, "callgrind.out.p_tree")
    proc = subprocess.run([annotate, "--tree=caller", "--inclusive=yes", "--threshold=100",
                           str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, describe(proc)
    edges, pending = {}, []
    for line in proc.stdout.splitlines():
        m = CALLER_LINE.match(line)
        if m:
            pending.append((frame(m.group(3), m.group(2)), int(m.group(4)),
                            int(m.group(1).replace(",", ""))))
            continue
        m = SELF_LINE.match(line)
        if m:
            callee = frame(m.group(3), m.group(2))
            for caller, calls, cost in pending:
                edges[(caller, callee)] = (calls, cost)
        pending = []
    wanted = truth_edges()
    ours = {e: v[0] for e, v in edges.items()
            if e[0] in set(n for p in TRUTH_CALLS for n in p) and e[0] not in (SLEEP, PERF)}
    assert ours == wanted
    ns = edges[("gamma", "shared")][1]
    assert measured["gamma"] * 0.75 <= ns / 1e9 <= measured["gamma"] * 1.01 + 0.002


# --- The sampler ----------------------------------------------------------------------------

def test_sampler_pprof(tmp_path):
    require_tool("go", "golang-go")
    out, measured = strop_sample(tmp_path, "s.pb.gz")
    check_sampled(pprof_paths(out, sampled=True), measured)


def test_sampler_folded(tmp_path):
    out, measured = strop_sample(tmp_path, "s.folded")
    check_sampled(folded_paths(out.read_text(encoding="utf-8")), measured)


def test_sampler_speedscope(tmp_path):
    out, measured = strop_sample(tmp_path, "s.speedscope.json")
    check_sampled(speedscope_paths(json.loads(out.read_text())), measured)


def test_sampler_html(tmp_path):
    out, measured = strop_sample(tmp_path, "s.html")
    check_sampled(html_paths(out.read_text(encoding="utf-8")), measured)


# --- The checkers fail on wrong paths -----------------------------------------------------

@pytest.fixture(scope="module")
def traced_folded(tmp_path_factory):
    out, measured = strop_run(tmp_path_factory.mktemp("folded"), "t.folded")
    return out.read_text(encoding="utf-8"), measured


def check_folded_text(text, measured):
    paths = folded_paths(text)
    check_traced({p: [None, v[1] * 1000] for p, v in paths.items()}, measured, with_calls=False)


def test_checker_accepts_the_real_file(traced_folded):
    check_folded_text(*traced_folded)


def test_checker_rejects_calls_under_the_wrong_grandparent(traced_folded):
    text, measured = traced_folded
    # alpha's calls of mid filed under beta: the paths alone are all paths the
    # program took, only the times (alpha's 4 ms sleeps) show the mistake.
    altered = text.replace("alpha (", "beta (")
    assert altered != text
    with pytest.raises(AssertionError):
        check_folded_text(altered, measured)


def test_checker_rejects_a_skipped_grandparent(traced_folded):
    text, measured = traced_folded
    altered = re.sub(r"alpha \([^)]*\);", "", text)
    assert altered != text
    with pytest.raises(AssertionError, match="never took"):
        check_folded_text(altered, measured)


def test_checker_rejects_a_count_off_by_one():
    paths = {p: [c, 0] for p, c in TRUTH_CALLS.items()}
    measured = {g: ASKED[g] for g in GROUPS}
    for g in GROUPS:
        paths[SHARED_PATH[g] + (SLEEP,)][1] = ASKED[g] * 1e9
    check_traced(paths, measured, with_calls=True)
    paths[("main", "beta", "mid", "shared")][0] += 1
    with pytest.raises(AssertionError):
        check_traced(paths, measured, with_calls=True)


def test_sampled_checker_rejects_a_share_moved_to_the_other_grandparent():
    measured = {"alpha": 1.0, "beta": 0.3, "gamma": 0.4}
    total = 400
    good = {}
    for g in GROUPS:
        good[SHARED_PATH[g] + ("<sleeping: clock_nanosleep>",)] = [
            None, total * measured[g] / sum(measured.values())]
    check_sampled(good, measured)
    a = SHARED_PATH["alpha"] + ("<sleeping: clock_nanosleep>",)
    b = SHARED_PATH["beta"] + ("<sleeping: clock_nanosleep>",)
    swapped = dict(good)
    swapped[a], swapped[b] = good[b], good[a]
    with pytest.raises(AssertionError):
        check_sampled(swapped, measured)
