"""strop's pytest plugin, run on small test files by pytest's own pytester.

Ground truth for --strop-compare: baselines written here with known values
around a sleep of known length, so that the verdict is known in advance.
"""
import json

pytest_plugins = ["pytester"]

BUSY = """
import time
import pytest
import strop

def busy(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass

COST = strop.to_kstones(0.03)
"""


def _run(pytester, *args):
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers", *args,
                                         timeout=120)


STONES = """
import pytest
from strop import _stones
"""


def test_budget_marker_passes_and_fails(pytester):
    # The work is the reference workload itself: 20 kstones exactly, ten times
    # under one budget and ten times over the other, on any machine.
    pytester.makepyfile(STONES + """
@pytest.mark.budget(kstones=200)
def test_under():
    _stones.run(20000)

@pytest.mark.budget(kstones=2)
def test_over():
    _stones.run(20000)

@pytest.mark.budget(kstones=2)
def test_fails_on_its_own():
    assert False, "its own failure"
""")
    result = _run(pytester)
    out = result.stdout.str()
    result.assert_outcomes(passed=1, failed=2)
    assert "BudgetExceeded" in out and "over the budget" in out
    assert "its own failure" in out
    assert "budget inconclusive" not in out


def test_budget_marker_on_a_noisy_machine_is_reported_not_failed(pytester):
    pytester.makeconftest("""
import itertools
from strop import _speed
_rates = itertools.cycle([1e6, 3e6, 0.5e6, 2e6, 0.7e6, 4e6, 0.6e6, 1.5e6, 5e6, 0.8e6])
_speed._stone_runs = lambda runs, loops: [next(_rates) for _ in range(runs)]
_speed._engine.run_delay = lambda: None  # the block runs its whole 0.01 s or more
""")
    pytester.makepyfile(BUSY + """
@pytest.mark.budget(kstones=40)
def test_noisy():
    busy(0.01)  # 5 to 50 kstones at the rates above: within their spread of 40
""")
    result = _run(pytester)
    result.assert_outcomes(passed=1)
    out = result.stdout.str()
    assert "budget inconclusive" in out and "too noisy" in out


def test_budget_marker_needs_kstones(pytester):
    pytester.makepyfile("""
import pytest
@pytest.mark.budget(kstones=-1)
def test_x():
    pass
""")
    result = _run(pytester)
    assert result.ret != 0
    assert "needs kstones > 0" in result.stderr.str() + result.stdout.str()


BENCH = """
import time

def test_nap(strop_bench):
    result = strop_bench(time.sleep, 0.002, number=3, repeat=5)
    assert 0.0019 < result.median < 0.05
"""


def _baseline(path, key, value):
    values = [value * (1 + 0.001 * i) for i in range(7)]
    doc = {"format": "strop-bench", "version": 1, "python": "3",
           "benchmarks": {key: {"values": values, "number": 3, "unit": "seconds"}}}
    path.write_text(json.dumps(doc))
    return path


def test_strop_bench_fixture_and_save(pytester):
    pytester.makepyfile(test_nap=BENCH)
    out = pytester.path / "base.json"
    result = _run(pytester, f"--strop-save={out}")
    result.assert_outcomes(passed=1)
    doc = json.loads(out.read_text())
    values = doc["benchmarks"]["test_nap.py::test_nap"]["values"]
    assert len(values) == 5 and all(0.0019 < v < 0.05 for v in values)
    assert "benchmarks saved to" in result.stdout.str()


def test_strop_compare_outcomes(pytester):
    pytester.makepyfile(test_nap=BENCH)
    key = "test_nap.py::test_nap"
    # The sleep lasts 2 ms or more: against 1 ms it is a regression...
    slower = _run(pytester, f"--strop-compare={_baseline(pytester.path / 'a.json', key, 0.001)}")
    slower.assert_outcomes(failed=1)
    assert "regression" in slower.stdout.str()
    # ...against 50 ms it is faster, which passes.
    faster = _run(pytester, f"--strop-compare={_baseline(pytester.path / 'b.json', key, 0.05)}")
    faster.assert_outcomes(passed=1)
    # Not in the baseline: inconclusive, reported, not failed.
    other = _run(pytester, f"--strop-compare={_baseline(pytester.path / 'c.json', 'x', 0.001)}")
    other.assert_outcomes(passed=1)
    assert "inconclusive: not in the baseline" in other.stdout.str()


def test_strop_compare_with_a_bad_file_is_a_usage_error(pytester):
    pytester.makepyfile(test_nap=BENCH)
    bad = pytester.path / "bad.json"
    bad.write_text("{nope")
    result = _run(pytester, f"--strop-compare={bad}")
    assert result.ret == 4  # pytest's usage error
    assert "is not a strop benchmark file" in result.stderr.str()


def test_parallel_workers_measure_one_at_a_time_and_save_together(pytester):
    """Under pytest-xdist the workers take turns to measure and the baseline
    gets every worker's benchmarks."""
    import os

    import pytest

    try:
        import xdist  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true and pytest-xdist is not installed")
        pytest.skip("pytest-xdist is not installed (PyPI pytest-xdist)")
    pytester.makepyfile(test_nap_a=BENCH, test_nap_b=BENCH.replace("test_nap", "test_nap_b"))
    out = pytester.path / "base.json"
    result = _run(pytester, "-n", "2", f"--strop-save={out}")
    result.assert_outcomes(passed=2)
    keys = set(json.loads(out.read_text())["benchmarks"])
    assert keys == {"test_nap_a.py::test_nap", "test_nap_b.py::test_nap_b"}, keys
    assert "one worker at a time" in result.stdout.str()
