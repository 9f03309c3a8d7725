"""`strop run` with each of the engine's allocations failing in turn.

The engine's allocations all go through mem.h, whose switch makes the n-th
one from now fail (`_engine._fail_alloc_after`).  For every n until a run
with no failure at all, a real run of the command line (tracer, names,
threads, the report and the file writer) on a program with recursion,
instances, a generator, an exception and a thread must:
- leave the program's output and exit status as they are;
- say what it lost in one line each, never with a traceback;
- leave a profile that pstats reads, or no file at all: never a truncated one.
Under the sanitizer, every failure path also runs without a memory error.
"""
import os
import textwrap

import pytest

from conftest import describe, run_python

TARGET = """\
import threading

class Shape:
    def __init__(self, w):
        self.w = w

def down(n):
    return 0 if n == 0 else down(n - 1) + 1

def gen(n):
    for i in range(n):
        yield Shape(i).w

def fails():
    raise ValueError("x")

def work():
    total = down(50) + sum(gen(30))
    try:
        fails()
    except ValueError:
        total += 1
    t = threading.Thread(target=down, args=(20,))
    t.start()
    t.join()
    return total + len(sorted(str(i) for i in range(20)))

print("result", work())
"""

WALK = """\
import io, os, sys
from contextlib import redirect_stderr, redirect_stdout
from strop import _engine
from strop.cli import main

script, out, limit, extra = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
results = []
for n in range(0, limit):
    err, got = io.StringIO(), io.StringIO()
    _engine._fail_alloc_after(n)
    try:
        with redirect_stdout(got), redirect_stderr(err):
            try:
                status = main(["run", "-q", "-o", out, *extra, script])
            except SystemExit as e:
                status = e.code
    finally:
        failed = _engine._fail_alloc_after(0)
    written = os.path.exists(out)
    calls = None
    if written:
        import pstats
        try:
            stats = pstats.Stats(out).stats
            calls = sum(v[1] for k, v in stats.items() if k[2] == "down")
        except Exception as e:  # a file pstats cannot read, or an empty one
            calls = type(e).__name__
        os.unlink(out)
    results.append((n, status, got.getvalue(), err.getvalue(), written, calls, failed))
    if n > 0 and not failed:
        break  # the n-th allocation comes after the whole run: every one was failed
print(repr(results))
"""

@pytest.mark.parametrize("extra", [[], ["--no-builtins"], ["--threads"]],
                         ids=["default", "no-builtins", "threads"])
def test_each_allocation_failing_in_turn(tmp_path, extra):
    script = tmp_path / "target.py"
    script.write_text(TARGET)
    walk = tmp_path / "walk.py"
    walk.write_text(WALK)
    out = tmp_path / "out.prof"
    proc = run_python(str(walk), str(script), str(out), "2000", *extra, timeout=600)
    assert proc.returncode == 0, describe(proc)
    results = eval(proc.stdout)
    clean = results[0]
    assert clean[1:4] == (0, "result 506\n", "") and clean[6] == 0, clean
    assert clean[4] and isinstance(clean[5], int) and clean[5] >= 51, clean
    last = results[-1]
    assert last[1:4] == (0, "result 506\n", ""), ("the walk did not reach the run's end", last)
    faults = results[1:-1]
    assert len(faults) >= 20, len(faults)  # 35 in a 3.12 run
    for n, status, out_text, err, written, calls, failed in faults:
        assert failed == 1, (n, failed)
        lines = err.splitlines()
        if not lines:  # a part that goes without (the machine section): no call lost
            assert status == 0 and out_text == "result 506\n" and calls == clean[5], \
                (n, status, err, calls)
            continue
        assert all(line.startswith("strop: ") for line in lines), (n, err)
        assert "Traceback" not in err
        assert all("memory" in line for line in lines), (n, err)
        if status == 2:  # failed before the program started: it never ran
            assert out_text == "" and lines == ["strop: out of memory"], (n, status, err)
            continue
        assert status == 0 and out_text == "result 506\n", (n, status, out_text, err)
        assert len(lines) == 1, (n, err)  # said once
        if "not written" in err or "cannot write" in err:
            assert not written, (n, err)  # no truncated file left behind
        elif written:
            # what was recorded before the fault, or nothing (an empty dict,
            # which pstats refuses as it refuses cProfile's)
            assert calls == "TypeError" or (isinstance(calls, int) and calls <= clean[5]), \
                (n, err, calls)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")], os.listdir(tmp_path)


def test_a_failed_write_keeps_the_older_file(tmp_path):
    """A profile is written whole or not at all: an older file at the name
    stays when the new one cannot be written."""
    script = tmp_path / "target.py"
    script.write_text(TARGET)
    out = tmp_path / "out.prof"
    out.write_bytes(b"older")
    code = textwrap.dedent("""
        import sys
        from strop import _engine
        import strop
        p = strop.Profile()
        p.enable()
        sum(range(10))
        p.disable()
        p.create_stats()
        _engine._fail_alloc_after(1, True)
        try:
            p.dump_stats(sys.argv[1])
        except (MemoryError, OSError, RuntimeError) as e:
            print("failed", type(e).__name__)
        finally:
            _engine._fail_alloc_after(0)
    """)
    proc = run_python("-c", code, str(out))
    assert proc.returncode == 0 and proc.stdout.startswith("failed"), describe(proc)
    assert out.read_bytes() == b"older"
    assert sorted(os.listdir(tmp_path)) == ["out.prof", "target.py"]
