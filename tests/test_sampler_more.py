"""The sampler's per-thread root frames, wall mode's waiting frames and the
in-process API (strop.Sampler)."""
import os
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = os.path.join(ROOT, "tests", "targets")


def _strop(*args, **kw):
    return subprocess.run([sys.executable, "-m", "strop", *args], capture_output=True,
                          text=True, timeout=120, **kw)


@pytest.fixture
def waiting_target(tmp_path):
    ready = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, os.path.join(TARGETS, "s_wait.py"), str(ready)])
    deadline = time.monotonic() + 10
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield proc, int(ready.read_text())
    finally:
        proc.kill()
        proc.wait()


def _folded(path):
    stacks = {}
    for line in path.read_text().splitlines():
        stack, count = line.rsplit(" ", 1)
        stacks[stack] = int(count)
    return stacks


def test_threads_and_what_they_wait_on(waiting_target, tmp_path):
    proc, port = waiting_target
    out = tmp_path / "w.folded"
    r = _strop("sample", "--pid", str(proc.pid), "--duration", "0.5", "--threads", "-o",
               str(out))
    assert r.returncode == 0, r.stderr
    stacks = _folded(out)
    leaves = {stack.split(";")[-1]: stack for stack in stacks}
    # Every stack starts at its thread; the main thread by threading's name.
    assert all(stack.startswith("<thread ") for stack in stacks), stacks
    assert any(stack.startswith(f'<thread {proc.pid} "MainThread">;') for stack in stacks), stacks
    assert len({stack.split(";")[0] for stack in stacks}) == 3
    recv = f"<waiting: recvfrom on tcp 127.0.0.1:{port}>"
    assert recv in leaves and "wait_for_reply (" in leaves[recv], leaves
    sleeping = [leaf for leaf in leaves if leaf.startswith("<sleeping: ")]
    assert sleeping and "doze (" in leaves[sleeping[0]], leaves
    # 3.11+ sleep in clock_nanosleep, 3.8-3.10 in select(0, ...) (pselect6 in the kernel).
    assert sleeping[0] in ("<sleeping: clock_nanosleep>", "<sleeping: select>",
                           "<sleeping: pselect6>", "<sleeping: nanosleep>")
    pipe = [leaf for leaf in leaves if leaf.startswith("<waiting: read on fd ")]
    assert pipe and "(pipe:[" in pipe[0] and "read_pipe (" in leaves[pipe[0]], leaves


def test_no_waits_in_cpu_mode_nor_with_no_waits(waiting_target, tmp_path):
    proc, _ = waiting_target
    out = tmp_path / "w.folded"
    r = _strop("sample", "--pid", str(proc.pid), "--duration", "0.3", "--no-waits", "-o",
               str(out))
    assert r.returncode == 0, r.stderr
    stacks = _folded(out)
    assert stacks and not any("<" in s.split(";")[-1][:1] for s in stacks), stacks


def test_in_process_sampler(tmp_path):
    script = tmp_path / "api.py"
    script.write_text(
        "import strop, time\n"
        "def spin(t):\n"
        "    end = time.perf_counter() + t\n"
        "    while time.perf_counter() < end: pass\n"
        "def nap(): time.sleep(0.2)\n"
        "with strop.Sampler(rate=500) as s:\n"
        "    spin(0.4); nap()\n"
        "st = s.stats()\n"
        "own = {k[2]: v[2] for k, v in st.stats.items()}\n"
        "total = sum(own.values())\n"
        "sleep = sum(v for k, v in own.items() if k.startswith('<sleeping: '))\n"
        "print(round(own['spin'] / total, 2), round(sleep / total, 2))\n"
        f"s.dump({str(tmp_path / 'p.folded')!r})\n"
        "s.close()\n")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    spin, sleep = map(float, r.stdout.split())
    assert 0.55 <= spin <= 0.75 and 0.25 <= sleep <= 0.45, r.stdout
    folded = (tmp_path / "p.folded").read_text()
    assert "spin (" in folded and "nap (" in folded


