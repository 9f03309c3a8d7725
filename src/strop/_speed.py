"""strop's speed tests: timeit done right, stones, durations and budgets.

The Python side only prepares what the C engine measures and summarises: the
timing loop (`_engine.time_loop`) and every statistic (`_engine.summarize`,
`ratio_ci`, `mann_whitney`) are C.  Not here: the command line
(`_speed_cli.py`) and the pytest plugin (`pytest_plugin.py`).
"""
import builtins
import functools
import itertools
import linecache
import symtable
import sys
import time
import warnings
from collections import namedtuple

from . import _engine, _stones

__all__ = ["timeit", "TimeitResult", "pystones", "to_kstones", "stones_rate", "duration",
           "durations", "Durations", "DurationRecord", "budget", "BudgetExceeded",
           "BudgetWarning"]

MIN_MEASUREMENT = 0.2   # seconds one measurement lasts at least when strop picks `number`
SHORT_MEASUREMENT = 0.1  # below this, a measurement is easily disturbed: warned about
WIDE_SPREAD = 0.10      # IQR over median above which the values are said to spread
LEVEL = 0.95
# Leave out the time a thread waits for a CPU while other processes run
# (Linux schedstat), in budgets and stones.  Benchmarks switch it off to show
# what wall-clock time alone gives.
EXCLUDE_WAITS = True

_sources = itertools.count(1)


# ---- timeit -----------------------------------------------------------------

class TimeitResult:
    """What `timeit` measured: per-loop seconds after the loop's own cost is taken
    off, and their summary.

    best, median, mean, stdev, iqr, mad: seconds per loop.
    ci: the 95% confidence interval (low, high) of the median (bootstrap).
    values: one per repeat, seconds per loop.  number, repeat: the loop count
    of each measurement and how many there were.  overhead: seconds per loop
    subtracted (the cost of calling an empty function, or of the bare loop
    for a callable).  warnings: sentences saying why not to trust the result.
    waited: seconds the measurements spent waiting for a CPU while other
    processes ran, left out of the values.
    """

    def __init__(self, values, number, overhead, warnings_):
        summary = _engine.summarize(values, level=LEVEL)
        self.values = list(values)
        self.number = number
        self.repeat = len(values)
        self.overhead = overhead
        self.best = summary["best"]
        self.median = summary["median"]
        self.mean = summary["mean"]
        self.stdev = summary["stdev"]
        self.iqr = summary["iqr"]
        self.mad = summary["mad"]
        self.ci = (summary["ci_low"], summary["ci_high"])
        self.warnings = list(warnings_)
        self.waited = 0.0

    @property
    def uncertainty(self):
        """Half the width of the median's confidence interval, at its widest side."""
        return max(self.median - self.ci[0], self.ci[1] - self.median)

    def __str__(self):
        fmt = _engine.format_seconds
        loops = "loop" if self.number == 1 else "loops"
        line = (f"{self.number} {loops}, median {fmt(self.median)} ± {fmt(self.uncertainty)} "
                f"(95% CI), best {fmt(self.best)}")
        return "\n".join([line] + [f"warning: {w}" for w in self.warnings])

    def __repr__(self):
        return (f"<TimeitResult median={self.median!r} ci={self.ci!r} best={self.best!r} "
                f"number={self.number} repeat={self.repeat}>")

    def to_dict(self):
        return {"values": self.values, "number": self.number, "repeat": self.repeat,
                "overhead": self.overhead, "best": self.best, "median": self.median,
                "mean": self.mean, "stdev": self.stdev, "iqr": self.iqr,
                "ci": list(self.ci), "warnings": self.warnings}


def _reindent(source, spaces):
    return source.replace("\n", "\n" + " " * spaces)


def _function_source(stmt, setup, nonlocals=()):
    declare = f"        nonlocal {', '.join(sorted(nonlocals))}\n" if nonlocals else ""
    return ("def __strop_outer():\n"
            f"    {_reindent(setup, 4)}\n"
            "    def __strop_inner():\n"
            f"{declare}"
            f"        {_reindent(stmt, 8)}\n"
            "    return __strop_inner\n")


