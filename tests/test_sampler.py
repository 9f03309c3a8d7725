"""`strop sample`: shares of a CPU-bound program with known shares, the
executing line of the leaf, wall and cpu modes, attach mode, files written,
exit status and bad input."""
import marshal
import json
import os
import re
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = os.path.join(ROOT, "tests", "targets")


def _strop(*args, **kw):
    return subprocess.run([sys.executable, "-m", "strop", *args], capture_output=True,
                          text=True, timeout=120, **kw)


def _own_shares(prof):
    with open(prof, "rb") as f:
        data = marshal.load(f)
    total = sum(v[2] for v in data.values())
    return {key[2]: value[2] / total for key, value in data.items()}, data


@pytest.fixture(scope="module")
def shares_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("sample")
    out, truth = d / "shares.prof", d / "truth.json"
    # 500 Hz for 3 s: 1,500 samples.  At 100 Hz (300 samples) a reader woken
    # at random moments, as on a busy machine, has a binomial spread of 2.6
    # points on f30's share, and the 5-point bound failed about one run in
    # ten beside two builds, the old reader as often as the new.
    r = _strop("sample", "--rate", "500", "-o", str(out), os.path.join(TARGETS, "s_shares.py"),
               "3", str(truth))
    return r, out, truth


def test_shares_are_close_to_the_truth(shares_run):
    r, out, truth = shares_run
    assert r.returncode == 0, r.stderr
    assert r.stdout == "done\n"  # the program's output passes through
    shares, data = _own_shares(out)
    # The truth: the wall time each function took, as the target measured it
    # (60/30/10 on a quiet machine; a busy one stretches the short ones).
    with open(truth) as f:
        real = json.load(f)
    assert abs(real["f60"] - 0.60) <= 0.10, real
    for name in ("f60", "f30", "f10"):
        assert abs(shares[name] - real[name]) <= 0.05, (name, shares[name], real[name])
    # Sample counts stand as call counts; main is in nearly every sample.
    main = [v for k, v in data.items() if k[2] == "main" and k[0].endswith("s_shares.py")][0]
    f60 = [v for k, v in data.items() if k[2] == "f60"][0]
    assert f60[1] >= 100 and main[1] >= f60[1]
    assert any("s_shares.py" in k[0] for k in f60[4])


def test_report_names_counts_and_rate(shares_run):
    r, _, _ = shares_run
    head = r.stderr.splitlines()[0]
    assert "samples in" in head and "Hz achieved" in head and "could not be read" in head
    achieved = float(head.split(" Hz achieved")[0].split()[-1])
    assert 400 <= achieved <= 550
    bad = float(head.rsplit("(", 1)[1].split("%")[0])
    assert bad < 1.0
    rows = [line for line in r.stderr.splitlines() if "f60 (" in line]
    assert rows and rows[0].split()[0].endswith("%")


