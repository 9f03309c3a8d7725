"""What `strop sample --pid` and `strop dump` say when the kernel refuses
them a process although strop runs as root.

Root is refused here for real: the target runs as user nobody, and strop
runs as root without CAP_SYS_PTRACE (util-linux's setpriv drops it from the
bounding set before strop starts), as in a container started without
--cap-add SYS_PTRACE.  What the message says of the machine is checked
against what the test reads itself (/proc/sys/kernel/yama/ptrace_scope).
"""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import IN_CI, child_env, describe, python_of, run

NOBODY = 65534
WAITER = "import time\nprint('ready', flush=True)\nwhile True:\n    time.sleep(0.05)\n"


def _python_for_nobody():
    """A Python that user nobody can run (not one under /root), or None."""
    for exe in ["/usr/bin/python3"] + [python_of(v) for v in ("3.11", "3.12", "3.10", "3.9")]:
        if exe and os.path.exists(exe) and not os.path.realpath(exe).startswith("/root/"):
            return exe
    return None


@pytest.fixture
def nobodys_python():
    """A Python process of user nobody, and the setpriv that started it."""
    if os.geteuid() != 0:
        pytest.skip("needs root: the test is what root is told")
    setpriv = shutil.which("setpriv")
    python = _python_for_nobody()
    if setpriv is None or python is None:
        message = "needs util-linux's setpriv and a Python outside /root"
        if IN_CI:
            pytest.fail("CI=true and the test " + message)
        pytest.skip(message)
    proc = subprocess.Popen([setpriv, "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                             "--clear-groups", python, "-c", WAITER],
                            stdout=subprocess.PIPE, text=True)
    if proc.stdout.readline() != "ready\n":
        proc.kill()
        pytest.skip("user nobody cannot run %s here" % python)
    yield proc, setpriv
    proc.kill()
    proc.wait()


@pytest.mark.parametrize("command", [["sample", "--duration", "0.5"], ["dump"]])
def test_root_without_sys_ptrace_is_told_what_denies_it(nobodys_python, command):
    target, setpriv = nobodys_python
    proc = run([setpriv, "--bounding-set=-sys_ptrace", "--inh-caps=-sys_ptrace",
                sys.executable, "-m", "strop", command[0], "--pid", target.pid, *command[1:]],
               env=child_env())
    assert proc.returncode == 2, describe(proc)
    assert proc.stdout == "" and proc.stderr.count("\n") == 1, describe(proc)
    line = proc.stderr
    assert line.startswith("strop: cannot read process %d: permission denied, though strop "
                           "runs as root; " % target.pid), line
    assert "lacks CAP_SYS_PTRACE" in line and "--cap-add SYS_PTRACE" in line, line
    assert "seccomp" in line and "PID 1 of a PID namespace" in line, line
    assert "same user as the target" not in line
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            scope = f.read().strip()
    except OSError:
        scope = None
    if scope is None:
        assert "Yama" not in line, line
    else:
        assert ("it is %s here" % scope) in line or ("ptrace_scope is %s" % scope) in line, line
    assert target.poll() is None, "the target was disturbed"


def test_root_with_sys_ptrace_reads_nobodys_python(nobodys_python):
    """The same target, read with the capability: the refusal above was the
    capability's, not something else about the target."""
    target, _ = nobodys_python
    proc = run([sys.executable, "-m", "strop", "dump", "--pid", target.pid], env=child_env())
    assert proc.returncode == 0, describe(proc)
    assert "Process %d (Python 3." % target.pid in proc.stdout, describe(proc)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