def _shared_names(source, filename):
    """Names the statement assigns that the setup also binds: they must be
    `nonlocal` in the statement's function, as they are one scope in timeit."""
    outer = symtable.symtable(source, filename, "exec").get_children()[0]
    bound = {s.get_name() for s in outer.get_symbols()
             if s.is_assigned() or s.is_imported() or s.is_parameter()}
    inner = [t for t in outer.get_children() if t.get_name() == "__strop_inner"][0]
    return {s.get_name() for s in inner.get_symbols()
            if (s.is_assigned() or s.is_imported()) and s.is_local() and s.get_name() in bound}


def compile_statement(stmt, setup="pass", globals=None):
    """A function of no arguments that runs `stmt` once, after `setup` has run
    once in the scope `stmt` sees (as timeit's template does).

    Raises the SyntaxError of `stmt` or `setup` as Python reports it for them
    alone, or whatever `setup` raises."""
    if not isinstance(stmt, str) or not isinstance(setup, str):
        raise TypeError("stmt and setup must be strings (or stmt a callable)")
    compile(setup, "<setup>", "exec", dont_inherit=True)
    compile(stmt, "<stmt>", "exec", dont_inherit=True)
    filename = f"<strop-timeit-{next(_sources)}>"
    source = _function_source(stmt, setup)
    shared = _shared_names(source, filename)
    if shared:
        source = _function_source(stmt, setup, shared)
    code = compile(source, filename, "exec", dont_inherit=True)
    # Tracebacks of the statement show its lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": "__strop_timeit__", "__builtins__": builtins} \
        if globals is None else globals
    scope = {}
    exec(code, namespace, scope)
    return scope["__strop_outer"]()


def _empty_function(globals=None):
    return compile_statement("pass", "pass", globals)


def _calibrate(func, minimum=MIN_MEASUREMENT):
    """The smallest loop count of the 1-2-5 series whose loop lasts `minimum`."""
    for exponent in itertools.count():
        for base in (1, 2, 5):
            number = base * 10 ** exponent
            if _engine.time_loop(func, number) >= minimum:
                return number


def _overhead_loops(number):
    # The same count as the measurement, kept between 3 ms and 30 ms of empty
    # calls: enough for a stable per-loop cost, and cheap.
    return min(max(number, 100000), 1000000)


def timeit(stmt="pass", setup="pass", number=None, repeat=7, globals=None, *, warmup=1):
    """Measures `stmt` (a string of code, or a callable) as the stdlib's timeit
    does, and says how far to trust the result.

    With number=None the loop count is chosen so that one measurement lasts at
    least 0.2 s; the choice itself warms the code up, otherwise `warmup`
    measurements are run and dropped.  Each of the `repeat` measurements is
    preceded by a loop of an empty function (a string stmt) or of nothing (a
    callable), whose per-loop cost is subtracted.  Time the thread spent
    waiting for a CPU while other processes ran is left out (Linux schedstat;
    result.waited says how much).  Returns a TimeitResult.
    Exceptions of `stmt` or `setup` propagate, after the first one.
    """
    func, empty = prepare(stmt, setup, globals)
    waited = _engine.run_delay()
    raw, overheads, number = measure(func, empty, number, repeat, warmup)
    result = result_of(raw, overheads, number)
    if waited is not None:
        result.waited = _engine.run_delay() - waited
    return result


def prepare(stmt="pass", setup="pass", globals=None):
    """(func, empty): the function to time and the empty one whose loop is
    subtracted (None: the bare loop).  Runs `setup`."""
    if callable(stmt):
        if callable(setup):
            setup()
        elif setup != "pass":
            exec(compile(setup, "<setup>", "exec", dont_inherit=True),
                 {"__builtins__": builtins} if globals is None else globals)
        return stmt, None
    func = compile_statement(stmt, setup if isinstance(setup, str) else "pass", globals)
    if callable(setup):
        setup()
    return func, _empty_function()


