"""strop: profiling and speed-testing toolkit for Python, with a C engine.

The deterministic profiler::

    import strop
    with strop.Profile() as p:
        work()
    p.stats().sort_stats("cumulative").print_stats(10)

or ``strop run script.py`` from the command line.

PYTEST_DONT_REWRITE: pytest marks this package for assertion rewriting, as it
registers a pytest plugin, and warns when it was imported first, which it
always is under ``strop run -m pytest``.  It holds no assert to rewrite.
"""
from ._grow import GrowReport, memory_grow
from ._memory import Partition, cycles, heap, iso, path_to, retained, retainers, setrelheap, sizeof
from ._memtrace import MemoryProfile, track_memory
from ._profile import Profile, profile
from ._sampler_api import Sampler
from ._speed import (BudgetExceeded, BudgetWarning, budget, duration, durations, pystones,
                     timeit, to_kstones)
from ._stats import FormatError, Stats

__version__ = "0.1.0"
__all__ = ["Profile", "profile", "Stats", "FormatError", "timeit", "pystones", "to_kstones",
           "duration", "durations", "budget", "BudgetExceeded", "BudgetWarning"]
__all__ += ["Sampler"]
__all__ += ["heap", "setrelheap", "iso", "sizeof", "Partition", "path_to", "retained",
            "retainers", "cycles", "memory_grow", "GrowReport"]
__all__ += ["track_memory", "MemoryProfile"]
