"""The status line of attach mode (`strop sample --pid`), on a real terminal.

strop runs on the slave side of a pseudo-terminal (python's pty module), as
in a terminal window: stderr is a TTY, and Ctrl-C is the byte 0x03 typed on
it, which the terminal driver turns into SIGINT for strop's process group.
The target runs apart, as a program someone attaches to does; it writes a
file if it ever gets SIGINT, which it must not.
"""
import os
import re
import select
import signal
import subprocess
import sys
import time

import pytest

from conftest import child_env, describe, run_strop
from test_report import data_of

STATUS = re.compile(rb"\rstrop: (\d+) s, ([\d,]+) samples, (\d+) Hz, ([\d.]+)% unreadable - "
                    rb"Ctrl-C to stop and write\x1b\[K")

TARGET = r'''
import signal, sys, time

def on_sigint(*_):
    with open(sys.argv[1], "w") as f:
        f.write("strop signalled me")

signal.signal(signal.SIGINT, on_sigint)

def busy():
    end = time.perf_counter() + 0.01
    while time.perf_counter() < end:
        pass

def main():
    print("ready", flush=True)
    while True:
        busy()
        time.sleep(0.01)

main()
'''


@pytest.fixture
def target(tmp_path):
    """(process, marker): a running Python program, and the file it writes on SIGINT."""
    script, marker = tmp_path / "target.py", tmp_path / "got_sigint"
    script.write_text(TARGET)
    proc = subprocess.Popen([sys.executable, str(script), str(marker)], stdout=subprocess.PIPE,
                            text=True, env=child_env())
    assert proc.stdout.readline() == "ready\n"
    yield proc, marker
    proc.kill()
    proc.wait()


def on_terminal(args, ctrl_c_after=None, timeout=60, keys_after=None):
    """Runs `python -m strop ARGS` with a pseudo-terminal as its stdin, stdout
    and stderr.  Types Ctrl-C once `ctrl_c_after` status lines have shown;
    keys_after=(seconds, bytes) types those bytes after that many seconds.
    Returns (exit status, everything written, [arrival time of each status line])."""
    import pty

    env = child_env(TERM="xterm", LINES="30", COLUMNS="100")
    started = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec at once
        try:
            os.execve(sys.executable, [sys.executable, "-m", "strop", *map(str, args)], env)
        finally:
            os._exit(127)
    out, arrivals, typed = b"", [], False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                out += data
                while len(arrivals) < len(STATUS.findall(out)):
                    arrivals.append(time.monotonic())
            if ctrl_c_after is not None and not typed and len(arrivals) >= ctrl_c_after:
                os.write(fd, b"\x03")
                typed = True
            if keys_after is not None and not typed and \
                    time.monotonic() - started >= keys_after[0]:
                os.write(fd, keys_after[1])
                typed = True
        else:
            os.kill(pid, signal.SIGKILL)
            pytest.fail("strop did not end within %d s: %r" % (timeout, out[-2000:]))
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else \
        status >> 8, out, arrivals


