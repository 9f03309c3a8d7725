"""The `strop` command: `strop run` runs a program as `python` would, `strop view` prints a file.

Functional tests: each runs `python -m strop ...` on a program of tests/targets/
in a child process and compares with what plain `python` does with it.
"""
import json
import marshal
import re
import os
import pstats
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import (IN_CI, TARGETS, child_env, describe, find_key, load_marshal, run,
                      run_python, run_strop)

STROP_KEYS = ["calls", "cumulative", "cumtime", "filename", "module", "line", "name", "nfl",
              "pcalls", "stdname", "time", "tottime", "ncalls", "cum", "cumu", "tott", "pc",
              "std", "nc", "na"]


def table_rows(text):
    """The rows of the function table in a print_stats output."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.split()[:2] == ["ncalls", "tottime"]:
            rows = []
            for row in lines[i + 1:]:
                if not row.strip():
                    break
                rows.append(row)
            return rows
    raise AssertionError("no table in:\n" + text)


def one_strop_line(proc):
    """Assert the failure was reported as exactly one `strop: ` line, without a traceback."""
    lines = proc.stderr.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("strop: "), describe(proc)
    assert "Traceback" not in proc.stderr, describe(proc)


# -- running a program as python does ---------------------------------------------------------

def test_script_runs_as_python_runs_it():
    script = TARGETS / "cli_show.py"
    plain = run_python(script, "a b", "--flag", "-x")
    profiled = run_strop("run", "-q", script, "a b", "--flag", "-x")
    assert plain.returncode == 0, describe(plain)
    assert profiled.returncode == 0, describe(profiled)
    seen = json.loads(profiled.stdout.split("\n", 1)[0])
    assert seen["name"] == "__main__" and seen["main_is_me"], seen
    assert seen["argv"] == [str(script), "a b", "--flag", "-x"], seen
    assert profiled.stdout == plain.stdout  # argv, __name__, sys.path[0], __file__, all output
    assert profiled.stderr == plain.stderr == ""  # -q: no table


def test_relative_script_path_and_cwd():
    plain = run_python("cli_show.py", "x", cwd=TARGETS)
    profiled = run_strop("run", "-q", "cli_show.py", "x", cwd=TARGETS)
    assert profiled.returncode == 0, describe(profiled)
    assert profiled.stdout == plain.stdout


def test_module_form_runs_as_python_m():
    plain = run_python("-m", "cli_show", "a", "-q", cwd=TARGETS)
    profiled = run_strop("run", "-q", "-m", "cli_show", "a", "-q", cwd=TARGETS)
    assert plain.returncode == 0, describe(plain)
    assert profiled.returncode == 0, describe(profiled)
    seen = json.loads(profiled.stdout.split("\n", 1)[0])
    assert seen["argv"][1:] == ["a", "-q"] and seen["name"] == "__main__", seen
    assert profiled.stdout == plain.stdout


def test_package_module_form_runs_its_main():
    plain = run_python("-m", "cli_pkg", "x", cwd=TARGETS)
    profiled = run_strop("run", "-q", "-m", "cli_pkg", "x", cwd=TARGETS)
    assert plain.returncode == 0, describe(plain)
    assert profiled.returncode == 0, describe(profiled)
    assert profiled.stdout == plain.stdout


def test_stdin_and_main_module_identity():
    """stdin reaches the program; a class defined in the script pickles as __main__.Point."""
    text = "some input\nover two lines\n"
    plain = run_python(TARGETS / "cli_stdin.py", input=text)
    profiled = run_strop("run", "-q", TARGETS / "cli_stdin.py", input=text)
    assert plain.stdout == "SOME INPUT\nOVER TWO LINES\n__main__ Point 3\n", describe(plain)
    assert profiled.returncode == 0, describe(profiled)
    assert profiled.stdout == plain.stdout


def test_code_form_runs_as_python_c():
    code = ("import sys, json; print(json.dumps([sys.argv, __name__, sys.path[0]]))\n"
            "def f(x):\n    return x * 2\nprint(f(21))")
    plain = run_python("-c", code, "a", "-b", cwd=TARGETS)
    profiled = run_strop("run", "-q", "-c", code, "a", "-b", cwd=TARGETS)
    assert plain.returncode == 0, describe(plain)
    assert profiled.returncode == 0, describe(profiled)
    assert profiled.stdout == plain.stdout
    assert json.loads(profiled.stdout.split("\n")[0])[0] == ["-c", "a", "-b"]


def test_table_goes_to_stderr(tmp_path):
    script = TARGETS / "cli_many.py"
    proc = run_strop("run", script)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout == ""
    assert "function calls" in proc.stderr and "Ordered by: cumulative time" in proc.stderr, \
        describe(proc)
    assert "due to restriction <25>" in proc.stderr, describe(proc)
    assert len(table_rows(proc.stderr)) == 25, describe(proc)
    proc = run_strop("run", "--sort", "calls", "--limit", "3", script)
    assert proc.returncode == 0, describe(proc)
    assert "Ordered by: call count" in proc.stderr and "due to restriction <3>" in proc.stderr
    rows = table_rows(proc.stderr)
    assert [r.split()[0] for r in rows] == ["139", "138", "137"], describe(proc)
    assert [r.split("(")[-1] for r in rows] == ["f39)", "f38)", "f37)"], describe(proc)


def test_output_file_builtins_and_timer(tmp_path):
    script = TARGETS / "cli_sleep.py"
    wall, cpu, fast = tmp_path / "wall.prof", tmp_path / "cpu.prof", tmp_path / "fast.pstats"
    for args in (["-o", wall], ["-o", cpu, "--timer", "cpu"], ["-o", fast, "--no-builtins"]):
        proc = run_strop("run", "-q", *args, script)
        assert proc.returncode == 0, describe(proc)
    stats = load_marshal(wall)
    sleep = ("~", 0, "<built-in method time.sleep>")
    assert sleep in stats and ("~", 0, "<method 'split' of 'str' objects>") in stats
    assert stats[sleep][2] > 0.15, stats[sleep]
    assert stats[find_key(stats, "nap", "cli_sleep.py")][3] > 0.15
    stats = load_marshal(cpu)
    assert stats[sleep][1] == 1 and stats[sleep][2] < 0.05, stats[sleep]
    stats = load_marshal(fast)
    assert not [k for k in stats if k[0] == "~"], sorted(stats)
    assert stats[find_key(stats, "count_words", "cli_sleep.py")][:2] == (1, 1)
    pstats.Stats(str(fast))


@pytest.mark.parametrize("key", STROP_KEYS)
def test_every_sort_key_is_accepted(key):
    import cProfile

    profile = cProfile.Profile()
    profile.runcall(len, [])
    stdlib = pstats.Stats(profile)
    stdlib_key = "cumulative" if key == "cum" else key
    stdlib.sort_stats(stdlib_key)
    proc = run_strop("run", "--sort", key, "--limit", "3", TARGETS / "rec_known.py")
    assert proc.returncode == 0, describe(proc)
    assert "Ordered by: %s" % stdlib.sort_type in proc.stderr, describe(proc)


def test_console_script():
    exe = shutil.which("strop", path=os.path.dirname(sys.executable))
    if exe is None:
        message = "no `strop` command beside %s (package not pip-installed?)" % sys.executable
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    proc = run([exe, "run", "-q", "-c", "print('hi')"])
    assert proc.returncode == 0 and proc.stdout == "hi\n", describe(proc)


GUEST_PROFILER = """
import cProfile, pstats, sys
def f():
    return 1
