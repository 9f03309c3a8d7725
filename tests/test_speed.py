"""Speed tests' Python API: the C statistics against Python's statistics module
and scipy, timeit against sleeps of known length and counted calls, stones,
@duration's seconds and allocated bytes, and budgets' verdicts.

No test asserts an absolute speed: bounds are relative to known sleeps or to
quantities measured in the same run.  The C unit tests of statistics.c
(tests/c/test_statistics.c) are compiled and run from here.
"""
import gc
import os
import random
import shutil
import statistics
import subprocess
import sys
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


def _eat_memory(rng):
    """The chapter's eat_memory() (xrange is range; the same random draws)."""
    memory = []

    def _get_char():
        return chr(rng.randint(97, 122))

    for i in range(100):
        size = rng.randint(20, 150)
        data = [_get_char() for i in range(size)]
        memory.append("".join(data))
    return "\n".join(memory)


def test_duration_bytes_agree_with_the_heap_for_the_chapters_eat_memory():
    """The chapter's decorator records the bytes a call keeps next to its
    seconds and stones ('memory': 8680 for eat_memory, whose result heapy's
    iso sizes at 8840).  strop's @duration counts them with the allocator
    hook; the census sizes what the call returned: they must agree."""
    import random

    table = {}
    eat_it = strop.duration("you bad boy!", stats=table)(_eat_memory)
    # The first call also fills caches it keeps (3.8 makes each 1-character
    # string the first time chr() asks for it): 2,700 bytes more there.
    eat_it(random.Random(0))
    for seed in range(1, 6):
        please = eat_it(random.Random(seed))
        record = table["you bad boy!"][-1]
        census = strop.iso(please).size
        assert census == sys.getsizeof(please)
        # What the call kept is its result: the same bytes, within the 5%
        # the issue allows (and here exactly, less allocator rounding).
        assert abs(record.bytes - census) <= max(64, census * 0.05), (record, census)
        assert record.seconds > 0 and record.kstones > 0
        del please


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


# The ground truth of a budget's cost: the reference workload itself.  A block
# that runs _stones.run(N) costs exactly N stones, N / 1000 kstones, on any
# machine and whatever its load; no timing of strop's decides what it should
# say.

def _stones_block(kstones, budget, **kw):
    """A budget of `budget` kstones around exactly `kstones` kstones of work."""
    b = strop.budget(kstones=budget, **kw)
    with b:
        cpu0 = time.thread_time()
        _stones.run(int(kstones * 1000))
        b.cpu = time.thread_time() - cpu0
    return b


@pytest.mark.filterwarnings("ignore::strop.BudgetWarning")
def test_budget_measures_the_reference_workload_as_its_own_count():
    # Each measurement's spread on this 2-core VM, measured by /tmp runs of 60
    # blocks of 30 kstones while other test suites and compilers loaded both
    # cores (load average 7): 0.67 to 1.33 of the truth, 5th-95th percentile
    # 0.77 to 1.22. The median of 5 is asked to be within 0.8 to 1.25: a
    # conversion off by a third fails, and so does one off by 2x.
    truth = 20.0
    measured = []
    # A collection of this test run's large heap (5 ms and more) can fall in a
    # 20 ms block and not in the reference, or the other way: seen as 1.3x the
    # truth in 2 of 5 blocks on a quiet CI run. The work is the stones only.
    gc.disable()
    try:
        _measure_stones_blocks(truth, measured)
    finally:
        gc.enable()
    median = statistics.median(measured)
    assert 0.8 * truth <= median <= 1.25 * truth, measured


