"""strop's own functions never appear in the user's profile: not the
engine's C methods (`{method 'disable' of 'strop._engine.Tracer' objects}`),
not the Python code of strop's package (Profile.__exit__, the pytest
plugin's hooks), whether the profile comes from `strop run` (both tracing
mechanisms), strop.Profile or @strop.profile.

The profiles are read by the stdlib's pstats; "strop's package" is the
folder the children import strop from (conftest.strop_package_dir).  The
programs: the README's example, and ones strop did not write (the stdlib's
json.tool and compileall, and a pytest run, which loads strop's plugin).
"""
import marshal
import os
import sys

import pytest

from conftest import REPO, describe, run_python, run_strop, strop_package_dir

MYAPP = REPO / "examples" / "myapp.py"


def own_keys(stats):
    """The keys of a pstats dict that are strop's: in its package's folder,
    or a C function of its engine; and callers' keys likewise."""
    folder = os.path.join(strop_package_dir(), "")

    def own(key):
        return os.path.realpath(key[0]).startswith(folder) or "strop." in key[2]

    found = {k for k in stats if own(k)}
    found |= {c for v in stats.values() for c in v[4] if own(c)}
    return found


def load(path):
    with open(path, "rb") as f:
        return marshal.load(f)


@pytest.mark.parametrize("mode", [[], ["--no-builtins"]], ids=["builtins", "no-builtins"])
def test_strop_run_of_the_example(tmp_path, mode):
    out = tmp_path / "myapp.prof"
    proc = run_strop("run", *mode, "-l", "0", "-o", out, MYAPP)
    assert proc.returncode == 0, describe(proc)
    stats = load(out)
    assert any(k[2] == "lighter" for k in stats)
    assert own_keys(stats) == set()
    table = proc.stderr.split("strop: profile written")[0]
    assert "lighter" in table and "strop." not in table, table
    assert strop_package_dir() not in table, table
    folded = tmp_path / "myapp.folded"
    proc = run_strop("run", *mode, "-q", "-o", folded, MYAPP)
    assert proc.returncode == 0, describe(proc)
    text = folded.read_text(encoding="utf-8")
    assert "lighter" in text and strop_package_dir() not in text and "strop." not in text


def test_strop_run_of_stdlib_programs(tmp_path):
    data = tmp_path / "data.json"
    data.write_text('{"a": [1, 2, {"b": null}], "c": "d"}')
    out = tmp_path / "json.prof"
    proc = run_strop("run", "-q", "-o", out, "-m", "json.tool", data)
    assert proc.returncode == 0, describe(proc)
    stats = load(out)
    assert any(k[2] == "main" and k[0].endswith("tool.py") for k in stats)
    assert own_keys(stats) == set()

    source = tmp_path / "pkg"
    source.mkdir()
    for i in range(5):
        (source / ("m%d.py" % i)).write_text("def f(x):\n    return [x * i for i in range(9)]\n")
    out = tmp_path / "compileall.prof"
    proc = run_strop("run", "-q", "-o", out, "-m", "compileall", "-q", source)
    assert proc.returncode == 0, describe(proc)
    stats = load(out)
    assert any(k[2] == "compile_file" for k in stats)
    assert own_keys(stats) == set()


def test_strop_run_of_pytest(tmp_path):
    """pytest loads strop's plugin (an entry point): its hooks run under the
    profile, and are strop's own."""
    (tmp_path / "test_small.py").write_text("def test_one():\n    assert sorted([2, 1]) == [1, 2]\n")
    out = tmp_path / "pytest.prof"
    proc = run_strop("run", "-q", "-o", out, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                     tmp_path / "test_small.py", cwd=tmp_path)
    assert proc.returncode == 0, describe(proc)
    stats = load(out)
    assert any(k[2] == "test_one" for k in stats)
    assert own_keys(stats) == set()


API = r'''
import marshal, sys
import strop

def work():
    return sum(sorted(range(2000)))

def user_fn():
    return len([1, 2, 3])

results = {}
with strop.Profile() as p:
    work()
p.create_stats()
results["with"] = p.stats

p = strop.Profile()
p.runcall(work)
p.create_stats()
results["runcall"] = p.stats

# strop's own code calling the user's: the user's calls stay in the profile.
p = strop.Profile()
p.runcall(strop.timeit, user_fn, number=50, repeat=1)
p.create_stats()
results["timeit"] = p.stats

captured = []
class Out:
    def write(self, text):
        captured.append(text)
    def flush(self):
        pass

@strop.profile(limit=50, stream=Out())
def decorated():
    return work()

decorated()
results["decorated"] = "".join(captured)
with open(sys.argv[1], "wb") as f:
    marshal.dump(results, f)
'''


def test_the_api_leaves_strop_out(tmp_path):
    out = tmp_path / "api.marshal"
    proc = run_python("-c", API, out)
    assert proc.returncode == 0, describe(proc)
    results = load(out)
    for name in ("with", "runcall", "timeit"):
        stats = results[name]
        assert own_keys(stats) == set(), name
    assert any(k[2] == "work" for k in results["with"])
    user = [v for k, v in results["timeit"].items() if k[2] == "user_fn"]
    assert user and user[0][1] >= 100  # the warm-up loop and the measured one
    table = results["decorated"]
    assert "work" in table and "builtins.sorted" in table
    assert "strop" not in table and "_profile.py" not in table, table


def test_a_folder_named_like_strops_is_not_hidden(tmp_path):
    """Only strop's package folder is hidden, not a user's folder whose name
    merely begins with it."""
    folder = tmp_path / (os.path.basename(strop_package_dir()) + "_user")
    folder.mkdir()
    script = folder / "app.py"
    script.write_text("def f():\n    return 1\n\nf()\n")
    out = tmp_path / "app.prof"
    proc = run_strop("run", "-q", "-o", out, script)
    assert proc.returncode == 0, describe(proc)
    assert any(k[2] == "f" for k in load(out))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