def g():
    return [f() for _ in range(50)]
c = cProfile.Profile()
c.runcall(g)
print(pstats.Stats(c).total_calls > 50)
sys.setprofile(lambda *args: None)
g()
sys.setprofile(None)
g()
print("done")
"""


def test_program_using_cprofile_under_strop_run():
    plain = run_python("-c", GUEST_PROFILER)
    proc = run_strop("run", "-q", "-c", GUEST_PROFILER)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout == plain.stdout == "True\ndone\n", describe(proc)
    notes = [line for line in proc.stderr.splitlines() if line.startswith("strop")]
    # strop says what it could not see, once; with sys.monitoring (3.12+) it misses nothing.
    if sys.version_info < (3, 12):
        assert len(notes) == 1, describe(proc)
    else:
        assert len(notes) <= 1, describe(proc)


# -- exit status --------------------------------------------------------------------------------

@pytest.mark.parametrize("code", [0, 3, 42])
def test_exit_status_is_the_scripts(tmp_path, code):
    out = tmp_path / "x.prof"
    proc = run_strop("run", "-o", out, TARGETS / "cli_exit.py", str(code))
    assert proc.returncode == code, describe(proc)
    assert proc.stdout == "exiting with %d\n" % code
    assert "Traceback" not in proc.stderr, describe(proc)
    assert ("function calls" in proc.stderr), describe(proc)
    stats = load_marshal(out)
    assert stats[find_key(stats, "finish", "cli_exit.py")][:2] == (1, 1)


@pytest.mark.parametrize("arg,code", [("none", 0), ("-1", 255), ("a message", 1)])
def test_exit_status_of_other_sys_exit_values(arg, code):
    plain = run_python(TARGETS / "cli_exit.py", arg)
    proc = run_strop("run", "-q", TARGETS / "cli_exit.py", arg)
    assert plain.returncode == code, describe(plain)
    assert proc.returncode == code, describe(proc)
    assert proc.stdout == plain.stdout
    assert proc.stderr == plain.stderr  # sys.exit("a message") prints it, as python does


def test_uncaught_exception(tmp_path):
    script = TARGETS / "cli_raise.py"
    plain = run_python(script)
    out = tmp_path / "x.prof"
    proc = run_strop("run", "-o", out, script)
    assert proc.returncode == 1, describe(proc)
    assert proc.stdout == plain.stdout == "before the error\n"
    # Python's traceback of the target, as plain python prints it: no frame of strop's own.
    assert plain.stderr.startswith("Traceback") and plain.stderr in proc.stderr, (
        "expected this traceback:\n%s\n%s" % (plain.stderr, describe(proc)))
    assert "function calls" in proc.stderr, describe(proc)  # the table too
    stats = load_marshal(out)
    assert stats[find_key(stats, "inner", "cli_raise.py")][:2] == (1, 1)


def _run_until_ready_then_signal(argv, signum):
    """Starts argv, waits for the target's "ready", lets it loop, sends
    `signum`; its exit status and stderr."""
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=child_env())
    try:
        line = child.stdout.readline()
        assert line == "ready\n", (line, child.stderr.read() if child.poll() is not None else "")
        time.sleep(0.3)  # let it loop a little
        child.send_signal(signum)
        _, stderr = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    return child.returncode, stderr


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_ending_signal_writes_profile_and_ends_as_python_does(tmp_path, signame):
    """Ctrl-C, `kill` and a closed terminal: the profile is written, and the
    exit status is plain Python's for the same signal (a death by the signal,
    -N to subprocess, not the shell's 128 + N)."""
    signum = getattr(signal, signame)
    script = str(TARGETS / "cli_loop.py")
    plain, _ = _run_until_ready_then_signal([sys.executable, script], signum)
    assert plain == -signum  # what Python does (3.8+: an unhandled Ctrl-C ends by SIGINT)
    out = tmp_path / "x.prof"
    status, stderr = _run_until_ready_then_signal(
        [sys.executable, "-m", "strop", "run", "-q", "-o", str(out), script], signum)
    assert status == plain, "exit status %r, plain python %r\n%s" % (status, plain, stderr)
    assert out.exists(), stderr
    stats = pstats.Stats(str(out)).stats
    assert stats[find_key(stats, "spin", "cli_loop.py")][1] > 0


