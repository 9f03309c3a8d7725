"""pstats files: what strop writes, and how `strop view` prints what others wrote.

The check of FORMATS.md: the stdlib's pstats.Stats loads strop's file (on every
Python present), marshal.load gives the dict of the right shape and values,
`strop view` prints what the stdlib's pstats prints for the same file, and
gprof2dot and snakeviz's loader accept it.
"""
import glob
import io
import os
import re
import subprocess
import sys

import pytest

from conftest import (HELPERS, TARGETS, describe, find_key, load_marshal, require_module,
                      run_python, run_strop)

VIEW_TARGETS = ["t_classes.py", "t_recursion.py", "t_builtins.py", "t_exceptions.py"]

# Every sort key of FORMATS.md, with the stdlib key that must give the same table.
SORT_KEYS = [
    ("calls", "calls"), ("cumulative", "cumulative"), ("cumtime", "cumtime"),
    ("filename", "filename"), ("module", "module"), ("line", "line"), ("name", "name"),
    ("nfl", "nfl"), ("pcalls", "pcalls"), ("stdname", "stdname"), ("time", "time"),
    ("tottime", "tottime"), ("ncalls", "ncalls"),
    # Unique prefixes. The stdlib refuses "cum" (a prefix of both cumulative and
    # cumtime), strop accepts it as both mean the same order.
    ("cum", "cumulative"), ("cumu", "cumulative"), ("tott", "tottime"), ("pc", "pcalls"),
    ("std", "stdname"),
]


def write_profile(tmp_path, profiler, targets, name):
    out = tmp_path / name
    proc = run_python(HELPERS / "dump_profile.py", profiler, out,
                      *[TARGETS / t for t in targets])
    assert proc.returncode == 0, describe(proc)
    assert out.exists(), describe(proc)
    return out


@pytest.fixture(scope="module")
def cprofile_file(tmp_path_factory):
    return write_profile(tmp_path_factory.mktemp("cprofile"), "cprofile", VIEW_TARGETS,
                         "cprofile.prof")


@pytest.fixture(scope="module")
def strop_file(tmp_path_factory):
    return write_profile(tmp_path_factory.mktemp("strop"), "strop", VIEW_TARGETS, "strop.prof")


@pytest.fixture(scope="module")
def known_files(tmp_path_factory):
    """rec_known.py profiled by strop, through the API (Profile.dump) and the CLI (-o)."""
    tmp = tmp_path_factory.mktemp("known")
    api = write_profile(tmp, "strop", ["rec_known.py"], "api.prof")
    cli = tmp / "cli.prof"
    proc = run_strop("run", "-q", "-o", cli, TARGETS / "rec_known.py")
    assert proc.returncode == 0, describe(proc)
    return {"api": api, "cli": cli}


def stdlib_output(path, *calls, strip_dirs=False):
    """What the stdlib's pstats prints for `path` after the method calls [(name, args)...]."""
    import pstats

    stream = io.StringIO()
    stats = pstats.Stats(str(path), stream=stream)
    if strip_dirs:
        stats.strip_dirs()
    for name, args in calls:
        getattr(stats, name)(*args)
    return stream.getvalue()


def table_lines(text):
    """Lines of a print_stats output without its first line (file modification date and name)
    and without the blank lines at its end."""
    lines = text.rstrip("\n").split("\n")
    return lines[1:]


def block_lines(text):
    return text.strip("\n").split("\n")


def contains_block(haystack, block):
    n = len(block)
    return any(haystack[i:i + n] == block for i in range(len(haystack) - n + 1))


# -- the file strop writes ------------------------------------------------------------------

def check_key(key):
    assert type(key) is tuple and len(key) == 3, key
    assert type(key[0]) is str and type(key[1]) is int and type(key[2]) is str, key


@pytest.mark.parametrize("how", ["api", "cli"])
def test_marshal_shape_and_known_counts(known_files, how):
    stats = load_marshal(known_files[how])
    assert type(stats) is dict and stats
    for key, value in stats.items():
        check_key(key)
        assert type(value) is tuple and len(value) == 5, (key, value)
        cc, nc, tt, ct, callers = value
        assert type(cc) is int and type(nc) is int, (key, value)
        assert type(tt) is float and type(ct) is float, (key, value)
        assert 0 <= cc <= nc, (key, value)
        assert 0.0 <= tt <= ct + 1e-6, (key, value)
        assert type(callers) is dict, (key, value)
        for caller, edge in callers.items():
            check_key(caller)
            assert type(edge) is tuple and len(edge) == 4, (key, caller, edge)
            e_nc, e_cc, e_tt, e_ct = edge
            assert type(e_nc) is int and type(e_cc) is int, (key, caller, edge)
            assert type(e_tt) is float and type(e_ct) is float, (key, caller, edge)
            assert 0 <= e_cc <= e_nc, "callers value must be (nc, cc, tt, ct): %r" % (edge,)
    fact = find_key(stats, "fact", "rec_known.py")
    main = find_key(stats, "main", "rec_known.py")
    assert stats[fact][:2] == (2, 13), "fact (cc, nc): %r" % (stats[fact][:2],)
    callers = stats[fact][4]
    # callers: (nc, cc, tt, ct), the first two in the opposite order from the main tuple.
    assert callers[fact][:2] == (11, 2), "edge fact -> fact: %r" % (callers[fact],)
    assert callers[main][:2] == (2, 2), "edge main -> fact: %r" % (callers[main],)
    assert stats[main][:2] == (1, 1)
    # The recursive edge's self time is part of fact's self time.
    assert callers[fact][2] + callers[main][2] == pytest.approx(stats[fact][2], rel=1e-6, abs=1e-9)