def measure(func, empty, number=None, repeat=7, warmup=1, reference=None):
    """(raw, overheads, number): per-loop seconds of `repeat` measurements of
    `func` and of the empty loop run just before each.  With a list
    `reference`, one run of the reference workload (its stones/s) is appended
    to it before each measurement, so that they see the same machine."""
    if repeat < 1:
        raise ValueError("repeat must be >= 1")
    if number is not None and number < 1:
        raise ValueError("number must be >= 1")
    if number is None:
        number = _calibrate(func)
    else:
        for _ in range(warmup):
            _engine.time_loop(func, number)
    empty_loops = _overhead_loops(number)
    raw, overheads = [], []
    stones = max(500, int(stones_rate() * REFERENCE_SECONDS)) if reference is not None else 0
    for _ in range(repeat):
        if reference is not None:
            reference += _stone_runs(1, stones)
        overheads.append(_engine.time_loop(empty, empty_loops) / empty_loops)
        raw.append(_engine.time_loop(func, number) / number)
    return raw, overheads, number


def result_of(raw, overheads, number):
    """The TimeitResult of measurements (see measure())."""
    overhead = _engine.summarize(overheads, resamples=1)["median"]
    values = [r - overhead for r in raw]
    return TimeitResult(values, number, overhead,
                        _judge(values, raw, overheads, number, overhead))


def _judge(values, raw, overheads, number, overhead=0.0):
    """The warnings a result deserves."""
    found = []
    summary = _engine.summarize(values, resamples=1)
    fmt = _engine.format_seconds
    shortest = min(raw) * number
    if shortest < SHORT_MEASUREMENT:
        found.append(f"each measurement lasted only {fmt(shortest)}: below "
                     f"{fmt(SHORT_MEASUREMENT)} a measurement is easily disturbed; use a "
                     "larger number, or let strop choose it")
    noise = _engine.summarize(overheads, resamples=1)["mad"] if len(overheads) > 1 else 0.0
    # What the subtraction of the loop's cost can resolve: the run-to-run noise
    # of the loop and of the statement, and a tenth of the loop's cost itself
    # (a quiet machine still shifts it by a few percent between the empty loop
    # and the measured one: alignment, caches).
    floor = max(3 * noise, 3 * summary["mad"], 0.1 * overhead, 1e-9)
    if abs(summary["median"]) <= floor:
        found.append(f"the statement costs less than the timing loop's own noise "
                     f"({fmt(floor)} per loop): read the result as zero")
    elif summary["median"] < 0:
        found.append("the statement measured faster than the empty loop: the machine was "
                     "busy while the loop's cost was measured; read the result as zero")
    elif summary["iqr"] > WIDE_SPREAD * summary["median"]:
        found.append(f"the values spread widely (IQR {summary['iqr'] / summary['median']:.0%} "
                     "of the median): the machine was busy or the work varies between runs")
    return found


# ---- stones -----------------------------------------------------------------

_rate_cache = []


def pystones(loops=200000):
    """Runs strop's reference workload (`loops` stones) once.

    Returns (benchtime, stones_per_second), as the stdlib's old pystone did;
    the workload is strop's own (strop._stones, VERSION)."""
    if loops < 1:
        raise ValueError("loops must be >= 1")
    benchtime = _engine.time_loop(functools.partial(_stones.run, loops), 1)
    return benchtime, loops / benchtime if benchtime > 0 else 0.0


def _stone_runs(runs, loops):
    """Stones per second of `runs` runs of `loops` stones.  A run whose time,
    less its waits for a CPU, comes to nothing (schedstat's count of the
    waits can cover a short run whole on a busy machine) is timed again with
    its waits: a rate, never a division by zero."""
    work = functools.partial(_stones.run, loops)
    rates = []
    for _ in range(runs):
        seconds = _engine.time_loop(work, 1, exclude_waits=EXCLUDE_WAITS)
        if seconds <= 0:
            seconds = _engine.time_loop(work, 1, exclude_waits=False)
        rates.append(loops / seconds)
    return rates