def test_sigterm_in_a_forked_child_writes_nothing(tmp_path):
    """A worker forked from the program and ended by SIGTERM (what
    multiprocessing's terminate() does) dies at once: it writes no profile
    over its parent's, and the parent's profile is whole."""
    script = tmp_path / "fork_term.py"
    script.write_text(textwrap.dedent("""
        import os, signal, time
        def work():
            return sum(range(1000))
        pid = os.fork()
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        work()
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
        print("child", os.WTERMSIG(status) if os.WIFSIGNALED(status) else "exited")
    """))
    out = tmp_path / "x.prof"
    proc = run_strop("run", "-q", "-o", out, script)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout == "child %d\n" % signal.SIGTERM, describe(proc)
    stats = pstats.Stats(str(out)).stats
    assert stats[find_key(stats, "work", "fork_term.py")][1] == 1


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_sample_ends_as_its_program_ended(tmp_path, signame):
    """strop sample's child ended by a signal: the samples are written, and
    strop ends by that signal, as plain python does."""
    script = tmp_path / "ends.py"
    script.write_text(textwrap.dedent("""
        import os, signal, sys, time
        def work():
            end = time.monotonic() + 0.3
            while time.monotonic() < end:
                pass
        work()
        os.kill(os.getpid(), getattr(signal, sys.argv[1]))
    """))
    plain = run_python(script, signame)
    assert plain.returncode == -getattr(signal, signame)
    out = tmp_path / "x.folded"
    proc = run_strop("sample", "-q", "--rate", "200", "-o", out, script, signame)
    assert proc.returncode == plain.returncode, describe(proc)
    assert "work" in out.read_text(), describe(proc)


