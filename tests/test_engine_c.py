"""The engine's pure-C parts, unit-tested in C (tests/c/test_engine.c), and the
pstats file its writer produces, read back by the stdlib's marshal and pstats."""
import marshal
import os
import pstats
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = os.path.join(ROOT, "src", "strop", "_engine")
SOURCES = ["cct.c", "clock.c", "mem.c", "pstats.c", "pstats_read.c"]


@pytest.fixture(scope="module")
def c_tests(tmp_path_factory):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no C compiler in CI")
        pytest.skip("no C compiler")
    out = tmp_path_factory.mktemp("c") / "test_engine"
    flags = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-g", "-O1"]
    if not os.environ.get("STROP_UNDER_SANITIZER"):
        flags += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
    cmd = [cc, *flags, "-I", ENGINE, os.path.join(ROOT, "tests", "c", "test_engine.c")]
    cmd += [os.path.join(ENGINE, s) for s in SOURCES] + ["-o", str(out)]
    subprocess.run(cmd, check=True)
    return out


def test_c_units_pass(c_tests, tmp_path):
    prof = tmp_path / "c.prof"
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
    env.pop("LD_PRELOAD", None)
    r = subprocess.run([str(c_tests), str(prof)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith("0 failed"), r.stdout


def test_c_written_pstats_is_read_by_stdlib(c_tests, tmp_path):
    prof = tmp_path / "c.prof"
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    subprocess.run([str(c_tests), str(prof)], check=True, capture_output=True, env=env)
    with open(prof, "rb") as f:
        data = marshal.load(f)
    main, fact, helper = ("prog.py", 10, "main"), ("prog.py", 20, "fact"), ("~", 0, "helper")
    assert set(data) == {main, fact, helper}
    cc, nc, tt, ct, callers = data[fact]
    assert (cc, nc) == (1, 3)
    assert tt == pytest.approx(0.030) and ct == pytest.approx(0.030)
    # callers hold (nc, cc, tt, ct): the opposite order of the main tuple.
    assert callers[fact][:2] == (2, 1)
    assert callers[main][:2] == (1, 1)
    assert data[helper][1] == 5000000000
    assert data[main][3] == pytest.approx(0.060)
    st = pstats.Stats(str(prof))
    assert st.total_calls == 1 + 3 + 5000000000
    assert st.prim_calls == 1 + 1 + 2
