"""`strop heap [--diff] [-o FILE] script.py [args]`: runs a script and prints the heap census at its end.
`strop heap --pid PID [--rows N] [-o FILE]`: the census of a running process, read from outside.

`--diff` prints what the script added and freed against the census taken
before it started; `-o FILE` writes the full table (every row) to FILE. The
script's own exit status, output and exceptions are kept; a script that
raises, is interrupted or is ended by SIGTERM or SIGHUP still gets its census.
With --pid the engine reads the collector's lists of the process's main
interpreter without stopping it (strop._engine.heap_remote, remote_heap.h):
its gc-tracked objects by type. Bad input: one line, status 2 (UsageError).
"""
import signal
import sys
import traceback

from ._cli_common import (UsageError, _Parser, _exit_status, _prepare_script, _TargetCompileError,
                          on_ending_signals)


def _parser():
    p = _Parser(prog="strop heap",
                usage="strop heap [--diff] [-o FILE] [--rows N] script.py [args ...]\n"
                      "       strop heap --pid PID [-o FILE] [--rows N]",
                description="Run a script, then print the census of the objects alive at its "
                            "end, by kind (class / dict of class), as heapy prints it. With "
                            "--pid, read the census of a running Python process (3.8 to 3.13) "
                            "from outside, without stopping it: the objects its garbage "
                            "collector lists (containers: instances, lists, tuples, dicts, "
                            "functions...; not str, int or float), by type.")
    p.add_argument("script", nargs="?", help="the Python script to run")
    p.add_argument("args", nargs="...", help="its arguments")
    p.add_argument("--pid", metavar="PID",
                   help="read the census of this running process instead of running a script")
    p.add_argument("--diff", action="store_true",
                   help="what the script added and freed, against a census before it ran")
    p.add_argument("-o", "--output", metavar="FILE", help="write the full table to FILE")
    p.add_argument("--rows", type=int, default=10, metavar="N",
                   help="rows printed (default 10; 0 for all)")
    return p


def cmd_heap(argv):
    from . import _memory

    opts = _parser().parse_args(argv)
    if opts.pid is not None:
        if opts.script is not None:
            raise UsageError("give either --pid or a script to run, not both")
        if opts.diff:
            raise UsageError("--diff needs a script to run; it cannot be used with --pid")
        return _heap_pid(opts)
    if opts.script is None:
        raise UsageError("nothing to count: give a script to run or --pid PID "
                         "(see 'strop heap --help')")
    try:
        code, main_globals = _prepare_script(opts.script, opts.args)
    except _TargetCompileError as e:
        traceback.print_exception(type(e.error), e.error, None)
        return 1
    before = _memory.heap() if opts.diff else None
    status = 0
    restore = on_ending_signals(lambda status: _report(_memory.heap(), before, opts))
    try:
        exec(code, main_globals)
    except SystemExit as e:
        status = _exit_status(e)
    except KeyboardInterrupt:  # printed, then the end by SIGINT, as Python does
        traceback.print_exc()
        status = -signal.SIGINT
    except BaseException:  # the script's own error: printed as Python would, census kept
        traceback.print_exc()
        status = 1
    finally:
        restore()
    _report(_memory.heap(), before, opts)
    return status


def _report(after, before, opts):
    """Prints the census (or its difference from `before`) and writes -o."""
    result = after.diff(before) if before is not None else after
    rows = opts.rows or None
    if opts.output:
        try:
            with open(opts.output, "w", encoding="utf-8") as f:
                f.write(result.format(None) + "\n")
        except OSError as e:
            raise UsageError(f"cannot write {opts.output}: {e.strerror}") from None
    text = result.format(rows)
    # heapy's hint is for the interactive prompt; on the command line it is --rows.
    text = text.replace("Type e.g. '_.more' to view.>", "--rows 0 shows all.>")
    print(text, file=sys.stderr)



_REMOTE_NOTE = ("Objects the target's garbage collector lists (containers), by type, read "
                "while it ran.\n"
                "Sizes are sys.getsizeof's, except for the rows marked *: their own tables "
                "(dict keys, set tables, a type's slots, a code object's data...) are not "
                "read, so they count their object's fixed part only.")


def _heap_pid(opts):
    """`strop heap --pid PID`: the census of a running process, read from outside."""
    from . import _engine
    from ._memory import _table
    from ._attach import _attach_error, _pid

    pid = _pid(opts.pid)
    try:
        census = _engine.heap_remote(pid)
    except (OSError, ValueError) as e:
        raise UsageError(_attach_error(pid, e)) from None
    rows = [(name + (" *" if approx else ""), count, size)
            for name, count, size, approx in census["rows"]]
    count = sum(row[1] for row in rows)
    size = sum(row[2] for row in rows)
    title = f"Type (process {pid}, Python {census['version']})"
    if opts.output:
        try:
            with open(opts.output, "w", encoding="utf-8") as f:
                f.write(_table(rows, count, size, 0, title, None) + "\n" + _REMOTE_NOTE + "\n")
        except OSError as e:
            raise UsageError(f"cannot write {opts.output}: {e.strerror}") from None
    text = _table(rows, count, size, 0, title, opts.rows or None)
    text = text.replace("Type e.g. '_.more' to view.>", "--rows 0 shows all.>")
    print(text, file=sys.stderr)
    if any(row[0].endswith(" *") for row in rows):
        print(_REMOTE_NOTE, file=sys.stderr)
    torn = census["lists_torn"]
    print(f"strop: read {census['objects']} objects from {census['lists']} of the collector's "
          f"lists in {census['seconds'] * 1000:.0f} ms; {census['rewalks']} list walk"
          f"{'' if census['rewalks'] == 1 else 's'} torn and read again"
          + (f", {torn} list{'' if torn == 1 else 's'} still torn and left out"
             f" (the process changed them faster than they could be read)" if torn else ""),
          file=sys.stderr)
    return 0
