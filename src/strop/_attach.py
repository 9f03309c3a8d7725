"""What the command lines that read another process share: the process id
given by the user, and the one line that says why it could not be read
(strop sample, dump, top; strop heap --pid)."""
import os

from ._cli_common import UsageError


def _pid(value):
    try:
        pid = int(value)
    except ValueError:
        pid = 0
    if pid <= 0:
        raise UsageError(f"--pid expects a process id, not {value!r}")
    return pid


def _attach_error(pid, error):
    """The line for a failed attach: the engine's, unless the kernel denied
    strop the target's files (the engine may then only see that it found no
    Python there), and strop runs as root: then what else can deny root."""
    if not isinstance(error, PermissionError) and not _proc_denied(pid):
        return str(error)
    if os.geteuid() != 0:
        return (str(error) if isinstance(error, PermissionError) else
                f"cannot read process {pid}: permission denied; run strop as the same user as "
                "the target or as root")
    return _root_denied(pid)


def _proc_denied(pid):
    """Whether reading /proc/PID/exe is denied (the ptrace access check)."""
    try:
        os.readlink(f"/proc/{pid}/exe")
    except PermissionError:
        return True
    except OSError:
        pass
    return False


def _status_field(path, field):
    """A field of a /proc status file, as text, or None."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


CAP_SYS_PTRACE = 19


def _root_denied(pid):
    """Why root may be denied another process's memory, with what this
    machine says of each cause: Yama's ptrace_scope, strop's capabilities and
    seccomp filter (/proc/self/status), the target's place in its PID
    namespace (/proc/PID/status NSpid)."""
    found, others = [], []
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            scope = f.read().strip()
    except OSError:
        scope = None
    if scope == "3":
        found.append("Yama's ptrace_scope is 3 (/proc/sys/kernel/yama/ptrace_scope): no process "
                     "may read another's memory, root included, until a reboot")
    elif scope == "2":
        found.append("Yama's ptrace_scope is 2: only a process with CAP_SYS_PTRACE may read "
                     "another's memory")
    elif scope is not None:  # a kernel without Yama has no such setting to blame
        others.append(f"Yama's ptrace_scope 3 (it is {scope} here)")
    caps = _status_field("/proc/self/status", "CapEff")
    try:
        has_ptrace = caps is None or bool(int(caps, 16) >> CAP_SYS_PTRACE & 1)
    except ValueError:
        has_ptrace = True
    if not has_ptrace:
        found.append("strop lacks CAP_SYS_PTRACE (a container started without "
                     "--cap-add SYS_PTRACE, or the capability dropped)")
    else:
        others.append("a container without SYS_PTRACE")
    if _status_field("/proc/self/status", "Seccomp") == "2":
        found.append("a seccomp filter is on strop (Seccomp: 2 in /proc/self/status); "
                     "container runtimes' default filters refuse process_vm_readv without "
                     "SYS_PTRACE")
    else:
        others.append("a seccomp filter")
    nspid = (_status_field(f"/proc/{pid}/status", "NSpid") or "").split()
    if nspid and nspid[-1] == "1":
        found.append(f"process {pid} is PID 1 of its PID namespace (a container's init, or "
                     "this machine's)")
    else:
        others.append("a target that is PID 1 of a PID namespace")
    head = f"cannot read process {pid}: permission denied, though strop runs as root"
    if found:
        return f"{head}; here {'; and '.join(found)}" + (
            f". Other causes: {', '.join(others)}" if others else "")
    return f"{head}; what else can deny root: {', '.join(others)}"