def _measure_stones_blocks(truth, measured):
    for _ in range(5):
        start = time.perf_counter()
        b = _stones_block(truth, truth * 100)
        outside = time.perf_counter() - start
        assert b.verdict == "pass", b.reason
        measured.append(b.kstones)
        # b.seconds is the block's wall time: within what the test saw around
        # the whole budget (which also ran the reference), and at least the CPU
        # time the OS gave the block.
        assert b.cpu * 0.95 - 0.001 <= b.seconds <= outside
        # What is left once the waits for a CPU are out is the time the block
        # ran, which the OS's thread CPU clock measures too.
        ran = b.seconds - b.waited
        assert abs(ran - b.cpu) <= 0.1 * b.cpu + 0.002, (b.seconds, b.waited, b.cpu)
        assert b.interval[0] <= b.kstones <= b.interval[1]


def test_budget_ten_times_over_is_exceeded_always():
    for _ in range(3):
        with pytest.raises(strop.BudgetExceeded) as info:
            _stones_block(30.0, 3.0)
        e = info.value
        assert e.budget == 3.0 and e.low <= e.kstones <= e.high
        assert "kstones" in str(e) and "over the budget" in str(e)


@pytest.mark.filterwarnings("error::strop.BudgetWarning")
def test_budget_ten_times_under_passes_always():
    for _ in range(3):
        b = _stones_block(3.0, 30.0)
        assert b.verdict == "pass", b.reason


def test_budget_decorator():
    @strop.budget(kstones=2.0)
    def over():
        _stones.run(20000)
        return "done"

    @strop.budget(kstones=20.0)
    def under():
        _stones.run(2000)
        return "done"

    with warnings.catch_warnings():
        warnings.simplefilter("error", strop.BudgetWarning)
        assert under() == "done"
    with pytest.raises(strop.BudgetExceeded):
        over()


def _noisy(monkeypatch, rates):
    """The reference runs report `rates`, in turn, whatever the machine does."""
    rates = iter(rates)
    monkeypatch.setattr(_speed, "_stone_runs",
                        lambda runs, loops: [next(rates) for _ in range(runs)])


NOISY_RATES = [1e6, 3e6, 0.5e6, 2e6, 0.7e6, 4e6, 0.6e6, 1.5e6, 5e6, 0.8e6]


def _judged(monkeypatch, rates, budget_of):
    """A block judged under injected reference `rates`, with a budget chosen
    from the block's measured run time (`budget_of(slowest, fastest)`, the
    kstones it cost at the slowest and the fastest rate)."""
    b = strop.budget(kstones=1.0, raise_on_exceeded=False)
    _noisy(monkeypatch, rates)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with b:
            _busy(0.01)
        ran = b.seconds - b.waited
        b.budget = budget_of(ran * min(rates) / 1000, ran * max(rates) / 1000)
        b._judge(rates[:5], rates[5:])
    return b, caught


def test_budget_on_a_noisy_machine_is_inconclusive_near_the_budget(monkeypatch):
    # Between the costs at the slowest and the fastest speed seen: no verdict.
    b, _ = _judged(monkeypatch, NOISY_RATES, lambda slow, fast: (slow * fast) ** 0.5)
    assert b.verdict == "inconclusive"
    assert "noisy" in b.reason


def test_budget_on_a_noisy_machine_still_fails_far_over(monkeypatch):
    b, _ = _judged(monkeypatch, NOISY_RATES, lambda slow, fast: slow / 2.5)
    assert b.verdict == "exceeded", b.reason
    assert "slowest speed" in b.reason


def test_budget_on_a_noisy_machine_still_passes_far_under(monkeypatch):
    b, _ = _judged(monkeypatch, NOISY_RATES, lambda slow, fast: fast * 2.5)
    assert b.verdict == "pass", b.reason


