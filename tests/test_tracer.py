"""The deterministic tracer: call counts against cProfile, threads, and times.

Ground truth for counts is cProfile on the same Python: each target program in
tests/targets/ is profiled in a fresh child by cProfile and, in another fresh
child, by strop, with builtins counted and not, and the two pstats dicts must
agree on every function of the target file and every built-in it calls:
primitive and total calls, and for every caller edge its nc and cc.

Threads are not compared with cProfile (it sees one thread on 3.11 and shares
one stack across threads on 3.12+): there the truth is what the target did.

Times are checked against what the target measured itself, with relative and
generous bounds only.
"""
import os
import re

import pytest

from conftest import TARGETS, builtin_key, find_key, profile_target

COUNT_TARGETS = [
    "t_recursion.py",
    "t_generators.py",
    "t_async.py",
    "t_exceptions.py",
    "t_builtins.py",
    "t_classes.py",
    "t_functional.py",
    "t_callforms.py",
    "t_frame_starts.py",
]

BUILTINS = [pytest.param(True, id="builtins"), pytest.param(False, id="no-builtins")]


def is_profiler_key(key):
    """Keys that belong to the profilers or to the child harness, not to the program."""
    from conftest import strop_package_dir

    filename, _line, name = key
    if filename == "~":
        return "_lsprof" in name or "strop" in name
    base = os.path.basename(filename)
    if base in ("cProfile.py", "profile_target.py"):
        return True
    package = strop_package_dir()
    return package is not None and os.path.realpath(filename).startswith(package + os.sep)


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def normalize(stats):
    """The same dict with object addresses dropped from the names of built-ins.

    cProfile names some C methods after their bound object, for example
    "<built-in method __new__ of type object at 0x7f...>"; the address changes
    from one process to the next. Values of keys that become equal are summed.
    """
    def norm(key):
        return (key[0], key[1], _ADDRESS.sub(" at 0x?", key[2])) if key[0] == "~" else key

    def add(a, b):
        return tuple(x + y for x, y in zip(a, b))

    result = {}
    for key, (cc, nc, tt, ct, callers) in stats.items():
        new_callers = {}
        for caller, edge in callers.items():
            c = norm(caller)
            new_callers[c] = add(new_callers[c], edge) if c in new_callers else tuple(edge)
        k = norm(key)
        if k in result:
            old = result[k]
            merged = dict(old[4])
            for c, edge in new_callers.items():
                merged[c] = add(merged[c], edge) if c in merged else edge
            result[k] = add(old[:4], (cc, nc, tt, ct)) + (merged,)
        else:
            result[k] = (cc, nc, tt, ct, new_callers)
    return result


def comparable_keys(stats, target_file):
    """(functions of the target file, built-ins called from them)."""
    own = {k for k in stats if k[0] != "~" and os.path.realpath(k[0]) == target_file}
    called = {k for k, v in stats.items() if k[0] == "~" and any(c in own for c in v[4])}
    return own, called


def edges(value, keep):
    """{caller: (nc, cc)} of one pstats value, for the callers that `keep` accepts."""
    return {caller: tuple(v[:2]) for caller, v in value[4].items() if keep(caller)}


def count_differences(expected, actual, target_file):
    """Every way `actual` (strop) differs from `expected` (cProfile) in counts, as text lines."""
    diffs = []
    e_own, e_builtins = comparable_keys(expected, target_file)
    a_own, a_builtins = comparable_keys(actual, target_file)
    for key in sorted((e_own | e_builtins) - (a_own | a_builtins)):
        diffs.append("missing in strop: %r %r" % (key, expected[key][:2]))
    for key in sorted((a_own | a_builtins) - (e_own | e_builtins)):
        diffs.append("only in strop: %r %r" % (key, actual[key][:2]))

    def not_profiler(caller):
        return not is_profiler_key(caller)

    for key in sorted(e_own & a_own):
        if tuple(expected[key][:2]) != tuple(actual[key][:2]):
            diffs.append("%r: (cc, nc) cProfile %r, strop %r"
                         % (key, expected[key][:2], actual[key][:2]))
        e_edges, a_edges = edges(expected[key], not_profiler), edges(actual[key], not_profiler)
        if e_edges != a_edges:
            diffs.append("%r: callers {caller: (nc, cc)}\n    cProfile %r\n    strop    %r"
                         % (key, e_edges, a_edges))
    for key in sorted(e_builtins & a_builtins):
        def from_target(caller):
            return caller in e_own

        e_edges, a_edges = edges(expected[key], from_target), edges(actual[key], from_target)
        if e_edges != a_edges:
            diffs.append("%r: callers in the target {caller: (nc, cc)}\n    cProfile %r\n"
                         "    strop    %r" % (key, e_edges, a_edges))
        only_target = all(c in e_own for c in expected[key][4])
        if only_target and tuple(expected[key][:2]) != tuple(actual[key][:2]):
            diffs.append("%r: (cc, nc) cProfile %r, strop %r"
                         % (key, expected[key][:2], actual[key][:2]))
    return diffs


