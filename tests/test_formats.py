"""The tree-based file formats (folded, callgrind, pprof, speedscope, dot),
each checked by its real reader and against strop's own pstats totals.

Two sources of files: the C unit test tests/c/test_writers.c (a hand-built
tree with names that need escaping, traced and sampled), and a real profile
written through Python (Profile.runcall, then Tracer.dump) in a child
process.  A reader that is missing skips its test here and fails it under
CI=true (.ci/run installs them: Debian valgrind, golang-go,
protobuf-compiler, graphviz; PyPI gprof2dot, jsonschema).
"""
import gzip
import json
import marshal
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import describe, IN_CI, require_module, require_tool, run, run_python

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = os.path.join(ROOT, "src", "strop", "_engine")
PROTO_DIR = os.path.join(ROOT, "tests", "data")
SOURCES = ["cct.c", "mem.c", "textbuf.c", "writers.c", "folded.c", "callgrind.c", "pprof.c",
           "speedscope.c", "dot.c", "html.c"]
FORMATS = ["folded", "callgrind", "pprof", "speedscope", "dot"]
FOLDED_LINE = re.compile(r"^(.*) (\d+)$")



# --- The C unit test and its files ----------------------------------------

@pytest.fixture(scope="module")
def c_prefix(tmp_path_factory):
    """Compiles and runs tests/c/test_writers.c; the prefix of the files it wrote."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        if IN_CI:
            pytest.fail("no C compiler in CI")
        pytest.skip("no C compiler")
    folder = tmp_path_factory.mktemp("c_writers")
    exe = folder / "test_writers"
    flags = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes",
             "-Wmissing-prototypes", "-Werror", "-g", "-O1"]
    if not os.environ.get("STROP_UNDER_SANITIZER"):
        flags += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
    cmd = [cc, *flags, "-I", ENGINE, os.path.join(ROOT, "tests", "c", "test_writers.c")]
    cmd += [os.path.join(ENGINE, s) for s in SOURCES] + ["-lz", "-o", str(exe)]
    subprocess.run(cmd, check=True)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
    env.pop("LD_PRELOAD", None)
    prefix = folder / "prog"
    proc = subprocess.run([str(exe), str(prefix)], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith(" 0 failed"), proc.stdout + proc.stderr
    return str(prefix)


def c_file(prefix, kind, fmt):
    return "%s%s.%s" % (prefix, "-sampled" if kind == "sampled" else "", fmt)


def test_c_writers_pass(c_prefix):
    for kind in ("traced", "sampled"):
        for fmt in FORMATS:
            assert os.path.getsize(c_file(c_prefix, kind, fmt)) > 0


# --- A real profile, written through Python ---------------------------------

WORKLOAD = r'''
import marshal, sys
import strop

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

class A:
    def __init__(self):
        self.x = sorted(range(200), key=lambda v: -v)

class B:
    def __init__(self):
        self.parts = [A() for _ in range(3)]

def odd(n):
    return n > 0 and even(n - 1)

def even(n):
    return n == 0 or odd(n - 1)

def weird():
    return len("x" * 10)
# A name every format must escape.
weird.__code__ = weird.__code__.replace(co_name='we;ird "name"\\ <script>\n\u00e9')

def workload():
    for _ in range(30):
        B()
    odd(300)
    weird()
    return fib(19)

out = sys.argv[1]
p = strop.Profile()
p.runcall(workload)
for fmt in ("folded", "callgrind", "pprof", "speedscope", "dot"):
    p._tracer.dump(out + "." + fmt, fmt, command="workload.py --arg")
with open(out + ".stats", "wb") as f:
    marshal.dump(p._tracer.stats(), f)
'''


@pytest.fixture(scope="module")
def py_prefix(tmp_path_factory):
    folder = tmp_path_factory.mktemp("py_writers")
    script = folder / "workload.py"
    script.write_text(WORKLOAD)
    prefix = folder / "prof"
    proc = run_python(script, prefix)
    assert proc.returncode == 0, describe(proc)
    return str(prefix)


@pytest.fixture(scope="module")
def stats(py_prefix):
    with open(py_prefix + ".stats", "rb") as f:
        return marshal.load(f)


def total_tt(stats):
    return sum(v[2] for v in stats.values())


def total_calls(stats):
    return sum(v[1] for v in stats.values())


def sources():
    """Where the files each reader gets come from: Python's dump, the C test's."""
    return ["python", "c-traced", "c-sampled"]


def path_of(request, source, fmt):
    if source == "python":
        return request.getfixturevalue("py_prefix") + "." + fmt
    kind = source.split("-")[1]
    return c_file(request.getfixturevalue("c_prefix"), kind, fmt)


# --- folded -------------------------------------------------------------------

@pytest.mark.parametrize("source", sources())
def test_folded_lines_and_gprof2dot(request, source):
    path = path_of(request, source, "folded")
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines
    for line in lines:
        assert FOLDED_LINE.match(line), line
        assert int(line.rsplit(" ", 1)[1]) > 0
    require_module("gprof2dot", "reads folded stacks")
    proc = run([sys.executable, "-m", "gprof2dot", "-f", "collapse", path])
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.startswith("digraph")


def test_folded_total_is_strop_total(py_prefix, stats):
    with open(py_prefix + ".folded", encoding="utf-8") as f:
        lines = f.read().splitlines()
    counts = [int(line.rsplit(" ", 1)[1]) for line in lines]
    # Each node's own time rounds to the microsecond (nodes under 0.5 µs are
    # dropped): speedscope has one weight, in ns, per node with own time.
    with open(py_prefix + ".speedscope", encoding="utf-8") as f:
        weights = json.load(f)["profiles"][0]["weights"]
    rounded = sum(int(w / 1000 + 0.5) for w in weights)
    assert abs(sum(counts) - rounded) <= 2
    assert abs(sum(counts) - total_tt(stats) * 1e6) <= 0.5 * len(weights) + 1
    # The escaped name: ';' became ':', the newline a space, one frame.
    weird = [line for line in lines if 'we:ird "name"\\ <script> \u00e9 (' in line]
    assert weird, "no line with the escaped name"
    assert any("fib (" in line for line in lines)


# --- callgrind ------------------------------------------------------------------

def annotate_total(path):
    tool = require_tool("callgrind_annotate", "valgrind")
    proc = run([tool, path])
    assert proc.returncode == 0, describe(proc)
    m = re.search(r"^\s*([\d,]+)(?: \([\d.]+%\))?\s+PROGRAM TOTALS", proc.stdout, re.M)
    assert m, proc.stdout
    return int(m.group(1).replace(",", "")), proc.stdout


def summary_of(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^summary: (\d+)$", text, re.M)
    assert m
    return int(m.group(1)), text


@pytest.mark.parametrize("source", sources())
def test_callgrind_annotate_total_is_summary(request, source):
    path = path_of(request, source, "callgrind")
    summary, text = summary_of(path)
    assert text.startswith("# callgrind format\nversion: 1\ncreator: strop\n")
    total, _ = annotate_total(path)
    assert total == summary


def test_callgrind_total_is_strop_total(py_prefix, stats):
    summary, text = summary_of(py_prefix + ".callgrind")
    assert "\ncmd: workload.py --arg\n" in text
    assert "\nevents: ns\n" in text
    # Each function's own cost rounds to the nanosecond.
    assert abs(summary - total_tt(stats) * 1e9) <= len(stats) + 1
    _, report = annotate_total(py_prefix + ".callgrind")
    assert "fib" in report
    # Two __init__ in one file are told apart by their lines.
    assert len(re.findall(r"^c?fn=\(\d+\) __init__:\d+$", text, re.M)) == 2


# --- pprof ----------------------------------------------------------------------

def pprof_raw(path):
    go = require_tool("go", "golang-go")
    proc = run([go, "tool", "pprof", "-raw", path], timeout=300)
    assert proc.returncode == 0, describe(proc)
    lines = proc.stdout.splitlines()
    start = lines.index("Samples:") + 2
    header = lines[start - 1].split()
    samples = []
    for line in lines[start:]:
        m = re.match(r"^\s+(\d+)\s+(\d+): ([\d ]+)$", line)
        if not m:
            break
        samples.append((int(m.group(1)), int(m.group(2)), m.group(3).split()))
    return header, samples, proc.stdout


def pprof_top(path):
    go = require_tool("go", "golang-go")
    proc = run([go, "tool", "pprof", "-top", "-nodecount=10", path], timeout=300)
    assert proc.returncode == 0, describe(proc)
    rows = []
    for line in proc.stdout.splitlines():
        m = re.match(r"^\s*[\d.]+\w*\s+[\d.]+%\s+[\d.]+%\s+[\d.]+\w*\s+[\d.]+%\s+(.*)$", line)
        if m:
            rows.append(m.group(1))
    return rows, proc.stdout


@pytest.mark.parametrize("source", sources())
def test_pprof_read_by_go_and_protoc(request, source):
    path = path_of(request, source, "pprof")
    header, samples, _ = pprof_raw(path)
    assert samples
    rows, report = pprof_top(path)
    assert rows, report
    protoc = require_tool("protoc", "protobuf-compiler")
    with gzip.open(path, "rb") as f:
        data = f.read()
    proc = run([protoc, "--decode=perftools.profiles.Profile", "-I", PROTO_DIR,
                os.path.join(PROTO_DIR, "profile.proto")], input=data, text=False)
    assert proc.returncode == 0, describe(proc)
    decoded = proc.stdout.decode("utf-8", "replace")
    strings = re.findall(r"^string_table: (.*)$", decoded, re.M)
    assert strings and strings[0] == '""', strings[:3]
    if source == "c-sampled":
        assert header == ["samples/count", "cpu/nanoseconds[dflt]"], header
        # Values are [samples, samples * period]: period 1 ms.
        assert all(ns == n * 1000000 for n, ns, _ in samples)
        assert "period: 1000000" in decoded
    else:
        assert header in (["calls/count", "wall/nanoseconds[dflt]"],
                          ["calls/count", "cpu/nanoseconds[dflt]"]), header


def test_pprof_totals_are_strop_totals(py_prefix, stats):
    _, samples, _ = pprof_raw(py_prefix + ".pprof")
    assert sum(n for n, _, _ in samples) == total_calls(stats)
    assert abs(sum(ns for _, ns, _ in samples) - total_tt(stats) * 1e9) <= len(samples) + 1
    rows, report = pprof_top(py_prefix + ".pprof")
    top = max(stats.items(), key=lambda kv: kv[1][2])[0][2]
    assert rows[0] == top, report


# --- speedscope -----------------------------------------------------------------

# speedscope's file format, as a JSON Schema, from ../shared/FORMATS.md.  Compared
# field by field with the schema speedscope publishes (file-format-schema.json,
# draft-06, in its repository): the same required fields of the file, a frame,
# a sampled and an evented profile and an event, the same units and event
# types; this one is stricter (integer indices and lines, no extra fields).
SPEEDSCOPE_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["$schema", "shared", "profiles"],
    "properties": {
        "$schema": {"const": "https://www.speedscope.app/file-format-schema.json"},
        "name": {"type": "string"},
        "activeProfileIndex": {"type": "integer", "minimum": 0},
        "exporter": {"type": "string"},
        "shared": {
            "type": "object",
            "required": ["frames"],
            "properties": {"frames": {"type": "array", "items": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "file": {"type": "string"},
                    "line": {"type": "integer", "minimum": 0},
                    "col": {"type": "integer", "minimum": 0},
                },
                "additionalProperties": False,
            }}},
        },
        "profiles": {"type": "array", "items": {"oneOf": [
            {
                "type": "object",
                "required": ["type", "name", "unit", "startValue", "endValue", "samples",
                             "weights"],
                "properties": {
                    "type": {"const": "sampled"},
                    "name": {"type": "string"},
                    "unit": {"enum": ["none", "nanoseconds", "microseconds", "milliseconds",
                                      "seconds", "bytes"]},
                    "startValue": {"type": "number"},
                    "endValue": {"type": "number"},
                    "samples": {"type": "array", "items": {
                        "type": "array", "items": {"type": "integer", "minimum": 0}}},
                    "weights": {"type": "array", "items": {"type": "number"}},
                },
                "additionalProperties": False,
            },
            {
                "type": "object",
                "required": ["type", "name", "unit", "startValue", "endValue", "events"],
                "properties": {
                    "type": {"const": "evented"},
                    "events": {"type": "array", "items": {
                        "type": "object", "required": ["type", "frame", "at"],
                        "properties": {"type": {"enum": ["O", "C"]},
                                       "frame": {"type": "integer", "minimum": 0},
                                       "at": {"type": "number"}}}},
                },
            },
        ]}},
    },
}


def check_speedscope(doc):
    """Validates `doc` against the schema (jsonschema when importable, else by
    hand for what strop writes), plus what a schema cannot say."""
    try:
        import jsonschema
    except ImportError:
        if IN_CI:
            pytest.fail("CI=true and jsonschema is not importable; .ci/run must install it")
        jsonschema = None
    if jsonschema is not None:
        jsonschema.validate(doc, SPEEDSCOPE_SCHEMA)
    else:
        assert doc["$schema"] == "https://www.speedscope.app/file-format-schema.json"
        for frame in doc["shared"]["frames"]:
            assert isinstance(frame["name"], str)
            assert set(frame) <= {"name", "file", "line", "col"}
        for prof in doc["profiles"]:
            assert prof["type"] == "sampled" and prof["unit"] == "nanoseconds"
            assert all(isinstance(i, int) for s in prof["samples"] for i in s)
    n_frames = len(doc["shared"]["frames"])
    assert 0 <= doc["activeProfileIndex"] < len(doc["profiles"])
    for prof in doc["profiles"]:
        assert len(prof["samples"]) == len(prof["weights"])
        assert all(0 <= i < n_frames for s in prof["samples"] for i in s)
        assert prof["startValue"] == 0
        assert prof["endValue"] == sum(prof["weights"])


@pytest.mark.parametrize("source", sources())
def test_speedscope_validates(request, source):
    with open(path_of(request, source, "speedscope"), encoding="utf-8") as f:
        doc = json.load(f)
    check_speedscope(doc)
    assert doc["exporter"] == "strop"


def test_speedscope_total_is_strop_total(py_prefix, stats):
    with open(py_prefix + ".speedscope", encoding="utf-8") as f:
        doc = json.load(f)
    prof = doc["profiles"][0]
    assert abs(prof["endValue"] - total_tt(stats) * 1e9) <= len(prof["weights"]) + 1
    names = [frame["name"] for frame in doc["shared"]["frames"]]
    assert 'we;ird "name"\\ <script>\n\u00e9' in names
    assert doc["name"] == "workload.py --arg"


# --- dot ------------------------------------------------------------------------

@pytest.mark.parametrize("source", sources())
def test_dot_renders_without_warnings(request, source):
    tool = require_tool("dot", "graphviz")
    path = path_of(request, source, "dot")
    proc = run([tool, "-Tsvg", path])
    assert proc.returncode == 0, describe(proc)
    assert proc.stderr == "", proc.stderr
    assert "<svg" in proc.stdout


def test_dot_graph_of_the_profile(py_prefix, stats):
    with open(py_prefix + ".dot", encoding="utf-8") as f:
        text = f.read()
    fib = [k for k in stats if k[2] == "fib"][0]
    total = total_tt(stats)
    # fib's node: its share of the total, cumulative and own, and its calls.
    m = re.search(r'label="[^"]*:%d\\nfib\\n([\d.]+)%%\\n\(([\d.]+)%%\)\\n(\d+)\xd7"' % fib[1],
                  text)
    assert m, text
    assert float(m.group(1)) == pytest.approx(100 * stats[fib][3] / total, abs=0.01)
    assert float(m.group(2)) == pytest.approx(100 * stats[fib][2] / total, abs=0.01)
    assert int(m.group(3)) == stats[fib][1]
    # fib calls itself: a self-loop edge.
    node = re.search(r"\t(f\d+) \[[^\n]*\\nfib\\n", text).group(1)
    assert "\t%s -> %s [" % (node, node) in text


def test_dot_thresholds_prune(tmp_path):
    script = tmp_path / "prune.py"
    script.write_text(WORKLOAD.split("out = sys.argv[1]")[0] + r'''
p = strop.Profile()
p.runcall(workload)
p._tracer.dump(sys.argv[1] + ".all.dot", "dot", node_thres=0.0, edge_thres=0.0)
p._tracer.dump(sys.argv[1] + ".few.dot", "dot", node_thres=0.5, edge_thres=0.5)
''')
    proc = run_python(script, tmp_path / "prune")
    assert proc.returncode == 0, describe(proc)
    every = (tmp_path / "prune.all.dot").read_text(encoding="utf-8")
    few = (tmp_path / "prune.few.dot").read_text(encoding="utf-8")
    count = lambda text: len(re.findall(r"^\tf\d+ \[", text, re.M))
    assert count(every) > count(few) >= 1
    # At 50%, only workload (and what holds it) stays: fib is about half or more.
    assert "\\nworkload\\n" in few
