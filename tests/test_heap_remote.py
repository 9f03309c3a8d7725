"""`strop heap --pid`: the census of a running process's gc-tracked objects, read
from outside (remote_heap.c), against the target's own count of them.

Ground truth is the target's: tests/targets/heap_known.py builds a known heap
(12,345 Rec instances each holding a list, 777 Pair namedtuples), collects,
counts its objects by type name with gc.get_objects() and sys.getsizeof, and
writes that to a file before it waits. Every installed CPython 3.8 to 3.13 is
read, by one strop (this interpreter's).
"""
import json
import re
import subprocess
import sys

import pytest

from conftest import (CHILD_TIMEOUT, PYTHON_VERSIONS, TARGETS, child_env, describe, need_python,
                      run_c_test, run_python, run_strop)

KNOWN = str(TARGETS / "heap_known.py")
N_RECS, N_PAIRS = 12345, 777
ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s+\d+\s+(\d+)\s+\d+\s+\d+\s+\d+ (.+)$")


@pytest.fixture
def start_target(tmp_path):
    """start(minor, mode="idle"): a heap_known.py target of that Python, ready,
    as (process, truth); every target is killed at the end of the test."""
    started = []

    def start(minor, mode="idle"):
        exe = need_python(minor)
        truth_path = tmp_path / f"truth-{minor}-{mode}.json"
        proc = subprocess.Popen([exe, KNOWN, str(truth_path), mode], stdout=subprocess.PIPE,
                                text=True, env=child_env())
        started.append(proc)
        line = proc.stdout.readline()
        if line.strip() != "ready":
            proc.kill()
            pytest.fail(f"the target did not get ready: {line!r}")
        return proc, json.loads(truth_path.read_text())

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def _by_short_name(rows):
    """{type name as type(o).__name__ gives it: [count, bytes, approx]}: tp_name's
    last part ("collections.deque" is "deque"), rows of one name summed."""
    out = {}
    for name, count, size, approx in rows:
        entry = out.setdefault(name.rsplit(".", 1)[-1], [0, 0, False])
        entry[0] += count
        entry[1] += size
        entry[2] = entry[2] or approx
    return out


def _heap_remote(pid):
    """strop._engine.heap_remote(pid) in a child (a crash fails the test, not pytest)."""
    proc = run_python("-c", "import json, sys, strop._engine as e; "
                            "json.dump(e.heap_remote(int(sys.argv[1])), sys.stdout)", pid)
    assert proc.returncode == 0, describe(proc)
    return json.loads(proc.stdout)


def _table_rows(text):
    """[(name, count, bytes, approx)] of the table strop heap printed."""
    rows = []
    for line in text.splitlines():
        m = ROW.match(line)
        if m:
            name = m.group(4)
            rows.append((name[:-2] if name.endswith(" *") else name, int(m.group(2)),
                         int(m.group(3)), name.endswith(" *")))
    return rows


@pytest.mark.parametrize("minor", PYTHON_VERSIONS)
def test_census_equals_the_targets_own_count(minor, start_target):
    proc, truth = start_target(minor)
    census = _heap_remote(proc.pid)
    assert census["version"] == minor
    assert census["lists"] == 4 and census["lists_torn"] == 0, census
    # Classes are named as strop.heap() names them: module.qualname.
    assert {"__main__.Rec", "__main__.Pair", "list", "tuple"} <= {row[0] for row in census["rows"]}
    got = _by_short_name(census["rows"])
    # The known objects: exact counts, and sizes equal to the sums of
    # sys.getsizeof that the target made itself.
    for name, count in (("Rec", N_RECS), ("Pair", N_PAIRS)):
        assert truth["counts"][name] == count
        assert got[name][:2] == [count, truth["sizes"][name]], name
    assert got["list"][:2] == [truth["counts"]["list"], truth["sizes"]["list"]]
    # Every type counted alike on both sides and not marked approximate has
    # sys.getsizeof's size: the size rule holds beyond the known types.
    checked = 0
    for name, (count, size, approx) in got.items():
        if not approx and truth["counts"].get(name) == count:
            assert size == truth["sizes"][name], name
            checked += 1
    assert checked >= 20
    # gc.get_objects() leaves the permanent generation out (3.12 fills it at
    # start); the target made a few objects after its count (the truth file).
    listed = census["objects"] - census["permanent"]
    assert abs(listed - truth["total"]) <= 50, (listed, truth["total"])
    assert sum(row[1] for row in census["rows"]) == census["objects"]


