"""The sampler at 1 kHz on programs it did not write: pyperformance's raytrace
(from PyPI) and a made-up call-heavy program (tests/targets/s_callheavy.py).

What is bounded: the share of samples that could not be read (the goal is at
most 0.5%; before the reader read each thread as one snapshot and retried torn
readings, raytrace lost 1% to 50% of its samples, depending on how busy the
machine was), the lean of a caller's share against the time the target
measured itself (dropped samples fall where frames are pushed and popped, so
they lean the shares toward functions whose frames stay put), and the names:
methods by their qualified names on 3.11+ (Scene._lightIsVisible)."""
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import require_module

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = os.path.join(ROOT, "tests", "targets")
QUALIFIED = sys.version_info >= (3, 11)

# The report's first line: "N samples in ...; M could not be read (P%)".
_COUNTS = re.compile(r"^(\d+) samples in .*?; (\d+) could not be read", re.M)


def _sample(tmp_path, name, *target):
    out = tmp_path / (name + ".folded")
    r = subprocess.run([sys.executable, "-m", "strop", "sample", "--rate", "1000", "-o", str(out),
                        *target], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    m = _COUNTS.search(r.stderr)
    assert m, r.stderr[-2000:]
    stacks = {}
    for line in out.read_text().splitlines():
        stack, count = line.rsplit(" ", 1)
        stacks[stack] = int(count)
    return int(m.group(1)), int(m.group(2)), stacks, r.stderr


def _through(stacks, frame):
    """Samples whose stack holds a frame starting with `frame` ("calls (")."""
    return sum(n for stack, n in stacks.items()
               if any(f.startswith(frame) for f in stack.split(";")))


def _own(stacks, frame):
    return sum(n for stack, n in stacks.items() if stack.split(";")[-1].startswith(frame))


def test_raytrace_is_read_at_1khz(tmp_path):
    pyperformance = require_module("pyperformance", "the sampler is tested on its benchmarks")
    require_module("pyperf", "pyperformance's benchmarks run on it")
    script = os.path.join(os.path.dirname(pyperformance.__file__), "data-files", "benchmarks",
                          "bm_raytrace", "run_benchmark.py")
    assert os.path.exists(script), script
    read = unreadable = 0
    reports = []
    for run in range(2):
        n, bad, stacks, report = _sample(tmp_path, f"raytrace{run}", script, "--worker",
                                         "-l", "2", "-n", "1", "-w", "0")
        read += n
        unreadable += bad
        reports.append(report.splitlines()[0])
    # Goal 0.5% (issue 15).  Since the reader finds the frame that ended at
    # the copied top of the data stack (and takes a loop's callers from the
    # other loops' current frames when its own _PyCFrame was used again),
    # 0.00% at 1 kHz on 3.11-3.13; before, 1.1% (3.13) and 2.1% (3.12) in a
    # quiet full run, and readings whose pointer read NULL were dropped
    # without a word.  1% leaves room for a machine that stalls the reader.
    assert read > 500, reports
    assert unreadable <= 0.01 * (read + unreadable), reports
    # Every frame named, methods by their class on 3.11+.
    light = "Scene._lightIsVisible (" if QUALIFIED else "_lightIsVisible ("
    sub = "Point.__sub__ (" if QUALIFIED else "__sub__ ("
    assert _through(stacks, light) > 0 and _own(stacks, sub) > 0, sorted(stacks)[:20]
    # _lightIsVisible calls Point.__sub__ (l - p) and Sphere.intersectionTime:
    # those calls show up beneath it, with a share of their own.
    beneath = sum(n for stack, n in stacks.items()
                  if light in stack and stack.split(";")[-1].startswith(sub))
    assert beneath > 0, [s for s in stacks if light in s][:5]


def test_call_heavy_shares_follow_the_time_the_target_measured(tmp_path):
    truth_file = tmp_path / "truth.json"
    n, bad, stacks, report = _sample(tmp_path, "calls",
                                     os.path.join(TARGETS, "s_callheavy.py"), "2",
                                     str(truth_file))
    truth = json.loads(truth_file.read_text())
    first = report.splitlines()[0]
    assert n > 800, first
    # The same bound and reasons as raytrace's.
    assert bad <= 0.03 * (n + bad), first  # as for raytrace above
    calls, steady = _through(stacks, "calls ("), _through(stacks, "steady (")
    assert calls > 0 and steady > 0, sorted(stacks)[:20]
    sampled = calls / (calls + steady)
    measured = truth["calls"] / (truth["calls"] + truth["steady"])
    # About 2,000 samples of the two: the binomial spread of the share is 1.1
    # points; 4 points is over three of them.  A reader dropping the samples
    # it cannot read in calls() leans this toward steady(): 53.5-55.2%
    # sampled for 60.0% measured on 3.12, 58.5% on 3.11, before the reader
    # stopped dropping the readings whose loop's current_frame read NULL (it
    # had returned while read); 59.7-60.1% on 3.11-3.13 since.
    assert abs(sampled - measured) <= 0.04, (sampled, measured, first)
    # The methods, operators and constructors it calls are seen, by class on 3.11+.
    prefix = "Vec." if QUALIFIED else ""
    for name in ("__sub__", "__mul__"):
        assert _own(stacks, prefix + name + " (") > 0, (name, sorted(stacks)[:20])
