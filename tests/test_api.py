"""The Python API: strop.Profile, strop.profile, strop.Stats, and how they behave as guests.

The simple behaviours run in this process. What could crash or must see a clean
interpreter (other profilers, leaks, deep recursion) runs in a child.
"""
import io
import json
import marshal
import os
import pstats
import sys
import textwrap

import pytest

import strop
from conftest import describe, run_python

BUILTINS = [pytest.param(True, id="builtins"), pytest.param(False, id="no-builtins")]
HERE = os.path.realpath(__file__)


def helper(i):
    return i * 2


def work(n):
    return sum([helper(i) for i in range(n)])


def fails():
    helper(1)
    raise KeyError("expected")


def counts(stats_dict, funcname):
    """(cc, nc) of the function `funcname` of this file in a pstats dict, (0, 0) if absent."""
    found = [v for k, v in stats_dict.items()
             if k[2] == funcname and os.path.realpath(k[0]) == HERE]
    assert len(found) <= 1, found
    return tuple(found[0][:2]) if found else (0, 0)


@pytest.mark.parametrize("builtins", BUILTINS)
def test_context_manager(builtins):
    with strop.Profile(builtins=builtins) as p:
        assert isinstance(p, strop.Profile)
        work(10)
    helper(0)  # after the block: not profiled
    stats = p.stats()
    assert isinstance(stats, strop.Stats) and isinstance(stats, pstats.Stats)
    assert counts(stats.stats, "helper") == (10, 10)
    assert counts(stats.stats, "work") == (1, 1)
    if builtins:
        assert ("~", 0, "<built-in method builtins.sum>") in stats.stats
    else:
        assert not [k for k in stats.stats if k[0] == "~"]


def test_runcall_returns_value_and_propagates_exception():
    p = strop.Profile()
    assert p.runcall(lambda a, b=0: (a, b), 1, b=2) == (1, 2)
    assert p.runcall(work, 4) == 12
    with pytest.raises(KeyError, match="expected"):
        p.runcall(fails)
    helper(0)  # the profiler was disabled although fails() raised
    stats = p.stats().stats
    assert counts(stats, "work") == (1, 1)
    assert counts(stats, "fails") == (1, 1)
    assert counts(stats, "helper") == (5, 5)


def test_enable_disable_twice():
    p = strop.Profile()
    p.enable()
    work(3)
    p.disable()
    helper(0)
    p.enable()
    work(3)
    p.disable()
    assert counts(p.stats().stats, "helper") == (6, 6)
    assert counts(p.stats().stats, "work") == (2, 2)
    # Redundant calls are harmless, as they are with cProfile.
    q = strop.Profile()
    q.disable()
    q.enable()
    q.enable()
    work(2)
    q.disable()
    q.disable()
    assert counts(q.stats().stats, "helper") == (2, 2)


def test_timer_argument():
    with strop.Profile(timer="cpu") as p:
        work(3)
    assert counts(p.stats().stats, "helper") == (3, 3)
    with pytest.raises((ValueError, TypeError)):
        strop.Profile(timer="sundial")


def test_profile_decorator(capfd):
    def level5(x):
        total = 0
        for i in range(30000):  # the hot spot: first by internal time
            total += i
        return -x

    def level4(x):
        return level5(x) - 1

    def level3(x):
        return level4(x) + 1

    def level2(x):
        return level3(x) * 2

    def level1(n):
        return [level2(i) for i in range(n)] + [helper(i) for i in range(n)]

    @strop.profile(sort="time", limit=6)
    def decorated(n):
        return sorted(level1(n), key=abs)

    assert decorated(5) == sorted(level1(5), key=abs)
    out, err = capfd.readouterr()
    assert out == ""
    assert "Ordered by: internal time" in err, err
    assert "due to restriction <6>" in err, err
    assert "level5" in err and "function calls" in err, err
    decorated(2)
    out, err = capfd.readouterr()
    assert err.count("function calls") == 1, err  # a table after each call


