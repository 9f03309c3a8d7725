"""Child of the pstats-file tests: profile the main() of some targets, write a pstats file.

usage: dump_profile.py PROFILER OUT TARGET [TARGET...]

PROFILER is "cprofile" (written with dump_stats) or "strop" (written with
Profile.dump). All the targets' main() run under one runcall.
"""
import importlib
import os
import sys


def main():
    profiler_name, out = sys.argv[1:3]
    modules = []
    for target in sys.argv[3:]:
        sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
        modules.append(importlib.import_module(os.path.splitext(os.path.basename(target))[0]))

    def run_all():
        return [m.main() for m in modules]

    if profiler_name == "cprofile":
        import cProfile
        profiler = cProfile.Profile()
        profiler.runcall(run_all)
        profiler.dump_stats(out)
    else:
        import strop
        profiler = strop.Profile()
        profiler.runcall(run_all)
        profiler.dump(out)


if __name__ == "__main__":
    main()