def stones_rate(refresh=False):
    """This process's stones per second: the median of five 40 ms runs of the
    reference workload, measured at the first call and kept."""
    if refresh or not _rate_cache:
        _stones.run(2000)  # warm up
        rate = _engine.summarize(_stone_runs(3, 5000), resamples=1)["median"]
        loops = max(1000, int(rate * 0.04))
        _rate_cache[:] = [_engine.summarize(_stone_runs(5, loops), resamples=1)["median"]]
    return _rate_cache[0]


def to_kstones(seconds):
    """`seconds` of this machine in thousands of stones."""
    return seconds * stones_rate() / 1000.0


# ---- durations --------------------------------------------------------------

DurationRecord = namedtuple("DurationRecord", "seconds kstones bytes")
DurationRecord.__doc__ = """One call measured by @duration: wall-clock seconds, the
same in kstones, and the net bytes it allocated (None when not counted)."""


class Durations(dict):
    """Name -> list of DurationRecord, filled by @strop.duration."""

    def report(self, stream=None):
        """Prints one line per name: calls, median and total seconds, median
        kstones and median net bytes."""
        stream = sys.stdout if stream is None else stream
        fmt = _engine.format_seconds
        width = max([len(n) for n in self] + [4])
        print(f"{'name':<{width}}  {'calls':>6}  {'median':>9}  {'total':>9}  "
              f"{'kstones':>9}  {'net bytes':>10}", file=stream)
        for name, records in self.items():
            if not records:
                continue
            seconds = _engine.summarize([r.seconds for r in records], resamples=1)
            kstones = _engine.summarize([r.kstones for r in records], resamples=1)["median"]
            counted = [r.bytes for r in records if r.bytes is not None]
            net = (f"{_engine.summarize(counted, resamples=1)['median']:>10.0f}"
                   if counted else f"{'-':>10}")
            print(f"{name:<{width}}  {len(records):>6}  {fmt(seconds['median']):>9}  "
                  f"{fmt(seconds['mean'] * len(records)):>9}  {kstones:>9.3g}  {net}",
                  file=stream)


durations = Durations()


def duration(name=None, *, stats=None, memory=True):
    """Decorator: records every call of the function into strop.durations[name]
    (or `stats`) as a DurationRecord.  `name` defaults to the function's
    qualified name; `@duration` works without parentheses.  With memory=True
    the net bytes the call allocated are counted by the engine's allocator
    hook, on only while a measured call runs."""
    if callable(name):
        return duration()(name)
    table = durations if stats is None else stats

    def decorate(function):
        label = name or function.__qualname__

        @functools.wraps(function)
        def measured(*args, **kwargs):
            rate = stones_rate()  # calibrated before, never inside, the first call
            before = None
            if memory:
                _engine.alloc_start()
                before = _engine.alloc_net()
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds = time.perf_counter() - start
                net = None
                if memory:
                    after = _engine.alloc_net()
                    _engine.alloc_stop()
                    if before is not None and after is not None:
                        net = after - before
                table.setdefault(label, []).append(
                    DurationRecord(seconds, seconds * rate / 1000.0, net))

        return measured

    return decorate


# ---- budgets ----------------------------------------------------------------

class BudgetExceeded(AssertionError):
    """Code cost more kstones than its budget allowed, beyond the measurement's
    uncertainty.  Attributes: kstones, low, high (the 95% interval), budget,
    seconds."""

    def __init__(self, message, *, kstones, low, high, budget, seconds):
        super().__init__(message)
        self.kstones, self.low, self.high = kstones, low, high
        self.budget, self.seconds = budget, seconds


class BudgetWarning(UserWarning):
    """A budget could not be judged: the machine was too noisy."""