def test_in_process_sampler_leaves_out_its_own_frames(tmp_path):
    script = tmp_path / "own.py"
    script.write_text(
        "import os, strop, time\n"
        "def work():\n"
        "    end = time.perf_counter() + 0.3\n"
        "    while time.perf_counter() < end: pass\n"
        "with strop.Sampler(rate=1000) as s:\n"
        "    work()\n"
        "package = os.path.dirname(os.path.abspath(strop.__file__))\n"
        "keys = s.stats().stats\n"
        "mine = [k for k in keys if os.path.dirname(os.path.abspath(k[0])) == package]\n"
        "own = {k[2]: v[2] for k, v in keys.items()}\n"
        "print(len(mine), round(own.get('work', 0) / sum(own.values()), 3), mine[:3])\n"
        "s.close()\n")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    n_mine, work_share, mine = r.stdout.split(" ", 2)
    # Every sample is of work() or of the script around it: none of the
    # handshake in strop's __enter__/__exit__ is left.
    assert int(n_mine) == 0, r.stdout
    assert float(work_share) >= 0.9, r.stdout


def test_in_process_sampler_bad_arguments():
    import strop

    with pytest.raises(ValueError):
        strop.Sampler(mode="both")
    with pytest.raises(ValueError):
        strop.Sampler(rate=0)
    with pytest.raises(RuntimeError):
        strop.Sampler().stats()


def _read_until(fd, want, timeout):
    import select

    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if want(seen):
                break
    return seen


def test_top_shows_the_hot_function_and_quits_on_q():
    import pty

    target = subprocess.Popen([sys.executable, os.path.join(TARGETS, "s_shares.py"), "20"],
                              stdout=subprocess.DEVNULL)
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm"
        os.environ["LINES"], os.environ["COLUMNS"] = "30", "120"
        os.execv(sys.executable, [sys.executable, "-m", "strop", "top", "--pid",
                                  str(target.pid), "--rate", "200"])
    try:
        seen = _read_until(fd, lambda b: b.count(b"f60") >= 1 and b"samples" in b, 15)
        assert b"strop top: process" in seen and b"f60" in seen, seen[-2000:]
        assert b"last second" in seen, seen[-2000:]
        os.write(fd, b"a")
        seen = _read_until(fd, lambda b: b"since start" in b, 5)
        assert b"since start" in seen, seen[-2000:]
        os.write(fd, b"t")
        seen = _read_until(fd, lambda b: b"total)" in b, 5)
        assert b"total)" in seen, seen[-2000:]  # curses redraws what changed
        os.write(fd, b"q")
        deadline = time.monotonic() + 5
        status = None
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            _read_until(fd, lambda b: False, 0.1)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    finally:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except OSError:
            pass
        os.close(fd)
        target.kill()
        target.wait()


