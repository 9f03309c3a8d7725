"""`strop grow 'module:function' [args...]`: memory_grow from the shell.

Imports `module` (the current directory first on sys.path, as `python -m`
does), finds `function` in it (a dotted name for a method of a class), calls
it with the string arguments given, and prints memory_grow's report. Exit
status 1 when the verdict is "grows" (or the function raised: its traceback is
printed), 0 otherwise; bad input is one line and status 2 (UsageError).
"""
import importlib
import os
import sys
import traceback

from ._cli_common import UsageError, _Parser, _positive_int


def _parser():
    p = _Parser(prog="strop grow",
                description="Call a function again and again (after warm-ups) and say whether "
                            "memory grows: which objects survive each call and what holds them, "
                            "references leaked by C, and growth below Python.")
    p.add_argument("target", metavar="module:function", help="the function to call")
    p.add_argument("args", nargs="*", help="string arguments to pass it")
    p.add_argument("--warmups", type=_positive_int, default=3, metavar="N",
                   help="calls before measuring (default 3)")
    p.add_argument("--runs", type=_positive_int, default=5, metavar="N",
                   help="measured calls a round (default 5; at least 2)")
    return p


def resolve(spec):
    """The function that 'module:function' names; UsageError when it is not there."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"expected module:function, not {spec!r}")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and module_name.startswith(e.name):
            raise UsageError(f"no module named {module_name!r} (run from the folder that holds "
                             "it, or set PYTHONPATH)") from None
        raise
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UsageError(f"module {module_name!r} has no {attr!r}") from None
    if not callable(obj):
        raise UsageError(f"{spec} is a {type(obj).__name__}, not a function")
    return obj


def cmd_grow(argv):
    from ._grow import memory_grow

    opts = _parser().parse_args(argv)
    if opts.runs < 2:
        raise UsageError("--runs must be at least 2")
    function = resolve(opts.target)
    try:
        report = memory_grow(function, *opts.args, warmups=opts.warmups, runs=opts.runs)
    except Exception:  # the function's own error: printed as Python would, status 1
        traceback.print_exc()
        return 1
    print(report)
    return 1 if report.verdict == "grows" else 0
