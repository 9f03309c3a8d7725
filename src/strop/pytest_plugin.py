"""strop's pytest plugin, registered through the pytest11 entry point.

- ``@pytest.mark.budget(kstones=40)``: the test's call (not its fixtures) is
  measured as ``strop.budget`` measures a block; it fails with BudgetExceeded
  when it costs more beyond the measurement's uncertainty, and is reported
  (not failed) when the verdict is inconclusive.
- the ``strop_bench`` fixture: ``strop_bench(func, *args, number=None,
  repeat=7, name=None)`` times a callable as ``strop.timeit`` does and returns
  the TimeitResult.
- ``--strop-save FILE`` writes every strop_bench result into a benchmark file
  (the format of ``strop bench --json``); ``--strop-compare FILE`` compares
  each result with that baseline: pass, regression (the test fails) or
  inconclusive (reported, not failed).

Parallel runs (pytest-xdist): measurements take an exclusive file lock, so
only one worker measures at a time; the other workers' tests still run beside
it, and the reference workload interleaved with each budget sees that load.
The terminal summary says so.
"""
import fcntl
import os
import tempfile
import warnings

import pytest

from . import _speed, _speed_cli

_KEY = "strop"


def pytest_addoption(parser):
    group = parser.getgroup("strop", "strop speed tests")
    group.addoption("--strop-save", metavar="FILE",
                    help="write the strop_bench results of this run into FILE")
    group.addoption("--strop-compare", metavar="FILE",
                    help="compare strop_bench results with the baseline FILE: a test that "
                    "became significantly slower fails")


class _State:
    def __init__(self, config):
        self.config = config
        self.worker = getattr(config, "workerinput", None)
        self.save_path = config.getoption("strop_save")
        self.compare_path = config.getoption("strop_compare")
        self.baseline = None
        self.results = {}
        self.notes = []
        self.lock_path = None
        if self.worker is not None:
            uid = self.worker.get("testrunuid", "run")
            self.lock_path = os.path.join(tempfile.gettempdir(), f"strop-pytest-{uid}.lock")

    def load_baseline(self):
        if self.compare_path and self.baseline is None:
            try:
                self.baseline = _speed_cli.load(self.compare_path)["benchmarks"]
            except Exception as e:  # UsageError: one clear line
                raise pytest.UsageError(f"--strop-compare: {e}") from None
        return self.baseline

    def measuring(self):
        """A context that holds the cross-worker lock (none without xdist)."""
        return _Lock(self.lock_path)


class _Lock:
    def __init__(self, path):
        self.path = path
        self.fd = None

    def __enter__(self):
        if self.path:
            self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
        return False


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "budget(kstones): fail the test when its call costs more than `kstones` "
        "thousand stones, beyond the measurement's uncertainty (strop)")
    state = _State(config)
    config.stash[_state_key] = state
    config.pluginmanager.register(_Reporter(state), "strop-reporter")
    if state.compare_path:
        state.load_baseline()


_state_key = pytest.StashKey[_State]()


def _state(config):
    return config.stash[_state_key]


def pytest_sessionstart(session):
    state = _state(session.config)
    if state.save_path and state.worker is None:
        _speed_cli.write(state.save_path, _speed_cli.new_document())


def _note(item, text):
    item.user_properties.append((_KEY, text))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    marker = item.get_closest_marker("budget")
    if marker is None:
        yield
        return
    kstones = marker.kwargs.get("kstones", marker.args[0] if marker.args else None)
    if isinstance(kstones, bool):
        kstones = None
    if not isinstance(kstones, (int, float)) or not kstones > 0:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.budget needs kstones > 0")
    state = _state(item.config)
    with state.measuring():
        b = _speed.budget(kstones, raise_on_exceeded=False)
        b.__enter__()
        outcome = yield
        if outcome.excinfo is not None:
            return  # the test failed on its own
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", _speed.BudgetWarning)  # reported below instead
            b.__exit__(None, None, None)
    if b.verdict == "exceeded":
        error = _speed.BudgetExceeded(b.reason, kstones=b.kstones, low=b.interval[0],
                                      high=b.interval[1], budget=b.budget, seconds=b.seconds)
        if hasattr(outcome, "force_exception"):
            outcome.force_exception(error)
        else:  # pluggy < 1.1
            raise error
    elif b.verdict == "inconclusive":
        _note(item, f"budget inconclusive: {b.reason}")


class _Bench:
    """The strop_bench fixture's callable."""

    def __init__(self, item):
        self.item = item
        self.results = []

    def __call__(self, func, *args, number=None, repeat=7, name=None, **kwargs):
        import functools

        state = _state(self.item.config)
        key = self.item.nodeid if name is None else f"{self.item.nodeid}::{name}"
        target = functools.partial(func, *args, **kwargs) if args or kwargs else func
        with state.measuring():
            result = _speed.timeit(target, number=number, repeat=repeat)
        self.results.append((key, result))
        state.results[key] = _speed_cli.benchmark_entry(result.values, result.number)
        for warning in result.warnings:
            _note(self.item, f"{key}: {warning}")
        if state.compare_path:
            self._compare(state, key, result)
        return result

    def _compare(self, state, key, result):
        baseline = state.load_baseline()
        if key not in baseline:
            _note(self.item, f"{key}: inconclusive: not in the baseline {state.compare_path}")
            return
        rows = _speed_cli.compare_benchmarks({key: baseline[key]},
                                             {key: {"values": result.values}})
        if not rows:
            return
        _, _, _, ratio, low, high, p, says = rows[0]
        text = f"{key}: ratio {ratio:.3f} (95% CI {low:.3f}-{high:.3f}), p={p:.3g}"
        if says == "slower":
            pytest.fail(f"strop: regression: {text}: significantly slower than "
                        f"{state.compare_path}", pytrace=False)
        if says == "no significant change" and high - low > 0.2:
            _note(self.item, f"inconclusive: {text}: too noisy to rule out a 10% change")


@pytest.fixture
def strop_bench(request):
    """strop_bench(func, *args, number=None, repeat=7, name=None) -> TimeitResult."""
    return _Bench(request.node)


class _Reporter:
    """Collects the notes of every test's report: in the controller too, when
    xdist workers ran the tests."""

    def __init__(self, state):
        self.state = state

    def pytest_runtest_logreport(self, report):
        if report.when != "call":
            return
        for key, text in getattr(report, "user_properties", ()):
            if key == _KEY:
                self.state.notes.append(f"{report.nodeid}: {text}")


def pytest_sessionfinish(session):
    state = _state(session.config)
    if state.save_path and state.results:
        with _Lock(state.lock_path or state.save_path + ".lock"):
            doc = None
            if os.path.exists(state.save_path):
                try:
                    doc = _speed_cli.load(state.save_path)
                except Exception:
                    doc = None
            doc = doc or _speed_cli.new_document()
            doc["benchmarks"].update(state.results)
            _speed_cli.write(state.save_path, doc)
        if state.lock_path is None:
            try:
                os.unlink(state.save_path + ".lock")
            except OSError:
                pass


def pytest_terminal_summary(terminalreporter, config):
    state = _state(config)
    lines = list(state.notes)
    if config.pluginmanager.has_plugin("xdist") and getattr(config.option, "numprocesses", 0):
        lines.append("parallel run: strop measured in one worker at a time (a file lock); "
                     "the other workers' tests ran beside each measurement")
    if state.save_path:
        lines.append(f"benchmarks saved to {state.save_path}")
    if lines:
        terminalreporter.section("strop")
        for line in lines:
            terminalreporter.write_line(line)