@pytest.mark.parametrize("builtins", BUILTINS)
@pytest.mark.parametrize("target", COUNT_TARGETS)
def test_counts_equal_cprofile(tmp_path, target, builtins):
    expected, e_info = profile_target(tmp_path, "cprofile", target, builtins)
    actual, a_info = profile_target(tmp_path, "strop", target, builtins)
    expected, actual = normalize(expected), normalize(actual)
    # The program must behave the same under both profilers.
    assert a_info["result"] == e_info["result"]
    target_file = os.path.realpath(str(TARGETS / target))
    e_own, _ = comparable_keys(expected, target_file)
    assert len(e_own) >= 3, "harness problem: cProfile saw no function of %s" % target
    diffs = count_differences(expected, actual, target_file)
    assert not diffs, "%d differences from cProfile:\n%s" % (len(diffs), "\n".join(diffs[:40]))


def test_comparison_detects_a_wrong_count():
    """The comparison itself must see a changed count, a changed edge and a missing key."""
    target = os.path.realpath(str(TARGETS / "t_recursion.py"))
    f = (target, 4, "fact")
    m = (target, 38, "main")
    length = ("~", 0, "<built-in method builtins.len>")
    base = {
        f: (2, 15, 0.0, 0.0, {f: (13, 1, 0.0, 0.0), m: (2, 2, 0.0, 0.0)}),
        m: (1, 1, 0.0, 0.0, {}),
        length: (1, 1, 0.0, 0.0, {m: (1, 1, 0.0, 0.0)}),
    }
    assert count_differences(base, base, target) == []
    changed = dict(base)
    changed[f] = (2, 16) + base[f][2:]
    assert count_differences(base, changed, target)
    changed = dict(base)
    changed[f] = base[f][:4] + ({f: (13, 2, 0.0, 0.0), m: (2, 2, 0.0, 0.0)},)
    assert count_differences(base, changed, target)
    changed = dict(base)
    del changed[length]
    assert count_differences(base, changed, target)


# -- threads ---------------------------------------------------------------------------------

@pytest.mark.parametrize("builtins", BUILTINS)
def test_all_threads_are_profiled(tmp_path, builtins):
    stats, info = profile_target(tmp_path, "strop", "t_threads.py", builtins)
    n = info["report"]["N"]
    for worker, caller in (("work_early_a", "early_a"), ("work_early_b", "early_b"),
                           ("work_late", "late")):
        key = find_key(stats, worker, "t_threads.py")
        cc, nc = stats[key][:2]
        assert (cc, nc) == (n, n), "%s: (cc, nc) = %r, expected (%d, %d)" % (worker, (cc, nc), n, n)
        callers = stats[key][4]
        # Each thread has its own stack: a worker is only ever called by its own thread's loop.
        # (A thread that was already running at enable() may show no caller at all.)
        assert {c[2] for c in callers} <= {caller}, "%s called by %r" % (worker, list(callers))
        if caller == "late":
            assert {c[2]: tuple(v[:2]) for c, v in callers.items()} == {"late": (n, n)}
    late = find_key(stats, "late", "t_threads.py")
    assert stats[late][:2] == (1, 1)