def _attach_when_started(engine, proc, **kw):
    """A Sampler on `proc` once its runtime is there (it may still be starting)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return engine.Sampler(proc.pid, **kw)
        except ValueError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise
            time.sleep(0.005)


def _shares(table):
    samples, rows = table
    own = {name: o / max(samples, 1) for o, t, f, line, name in rows}
    total = {name: t / max(samples, 1) for o, t, f, line, name in rows}
    return samples, own, total


def test_windowed_table_shows_the_last_second_only(tmp_path):
    from strop import _engine

    ready = tmp_path / "b"
    proc = subprocess.Popen([sys.executable, os.path.join(TARGETS, "s_phases.py"), "1.5",
                             str(ready)])
    try:
        sampler = _attach_when_started(_engine, proc, rate=200)
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            sampler.run(0.05)
        assert ready.exists(), "the target never reached phase_b"
        # Ground truth: the target has been in phase_b since `ready` appeared.
        sampler.run(1.3)
        n_win, own_win, total_win = _shares(sampler.table(window=1.0))
        n_all, own_all, total_all = _shares(sampler.table())
        with pytest.raises(ValueError):
            sampler.table(window=0)
        with pytest.raises(ValueError):
            sampler.table(window=11)
    finally:
        proc.kill()
        proc.wait()
    assert n_win < n_all, (n_win, n_all)
    assert own_win.get("phase_b", 0) >= 0.95, own_win
    assert total_win.get("phase_a", 0) <= 0.02, total_win
    assert total_win.get("main", 0) >= 0.95, total_win
    # The cumulative table still holds phase_a: the sampler saw most of its 1.5 s.
    assert own_all.get("phase_a", 0) >= 0.3 and own_all.get("phase_b", 0) >= 0.2, own_all
    # A window longer than the sampling counts every sample.
    n_long, own_long, _ = _shares(sampler.table(window=10))
    assert n_long == n_all and own_long == own_all


def test_top_needs_a_terminal():
    r = _strop("top", "--pid", str(os.getpid()), stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and "needs a terminal" in r.stderr


def test_subprocesses_are_followed_under_their_process(tmp_path):
    out = tmp_path / "c.folded"
    r = _strop("sample", "--subprocesses", "-o", str(out),
               os.path.join(TARGETS, "s_children.py"), "1.5")
    assert r.returncode == 0, r.stderr
    stacks = _folded(out)
    assert all(s.startswith("<process ") for s in stacks), list(stacks)[:3]
    by_func = {}
    for stack, count in stacks.items():
        for name in ("parent_work", "child_work", "exec_work"):
            # exec_work is nested: main.<locals>.exec_work on 3.11+ (co_qualname).
            if f";{name} (" in stack or f".{name} (" in stack:
                by_func.setdefault(name, set()).add(stack.split(":", 1)[0])
    # Three processes, each function under its own process's frame.
    assert set(by_func) == {"parent_work", "child_work", "exec_work"}, by_func
    roots = set().union(*by_func.values())
    assert len(roots) == 3 and all(len(v) == 1 for v in by_func.values()), by_func
    # No frame of garbage: every label is a known file or a made-up <...> frame.
    for stack in stacks:
        for frame in stack.split(";"):
            assert frame.startswith("<") or " (" in frame, frame


def _roots_of(stacks, function):
    """{root frame: samples} of the stacks that pass through `function`."""
    roots = {}
    for stack, count in stacks.items():
        if f";{function} (" in stack:
            root = stack.split(";", 1)[0]
            roots[root] = roots.get(root, 0) + count
    return roots


def test_short_lived_children_are_followed(tmp_path):
    import threading

    if not os.path.exists(f"/proc/{os.getpid()}/task/{threading.get_native_id()}/children"):
        pytest.skip("the kernel has no /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN): "
                    "children are met by a scan of /proc every 0.3 s only")
    out = tmp_path / "short.folded"
    # Ground truth: five children, one after another, each spinning 0.05 s in
    # short_work after Python's start-up: 50 periods at 1000 Hz.
    r = _strop("sample", "--subprocesses", "--rate", "1000", "-o", str(out),
               os.path.join(TARGETS, "s_short_children.py"), "5", "0.05")
    assert r.returncode == 0, r.stderr
    roots = _roots_of(_folded(out), "short_work")
    assert all(" child 0.05>" in root for root in roots), roots
    assert len(roots) >= 4, (roots, r.stderr[:300])
    # Each child is read for most of its short_work, not only caught once.
    assert sorted(roots.values())[len(roots) // 2] >= 10, roots


def test_a_child_that_execs_is_read_again(tmp_path):
    out = tmp_path / "exec.folded"
    # Ground truth: the child spins 0.3 s in before_exec, then the same pid
    # runs a new Python on s_reexec_second.py that spins 0.3 s in after_exec.
    r = _strop("sample", "--subprocesses", "--rate", "1000", "-o", str(out),
               os.path.join(TARGETS, "s_reexec.py"), "0.3")
    assert r.returncode == 0, r.stderr
    stacks = _folded(out)
    before, after = _roots_of(stacks, "before_exec"), _roots_of(stacks, "after_exec")
    assert len(before) == 1 and len(after) == 1, (before, after)
    (root_before, n_before), = before.items()
    (root_after, n_after), = after.items()
    # One pid, two programs: each under the command line it ran.
    assert root_before.split(":")[0] == root_after.split(":")[0], (root_before, root_after)
    assert "s_reexec.py 0.3 child>" in root_before and "s_reexec_second.py 0.3>" in root_after
    assert n_after >= 0.5 * n_before, (n_before, n_after)


def test_proctask_in_c(tmp_path):
    import shutil

    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    engine = os.path.join(ROOT, "src", "strop", "_engine")
    exe = tmp_path / "test_proctask"
    flags = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-g", "-O1", "-pthread"]
    if not os.environ.get("STROP_UNDER_SANITIZER"):
        flags += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
    subprocess.run([cc, *flags, "-I", engine, os.path.join(ROOT, "tests", "c", "test_proctask.c"),
                    os.path.join(engine, "proctask.c"), os.path.join(engine, "mem.c"),
                    "-o", str(exe)], check=True)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
    env.pop("LD_PRELOAD", None)
    r = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith(" 0 failed"), r.stdout
