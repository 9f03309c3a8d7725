"""Thread names read from the target's memory (remote_names.c): `strop dump
--pid` and the root frames of `strop sample --threads` against the names the
target itself reports (threading.enumerate()), for every installed CPython
3.8 to 3.13 sampled from this one; a thread renamed while sampled; and the
fallback to the kernel's labels where threading names nothing."""
import json
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import PYTHON_VERSIONS, TARGETS, child_env, describe, need_python, run_strop


def _wait_for(path, proc, seconds=20):
    deadline = time.time() + seconds
    while not path.exists():
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"the target did not write {path.name}")
        time.sleep(0.02)
    return json.loads(path.read_text(encoding="utf-8"))


def _start(exe, tmp_path, rename=False):
    """s_names.py under `exe`: (process, {ident: [name, native_id]})."""
    ready = tmp_path / "ready.json"
    args = [exe, str(TARGETS / "s_names.py"), str(ready)]
    if rename:
        args.append(str(tmp_path / "rename"))
    proc = subprocess.Popen(args, env=child_env(PYTHONIOENCODING="utf-8"))
    return proc, _wait_for(ready, proc)


def _stop(proc):
    proc.kill()
    proc.wait()


def _dump_names(text):
    """{ident: name or None} from `strop dump` output."""
    names = {}
    for line in text.splitlines():
        m = re.match(r'Thread (\d+)(?: "(.*)")? \(native id [^)]*\)', line)
        if m:
            names[m.group(1)] = m.group(2)
    return names


def _roots(folded):
    """The root frames of a folded file, with their sample counts."""
    roots = {}
    for line in folded.read_text(encoding="utf-8").splitlines():
        stack, count = line.rsplit(" ", 1)
        root = stack.split(";", 1)[0]
        roots[root] = roots.get(root, 0) + int(count)
    return roots


def _sample(pid, out, duration="1"):
    r = run_strop("sample", "--pid", str(pid), "--threads", "--duration", duration, "-q",
                  "-o", out, env=child_env(PYTHONIOENCODING="utf-8"))
    assert r.returncode == 0, describe(r)
    return _roots(out)


@pytest.mark.parametrize("minor", PYTHON_VERSIONS)
def test_dump_shows_the_names_the_target_gave(minor, tmp_path):
    exe = need_python(minor)
    proc, truth = _start(exe, tmp_path)
    try:
        r = run_strop("dump", "--pid", str(proc.pid), env=child_env(PYTHONIOENCODING="utf-8"))
    finally:
        _stop(proc)
    assert r.returncode == 0, describe(r)
    expected = {ident: name for ident, (name, _) in truth.items()}
    assert _dump_names(r.stdout) == expected
    assert {"MainThread", "worker-1", "w\u00f6rker-\u03b2", "ThreadPoolExecutor-0_0",
            "dict-thread", "big-thread"} <= set(expected.values())


@pytest.mark.parametrize("minor", PYTHON_VERSIONS)
def test_sample_threads_roots_carry_the_names(minor, tmp_path):
    exe = need_python(minor)
    proc, truth = _start(exe, tmp_path)
    try:
        roots = _sample(proc.pid, tmp_path / "x.folded")
    finally:
        _stop(proc)
    expected = {f'<thread {native_id} "{name}">' for name, native_id in truth.values()}
    assert set(roots) == expected


