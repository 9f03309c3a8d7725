"""The machine during a run, in every report: a thin wrapper of the engine's
health recorder (health.c), shared by `strop run` and `strop sample`.

The recorder reads /proc about once a second on a C thread of its own (not a
Python thread: it is in no profile and takes no GIL) and never touches the
program's memory.
"""
import sys

from . import _engine


def start(pid=0, interval=1.0):
    """A recorder of process `pid` (0: this one), or None when it cannot be read."""
    try:
        return _engine.Health(pid=pid, interval=interval)
    except (OSError, RuntimeError):
        return None


def text(health):
    """Stops `health`; its section and warnings as one text for a report
    (the warnings after a line 'warnings:'), or None."""
    if health is None:
        return None
    health.stop()
    try:
        section, warnings = health.text()
    except MemoryError:  # the report goes without its machine section
        return None
    return section + ("warnings:\n" + "".join(w + "\n" for w in warnings) if warnings else "")


def report(health, quiet=False, stream=None):
    """Stops `health` and prints its section and one 'strop: warning:' line
    per likely culprit on stderr; nothing with quiet (-q)."""
    if health is None:
        return
    stream = stream or sys.stderr
    health.stop()
    if quiet:
        return
    section, warnings = health.text()
    stream.write("\n" + section)
    for warning in warnings:
        stream.write("strop: warning: " + warning + "\n")