# -- bad input ----------------------------------------------------------------------------------

def test_missing_script(tmp_path):
    proc = run_strop("run", tmp_path / "no_such_script.py")
    assert proc.returncode == 2, describe(proc)
    one_strop_line(proc)


def test_directory_as_script(tmp_path):
    proc = run_strop("run", tmp_path)
    assert proc.returncode == 2, describe(proc)
    one_strop_line(proc)


def test_syntax_error_is_reported_as_python_does(tmp_path):
    script = tmp_path / "bad_syntax.py"
    script.write_text("def f(:\n    pass\n")
    plain = run_python(script)
    proc = run_strop("run", "-q", script)
    assert plain.returncode == 1 and "SyntaxError" in plain.stderr, describe(plain)
    assert proc.returncode == 1, describe(proc)
    assert plain.stderr in proc.stderr, describe(proc)


def test_no_such_module():
    proc = run_strop("run", "-m", "no_such_module_for_strop_tests")
    assert proc.returncode == 2, describe(proc)
    one_strop_line(proc)


def test_unwritable_output_is_reported_before_the_script_runs(tmp_path):
    marker = tmp_path / "ran"
    proc = run_strop("run", "-o", "/nonexistent/dir/x.prof", TARGETS / "cli_marker.py", marker)
    assert proc.returncode == 2, describe(proc)
    one_strop_line(proc)
    assert not marker.exists(), "the script ran although -o was unwritable"
    # The same command with a writable path does run it (so the marker can be trusted).
    proc = run_strop("run", "-q", "-o", tmp_path / "x.prof", TARGETS / "cli_marker.py", marker)
    assert proc.returncode == 0, describe(proc)
    assert marker.exists()


@pytest.mark.parametrize("key", ["bogus", "cumulativex", "c"])
def test_bad_sort_key(tmp_path, key):
    marker = tmp_path / "ran"
    proc = run_strop("run", "--sort", key, TARGETS / "cli_marker.py", marker)
    assert proc.returncode == 2, describe(proc)
    one_strop_line(proc)
    assert not marker.exists()


