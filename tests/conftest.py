"""Shared helpers of strop's test suite.

Most tests run the profiler in a fresh child process (``sys.executable``), so
that a crash of the engine fails one test instead of killing pytest, and so
that cProfile and strop never see each other. The helpers here start those
children, read what they wrote, and decide what an optional outside tool's
absence means: a skip on a developer's machine, a failure when CI=true.

Import them in a test module with ``from conftest import ...`` (pytest puts
this folder on sys.path, as it has no __init__.py).
"""
import functools
import importlib
import importlib.util
import json
import marshal
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

# A shell that starts the suite in the background (`&`, some CI harnesses)
# leaves SIGINT ignored, and an ignored SIGINT stays ignored across exec:
# every child that a test stops with Ctrl-C would ignore it (a local ASan run
# of test_attach_status waited 60 s for strop to stop).  Handlers, unlike
# SIG_IGN, are reset by exec: children start with SIGINT's default.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
TARGETS = TESTS / "targets"
HELPERS = TESTS / "helpers"
IN_CI = os.environ.get("CI") == "true"

# Generous: a child that takes this long has hung.
CHILD_TIMEOUT = 120


def folded_counts(path):
    """{stack: count} of a folded-stacks file, each line checked against the format."""
    counts = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^(.*) (\d+)$", line.rstrip("\n"))
            assert m, line
            counts[m.group(1)] = counts.get(m.group(1), 0) + int(m.group(2))
    return counts


def require_tool(name, package):
    """The path of program `name`; skip when missing, fail under CI=true."""
    path = shutil.which(name)
    if path is None:
        message = "%s is not installed (Debian package %s)" % (name, package)
        if IN_CI:
            pytest.fail("CI=true and " + message + "; .ci/run must install it")
        pytest.skip(message)
    return path


def require_module(name, why=""):
    """Import and return module `name`; skip the test when it is missing, fail under CI=true."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        message = "%s is not importable (%s)%s" % (name, exc, ": " + why if why else "")
        if IN_CI:
            pytest.fail("CI=true and " + message + "; .ci/run must install it")
        pytest.skip(message)


@functools.lru_cache(maxsize=None)
def strop_package_dir():
    """The folder of the strop package that the children import, or None if there is none."""
    spec = importlib.util.find_spec("strop")
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.realpath(list(spec.submodule_search_locations)[0])


@functools.lru_cache(maxsize=None)
def _extra_pythonpath():
    """A sys.path entry the children need to import strop, or None when they find it already.

    Only added when needed: a PYTHONPATH entry goes before the standard library
    and would change what the children import.
    """
    package = strop_package_dir()
    if package is None:
        return None
    probe = subprocess.run([sys.executable, "-c", "import strop"], capture_output=True,
                           env=_base_env(), timeout=CHILD_TIMEOUT)
    if probe.returncode == 0:
        return None
    return os.path.dirname(package)


def _base_env():
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = "0"  # same set/dict orders in the runs being compared
    env.pop("PYTHONSTARTUP", None)
    env.pop("PYTHONINSPECT", None)
    env.pop("PYTHONUNBUFFERED", None)
    return env


def run_c_test(tmp_path, test, engine_files, timeout=60):
    """Builds tests/c/TEST.c with the engine's `engine_files` (under ASan and
    UBSan unless the whole suite already runs under them), runs it and checks
    its closing line (check.h's "N passed, 0 failed")."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        if IN_CI:
            pytest.fail("CI=true and no C compiler")
        pytest.skip("no C compiler")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    engine = os.path.join(root, "src", "strop", "_engine")
    exe = tmp_path / test
    flags = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes",
             "-Wmissing-prototypes", "-Werror", "-g", "-O1"]
    if not os.environ.get("STROP_UNDER_SANITIZER"):
        flags += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
    subprocess.run([cc, *flags, "-I", engine, os.path.join(root, "tests", "c", test + ".c"),
                    *(os.path.join(engine, name) for name in engine_files), "-o", str(exe)],
                   check=True)
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    r = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=timeout)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith(" 0 failed"), r.stdout