def test_pstats_stats_of_a_profile_object():
    p = strop.Profile()
    p.runcall(work, 5)
    stats = pstats.Stats(p)  # calls p.create_stats(), then reads p.stats
    assert counts(stats.stats, "helper") == (5, 5)
    q = strop.Profile()
    q.runcall(work, 2)
    q.create_stats()
    assert isinstance(q.stats, dict)
    assert counts(q.stats, "helper") == (2, 2)


def test_stats_of_a_profile_object_can_be_written(tmp_path):
    """What pstats.Stats(profile) reads must be a dict marshal can write, as cProfile's is."""
    p = strop.Profile()
    p.runcall(work, 2)
    p.create_stats()
    assert marshal.loads(marshal.dumps(p.stats)) == dict(p.stats)
    q = strop.Profile()
    q.runcall(work, 2)
    out = tmp_path / "q.prof"
    pstats.Stats(q).dump_stats(str(out))
    assert counts(pstats.Stats(str(out)).stats, "helper") == (2, 2)
    r = strop.Profile()
    r.runcall(work, 2)
    strop.Stats(r).dump_stats(str(out))
    assert counts(pstats.Stats(str(out)).stats, "helper") == (2, 2)


def test_stats_add_sums_counts(tmp_path):
    p1, p2 = strop.Profile(), strop.Profile()
    p1.runcall(work, 3)
    p2.runcall(work, 4)
    added = p1.stats()
    added.add(p2.stats())
    assert counts(added.stats, "helper") == (7, 7)
    assert counts(added.stats, "work") == (2, 2)
    f1, f2 = tmp_path / "one.prof", tmp_path / "two.prof"
    p1.dump(str(f1))
    p2.dump(str(f2))
    both = strop.Stats(str(f1), str(f2))
    assert counts(both.stats, "helper") == (7, 7)
    from_profiles = strop.Stats(p1, p2)
    assert counts(from_profiles.stats, "helper") == (7, 7)
    mixed = strop.Stats(str(f1))
    mixed.add(str(f2))
    assert counts(mixed.stats, "helper") == (7, 7)


def test_stats_api(tmp_path):
    p = strop.Profile()
    p.runcall(work, 6)
    stream = io.StringIO()
    s = strop.Stats(p, stream=stream)
    assert s.sort_stats("cumulative") is s
    s.print_stats(5)
    s.print_callers("helper")
    s.print_callees("work")
    text = stream.getvalue()
    assert "Ordered by: cumulative time" in text and "was called by..." in text
    assert "called..." in text and "helper" in text, text
    assert s.total_calls == sum(v[1] for v in s.stats.values())
    assert s.prim_calls == sum(v[0] for v in s.stats.values())
    assert s.total_tt == pytest.approx(sum(v[2] for v in s.stats.values()))
    s.reverse_order()
    out = tmp_path / "s.prof"
    s.dump_stats(str(out))
    with open(out, "rb") as f:
        assert marshal.load(f) == s.stats
    if sys.version_info >= (3, 9):
        profile = s.get_stats_profile()
        assert profile.func_profiles["helper"].ncalls == "6"
    s.strip_dirs()
    assert ("test_api.py", work.__code__.co_firstlineno, "work") in s.stats


# -- living beside other profilers ---------------------------------------------------------------