def test_view_bad_files(tmp_path):
    garbage = tmp_path / "random.prof"
    garbage.write_bytes(bytes((i * 7919 + 13) % 256 for i in range(4096)))
    not_a_dict = tmp_path / "list.prof"
    import marshal
    not_a_dict.write_bytes(marshal.dumps([1, 2, 3]))
    for path in (garbage, not_a_dict, tmp_path / "missing.prof"):
        proc = run_strop("view", path)
        assert proc.returncode == 2, describe(proc)
        one_strop_line(proc)
    empty = tmp_path / "empty.prof"
    empty.write_bytes(b"")
    proc = run_strop("view", empty)
    assert proc.returncode == 2, describe(proc)
    one_strop_line(proc)


# -- output formats chosen by name -------------------------------------------------------------

def _is_folded(data):
    lines = data.decode().splitlines()
    return bool(lines) and all(re.match(r"^(.*) (\d+)$", line) for line in lines)


OUTPUTS = [
    ("x.prof", lambda d: isinstance(marshal.loads(d), dict)),
    ("x.folded", _is_folded),
    ("x.collapsed", _is_folded),
    ("x.pb.gz", lambda d: d[:2] == b"\x1f\x8b"),
    ("callgrind.out.42", lambda d: d.startswith(b"# callgrind format")),
    ("x.speedscope.json", lambda d: "speedscope" in json.loads(d)["$schema"]),
    ("x.dot", lambda d: d.lstrip().startswith(b"digraph")),
]


@pytest.mark.parametrize("name,check", OUTPUTS, ids=[n for n, _ in OUTPUTS])
def test_output_format_follows_the_file_name(tmp_path, name, check):
    out = tmp_path / name
    proc = run_strop("run", "-q", "-o", out, TARGETS / "rec_known.py")
    assert proc.returncode == 0, describe(proc)
    assert check(out.read_bytes()), name


def test_format_option_overrides_the_name(tmp_path):
    out = tmp_path / "profile.out"
    proc = run_strop("run", "-q", "--format", "folded", "-o", out, TARGETS / "rec_known.py")
    assert proc.returncode == 0, describe(proc)
    assert _is_folded(out.read_bytes())


def test_call_graph_drawn_by_graphviz(tmp_path):
    import shutil

    if shutil.which("dot") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("graphviz's dot is missing in CI")
        pytest.skip("graphviz's dot is not installed")
    out = tmp_path / "graph.svg"
    proc = run_strop("run", "-q", "-o", out, TARGETS / "rec_known.py")
    assert proc.returncode == 0, describe(proc)
    assert b"<svg" in out.read_bytes()[:500] and b"fact" in out.read_bytes()


def test_format_not_available_yet_is_refused_before_running(tmp_path):
    marker = tmp_path / "ran"
    proc = run_strop("run", "-o", tmp_path / "trace.json", TARGETS / "cli_marker.py", marker)
    assert proc.returncode == 2, describe(proc)
    one_strop_line(proc)
    assert not marker.exists()


def test_run_pytest_is_silent_and_still_rewrites_asserts(tmp_path):
    """`strop run -m pytest`: strop is imported before pytest starts, and its
    package registers a pytest plugin; pytest must not warn that it cannot
    rewrite it, and still rewrites the user's test modules."""
    (tmp_path / "test_small.py").write_text(
        "def test_pass():\n    assert sorted([2, 1]) == [1, 2]\n\n"
        "def test_fail():\n    assert sum([1, 2]) == 4\n")
    proc = run_strop("run", "-q", "-m", "pytest", "-p", "no:cacheprovider",
                     tmp_path / "test_small.py", cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, describe(proc)  # pytest's status: a test failed
    assert "1 failed, 1 passed in" in out and "warning" not in out.lower(), describe(proc)
    assert "PytestAssertRewriteWarning" not in out
    # The rewritten assert explains itself: pytest's rewriting is in place.
    assert "where 3 = sum([1, 2])" in out, describe(proc)