@pytest.mark.parametrize("minor", ["3.8", "3.11", "3.12", "3.13"])
def test_cli_prints_the_census_and_how_it_was_read(minor, start_target, tmp_path):
    proc, truth = start_target(minor)
    out_file = tmp_path / "census.txt"
    done = run_strop("heap", "--pid", proc.pid, "--rows", "5", "-o", out_file)
    assert done.returncode == 0, describe(done)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert re.match(r"Partition of a set of \d+ objects\. Total size = \d+ bytes\.$", lines[0])
    assert lines[1].endswith(f"Type (process {proc.pid}, Python {minor})")
    assert len(_table_rows(done.stderr)) == 5
    assert re.search(r"<\d+ more rows\. --rows 0 shows all\.>", done.stderr)
    assert re.match(r"strop: read \d+ objects from 4 of the collector's lists in \d+ ms; "
                    r"\d+ list walks? torn and read again$", lines[-1]), lines[-1]
    # -o has every row; the known ones as the target counted them.
    full = _by_short_name(_table_rows(out_file.read_text()))
    assert full["Rec"][:2] == [N_RECS, truth["sizes"]["Rec"]]
    assert full["Pair"][:2] == [N_PAIRS, truth["sizes"]["Pair"]]
    assert full["dict"][2] is True  # dict's keys table is not read: marked *
    assert "rows marked *" in out_file.read_text()


@pytest.mark.parametrize("minor", ["3.8", "3.11", "3.12", "3.13"])
def test_busy_target_is_read_without_invented_objects(minor, start_target):
    """A thread allocates and frees lists, dicts and Rec instances while strop
    reads: lists torn under it are read again or left out, never made up.
    Rec and Pair instances of the known heap never move or die: a census
    counts each exactly when no list was left out (the churn's own Rec, alive
    for a moment, may add 1), and never more."""
    proc, truth = start_target(minor, "busy")
    rewalks = 0
    for _ in range(5):
        census = _heap_remote(proc.pid)
        assert census["lists"] + census["lists_torn"] == 4, census
        got = _by_short_name(census["rows"])
        rec, pair = got.get("Rec", [0])[0], got.get("Pair", [0])[0]
        assert rec <= N_RECS + 2 and pair <= N_PAIRS, census
        if census["lists_torn"] == 0:
            assert N_RECS <= rec and pair == N_PAIRS, census
        assert sum(row[1] for row in census["rows"]) == census["objects"]
        rewalks += census["rewalks"]
    assert proc.poll() is None  # the target lives on
    print(f"{minor}: {rewalks} walks read again in 5 censuses")


def test_out_of_memory_is_a_memory_error_or_a_whole_census(start_target):
    """The engine's n-th allocation fails (attach, the type table, a class's
    name): MemoryError, or the census whole (a name not read stays tp_name)."""
    proc, truth = start_target("3.12")
    code = ("import json, sys, strop._engine as e\n"
            "pid, out = int(sys.argv[1]), []\n"
            "whole = e.heap_remote(pid)['objects']\n"
            "for n in range(1, 12):\n"
            "    e._fail_alloc_after(n)\n"
            "    try:\n"
            "        out.append(e.heap_remote(pid)['objects'] == whole)\n"
            "    except MemoryError:\n"
            "        out.append('MemoryError')\n"
            "    finally:\n"
            "        e._fail_alloc_after(0)\n"
            "print(json.dumps(out))\n")
    done = run_python("-c", code, proc.pid)
    assert done.returncode == 0, describe(done)
    results = json.loads(done.stdout)
    assert set(results) <= {True, "MemoryError"} and "MemoryError" in results, results
    assert results[-1] is True


def test_census_of_made_up_memory(tmp_path):
    """tests/c/test_remote_heap.c, under ASan and UBSan: lists read whole, a
    back link torn once (walked again) or always (left out), a list beyond the
    bound, a type that is no type, a collection running, the process gone,
    out of memory at each allocation, random words everywhere."""
    run_c_test(tmp_path, "test_remote_heap",
               ("remote.c", "remote_names.c", "remote_heap.c", "mem.c"), CHILD_TIMEOUT)


# ---- bad input: one line, status 2 -------------------------------------------------

def _one_line_error(done, *words):
    assert done.returncode == 2, describe(done)
    assert "Traceback" not in done.stderr, describe(done)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("strop: "), describe(done)
    for word in words:
        assert word in lines[0], describe(done)


def test_dead_pid():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _one_line_error(run_strop("heap", "--pid", gone.pid), "no process", str(gone.pid))


def test_not_a_python_process():
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        _one_line_error(run_strop("heap", "--pid", sleeper.pid), "not a Python process")
    finally:
        sleeper.kill()
        sleeper.wait()


def test_pid_1():
    # The machine's or the container's init: not Python, or not ours to read.
    _one_line_error(run_strop("heap", "--pid", "1"))


@pytest.mark.parametrize("args, words", [
    (["--pid", "abc"], ["process id"]),
    (["--pid", "0"], ["process id"]),
    ([], ["give a script to run or --pid"]),
    (["--pid", "12", "script.py"], ["not both"]),
    (["--pid", "12", "--diff"], ["--diff"]),
])
def test_usage_errors(args, words):
    _one_line_error(run_strop("heap", *args), *words)


def test_help_tells_of_pid():
    done = run_strop("heap", "--help")
    assert done.returncode == 0
    assert "--pid PID" in done.stdout and "running Python process" in done.stdout
