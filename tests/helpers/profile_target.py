"""Child process of the tracer tests: profile one target's main() and dump the result.

usage: profile_target.py PROFILER BUILTINS TIMER TARGET OUT

PROFILER is "cprofile" or "strop", BUILTINS "1" or "0", TIMER "wall" or
"cpu" (strop only). TARGET is the path of a module in tests/targets/ that
defines main() and optionally setup() (run before the profiler is enabled)
and REPORT (a JSON-able dict the test reads back).

OUT receives marshal of the pstats dict (from create_stats(); .stats), and
OUT.json receives {"report": REPORT, "result": repr(main())}.
"""
import importlib
import json
import marshal
import os
import sys


def main():
    profiler_name, builtins, timer, target, out = sys.argv[1:6]
    builtins = builtins == "1"
    sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
    module = importlib.import_module(os.path.splitext(os.path.basename(target))[0])
    if profiler_name == "cprofile":
        import cProfile
        profiler = cProfile.Profile(builtins=builtins)
    elif profiler_name == "strop":
        import strop
        profiler = strop.Profile(builtins=builtins, timer=timer)
    else:
        raise SystemExit("unknown profiler %r" % profiler_name)
    if hasattr(module, "setup"):
        module.setup()
    result = profiler.runcall(module.main)
    profiler.create_stats()
    with open(out, "wb") as f:
        # dict(): the counts are what is compared here; that .stats itself is
        # marshallable is test_api's business.
        marshal.dump(dict(profiler.stats), f)
    with open(out + ".json", "w") as f:
        json.dump({"report": getattr(module, "REPORT", None), "result": repr(result)}, f)


if __name__ == "__main__":
    main()