def test_a_status_line_each_second_and_ctrl_c_stops_and_writes(tmp_path, target):
    proc, marker = target
    out = tmp_path / "attached.html"
    status, text, arrivals = on_terminal(["sample", "--pid", proc.pid, "-o", out], ctrl_c_after=3)
    assert status == 0, text
    lines = STATUS.findall(text)
    assert len(lines) >= 3, text
    seconds = [int(s) for s, _, _, _ in lines]
    samples = [int(n.replace(b",", b"")) for _, n, _, _ in lines]
    assert seconds == sorted(seconds) and seconds[-1] >= 2, lines
    assert samples == sorted(samples) and samples[0] > 0, lines
    assert all(1 <= int(hz) <= 200 for _, _, hz, _ in lines), lines  # 100 Hz asked
    # About once a second, as this side of the terminal saw them arrive.
    gaps = sorted(b - a for a, b in zip(arrivals, arrivals[1:]))
    assert 0.5 <= gaps[len(gaps) // 2] <= 2.5, gaps
    # One line, rewritten in place: no newline between updates; cleared
    # before the table.
    status_part = text[:text.rindex(b"Ctrl-C to stop and write")]
    assert b"\n" not in status_part, text
    assert re.search(rb"\r\x1b\[K\d+ samples in ", text), text
    # Ctrl-C stopped sampling and wrote the profile; the target never saw it.
    assert b"strop: profile written to" in text, text
    data = data_of(out.read_text(encoding="utf-8"))
    assert data["sampled"] and data["calls"] >= samples[-1]
    assert "busy" in [f[0] for f in data["funcs"]]
    time.sleep(0.3)
    assert proc.poll() is None, "the target ended"
    assert not marker.exists(), "the target got SIGINT"


def test_the_status_line_ends_with_the_duration(tmp_path, target):
    proc, marker = target
    out = tmp_path / "timed.prof"
    status, text, arrivals = on_terminal(["sample", "--pid", proc.pid, "--duration", "2.5",
                                          "-o", out])
    assert status == 0, text
    assert 1 <= len(STATUS.findall(text)) <= 4, text
    assert out.exists() and not marker.exists()


def test_no_status_line_with_q_on_a_terminal(tmp_path, target):
    proc, _ = target
    status, text, _ = on_terminal(["sample", "-q", "--pid", proc.pid, "--duration", "1.5",
                                   "-o", tmp_path / "quiet.prof"])
    assert status == 0, text
    assert b"Ctrl-C" not in text and b"\r" not in text.replace(b"\r\n", b""), text


def test_no_status_line_without_a_terminal(tmp_path, target):
    proc, _ = target
    done = run_strop("sample", "--pid", proc.pid, "--duration", "1.5",
                     "-o", tmp_path / "piped.prof")
    assert done.returncode == 0, describe(done)
    assert "Ctrl-C" not in done.stderr and "\r" not in done.stderr, describe(done)
    assert "samples in" in done.stderr


def test_a_quick_dump_shows_no_status_line(target):
    proc, marker = target
    status, text, _ = on_terminal(["dump", "--pid", proc.pid])
    assert status == 0, text
    assert b"in busy" in text or b"in main" in text, text
    assert b"Ctrl-C" not in text and not marker.exists()



def test_strop_top_writes_its_final_state_on_quitting(tmp_path, target):
    """strop top -o: quitting (q) writes every sample since the start, in any
    format strop sample writes; here the HTML report."""
    proc, marker = target
    out = tmp_path / "top.html"
    status, text, _ = on_terminal(["top", "--pid", proc.pid, "-o", out],
                                  keys_after=(2.5, b"q"))
    assert status == 0, text
    assert b"strop: profile written to " + str(out).encode() in text, text
    data = data_of(out.read_text(encoding="utf-8"))
    assert data["sampled"] and data["sampling"]["rate"] == 100
    assert data["calls"] >= 100  # 2.5 s at 100 Hz, on a busy machine too
    assert "busy" in [f[0] for f in data["funcs"]]
    assert proc.poll() is None and not marker.exists()


def test_a_slow_task_gets_a_status_line_after_a_second(tmp_path):
    """strop dump's guard, around a task made slow on purpose (a dump is
    too quick to time one here): nothing in the first second, then a line
    a second, cleared at the end."""
    import pty

    code = ("import time; from strop._sample_cli import _SlowStatus\n"
            "with _SlowStatus('reading process 1'):\n    time.sleep(2.6)\n"
            "print('done')\n")
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execve(sys.executable, [sys.executable, "-c", code], child_env())
        finally:
            os._exit(127)
    text = b""
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        text += data
    os.waitpid(pid, 0)
    os.close(fd)
    lines = re.findall(rb"\rstrop: reading process 1, (\d+) s - Ctrl-C to stop\x1b\[K", text)
    assert lines and lines[0] == b"1", text
    assert text.endswith(b"\r\x1b[Kdone\r\n"), text


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