@pytest.mark.parametrize("minor", PYTHON_VERSIONS)
def test_a_renamed_thread_shows_its_latest_name(minor, tmp_path):
    """worker-1 becomes renamed-1 while sampled: every sample of that thread,
    before and after, is under the new name at the end, and dump shows it."""
    exe = need_python(minor)
    proc, truth = _start(exe, tmp_path, rename=True)
    try:
        sampler = subprocess.Popen(
            [sys.executable, "-m", "strop", "sample", "--pid", str(proc.pid), "--threads",
             "--duration", "2", "-q", "-o", str(tmp_path / "x.folded")],
            env=child_env(PYTHONIOENCODING="utf-8"), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        time.sleep(0.8)
        (tmp_path / "rename").write_text("")
        after = _wait_for(tmp_path / "rename.done", proc)
        out, err = sampler.communicate(timeout=60)
        assert sampler.returncode == 0, err
        dump = run_strop("dump", "--pid", str(proc.pid), env=child_env(PYTHONIOENCODING="utf-8"))
    finally:
        _stop(proc)
    worker = next(ident for ident, (name, _) in truth.items() if name == "worker-1")
    native_id = truth[worker][1]
    assert after[worker][0] == "renamed-1"
    roots = _roots(tmp_path / "x.folded")
    mine = {root: n for root, n in roots.items() if root.startswith(f"<thread {native_id} ")}
    assert list(mine) == [f'<thread {native_id} "renamed-1">'], roots
    # It was sampled before the rename too: about 2 s at 100 Hz, all under one root.
    assert mine[f'<thread {native_id} "renamed-1">'] > 100
    assert _dump_names(dump.stdout)[worker] == "renamed-1"


NO_THREADING = r"""
import _thread, sys, time
assert "threading" not in sys.modules, "threading was imported"
def spin():
    while True:
        time.sleep(0.01)
_thread.start_new_thread(spin, ())
print("ready", flush=True)
spin()
"""


def test_without_threading_the_kernel_labels_stay(tmp_path):
    """No threading module, no names: neither invented nor an error."""
    proc = subprocess.Popen([sys.executable, "-S", "-c", NO_THREADING], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        if line != "ready\n":
            proc.kill()
            pytest.skip("this Python imports threading at startup: " + proc.stderr.read())
        dump = run_strop("dump", "--pid", str(proc.pid))
        roots = _sample(proc.pid, tmp_path / "x.folded", duration="0.5")
    finally:
        _stop(proc)
    assert dump.returncode == 0, describe(dump)
    names = _dump_names(dump.stdout)
    assert len(names) == 2 and set(names.values()) == {None}, dump.stdout
    others = set(roots) - {f"<thread {proc.pid} main>"}
    assert len(roots) == 2 and len(others) == 1, roots
    assert re.fullmatch(r"<thread \d+>", others.pop()), roots


CHURN = r"""
import itertools, threading, time
def life():
    time.sleep(0.002)
def churn():
    for i in itertools.count():
        t = threading.Thread(target=life, name=f"churn-{i}", daemon=True)
        t.start()
        t.name = f"renamed-{i}"
        t.join()
threading.Thread(target=churn, name="churner", daemon=True).start()
print("ready", flush=True)
time.sleep(120)
"""

READ_NAMES = r"""
import json, sys
from strop import _engine
sampler = _engine.Sampler(int(sys.argv[1]))
seen, with_main = set(), 0
for _ in range(300):
    names = sampler.thread_names()
    seen.update(names.values())
    with_main += "MainThread" in names.values()
print(json.dumps({"seen": sorted(seen), "with_main": with_main}))
"""

CHURN_NAME = r"MainThread|churner|churn-\d+|renamed-\d+"


@pytest.mark.parametrize("minor", PYTHON_VERSIONS)
def test_names_of_threads_that_come_and_go(minor, tmp_path):
    """Threads started, renamed and ended hundreds of times a second: every
    name read is one the program gave (torn reads give none), in
    Sampler.thread_names() and in the root frames of a sampling."""
    exe = need_python(minor)
    proc = subprocess.Popen([exe, "-c", CHURN], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        r = subprocess.run([sys.executable, "-c", READ_NAMES, str(proc.pid)],
                           capture_output=True, text=True, timeout=120, env=child_env())
        assert r.returncode == 0, describe(r)
        roots = _sample(proc.pid, tmp_path / "x.folded", duration="1")
    finally:
        _stop(proc)
    result = json.loads(r.stdout)
    bad = [name for name in result["seen"] if not re.fullmatch(CHURN_NAME, name)]
    assert not bad, result
    assert result["with_main"] >= 200, result  # most readings are whole
    label = re.compile(rf'<thread \d+(?: main| "(?:{CHURN_NAME})")?>')
    assert all(label.fullmatch(root) for root in roots), roots
    assert any('"MainThread"' in root for root in roots), roots