GUEST = textwrap.dedent('''
    import json, sys, threading
    import strop

    def f():
        return 1

    def g():
        return [f() for _ in range(50)]

    def strop_count(p):
        try:
            stats = p.stats().stats
        except TypeError:  # pstats.Stats refuses an empty profile
            return 0
        for key, value in stats.items():
            if key[2] == "f" and key[0] == __file__:
                return value[1]
        return 0

    kind, builtins = sys.argv[1], sys.argv[2] == "1"
    p = strop.Profile(builtins=builtins)
    p.enable()
    tools = ({i: sys.monitoring.get_tool(i) for i in range(6)}
             if hasattr(sys, "monitoring") else {})
    if kind == "cprofile":
        import cProfile
        c = cProfile.Profile()
        c.runcall(g)
        c.create_stats()
        own = [v[1] for k, v in c.stats.items() if k[2] == "f"]
        own = own[0] if own else 0
    elif kind == "setprofile":
        seen = []
        def hook(frame, event, arg):
            if event == "call" and frame.f_code is f.__code__:
                seen.append(1)
        sys.setprofile(hook)
        g()
        sys.setprofile(None)
        own = len(seen)
    elif kind == "settrace":  # what coverage and debuggers use
        seen = []
        def tracer(frame, event, arg):
            if event == "call" and frame.f_code is f.__code__:
                seen.append(1)
            return None
        sys.settrace(tracer)
        g()
        sys.settrace(None)
        own = len(seen)
    else:
        seen = []
        def hook(frame, event, arg):
            if event == "call" and frame.f_code is f.__code__:
                seen.append(1)
        threading.setprofile(hook)
        t = threading.Thread(target=g)
        t.start()
        t.join()
        threading.setprofile(None)
        own = len(seen)
    g()
    p.disable()
    info = getattr(p, "info", None)
    print(json.dumps({"own": own, "strop": strop_count(p),
                      "warnings": [str(w) for w in getattr(p, "warnings", [])],
                      "mechanism": info.get("mechanism") if isinstance(info, dict) else None,
                      "tools": tools}))
''')


@pytest.mark.parametrize("builtins", BUILTINS)
@pytest.mark.parametrize("kind", ["cprofile", "setprofile", "threading", "settrace"])
def test_program_with_its_own_profiler_keeps_working(tmp_path, kind, builtins):
    script = tmp_path / "guest.py"
    script.write_text(GUEST)
    proc = run_python(script, kind, "1" if builtins else "0")
    assert proc.returncode == 0, describe(proc)
    result = json.loads(proc.stdout)
    assert result["own"] == 50, "the program's own %s saw %r calls of f, expected 50\n%s" % (
        kind, result["own"], describe(proc))
    # strop sees the calls too where its mechanism is independent of the program's.
    # Which mechanism that is follows from the version and the mode, not from what
    # strop says it used: sys.monitoring with a tool id of its own on 3.12+ (both
    # modes), the frame-evaluation hook for fast mode on 3.9-3.11, and the profile
    # hook otherwise (3.8-3.11), which sys.settrace does not disturb.
    if sys.version_info >= (3, 12):
        mechanism = "monitoring"
    elif not builtins and sys.version_info >= (3, 9):
        mechanism = "evalframe"
    else:
        mechanism = "setprofile"
    assert result.get("mechanism") == mechanism, describe(proc)
    if mechanism == "monitoring":
        # A tool id of strop's own: not cProfile's (2), nor a debugger's (0).
        ids = [int(i) for i, name in result["tools"].items() if name == "strop"]
        assert len(ids) == 1 and ids[0] not in (0, 2), result["tools"]
    independent = mechanism in ("evalframe", "monitoring") or kind == "settrace"
    if independent:
        assert result["strop"] == 100, "strop counted %r calls of f, expected 100\n%s" % (
            result["strop"], describe(proc))
    elif result["strop"] != 100:
        # Otherwise it may lose calls, but must say so, once: on stderr or in
        # Profile.warnings (`strop run` prints those: see test_cli).
        notes = [line for line in proc.stderr.splitlines() if "strop" in line.lower()]
        said = len(notes) + len(result["warnings"])
        assert said == 1, "strop counted %r of 100 calls and said %r %r\n%s" % (
            result["strop"], notes, result["warnings"], describe(proc))


# -- resources ------------------------------------------------------------------------------------

