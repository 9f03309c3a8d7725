"""Speed tests' Python API: the C statistics against Python's statistics module
and scipy, timeit against sleeps of known length and counted calls, stones,
@duration's seconds and allocated bytes, and budgets' verdicts.

No test asserts an absolute speed: bounds are relative to known sleeps or to
quantities measured in the same run.  The C unit tests of statistics.c
(tests/c/test_statistics.c) are compiled and run from here.
"""
import os
import random
import shutil
import statistics
import subprocess
import time
import warnings

import pytest

import strop
from strop import _engine, _speed, _stones

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = os.path.join(ROOT, "src", "strop", "_engine")


# ---- C unit tests -----------------------------------------------------------

def test_c_statistics_units_pass(tmp_path):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no C compiler in CI")
        pytest.skip("no C compiler")
    out = tmp_path / "test_statistics"
    flags = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes",
             "-Wmissing-prototypes", "-Werror", "-g", "-O1"]
    if not os.environ.get("STROP_UNDER_SANITIZER"):
        flags += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
    subprocess.run([cc, *flags, "-I", ENGINE, os.path.join(ROOT, "tests", "c", "test_statistics.c"),
                    os.path.join(ENGINE, "statistics.c"), os.path.join(ENGINE, "mem.c"), "-lm",
                    "-o", str(out)], check=True)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
    env.pop("LD_PRELOAD", None)
    r = subprocess.run([str(out)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith(" 0 failed"), r.stdout


# ---- statistics through the engine --------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 3, 7, 20, 101])
def test_summarize_matches_statistics_module(n):
    rng = random.Random(n)
    data = [rng.lognormvariate(0, 0.5) for _ in range(n)]
    s = _engine.summarize(data)
    assert s["n"] == n
    assert s["median"] == pytest.approx(statistics.median(data))
    assert s["mean"] == pytest.approx(statistics.mean(data))
    assert s["best"] == min(data) and s["worst"] == max(data)
    if n >= 2:
        assert s["stdev"] == pytest.approx(statistics.stdev(data))
        q1, _, q3 = statistics.quantiles(data, n=4, method="inclusive")
        assert s["q1"] == pytest.approx(q1) and s["q3"] == pytest.approx(q3)
        assert s["iqr"] == pytest.approx(q3 - q1)
    median = statistics.median(data)
    assert s["mad"] == pytest.approx(statistics.median([abs(x - median) for x in data]))
    assert s["ci_low"] <= s["median"] <= s["ci_high"]
    assert s["mean_ci_low"] <= s["mean"] <= s["mean_ci_high"]


def test_summarize_is_reproducible_and_rejects_bad_input():
    data = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]
    assert _engine.summarize(data, seed=5) == _engine.summarize(data, seed=5)
    with pytest.raises(ValueError):
        _engine.summarize([])
    with pytest.raises(ValueError):
        _engine.summarize([1.0, float("nan")])
    with pytest.raises(TypeError):
        _engine.summarize([1.0, "x"])
    with pytest.raises(ValueError):
        _engine.summarize(data, level=1.5)


def test_geometric_mean_matches_statistics_module():
    data = [1.1, 0.9, 1.25, 0.8]
    assert _engine.geometric_mean(data) == pytest.approx(statistics.geometric_mean(data))
    with pytest.raises(ValueError):
        _engine.geometric_mean([1.0, 0.0])


# Known answers of scipy.stats.mannwhitneyu(x, y, method="asymptotic") (scipy 1.17).
MANN_WHITNEY_KNOWN = [
    ([1, 2, 3], [4, 5, 6], 0.0, 0.08085559837005224),
    ([1, 2, 2, 3, 4], [2, 3, 4, 4, 5, 6], 5.5, 0.09337724360511554),
]


@pytest.mark.parametrize("x, y, u, p", MANN_WHITNEY_KNOWN)
def test_mann_whitney_known_answers(x, y, u, p):
    got_u, got_p = _engine.mann_whitney(x, y)
    assert got_u == u
    assert got_p == pytest.approx(p, rel=1e-9)


def test_mann_whitney_matches_scipy_when_installed():
    stats = pytest.importorskip("scipy.stats")
    rng = random.Random(3)
    for trial in range(20):
        x = [round(rng.gauss(0, 1), 1) for _ in range(rng.randint(3, 30))]
        y = [round(rng.gauss(0.3, 1), 1) for _ in range(rng.randint(3, 30))]  # with ties
        ref = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
        u, p = _engine.mann_whitney(x, y)
        assert u == pytest.approx(float(ref.statistic))
        assert p == pytest.approx(float(ref.pvalue), rel=1e-9, abs=1e-15)


def test_ratio_ci_brackets_a_known_ratio():
    rng = random.Random(9)
    old = [1.0 + rng.gauss(0, 0.01) for _ in range(15)]
    new = [1.3 * v for v in old]
    ratio, low, high = _engine.ratio_ci(old, new)
    assert ratio == pytest.approx(1.3)
    assert low < 1.3 < high and high - low < 0.05


def test_format_seconds():
    assert _engine.format_seconds(12.34e-6) == "12.3 µs"
    assert _engine.format_seconds(0.25) == "250 ms"
    assert _engine.format_seconds(3) == "3.00 s"


# ---- timeit -------------------------------------------------------------------

def test_timeit_of_a_known_sleep():
    r = strop.timeit("time.sleep(0.005)", "import time", number=4, repeat=3)
    # A sleep never returns early; 6x covers a loaded machine's oversleeping.
    assert 0.0049 <= r.median <= 0.03
    assert r.best <= r.median and len(r.values) == 3 and r.repeat == 3 and r.number == 4
    assert r.ci[0] <= r.median <= r.ci[1]


def test_timeit_of_a_callable_sleep():
    r = strop.timeit(lambda: time.sleep(0.004), number=3, repeat=3)
    assert 0.0039 <= r.median <= 0.025


def test_timeit_pass_is_near_zero_after_the_loop_is_subtracted():
    r = strop.timeit("pass", number=200000, repeat=5)
    # What is subtracted is the cost of calling an empty function: 'pass' is
    # that cost again, so what remains is small against it.
    assert r.overhead > 0
    assert abs(r.median) < 0.5 * r.overhead
    # And the result says it is not to be trusted: below the loop's noise, or
    # (on a loaded machine) too widely spread.
    assert any("read the result as zero" in w or "spread" in w for w in r.warnings), r.warnings


def test_timeit_calls_exactly_number_times_repeat_plus_warmup():
    calls = []
    r = strop.timeit(lambda: calls.append(1), number=50, repeat=4, warmup=1)
    assert len(calls) == 50 * 5
    assert r.number == 50


def test_timeit_string_sees_setup_and_globals():
    counter = {"n": 0}

    def bump():
        counter["n"] += 1

    strop.timeit("bump()", globals={"bump": bump}, number=10, repeat=2, warmup=0)
    assert counter["n"] == 20
    # A name the setup binds and the statement assigns is one variable, as in timeit.
    r = strop.timeit("x += 1\nassert x > 0", "x = 0", number=100, repeat=2)
    assert r.repeat == 2
    # Multi-line setup and statement, imports in the setup.
    strop.timeit("y = math.sqrt(v)\nz = y * 2", "import math\nv = 4.0", number=10, repeat=1)


def test_timeit_calibrates_number_to_a_long_enough_measurement():
    r = strop.timeit("time.sleep(0.02)", "import time", repeat=1)
    # 0.02 s per loop: 10 loops reach 0.2 s; 5 would have been too few.
    assert r.number == 10
    assert not any("lasted only" in w for w in r.warnings)


def test_timeit_warns_about_short_measurements():
    r = strop.timeit("time.sleep(0.001)", "import time", number=2, repeat=3)
    assert any("lasted only" in w for w in r.warnings)


def test_timeit_result_prints_like_timeit_with_the_spread():
    r = strop.timeit("time.sleep(0.002)", "import time", number=3, repeat=3)
    line = str(r).splitlines()[0]
    assert line.startswith("3 loops, median ")
    assert "(95% CI), best " in line and " ± " in line
    assert "ms" in line
    assert set(r.to_dict()) >= {"values", "number", "median", "ci", "warnings"}


def test_timeit_errors_propagate():
    with pytest.raises(SyntaxError):
        strop.timeit("1 +")
    with pytest.raises(SyntaxError):
        strop.timeit("pass", setup="def")
    calls = []

    def fail():
        calls.append(1)
        raise KeyError("boom")

    with pytest.raises(KeyError):
        strop.timeit(fail)
    assert len(calls) == 1  # the first error stops everything
    with pytest.raises(ZeroDivisionError):
        strop.timeit("1/0")
    with pytest.raises(NameError):
        strop.timeit("pass", setup="undefined_name")
    with pytest.raises(ValueError):
        strop.timeit("pass", number=0)


def test_time_loop_leaves_out_waits_for_a_cpu_not_sleeps():
    # A sleep is not a wait for a CPU: it stays in, whichever way.
    for exclude in (True, False):
        assert _engine.time_loop(lambda: time.sleep(0.01), 2, exclude_waits=exclude) >= 0.0199
    delay = _engine.run_delay()
    assert delay is None or delay >= 0


def test_time_loop_checks_its_arguments():
    with pytest.raises(TypeError):
        _engine.time_loop(3, 10)
    with pytest.raises(ValueError):
        _engine.time_loop(None, -1)
    assert _engine.time_loop(None, 1000) >= 0


# ---- stones -------------------------------------------------------------------

def test_reference_workload_is_deterministic():
    assert _stones.run(1000) == _stones.run(1000)
    assert _stones.run(1000) != _stones.run(1001)
    assert _stones.VERSION == 1


def test_pystones_returns_benchtime_and_rate():
    benchtime, rate = strop.pystones(loops=20000)
    assert benchtime > 0 and rate > 0
    assert benchtime * rate == pytest.approx(20000)
    with pytest.raises(ValueError):
        strop.pystones(loops=0)


def test_to_kstones_uses_the_process_rate():
    rate = _speed.stones_rate()
    assert strop.to_kstones(2.0) == pytest.approx(2.0 * rate / 1000)
    assert strop.to_kstones(0) == 0


# ---- durations ----------------------------------------------------------------

def test_duration_records_seconds_kstones_and_bytes():
    table = {}
    kept = []

    @strop.duration("keep", stats=table)
    def keep():
        kept.append(bytearray(1_000_000))

    @strop.duration("drop", stats=table)
    def drop():
        bytearray(1_000_000)

    @strop.duration("nap", stats=table)
    def nap():
        time.sleep(0.01)

    keep()
    drop()
    nap()
    nap()
    (k,), (d,) = table["keep"], table["drop"]
    assert 1_000_000 <= k.bytes < 1_000_000 + 4096
    assert abs(d.bytes) < 4096
    assert len(table["nap"]) == 2
    for record in table["nap"]:
        assert 0.0099 <= record.seconds <= 0.2
        assert record.kstones == pytest.approx(record.seconds * _speed.stones_rate() / 1000)
    assert _engine.alloc_net() is None  # counting is off between calls


def test_duration_counts_nested_calls_and_survives_exceptions():
    table = {}

    @strop.duration("inner", stats=table)
    def inner():
        return [0] * 100_000  # 800 kB of pointers, returned

    @strop.duration("outer", stats=table)
    def outer():
        keep = inner()
        size = len(keep)
        del keep  # the traceback keeps the frame, not the list
        raise RuntimeError(size)

    with pytest.raises(RuntimeError):
        outer()
    assert table["inner"][0].bytes >= 800_000
    # outer dropped the list before returning: its net is small.
    assert abs(table["outer"][0].bytes) < 4096
    assert _engine.alloc_net() is None


def test_duration_default_name_and_report(capsys):
    strop.durations.clear()

    @strop.duration
    def some_code():
        return 3

    assert some_code() == 3 and some_code.__name__ == "some_code"
    strop.durations.report()
    out = capsys.readouterr().out
    assert "some_code" in out and "kstones" in out and "net bytes" in out
    strop.durations.clear()


def test_alloc_counter_survives_tracemalloc_started_inside():
    import tracemalloc

    table = {}

    @strop.duration("t", stats=table)
    def start_tracing():
        tracemalloc.start()

    try:
        start_tracing()
        start_tracing()  # the wrappers stay below tracemalloc, forwarding only
        data = [bytearray(100) for _ in range(1000)]
        del data
    finally:
        tracemalloc.stop()
    assert len(table["t"]) == 2


def test_alloc_stop_without_start_is_an_error():
    with pytest.raises(RuntimeError):
        _engine.alloc_stop()


# ---- budgets ------------------------------------------------------------------

def _busy(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _spin(n):
    for _ in range(n):
        pass


def _fixed_work(seconds):
    """A loop count for _spin that takes about `seconds` here, and its cost in
    seconds (best of 5).  A fixed amount of work, unlike _busy(): a busy
    machine slows it down instead of making it do less."""
    n = 1000
    while True:
        start = time.perf_counter()
        _spin(n)
        took = time.perf_counter() - start
        if took >= seconds / 4:
            break
        n *= 2
    n = max(1, int(n * seconds / took))
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        _spin(n)
        best = min(best, time.perf_counter() - start)
    return n, best


@pytest.mark.filterwarnings("ignore::strop.BudgetWarning")
def test_budget_passes_with_room_and_records_the_cost():
    n, seconds = _fixed_work(0.03)
    cost = strop.to_kstones(seconds)
    with strop.budget(kstones=cost * 4) as b:
        _spin(n)
    assert b.verdict in ("pass", "inconclusive")  # never a failure
    assert 0.5 * seconds <= b.seconds  # CPU waits are left out: can be below the best wall time
    # The same work as measured a moment before: within a factor of 3 on a busy
    # machine, where the reference runs slow or fast with the code under test.
    assert cost / 3 <= b.kstones <= cost * 3
    assert b.interval[0] <= b.kstones <= b.interval[1]


@pytest.mark.filterwarnings("ignore::strop.BudgetWarning")
@pytest.mark.filterwarnings("ignore::strop.BudgetWarning")
def test_budget_exceeded_raises_with_the_cost_and_uncertainty():
    cost = strop.to_kstones(0.03)
    b = strop.budget(kstones=cost / 4, raise_on_exceeded=False)
    with b:
        _busy(0.03)
    if b.verdict == "inconclusive":
        pytest.skip(f"machine too noisy: {b.reason}")
    assert b.verdict == "exceeded"
    try:
        with strop.budget(kstones=cost / 4) as again:
            _busy(0.03)
    except strop.BudgetExceeded as exc:
        e = exc
    else:
        # A machine that became too noisy since is told, never failed.
        assert again.verdict == "inconclusive", again.verdict
        pytest.skip(f"machine too noisy: {again.reason}")
    assert e.low <= e.kstones <= e.high and e.budget == cost / 4
    assert "kstones" in str(e) and "95% CI" in str(e) and "over the budget" in str(e)


@pytest.mark.filterwarnings("ignore::strop.BudgetWarning")
def test_budget_decorator():
    cost = strop.to_kstones(0.02)

    @strop.budget(kstones=cost / 5)
    def over():
        _busy(0.02)
        return "done"

    @strop.budget(kstones=cost * 5)
    def under():
        _busy(0.02)
        return "done"

    assert under() == "done"
    try:
        over()
    except strop.BudgetExceeded:
        pass
    else:
        pytest.skip("machine too noisy for a verdict")


def test_budget_on_a_noisy_machine_is_inconclusive_not_failed(monkeypatch):
    rates = iter([1e6, 3e6, 0.5e6, 2e6, 0.7e6, 4e6, 0.6e6, 1.5e6, 5e6, 0.8e6])
    monkeypatch.setattr(_speed, "_stone_runs", lambda runs, loops: [next(rates) for _ in range(runs)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with strop.budget(kstones=0.001) as b:  # far over, if the machine could be trusted
            _busy(0.01)
    assert b.verdict == "inconclusive"
    assert "noisy" in b.reason
    assert any(issubclass(w.category, strop.BudgetWarning) for w in caught)


def test_budget_when_the_machine_drifts_is_inconclusive(monkeypatch):
    rates = iter([1e6, 1.01e6, 0.99e6, 1e6, 1e6, 2e6, 2.01e6, 1.99e6, 2e6, 2e6])
    monkeypatch.setattr(_speed, "_stone_runs", lambda runs, loops: [next(rates) for _ in range(runs)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with strop.budget(kstones=0.001) as b:
            _busy(0.005)
    assert b.verdict == "inconclusive"


def test_budget_lets_the_blocks_exception_through():
    with pytest.raises(KeyError):
        with strop.budget(kstones=1e-6):
            raise KeyError("mine")
    with pytest.raises(ValueError):
        strop.budget(kstones=0)


def test_a_stone_run_measured_as_nothing_is_timed_again(monkeypatch):
    """On a busy machine schedstat's count of a thread's waits can cover a
    short run whole: the run is timed again with its waits, never divided by."""
    from strop import _speed

    real = _speed._engine.time_loop
    asked = []

    def time_loop(func, number, exclude_waits=True):
        asked.append(exclude_waits)
        return 0.0 if exclude_waits else real(func, number, exclude_waits=False)

    monkeypatch.setattr(_speed._engine, "time_loop", time_loop)
    rates = _speed._stone_runs(2, 500)
    assert len(rates) == 2 and all(r > 0 for r in rates)
    assert asked == [True, False, True, False]
