"""`strop heap [--diff] [-o FILE] script.py [args]`: runs a script and prints the heap census at its end.

`--diff` prints what the script added and freed against the census taken
before it started; `-o FILE` writes the full table (every row) to FILE. The
script's own exit status, output and exceptions are kept; a script that
raises, is interrupted or is ended by SIGTERM or SIGHUP still gets its census. Bad input: one line, status 2 (UsageError).
"""
import signal
import sys
import traceback

from ._cli_common import (UsageError, _Parser, _exit_status, _prepare_script, _TargetCompileError,
                          on_ending_signals)


def _parser():
    p = _Parser(prog="strop heap",
                description="Run a script, then print the census of the objects alive at its "
                            "end, by kind (class / dict of class), as heapy prints it.")
    p.add_argument("script", help="the Python script to run")
    p.add_argument("args", nargs="...", help="its arguments")
    p.add_argument("--diff", action="store_true",
                   help="what the script added and freed, against a census before it ran")
    p.add_argument("-o", "--output", metavar="FILE", help="write the full table to FILE")
    p.add_argument("--rows", type=int, default=10, metavar="N",
                   help="rows printed (default 10; 0 for all)")
    return p


def cmd_heap(argv):
    from . import _memory

    opts = _parser().parse_args(argv)
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