def test_budget_inconclusive_warns_not_fails(monkeypatch):
    _noisy(monkeypatch, NOISY_RATES)
    # No waits are left out here, so the block ran at least its 0.01 s: 5 to
    # 50 kstones at 0.5 to 5 million stones/s, and only a block stretched past
    # 0.16 s would be surely over a budget of 40.
    monkeypatch.setattr(_engine, "run_delay", lambda: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with strop.budget(kstones=40) as b:
            _busy(0.01)
    assert b.verdict == "inconclusive", b.reason
    assert any(issubclass(w.category, strop.BudgetWarning) for w in caught)


def test_budget_when_the_machine_drifts_is_inconclusive(monkeypatch):
    rates = [1e6, 1.01e6, 0.99e6, 1e6, 1e6, 2e6, 2.01e6, 1.99e6, 2e6, 2e6]
    b, _ = _judged(monkeypatch, rates, lambda slow, fast: (slow * fast) ** 0.5)
    assert b.verdict == "inconclusive", b.reason


HOG = "import os\nos.sched_setaffinity(0, {%d})\nwhile True:\n    pass\n"


def test_kstones_hold_beside_a_cpu_hog_on_the_same_core():
    """The README's central claim: the same work beside a process that wants the
    same core all the time takes far more seconds and the same kstones."""
    if not hasattr(os, "sched_setaffinity") or _engine.run_delay() is None:
        pytest.skip("no CPU affinity or no schedstat on this system")
    cpu = sorted(os.sched_getaffinity(0))[0]
    saved = os.sched_getaffinity(0)

    def run_delay():
        # The kernel's own count of this thread's time waiting for a CPU (ns).
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9

    def measure():
        delay = run_delay()
        with strop.budget(kstones=1e9) as b:
            _spin(1_500_000)
        waits.append((run_delay() - delay) / b.seconds)
        return b.seconds, b.kstones, b.seconds - b.waited

    alone, beside, waits = [], [], []
    os.sched_setaffinity(0, {cpu})
    try:
        for _ in range(7):
            alone.append(measure())
            hog = subprocess.Popen([sys.executable, "-c", HOG % cpu])
            try:
                time.sleep(0.05)  # the hog is running and pinned
                beside.append(measure())
            finally:
                hog.kill()
                hog.wait()
    finally:
        os.sched_setaffinity(0, saved)
    seconds_alone = statistics.median(s for s, _, _ in alone)
    seconds_beside = statistics.median(s for s, _, _ in beside)
    k_alone = [k for _, k, _ in alone]
    k_beside = [k for _, k, _ in beside]
    # Proof that the contention happened: on a quiet machine, the same work
    # took 30% more seconds beside the hog.  On one whose every core is busy
    # already (two CPU hogs of the machine's own), the runs alone share their
    # core too, and the seconds do not move: there the proof is the kernel's
    # count of the time the block waited for its core, beside the hog (30% or
    # more of its wall time).
    waited_beside = statistics.median(waits[1::2])
    assert seconds_beside >= 1.3 * seconds_alone or waited_beside >= 0.3, \
        (seconds_alone, seconds_beside, waited_beside)
    # The waits for the core are what is left out: beside the hog, the time
    # the block ran is the time it ran alone (the hog's share is all waiting).
    ran_alone = [r for _, _, r in alone]
    q = statistics.quantiles(ran_alone, n=4)
    noise = (q[2] - q[0]) / statistics.median(ran_alone)
    ran_beside = statistics.median(r for _, _, r in beside)
    assert abs(ran_beside / statistics.median(ran_alone) - 1) <= max(0.15, 2 * noise), (
        "ran %.4f s alone, %.4f s beside the hog once its waits were out (%.4f s wall)"
        % (statistics.median(ran_alone), ran_beside, seconds_beside))
    # Kstones within 5%; on a machine whose other load makes the kstones of
    # the runs alone spread wider than that, within twice that spread (their
    # interquartile range over their median). Without leaving out the time
    # spent waiting for the core, kstones move as much as the seconds (+100%).
    q = statistics.quantiles(k_alone, n=4)
    noise = (q[2] - q[0]) / statistics.median(k_alone)
    shift = statistics.median(k_beside) / statistics.median(k_alone) - 1
    assert abs(shift) <= max(0.05, 2 * noise), (
        "kstones moved %+.1f%% beside the hog (noise of the runs alone %.1f%%): %r %r"
        % (100 * shift, 100 * noise, k_alone, k_beside))


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