def test_leaf_line_is_the_executing_line():
    from strop import _engine

    path = os.path.join(TARGETS, "s_shares.py")
    hot = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if "# HOT" in line:
                hot[line.split("# HOT")[1].strip()] = number
    proc = subprocess.Popen([sys.executable, path, "2"], stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        sampler = _engine.Sampler(proc.pid, rate=200)
        sampler.run(1.0)
    finally:
        proc.wait()
    lines = sampler.leaf_lines()
    for which in ("60", "30"):
        counts = {line: n for (file, name, line), n in lines.items() if name == "f" + which}
        assert counts, lines
        assert max(counts, key=counts.get) == hot[which]
        assert counts[hot[which]] >= 0.95 * sum(counts.values())


def _wall_split(tmp_path, attempt):
    """One wall-mode run of s_sleep.py: (sampled nap share, its leaf's share,
    the true share, the wall shares, the rate achieved)."""
    out, split = tmp_path / f"wall{attempt}.prof", tmp_path / f"split{attempt}.json"
    # 1 kHz: each 4-16 ms spell is then read many times, so that the shares
    # follow the spells the target really had.
    r = _strop("sample", "--mode", "wall", "--rate", "1000", "-o", str(out),
               os.path.join(TARGETS, "s_sleep.py"), "2", str(split))
    assert r.returncode == 3, r.stderr  # the program's exit status passes through
    head = r.stderr.splitlines()[0]
    achieved = float(head.split(" Hz achieved")[0].split()[-1])
    m = re.search(r"; ([\d.]+)% of the readings were late", head)
    tardy = float(m.group(1)) / 100 if m else 0.0
    shares, data = _own_shares(out)
    # Ground truth: the split the target measured itself (a loaded machine
    # oversleeps), over the samples of main()'s two functions.
    spent = json.loads(split.read_text())
    truth = spent["nap"] / (spent["nap"] + spent["work"])
    # nap's own samples sit in its <sleeping: ...> leaf: take its total.
    totals = {k[2]: v[3] for k, v in data.items()}
    nap = totals["nap"] / (totals["nap"] + totals["work"])
    leaf = [k[2] for k in data if k[2].startswith("<sleeping: ")]
    leaf_share = totals[leaf[0]] / (totals["nap"] + totals["work"]) if leaf else None
    return nap, leaf_share, truth, shares, achieved, tardy


def test_wall_and_cpu_modes(tmp_path):
    # A reader kept from its CPU reads the target when it sleeps (the CPU is
    # free then) and leans the shares toward its waits.  A run whose reader
    # was late for over 5% of its readings (the report says so) says nothing
    # of the attribution and is run again; before, the guard was the average
    # rate (900 Hz), and runs at 950 Hz whose lateness gathered in the
    # target's busy spells leant 4-5 points (3.8 and 3.13 beside two builds,
    # and under the sanitizer).  Two runs on time are judged: both must miss
    # by over 3 points to fail.  Only when four runs were starved is the check
    # skipped.
    judged = starved = 0
    while judged < 2:
        nap, leaf_share, truth, wall, achieved, tardy = _wall_split(tmp_path, judged + starved)
        if achieved < 900 or tardy > 0.05:
            starved += 1
            if starved == 4:
                pytest.skip(f"machine too busy: the reader achieved {achieved:.0f} Hz of 1000, "
                            f"{100 * tardy:.0f}% of readings late, in 4 runs")
            continue
        judged += 1
        if abs(nap - truth) <= 0.03 and leaf_share is not None and \
                abs(leaf_share - truth) <= 0.03:
            break
    assert abs(nap - truth) <= 0.03, (nap, truth, wall)
    assert leaf_share is not None and abs(leaf_share - truth) <= 0.03, (leaf_share, truth, wall)
    out = tmp_path / "cpu.prof"
    r = _strop("sample", "--mode", "cpu", "--rate", "1000", "-o", str(out),
               os.path.join(TARGETS, "s_sleep.py"), "2")
    assert r.returncode == 3, r.stderr
    cpu, _ = _own_shares(out)
    assert cpu.get("nap", 0) <= 0.05, cpu
    assert cpu["work"] >= 0.85


def test_attach_by_pid_with_duration_and_folded(tmp_path):
    proc = subprocess.Popen([sys.executable, os.path.join(TARGETS, "s_shares.py"), "5"],
                            stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        out = tmp_path / "out.folded"
        start = time.monotonic()
        r = _strop("sample", "--pid", str(proc.pid), "--duration", "1", "-o", str(out))
        took = time.monotonic() - start
    finally:
        proc.kill()
        proc.wait()
    assert r.returncode == 0, r.stderr
    assert took < 4
    lines = out.read_text().splitlines()
    with open(os.path.join(TARGETS, "s_shares.py")) as f:
        f60_line = next(n for n, text in enumerate(f, 1) if text.startswith("def f60"))
    assert any(line.rsplit(" ", 1)[0].endswith(f"s_shares.py:{f60_line})") for line in lines), \
        lines[:5]
    assert sum(int(line.rsplit(" ", 1)[1]) for line in lines) >= 80


def test_target_exits_while_attached(tmp_path):
    proc = subprocess.Popen([sys.executable, os.path.join(TARGETS, "s_shares.py"), "1"],
                            stdout=subprocess.DEVNULL)
    time.sleep(0.2)
    out = tmp_path / "out.prof"
    r = _strop("sample", "--pid", str(proc.pid), "-o", str(out))
    proc.wait()
    assert r.returncode == 0, r.stderr
    shares, _ = _own_shares(out)  # what was gathered is written
    assert "f60" in shares


@pytest.mark.parametrize("args, words", [
    (["--pid", "999999999"], "no process"),
    (["--rate", "0", "x.py"], "--rate"),
    (["--duration", "-1", "--pid", "1"], "--duration"),
    ([], "nothing to sample"),
    (["--pid", "1", "x.py"], "not both"),
    (["no_such_file.py"], "no such file"),
    (["-o", "/no/such/dir/x.prof", "x.py"], "no such directory"),
])
def test_bad_input_is_one_line(args, words):
    r = _strop("sample", *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("strop: ") and words in lines[0], r.stderr


EXEC_TARGET = """\
import os, sys, time

def before(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass

before(0.6)
sys.stdout.flush()
if sys.argv[1] == "python":
    os.execv(sys.executable, [sys.executable, os.path.join(os.path.dirname(__file__), "after.py")])
os.execv("/bin/sh", ["sh", "-c", "sleep 0.4; exit 5"])
"""

AFTER = """\
import time

def after(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass

after(0.6)
"""


EXEC_CHAIN = """\
import os, sys, time

def step(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass

def last(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass

n = int(sys.argv[1])
if n > 0:
    step(0.01)
    sys.stdout.flush()
    env = dict(os.environ)
    for i in range(16):  # 2 MB of environment: a longer exec
        env["STROP_TEST_BIG%d" % i] = "x" * 120000
    os.execve(sys.executable, [sys.executable, __file__, str(n - 1)], env)
last(0.3)
"""


def test_a_reading_in_the_middle_of_an_exec_is_not_an_exit(tmp_path):
    # Midway through an exec, /proc/PID/stat shows the new address space
    # before its code is mapped (start_code 0), as a zombie's does.  The
    # sampler took that for the target's exit and stopped: the samples after
    # the exec were lost in 5 of 12 runs of this chain of 40 execs (3.10),
    # and in a CI run of the test above.
    (tmp_path / "chain.py").write_text(EXEC_CHAIN)
    out = tmp_path / "out.folded"
    r = _strop("sample", "--rate", "1000", "-o", str(out), str(tmp_path / "chain.py"), "40")
    assert r.returncode == 0, r.stderr
    leaves = [line.rsplit(" ", 1)[0].split(";")[-1].split(" ")[0]
              for line in out.read_text().splitlines()]
    assert "last" in leaves, (leaves, r.stderr)
    assert "exec'd and was read anew" in r.stderr, r.stderr


@pytest.mark.parametrize("into", ["python", "other"])
def test_target_that_execs_keeps_its_samples(tmp_path, into):
    (tmp_path / "execs.py").write_text(EXEC_TARGET)
    (tmp_path / "after.py").write_text(AFTER)
    out = tmp_path / "out.folded"
    r = _strop("sample", "--rate", "200", "-o", str(out), str(tmp_path / "execs.py"), into)
    assert r.returncode == (0 if into == "python" else 5), r.stderr  # the exit status passes
    counts = {}
    for line in out.read_text().splitlines():
        stack, n = line.rsplit(" ", 1)
        leaf = stack.split(";")[-1].split(" ")[0]
        counts[leaf] = counts.get(leaf, 0) + int(n)
    assert counts.get("before", 0) >= 60, counts  # 0.6 s at 200 Hz: about 120
    head = r.stderr.splitlines()[0]
    unreadable = float(head.split(" could not be read (")[1].split("%")[0])
    assert unreadable < 5, head  # readings after the exec are not unreadable ones
    if into == "python":
        assert counts.get("after", 0) >= 60, (counts, r.stderr)
        assert "exec'd and was read anew" in head, head
    else:
        assert "exec'd a program that is not Python" in head, head
