"""The machine in every report: what `strop run` and `strop sample` say of the
process's CPU, memory, disk and the machine, against what the program itself
measured (getrusage, its own byte counts, its CPU clock) and against
conditions the test makes real: a CPU hog on the same core, a full filesystem.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import describe, run_strop

PROGRAM = textwrap.dedent('''
    import json, os, sys, time
    out, mib = sys.argv[1], int(sys.argv[2])
    block = bytearray(mib << 20)
    for i in range(0, len(block), 4096):
        block[i] = 1                      # touch every page: it is resident
    # Resident now, at the program's largest, as the kernel counts pages.
    # (getrusage's ru_maxrss would not do: it keeps the high-water mark of the
    # image before exec, here the test runner's.)
    with open("/proc/self/statm") as f:
        resident = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    written = 0
    with open(out + ".data", "wb") as f:
        for _ in range(mib):
            f.write(b"x" * (1 << 20))
            written += 1 << 20
        f.flush()
        os.fsync(f.fileno())
    wall0, cpu0 = time.monotonic(), time.process_time()
    while time.monotonic() - wall0 < 1.2:
        pass                              # busy: on a shared core, it waits for it
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    json.dump({"maxrss": resident,
               "written": written, "busy_wall": wall, "busy_cpu": cpu}, open(out, "w"))
''')

SECTION = re.compile(r"^Machine during the run \(([\d.]+) s of wall time", re.M)


def _bytes(text):
    number, unit = text.split()
    return float(number) * {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[unit]


def _parse(stderr):
    assert SECTION.search(stderr), stderr
    peak = re.search(r"peak RSS ([\d.]+ \w+)", stderr)
    cpu = re.search(r"CPU\s+([\d.]+) s used.*?; ([\d.]+) s \((\d+)%\) waiting for a CPU", stderr)
    written = re.search(r"written ([\d.]+ \w+)\n", stderr)
    return {"peak": _bytes(peak.group(1)), "cpu": float(cpu.group(1)),
            "wait": float(cpu.group(2)), "written": _bytes(written.group(1)) if written else None}


@pytest.mark.parametrize("command", ["run", "sample"])
def test_memory_disk_and_cpu_as_the_program_measured_them(tmp_path, command):
    script, out = tmp_path / "prog.py", tmp_path / "facts.json"
    script.write_text(PROGRAM)
    p = run_strop(command, str(script), str(out), "96", cwd=tmp_path)
    assert p.returncode == 0, describe(p)
    facts, seen = json.loads(out.read_text()), _parse(p.stderr)
    # Peak RSS: at least what the program had resident at its largest, by its
    # own reading; under `strop run` the profiler's memory is in the process too.
    assert facts["maxrss"] * 0.9 <= seen["peak"], (facts, seen, p.stderr)
    if os.environ.get("STROP_UNDER_SANITIZER") != "1":
        # Under ASan the process also holds shadow memory and a quarantine of
        # freed blocks (the 1 MiB writes): its peak is not the program's.
        assert seen["peak"] <= facts["maxrss"] * 1.1 + (8 << 20), (facts, seen, p.stderr)
    # Bytes written to storage: at least what the program wrote and synced
    # (where the filesystem counts storage writes at all: not on tmpfs).
    if seen["written"] is not None and seen["written"] > 0:
        assert seen["written"] >= facts["written"] * 0.95, (facts, seen)
    # CPU time used covers at least the busy second the program measured.
    assert seen["cpu"] >= facts["busy_cpu"] * 0.9, (facts, seen)


HOG = "import os\nos.sched_setaffinity(0, {%d})\nwhile True:\n    pass\n"


def test_waiting_for_a_cpu_is_reported_and_warned(tmp_path):
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("no CPU affinity here")
    cpu = sorted(os.sched_getaffinity(0))[0]
    script, out = tmp_path / "prog.py", tmp_path / "facts.json"
    script.write_text(PROGRAM)
    hog = subprocess.Popen([sys.executable, "-c", HOG % cpu])
    try:
        p = subprocess.run(["taskset", "-c", str(cpu), sys.executable, "-m", "strop", "run",
                            str(script), str(out), "8"], capture_output=True, text=True,
                           timeout=120, cwd=tmp_path)
    finally:
        hog.kill()
        hog.wait()
    assert p.returncode == 0, describe(p)
    facts, seen = json.loads(out.read_text()), _parse(p.stderr)
    # The program's busy loop got about half the core: the rest of its wall
    # time it waited. strop's wait covers at least most of that time.
    waited = facts["busy_wall"] - facts["busy_cpu"]
    assert waited >= 0.3 * facts["busy_wall"], ("the hog did not take the core", facts)
    assert seen["wait"] >= 0.8 * waited, (facts, seen, p.stderr)
    assert "waiting for a CPU: other processes" in p.stderr


def test_a_full_filesystem_is_warned(tmp_path):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs")
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + r.stderr.strip())
    try:
        script = tmp_path / "fill.py"
        script.write_text(textwrap.dedent('''
            import errno, sys, time
            f = open(sys.argv[1] + "/data", "wb")
            try:
                while True:
                    f.write(b"x" * 65536)
                    f.flush()
            except OSError as e:
                assert e.errno == errno.ENOSPC, e
                print("ENOSPC")
            time.sleep(1.5)   # still open for writing when strop looks
        '''))
        p = run_strop("run", "-l", "1", str(script), str(mnt), cwd=tmp_path)
    finally:
        subprocess.run(["umount", str(mnt)])
    assert p.returncode == 0 and p.stdout == "ENOSPC\n", describe(p)
    assert re.search(r"warning: %s/? is 100%% full" % re.escape(str(mnt)), p.stderr), p.stderr


def test_quiet_prints_nothing_of_the_machine(tmp_path):
    script, out = tmp_path / "prog.py", tmp_path / "facts.json"
    script.write_text(PROGRAM)
    p = run_strop("run", "-q", str(script), str(out), "4", cwd=tmp_path)
    assert p.returncode == 0, describe(p)
    assert p.stderr == "", p.stderr


def test_strop_health_watches_a_running_process(tmp_path):
    script, out = tmp_path / "prog.py", tmp_path / "facts.json"
    script.write_text(PROGRAM)
    target = subprocess.Popen([sys.executable, str(script), str(out), "64"], cwd=tmp_path)
    try:
        p = run_strop("health", "--pid", str(target.pid), "--interval", "0.2")
    finally:
        target.wait()
    assert p.returncode == 0, describe(p)
    facts, seen = json.loads(out.read_text()), _parse(p.stderr)
    # It watched until the process ended: the whole busy second and the peak.
    assert seen["peak"] >= facts["maxrss"] * 0.9, (facts, seen)
    assert seen["cpu"] >= facts["busy_cpu"] * 0.9, (facts, seen)


def test_strop_health_bad_pid_is_one_line():
    for pid, words in (("999999999", "no process"), ("abc", "needs a process id")):
        p = run_strop("health", "--pid", pid)
        assert p.returncode == 2 and p.stderr.count("\n") == 1 and words in p.stderr, describe(p)