REFERENCE_RUNS = 5         # runs of the reference before, and as many after
REFERENCE_SECONDS = 0.02   # length of one reference run
NOISY_REFERENCE = 0.20     # relative width of the rate's interval that is too noisy
DRIFTED_REFERENCE = 0.25   # before/after difference of the rate that is too much
CLEAR_MARGIN = 2.0         # on a noisy machine, a verdict still holds this far from the budget


def reference_runs():
    """Stones per second of REFERENCE_RUNS runs of the reference workload,
    REFERENCE_SECONDS each.  `strop bench` runs them just before and just
    after the measured code, so that its cost in kstones comes from the
    machine as the code saw it."""
    return _stone_runs(REFERENCE_RUNS, max(500, int(stones_rate() * REFERENCE_SECONDS)))


class budget:
    """`with strop.budget(kstones=40) as b:` or `@strop.budget(kstones=40)`.

    Measures the block (or each call) in seconds and converts them to kstones
    with the reference workload run just before and just after it in the same
    process, so that both see the same machine.  Raises BudgetExceeded when
    even the low end of the cost's 95% interval is over the budget.  When the
    reference was too noisy or drifted, the verdict holds only for a cost more
    than twice over (or under) the budget at every speed the reference showed;
    for a cost nearer the budget than that, or within its uncertainty of the
    budget, the verdict is "inconclusive": a BudgetWarning, no failure.

    Where Linux says how long a thread waited for a CPU (schedstat), that
    time is left out of both the block and the reference: a busy machine's
    other processes then cost nothing, and what the interleaving compensates
    is the rest (clock frequency, caches, memory bandwidth).

    After the block: b.seconds (wall clock), b.waited (of those, waiting for
    a CPU), b.kstones, b.interval (low, high), b.rate (stones per second),
    b.verdict ("pass", "exceeded", "inconclusive") and b.reason.
    """

    def __init__(self, kstones, *, raise_on_exceeded=True):
        if not kstones > 0:
            raise ValueError("a budget needs kstones > 0")
        self.budget = kstones
        self.raise_on_exceeded = raise_on_exceeded
        self.seconds = self.kstones = self.rate = None
        self.waited = 0.0
        self.interval = (None, None)
        self.verdict = self.reason = None
        self._before = None
        self._start = None
        self._loops = 1

    def _reference(self):
        self._loops = max(500, int(stones_rate() * REFERENCE_SECONDS))
        return _stone_runs(REFERENCE_RUNS, self._loops)

    def __enter__(self):
        self._before = self._reference()
        self._outer = time.perf_counter()
        self._waited = _engine.run_delay() if EXCLUDE_WAITS else None
        self._start = time.perf_counter()
        return self

    def __exit__(self, exc_type, exc, tb):
        end = time.perf_counter()
        self.seconds = end - self._start
        waited = _engine.run_delay()
        outer = time.perf_counter()
        if waited is None or self._waited is None:
            self.waited = 0.0
        else:
            # Waits counted between the readings may have fallen just outside
            # the block, while the delay was being read: only what exceeds those
            # slivers surely fell inside it (as _engine.time_loop does).
            slivers = (self._start - self._outer) + (outer - end)
            self.waited = min(max(waited - self._waited - slivers, 0.0), self.seconds)
        after = self._reference()
        self._judge(self._before, after)
        if exc_type is not None:
            return False
        if self.verdict == "exceeded" and self.raise_on_exceeded:
            raise BudgetExceeded(self.reason, kstones=self.kstones, low=self.interval[0],
                                 high=self.interval[1], budget=self.budget,
                                 seconds=self.seconds)
        if self.verdict == "inconclusive":
            warnings.warn(f"budget of {self.budget:g} kstones inconclusive: {self.reason}",
                          BudgetWarning, stacklevel=2)
        return False

    def _judge(self, before, after):
        # Every reference run does the same number of stones, so the pooled
        # rate (all stones over all their time) is one over the mean time per
        # stone: unlike the median of the rates, it is not skewed when a
        # scheduler's time slices cut the runs unevenly.
        per_stone = [1.0 / r for r in before + after]
        summary = _engine.summarize(per_stone, level=LEVEL)
        rate = self.rate = 1.0 / summary["mean"]
        low_rate, high_rate = 1.0 / summary["mean_ci_high"], 1.0 / summary["mean_ci_low"]
        # Both the block and the reference leave out the time their thread
        # waited for a CPU while other processes ran.
        ran = max(self.seconds - self.waited, 0.0)
        self.kstones = ran * rate / 1000.0
        # The block ran once, so its own noise cannot be seen; the reference
        # runs show how much a window of time is disturbed on this machine
        # now, and a shorter window is disturbed relatively more.
        ref_seconds = summary["mean"] * self._loops
        window = (ref_seconds / ran) ** 0.5 if 0 < ran < ref_seconds else 1.0
        body = 1.96 * summary["stdev"] / summary["mean"] * window
        down = ((rate - low_rate) / rate) ** 2 + body ** 2
        up = ((high_rate - rate) / rate) ** 2 + body ** 2
        low, high = self.kstones * max(0.0, 1 - down ** 0.5), self.kstones * (1 + up ** 0.5)
        self.interval = (low, high)
        spread = (high_rate - low_rate) / rate
        rate_before, rate_after = _pooled(before), _pooled(after)
        drift = abs(rate_after - rate_before) / rate
        cost = f"{self.kstones:.3g} kstones (95% CI {low:.3g} to {high:.3g})"
        # What the block cost at the slowest and at the fastest speed that any
        # reference run showed: on a machine too noisy for an interval, a cost
        # that is far over (or under) the budget at every speed seen is still
        # a verdict.  Only a cost within that spread of the budget is not.
        slowest = ran * min(before + after) / 1000.0
        fastest = ran * max(before + after) / 1000.0
        unsure = None
        if spread > NOISY_REFERENCE:
            unsure = (f"the reference workload's speed varied by {spread:.0%} (95% CI "
                      f"width): the machine is too noisy to judge; measured {cost}")
        elif drift > DRIFTED_REFERENCE:
            unsure = (f"the machine's speed changed during the measurement (reference "
                      f"{rate_before:.4g} stones/s before, {rate_after:.4g} "
                      f"after); measured {cost}")
        if unsure is not None and slowest > CLEAR_MARGIN * self.budget:
            self.verdict = "exceeded"
            self.reason = (f"cost {cost} is over the budget of {self.budget:g} kstones: even "
                           f"at the slowest speed the noisy machine showed "
                           f"({min(before + after):.4g} stones/s) it is {slowest:.3g} kstones, "
                           f"over {CLEAR_MARGIN:g} times the budget")
        elif unsure is not None and fastest * CLEAR_MARGIN < self.budget:
            self.verdict = "pass"
            self.reason = (f"cost {cost} is within the budget of {self.budget:g} kstones: even "
                           f"at the fastest speed the noisy machine showed it is "
                           f"{fastest:.3g} kstones")
        elif unsure is not None:
            self.verdict = "inconclusive"
            self.reason = unsure
        elif low > self.budget:
            self.verdict = "exceeded"
            self.reason = (f"cost {cost} is over the budget of {self.budget:g} kstones "
                           f"({self.seconds:.4g} s at {rate:.4g} stones/s)")
        elif high > self.budget:
            self.verdict = "inconclusive"
            self.reason = (f"cost {cost} is within its uncertainty of the budget of "
                           f"{self.budget:g} kstones")
        else:
            self.verdict = "pass"
            self.reason = f"cost {cost} is within the budget of {self.budget:g} kstones"

    def __call__(self, function):
        @functools.wraps(function)
        def measured(*args, **kwargs):
            with budget(self.budget, raise_on_exceeded=self.raise_on_exceeded):
                return function(*args, **kwargs)

        return measured


def _pooled(rates):
    """The rate of equal runs taken together: the harmonic mean of their rates."""
    return len(rates) / sum(1.0 / r for r in rates)
