"""The remote reader: its offset table against each CPython's own headers,
`strop dump --pid` against the stacks the target reports itself (for every
installed CPython 3.8 to 3.13), and the one-line errors of bad input."""
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import PYTHON_VERSIONS, need_python, run_c_test

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = os.path.join(ROOT, "src", "strop", "_engine")
TARGETS = os.path.join(ROOT, "tests", "targets")


def _strop(*args, **kw):
    return subprocess.run([sys.executable, "-m", "strop", *args], capture_output=True,
                          text=True, timeout=60, **kw)


# ---- the offset table ---------------------------------------------------------

@pytest.fixture(scope="module")
def print_offsets(tmp_path_factory):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    out = tmp_path_factory.mktemp("offsets") / "print_offsets"
    subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", ENGINE,
                    os.path.join(ROOT, "tests", "c", "print_offsets.c"), "-o", str(out)],
                   check=True)
    return out


@pytest.mark.parametrize("minor", PYTHON_VERSIONS)
def test_offset_table_matches_the_headers(minor, print_offsets, tmp_path):
    exe = need_python(minor)
    include = subprocess.run([exe, "-c", "import sysconfig; print(sysconfig.get_paths()"
                              "['include'])"], capture_output=True, text=True,
                             check=True).stdout.strip()
    if not os.path.isdir(os.path.join(include, "internal")):
        pytest.skip(f"Python {minor} has no internal headers installed")
    probe = tmp_path / "probe"
    subprocess.run(["gcc", "-w", "-I", include, "-I", os.path.join(include, "internal"),
                    os.path.join(ROOT, "tests", "c", "probe_offsets.c"), "-o", str(probe)],
                   check=True)
    truth = subprocess.run([str(probe)], capture_output=True, text=True, check=True).stdout
    table = subprocess.run([str(print_offsets), minor], capture_output=True, text=True,
                           check=True).stdout
    truth, table = _fields(truth), _fields(table)
    # What the headers of this version do not show (3.8-3.10 keep the module
    # object and the dict key table private) is found on live objects.
    hidden = [name for name in table if name not in truth]
    if hidden:
        live = subprocess.run([exe, os.path.join(ROOT, "tests", "helpers", "probe_layout.py"),
                               str(table["dict_keys"]), *hidden], capture_output=True, text=True)
        assert live.returncode == 0, live.stderr
        truth.update(_fields(live.stdout))
    assert table == truth


def _fields(text):
    """{name: value} of "name value" lines."""
    return {name: int(value) for name, value in (line.split() for line in text.splitlines())}


# ---- strop dump against the target's own view -------------------------------------

def _start_blocked(exe, tmp_path):
    ready = tmp_path / "truth.json"
    proc = subprocess.Popen([exe, os.path.join(TARGETS, "s_block.py"), str(ready)])
    deadline = time.time() + 20
    while not ready.exists():
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail("the target did not get ready")
        time.sleep(0.02)
    return proc, json.loads(ready.read_text())


def _parse_dump(text):
    threads, current = {}, None
    for line in text.splitlines():
        if line.startswith("Thread "):
            current = threads.setdefault(line.split()[1], [])
        elif line.startswith('  File "'):
            filename, rest = line[len('  File "'):].split('", line ', 1)
            lineno, name = rest.split(", in ", 1)
            current.append([filename, int(lineno), name])
    return threads


@pytest.mark.parametrize("minor", PYTHON_VERSIONS)
def test_dump_matches_the_targets_own_stacks(minor, tmp_path):
    exe = need_python(minor)
    proc, truth = _start_blocked(exe, tmp_path)
    try:
        r = _strop("dump", "--pid", str(proc.pid))
    finally:
        proc.kill()
        proc.wait()
    assert r.returncode == 0, r.stderr
    assert f"(Python {minor})" in r.stdout.splitlines()[0]
    got = _parse_dump(r.stdout)
    assert got == truth
    # The stacks are deep and varied: a method, a generator, 40 recursions.
    names = {frame[2] for stack in truth.values() for frame in stack}
    assert {"method", "gen_blocker", "in_generator", "recursive", "level3"} <= names