def other_pythons():
    found = []
    for exe in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python"))):
        m = re.search(r"/3\.(\d+)\.", exe)
        if m and int(m.group(1)) >= 8 and os.path.realpath(exe) != os.path.realpath(sys.executable):
            found.append(exe)
    return found


def test_stdlib_pstats_loads_strop_file(strop_file):
    import pstats

    stream = io.StringIO()
    stats = pstats.Stats(str(strop_file), stream=stream)
    stats.sort_stats("cumulative").print_stats(15)
    stats.print_callers(5)
    stats.print_callees(5)
    # Every row, not the top 15, whose order depends on the machine's timing.
    stats.print_stats()
    assert "describe" in stream.getvalue()
    assert stats.total_calls == sum(v[1] for v in stats.stats.values())
    # Every Python of the machine reads the file too (marshal version 2 opcodes only).
    code = ("import pstats, sys, io; s = pstats.Stats(sys.argv[1], stream=io.StringIO()); "
            "s.sort_stats('time').print_stats(); print(s.total_calls)")
    for exe in other_pythons():
        proc = subprocess.run([exe, "-c", code, str(strop_file)], capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 0, "%s:\n%s" % (exe, describe(proc))
        assert int(proc.stdout) == stats.total_calls, exe


def test_gprof2dot_accepts_strop_file(strop_file):
    require_module("gprof2dot", "pip install gprof2dot")
    proc = run_python("-m", "gprof2dot", "-f", "pstats", "--node-thres", "0",
                      "--edge-thres", "0", strop_file)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.lstrip().startswith("digraph"), describe(proc)
    assert "describe" in proc.stdout and "fact" in proc.stdout, describe(proc)


def test_snakeviz_loader_accepts_strop_file(strop_file):
    """snakeviz builds its table and its sunburst data from pstats.Stats."""
    require_module("snakeviz", "pip install snakeviz")
    code = ("import json, sys, pstats\n"
            "from snakeviz.stats import json_stats, table_rows\n"
            "st = pstats.Stats(sys.argv[1])\n"
            "rows = table_rows(st)\n"
            "data = json_stats(st)\n"
            "data = json.loads(data) if isinstance(data, str) else data\n"
            "print(len(rows), len(data))\n"
            "print(any('fact' in str(r) for r in rows))\n")
    proc = run_python("-c", code, strop_file)
    assert proc.returncode == 0, describe(proc)
    count, _functions = proc.stdout.split()[:2]
    assert int(count) > 0 and proc.stdout.split()[2] == "True", describe(proc)


# -- strop view -------------------------------------------------------------------------------

@pytest.mark.parametrize("key,stdlib_key", SORT_KEYS, ids=[k for k, _ in SORT_KEYS])
def test_view_prints_like_stdlib(cprofile_file, key, stdlib_key):
    proc = run_strop("view", cprofile_file, "--sort", key, "--limit", "12")
    assert proc.returncode == 0, describe(proc)
    expected = stdlib_output(cprofile_file, ("sort_stats", (stdlib_key,)), ("print_stats", (12,)))
    assert table_lines(proc.stdout) == table_lines(expected), (
        "strop view --sort %s --limit 12:\n%s\n--- stdlib ---\n%s" % (key, proc.stdout, expected))


@pytest.mark.parametrize("which", ["cprofile", "strop"])
def test_view_whole_table_and_strip_dirs(cprofile_file, strop_file, which):
    path = cprofile_file if which == "cprofile" else strop_file
    proc = run_strop("view", path, "--sort", "time", "--limit", "1000")
    assert proc.returncode == 0, describe(proc)
    expected = stdlib_output(path, ("sort_stats", ("time",)), ("print_stats", (1000,)))
    assert table_lines(proc.stdout) == table_lines(expected), proc.stdout
    proc = run_strop("view", path, "--strip-dirs", "--sort", "name", "--limit", "20")
    assert proc.returncode == 0, describe(proc)
    expected = stdlib_output(path, ("sort_stats", ("name",)), ("print_stats", (20,)),
                             strip_dirs=True)
    assert table_lines(proc.stdout) == table_lines(expected), proc.stdout
    assert str(TARGETS) not in "\n".join(table_lines(proc.stdout))


@pytest.mark.parametrize("which", ["cprofile", "strop"])
@pytest.mark.parametrize("option,method", [("--callers", "print_callers"),
                                           ("--callees", "print_callees")])
@pytest.mark.parametrize("pattern", ["describe", "fact", "__init__"])
def test_view_callers_callees_like_stdlib(cprofile_file, strop_file, which, option, method,
                                          pattern):
    path = cprofile_file if which == "cprofile" else strop_file
    proc = run_strop("view", path, "--sort", "cumulative", option, pattern)
    assert proc.returncode == 0, describe(proc)
    expected = block_lines(stdlib_output(path, ("sort_stats", ("cumulative",)),
                                         (method, (pattern,))))
    assert len(expected) > 4  # the pattern matched something: heading and lines
    got = proc.stdout.split("\n")
    assert contains_block(got, expected), (
        "strop view %s %s: stdlib's %s block not found in:\n%s\n--- stdlib ---\n%s"
        % (option, pattern, method, proc.stdout, "\n".join(expected)))