LEAK = textwrap.dedent('''
    import gc, json, sys
    import strop

    def f():
        return [1]

    def cycle(p):
        p.enable()
        f()
        p.disable()

    def measure(step, n):
        for _ in range(n // 10):
            step()
        gc.collect()
        objects, blocks = len(gc.get_objects()), sys.getallocatedblocks()
        for _ in range(n):
            step()
        gc.collect()
        return len(gc.get_objects()) - objects, sys.getallocatedblocks() - blocks

    builtins = sys.argv[1] == "1"
    p = strop.Profile(builtins=builtins)

    def fresh():
        q = strop.Profile(builtins=builtins)
        cycle(q)
        q.stats()

    same = measure(lambda: cycle(p), 10000)
    new = measure(fresh, 2000)
    print(json.dumps({"same": same, "new": new}))
''')


@pytest.mark.parametrize("builtins", BUILTINS)
def test_enable_disable_does_not_leak(tmp_path, builtins):
    script = tmp_path / "leak.py"
    script.write_text(LEAK)
    proc = run_python(script, "1" if builtins else "0", timeout=120)
    assert proc.returncode == 0, describe(proc)
    result = json.loads(proc.stdout)
    objects, blocks = result["same"]
    assert objects < 100 and blocks < 1000, (
        "10,000 enable/disable cycles of one Profile: +%d objects, +%d memory blocks"
        % (objects, blocks))
    objects, blocks = result["new"]
    assert objects < 100 and blocks < 500, (
        "2,000 new Profiles enabled, disabled, read and dropped: +%d objects, +%d memory blocks"
        % (objects, blocks))


DEEP = textwrap.dedent('''
    import sys, threading
    mode, where, depth, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if limit:
        sys.setrecursionlimit(limit)

    def down(n):
        return 0 if n == 0 else 1 + down(n - 1)

    def run():
        if mode == "plain":
            print(down(depth))
            return
        import strop
        p = strop.Profile(builtins=mode == "builtins")
        p.enable()
        try:
            print(down(depth))
        finally:
            p.disable()
            p.stats()

    if where == "main":
        run()
    else:  # a thread with a small C stack (1 MiB)
        threading.stack_size(1 << 20)
        failed = []
        def guarded():
            try:
                run()
            except RecursionError as exc:
                failed.append(exc)
        t = threading.Thread(target=guarded)
        t.start()
        t.join()
        if failed:
            raise failed[0]
''')

# (depth, recursion limit; 0 keeps the default of 1000). Plain Python decides
# what must happen: the same output and exit status under strop, in either mode.
# 790 and 950 raised RecursionError in fast mode on 3.12 (issue 8).
DEPTHS = [(790, 0), (950, 0), (985, 0), (1200, 0), (15000, 20000)]


@pytest.mark.parametrize("depth,limit", DEPTHS, ids=["%d-%d" % d for d in DEPTHS])
@pytest.mark.parametrize("mode,where", [("no-builtins", "main"), ("builtins", "main"),
                                        ("no-builtins", "thread"), ("builtins", "thread")])
def test_deep_recursion_runs_as_without_strop(tmp_path, mode, where, depth, limit):
    script = tmp_path / "deep.py"
    script.write_text(DEEP)
    plain = run_python(script, "plain", where, str(depth), str(limit), timeout=60)
    while plain.returncode < 0 and depth > 1000:
        # Python itself runs out of C stack here (3.8-3.10 in a 1 MiB thread):
        # the deepest recursion it survives is what strop must match.
        depth //= 2
        plain = run_python(script, "plain", where, str(depth), str(limit), timeout=60)
    assert plain.returncode >= 0, describe(plain)
    proc = run_python(script, mode, where, str(depth), str(limit), timeout=60)
    assert proc.returncode == plain.returncode, (
        "plain Python exited %d, under strop %d\n%s" % (plain.returncode, proc.returncode,
                                                        describe(proc)))
    assert proc.stdout == plain.stdout, describe(proc)
    if plain.returncode != 0:
        # The program's own error, and nothing of strop's after it. The type is
        # compared, not the words: under any profile hook on 3.8-3.11 (cProfile's
        # too) the limit is met inside the comparison and says "... in comparison".
        def error_type(stderr):
            return stderr.rstrip().splitlines()[-1].split(":")[0]
        assert error_type(proc.stderr) == error_type(plain.stderr), describe(proc)