@pytest.mark.parametrize("builtins", BUILTINS)
def test_time_is_charged_to_its_own_thread_wall(tmp_path, builtins):
    stats, info = profile_target(tmp_path, "strop", "t_thread_times.py", builtins, "wall")
    report = info["report"]
    a = stats[find_key(stats, "a", "t_thread_times.py")]
    b = stats[find_key(stats, "b", "t_thread_times.py")]
    # a() sleeps 0.2 s: its cumulative time is that sleep.
    assert 0.75 * report["a_wall"] <= a[3] <= 1.3 * report["a_wall"], (a, report)
    # b() spins in pure Python: its own time is its wall time, and nothing of a's sleep.
    assert 0.5 * report["b_wall"] <= b[2] <= 1.25 * report["b_wall"], (b, report)
    if builtins:
        sleep = stats[builtin_key(stats, "time.sleep")]
        assert 0.75 * report["a_wall"] <= sleep[2] <= 1.3 * report["a_wall"], (sleep, report)
        assert a[2] < 0.25 * report["a_wall"], "a's sleep was charged to a's own time: %r" % (a,)


@pytest.mark.parametrize("builtins", BUILTINS)
def test_time_is_charged_to_its_own_thread_cpu(tmp_path, builtins):
    stats, info = profile_target(tmp_path, "strop", "t_thread_times.py", builtins, "cpu")
    report = info["report"]
    a = stats[find_key(stats, "a", "t_thread_times.py")]
    b = stats[find_key(stats, "b", "t_thread_times.py")]
    main = stats[find_key(stats, "main", "t_thread_times.py")]
    # CPU time of the thread: sleeping costs about nothing...
    assert a[3] < 0.1 * report["a_wall"], (a, report)
    # ...the spinning thread's CPU time is its own...
    assert 0.5 * report["b_cpu"] <= b[2] <= 1.3 * report["b_cpu"], (b, report)
    # ...and the main thread, which only waits in join(), is not charged for it.
    assert main[3] < 0.1 * report["b_cpu"], (main, report)


# -- times: the chapter's example ------------------------------------------------------------

def within(value, truth, tolerance):
    return abs(value - truth) <= tolerance * truth


@pytest.mark.parametrize("builtins", BUILTINS)
def test_sleep_times_wall(tmp_path, builtins):
    stats, info = profile_target(tmp_path, "strop", "myapp.py", builtins, "wall")
    report = info["report"]
    assert report["sleeps"] == 45
    slept = report["main"]
    problems = []
    for name in ("light", "medium", "heavy", "main"):
        value = stats[find_key(stats, name, "myapp.py")]
        if not within(value[3], report[name], 0.05):
            problems.append("cumtime of %s %.4f s, slept %.4f s" % (name, value[3], report[name]))
    light = stats[find_key(stats, "light", "myapp.py")]
    if builtins:
        sleep = stats[builtin_key(stats, "time.sleep")]
        if not within(sleep[2], slept, 0.05):
            problems.append("tottime of time.sleep %.4f s, slept %.4f s" % (sleep[2], slept))
        if light[2] > 0.05 * slept:
            problems.append("tottime of light %.4f s includes the sleep (%.4f s)"
                            % (light[2], slept))
    elif not within(light[2], report["light"], 0.05):
        problems.append("tottime of light %.4f s, slept %.4f s" % (light[2], report["light"]))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("builtins", BUILTINS)
def test_sleep_times_cpu(tmp_path, builtins):
    stats, info = profile_target(tmp_path, "strop", "myapp.py", builtins, "cpu")
    report = info["report"]
    slept = report["main"]
    assert slept > 0.4
    main = stats[find_key(stats, "main", "myapp.py")]
    assert main[3] < 0.1 * slept, "cumtime of main %.4f s in CPU mode (slept %.4f s)" % (
        main[3], slept)
    if builtins:
        sleep = stats[builtin_key(stats, "time.sleep")]
        assert sleep[1] == 45
        assert sleep[2] < 0.1 * slept, "tottime of time.sleep %.4f s in CPU mode" % sleep[2]
    else:
        light = stats[find_key(stats, "light", "myapp.py")]
        assert light[2] < 0.1 * slept, "tottime of light %.4f s in CPU mode" % light[2]