@pytest.mark.parametrize("minor", PYTHON_VERSIONS)
def test_dump_says_what_blocked_threads_wait_on(minor, tmp_path):
    exe = need_python(minor)
    ready = tmp_path / "ready"
    # Ground truth: s_wait.py blocks one thread in recv from a local server
    # that never answers, one in time.sleep, the main thread in a pipe read.
    proc = subprocess.Popen([exe, os.path.join(TARGETS, "s_wait.py"), str(ready)])
    try:
        deadline = time.time() + 20
        while not ready.exists():
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail("the target did not get ready")
            time.sleep(0.02)
        port = int(ready.read_text())
        r = _strop("dump", "--pid", str(proc.pid))
    finally:
        proc.kill()
        proc.wait()
    assert r.returncode == 0, r.stderr
    # The line under each thread's innermost frame, by that frame's function.
    under = {}
    lines = r.stdout.splitlines()
    for i, line in enumerate(lines):
        if line.startswith('  File "') and i + 1 < len(lines):
            if lines[i + 1].startswith("    ") and not lines[i + 1].startswith("    File"):
                under[line.rsplit(", in ", 1)[1]] = lines[i + 1]
    assert under.get("wait_for_reply") == f"    waiting: recvfrom on tcp 127.0.0.1:{port}", \
        r.stdout
    # 3.11+ sleep in clock_nanosleep, 3.8-3.10 in select(0, ...) (pselect6 in the kernel).
    assert under.get("doze") in ("    sleeping: clock_nanosleep", "    sleeping: select",
                                 "    sleeping: pselect6", "    sleeping: nanosleep"), r.stdout
    assert under.get("read_pipe", "").startswith("    waiting: read on fd "), r.stdout
    # Only blocked threads get such a line, and the stacks still parse.
    assert len(under) == 3, r.stdout
    assert {stack[-1][2] for stack in _parse_dump(r.stdout).values()} == {
        "wait_for_reply", "doze", "read_pipe"}


# ---- bad input ----------------------------------------------------------------

def _one_line_error(r, *words):
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("strop: "), r.stderr
    for word in words:
        assert word in lines[0]


def test_dump_no_such_pid():
    pid = 4194304 + 1  # above any pid_max
    _one_line_error(_strop("dump", "--pid", str(pid)), "no process")


def test_dump_not_a_python_process():
    proc = subprocess.Popen(["sleep", "30"])
    try:
        _one_line_error(_strop("dump", "--pid", str(proc.pid)), "not a Python process")
    finally:
        proc.kill()
        proc.wait()


def test_dump_bad_pid_argument():
    _one_line_error(_strop("dump", "--pid", "abc"), "process id")
    _one_line_error(_strop("dump"), "--pid")


def test_dump_without_ptrace_capability(tmp_path):
    """Root without CAP_SYS_PTRACE may not read another user's process: the
    target runs as nobody (on the system's Python, which any user may run).
    This is the refusal a user meets attaching to someone else's process; a
    test that ran strop itself as another user skipped on almost every run
    (that user cannot read the pyenv Pythons under /root) and is gone."""
    system_python = "/usr/bin/python3"
    if os.geteuid() != 0 or shutil.which("setpriv") is None or not os.access(system_python,
                                                                               os.X_OK):
        pytest.skip("needs root, setpriv and a system Python to run a target as another user")
    target = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               system_python, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.5)
        r = subprocess.run(["setpriv", "--bounding-set=-all", "--inh-caps=-all", sys.executable,
                            "-m", "strop", "dump", "--pid", str(target.pid)],
                           capture_output=True, text=True, timeout=60)
    finally:
        target.kill()
        target.wait()
    _one_line_error(r, "permission denied")


# ---- the walker over random memory (C) -----------------------------------------

def test_walker_survives_random_memory(tmp_path):
    run_c_test(tmp_path, "test_remote", ("remote.c", "remote_names.c", "mem.c"))


def test_walker_reads_states_that_used_to_be_torn(tmp_path):
    """tests/c/test_remote_torn.c: a made-up 3.12 process caught mid-read (a
    read torn once, an eval loop being entered, a frame returned from).  The
    reader before the retries, the caller's fallback and the data stack's top
    check dropped the first two and named the returned function as running."""
    run_c_test(tmp_path, "test_remote_torn", ("remote.c", "remote_names.c", "mem.c"))


def test_dump_a_statically_linked_python():
    """Debian's /usr/bin/python3 has the runtime in the executable itself, not
    in libpython: the reader finds _PyRuntime there too."""
    system_python = "/usr/bin/python3"
    if not os.access(system_python, os.X_OK):
        pytest.skip("no system Python at /usr/bin/python3")
    ldd = subprocess.run(["ldd", system_python], capture_output=True, text=True)
    if "libpython" in ldd.stdout:
        pytest.skip("the system Python is linked to libpython here")
    code = ("import sys, time\n"
            "def inner():\n"
            "    print('ready', flush=True)\n"
            "    time.sleep(30)\n"
            "def outer():\n"
            "    inner()\n"
            "outer()\n")
    target = subprocess.Popen([system_python, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout.readline() == "ready\n"
        r = _strop("dump", "--pid", str(target.pid))
    finally:
        target.kill()
        target.wait()
    assert r.returncode == 0, r.stderr
    names = [frame[2] for stack in _parse_dump(r.stdout).values() for frame in stack]
    assert names == ["<module>", "outer", "inner"], r.stdout
