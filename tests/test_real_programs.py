"""Call counts on real programs that strop did not write, against cProfile.

The programs are pyperformance's benchmark scripts (from PyPI), run once each
in pyperf's worker mode (one value of one loop, no warm-up) so that each does
a fixed amount of work. Each runs in fresh children under `python -m cProfile`
and under `strop run`, in the default mode and in fast mode (--no-builtins).

Compared, for every function of the program's own code (its run_benchmark.py):
- default mode: (primitive, total) calls and every caller edge (nc, cc) whose
  caller is also the program's own code, as cProfile counts them;
- fast mode: (primitive, total) calls only, since its edges skip the builtins
  in between by design (a function called back by map() has map's caller as
  its caller).
Import-system and harness functions (pyperf, runpy, importlib) are left out:
which of them run depends on what each profiler imported first.

These real programs are what found 3.13's __init__ calls lost in fast mode
(CALL_ALLOC_AND_ENTER_INIT): small programs made for the tests call too few
constructors for the interpreter to specialize them.
"""
import importlib.util
import marshal
import os
import sys

import pytest

from conftest import IN_CI, describe, run_python, run_strop

# Pure-Python benchmarks that exist in every pyperformance release that
# supports 3.8 to 3.13: object-oriented, recursive, generator-, closure- and
# stdlib-heavy code.
BENCHMARKS = ["richards", "raytrace", "deltablue", "chaos", "go", "hexiom", "nqueens",
              "deepcopy", "pyflate", "json_dumps", "generators", "coroutines"]


def benchmarks_dir():
    if os.environ.get("STROP_UNDER_SANITIZER") == "1":
        pytest.skip("real programs run in the plain runs of every Python, not under the sanitizer")
    spec = importlib.util.find_spec("pyperformance")
    if spec is None or importlib.util.find_spec("pyperf") is None:
        message = "pyperformance and pyperf are not installed (pip install pyperformance)"
        if IN_CI:
            pytest.fail("CI=true and " + message + "; tools/test-all must install them")
        pytest.skip(message)
    return os.path.join(os.path.dirname(spec.origin), "data-files", "benchmarks")


def script_of(name):
    path = os.path.join(benchmarks_dir(), "bm_" + name, "run_benchmark.py")
    if not os.path.exists(path):
        pytest.skip("this pyperformance release has no %s benchmark" % name)
    return path


WORKER = ["--worker", "--loops", "1", "--values", "1", "--warmups", "0", "--processes", "1"]


def own(stats, script):
    """The program's own functions: those of its script."""
    real = os.path.realpath(script)
    return {k: v for k, v in stats.items() if k[0] != "~" and os.path.realpath(k[0]) == real}


def profiles(tmp_path, script):
    """{mode: pstats dict} for cProfile and for strop in both modes."""
    out = {}
    runs = {
        "cProfile": lambda o: run_python("-m", "cProfile", "-o", o, script, *WORKER,
                                         cwd=tmp_path, timeout=300),
        "strop": lambda o: run_strop("run", "-q", "-o", o, script, *WORKER,
                                     cwd=tmp_path, timeout=300),
        "strop-fast": lambda o: run_strop("run", "-q", "--no-builtins", "-o", o, script,
                                          *WORKER, cwd=tmp_path, timeout=300),
    }
    for mode, start in runs.items():
        path = str(tmp_path / (mode + ".prof"))
        proc = start(path)
        assert proc.returncode == 0, describe(proc)
        with open(path, "rb") as f:
            out[mode] = marshal.load(f)
    return out


@pytest.mark.parametrize("name", BENCHMARKS)
def test_real_program_counts_equal_cprofile(tmp_path, name):
    script = script_of(name)
    got = profiles(tmp_path, script)
    expected = own(got["cProfile"], script)
    assert len(expected) >= 2, "cProfile saw %d functions of %s" % (len(expected), script)
    diffs = []
    for mode in ("strop", "strop-fast"):
        actual = own(got[mode], script)
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                diffs.append("%s: missing %r %r" % (mode, key, expected[key][:2]))
                continue
            if key not in expected:
                diffs.append("%s: only in strop %r %r" % (mode, key, actual[key][:2]))
                continue
            if tuple(expected[key][:2]) != tuple(actual[key][:2]):
                diffs.append("%s: %r (cc, nc) cProfile %r, strop %r"
                             % (mode, key, expected[key][:2], actual[key][:2]))
            if mode == "strop":
                e = {c: tuple(v[:2]) for c, v in expected[key][4].items() if c in expected}
                a = {c: tuple(v[:2]) for c, v in actual[key][4].items() if c in expected}
                if e != a:
                    diffs.append("%s: %r callers {caller: (nc, cc)}\n    cProfile %r\n"
                                 "    strop    %r" % (mode, key, e, a))
    assert not diffs, "%s on Python %s: %d differences from cProfile:\n%s" % (
        name, sys.version.split()[0], len(diffs), "\n".join(diffs[:30]))