def child_env(**extra):
    """Environment for a child process: ours, a fixed hash seed, strop importable."""
    env = _base_env()
    path = _extra_pythonpath()
    if path:
        env["PYTHONPATH"] = path + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


def run(args, *, cwd=None, timeout=CHILD_TIMEOUT, env=None, text=True, input=None):
    """Run a child to completion; returns the CompletedProcess with stdout/stderr captured.

    Its stdin is `input` if given, else empty (never the terminal's)."""
    return subprocess.run([str(a) for a in args], cwd=None if cwd is None else str(cwd),
                          capture_output=True, text=text, timeout=timeout,
                          input=input if input is not None else ("" if text else b""),
                          env=child_env() if env is None else env)


def run_python(*args, **kw):
    """`python ARGS...` with sys.executable."""
    return run([sys.executable, *args], **kw)


def run_strop(*args, **kw):
    """`python -m strop ARGS...` with sys.executable."""
    return run([sys.executable, "-m", "strop", *args], **kw)


def describe(proc):
    """Text for an assertion message: a child's exit status, stdout and stderr (cut)."""
    def cut(s):
        if isinstance(s, bytes):
            s = s.decode("utf-8", "replace")
        s = s or ""
        return s if len(s) < 3000 else s[:1500] + "\n[...]\n" + s[-1500:]
    return "exit status %s\nargs: %s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
        proc.returncode, proc.args, cut(proc.stdout), cut(proc.stderr))


def load_marshal(path):
    with open(path, "rb") as f:
        return marshal.load(f)


def profile_target(tmp_path, profiler, target, builtins=True, timer="wall"):
    """Profile TARGETS/target.main() in a fresh child with `profiler` ('cprofile' or 'strop').

    Returns (stats, info): the pstats dict from create_stats() and
    {"report": module.REPORT, "result": repr(main())}.
    """
    target_path = TARGETS / target
    out = tmp_path / ("%s-%s-%d-%s.marshal" % (target, profiler, builtins, timer))
    proc = run_python(HELPERS / "profile_target.py", profiler, "1" if builtins else "0", timer,
                      target_path, out)
    assert proc.returncode == 0, describe(proc)
    with open(str(out) + ".json") as f:
        info = json.load(f)
    return load_marshal(out), info


def find_key(stats, funcname, filename_end=None):
    """The one key of `stats` named `funcname` (whose file ends with `filename_end`, if given)."""
    found = [k for k in stats
             if k[2] == funcname and (filename_end is None or k[0].endswith(filename_end))]
    assert len(found) == 1, "expected one key for %r, found %r among %d keys" % (
        funcname, found, len(stats))
    return found[0]


def builtin_key(stats, name):
    """The key of a built-in such as 'time.sleep' ('{built-in method time.sleep}')."""
    wanted = "<built-in method %s>" % name
    found = [k for k in stats if k[0] == "~" and k[2] == wanted]
    assert len(found) == 1, "no key %r among %s" % (
        wanted, sorted(k[2] for k in stats if k[0] == "~"))
    return found[0]


# ---- other installed Pythons (targets of the remote reader) -----------------

PYENV = "/root/.pyenv/versions"
PYTHON_VERSIONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]


def python_of(minor):
    """An installed CPython of that minor version ("3.11"), or None."""
    if os.path.isdir(PYENV):
        for name in sorted(os.listdir(PYENV)):
            exe = os.path.join(PYENV, name, "bin", "python")
            if name.startswith(minor + ".") and os.path.exists(exe):
                return exe
    return shutil.which(f"python{minor}")


def need_python(minor):
    """python_of(minor), or the test skips; under CI=true it fails, since strop
    claims every version of PYTHON_VERSIONS and tools/test-all requires them."""
    exe = python_of(minor)
    if exe is None:
        if IN_CI:
            pytest.fail(f"CI=true and no Python {minor} installed under {PYENV}")
        pytest.skip(f"no Python {minor} installed")
    return exe
