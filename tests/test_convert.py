"""strop convert and strop view of folded stacks and pprof: the readers
(readers.c, loaded.c) checked by round trips through the real consumers
(`go tool pprof`, `callgrind_annotate`) and by numbers, and a fuzz test of the
readers on random and mutated files.  A missing consumer skips its test here
and fails it under CI=true (Debian golang-go, valgrind).
"""
import gzip
import marshal
import os
import random
import re
import textwrap

import pytest

from conftest import describe, folded_counts, require_tool, run, run_python, run_strop

WORKLOAD = textwrap.dedent("""
    def leaf(n):
        s = 0
        for i in range(n):
            s += i * i
        return s

    def middle(n):
        return leaf(n) + sum(range(n))

    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    def main():
        for _ in range(20):
            middle(3000)
        fib(15)
        sorted(range(2000))

    main()
""")





def pprof_raw_samples(path):
    go = require_tool("go", "golang-go")
    proc = run([go, "tool", "pprof", "-raw", path], timeout=300)
    assert proc.returncode == 0, describe(proc)
    lines = proc.stdout.splitlines()
    start = lines.index("Samples:") + 2
    samples = []
    for line in lines[start:]:
        m = re.match(r"^\s+(\d+)\s+(\d+): ([\d ]+)$", line)
        if not m:
            break
        samples.append((int(m.group(1)), int(m.group(2))))
    return lines[start - 1].split(), samples


@pytest.fixture(scope="module")
def workload(tmp_path_factory):
    folder = tmp_path_factory.mktemp("convert")
    script = folder / "workload.py"
    script.write_text(WORKLOAD)
    return folder, script


def test_folded_to_pprof_agrees_with_go(workload):
    folder, script = workload
    folded = folder / "run.folded"
    proc = run_strop("run", "-q", "-o", folded, script)
    assert proc.returncode == 0, describe(proc)
    counts = folded_counts(folded)
    out = folder / "from-folded.pb.gz"
    # One count is one microsecond, as strop writes a traced profile's folded.
    proc = run_strop("convert", folded, "-o", out, "--period", "0.000001")
    assert proc.returncode == 0, describe(proc)
    assert proc.stderr == ""
    header, samples = pprof_raw_samples(out)
    assert header == ["samples/count", "wall/nanoseconds[dflt]"], header
    assert sum(n for n, _ in samples) == sum(counts.values())
    assert sum(ns for _, ns in samples) == 1000 * sum(counts.values())
    go = require_tool("go", "golang-go")
    top = run([go, "tool", "pprof", "-top", out], timeout=300)
    assert top.returncode == 0, describe(top)
    m = re.search(r"of ([\d.]+)(\w+) total", top.stdout)
    assert m, top.stdout
    scale = {"ns": 1e-3, "us": 1, "µs": 1, "ms": 1e3, "s": 1e6}[m.group(2)]
    assert abs(float(m.group(1)) * scale - sum(counts.values())) <= 0.01 * sum(counts.values())
    assert "leaf" in top.stdout


def test_pprof_to_folded_matches_own_folded(workload):
    folder, script = workload
    child = folder / "both.py"
    child.write_text(textwrap.dedent(f"""
        import runpy, strop
        p = strop.Profile()
        p.enable()
        runpy.run_path({str(script)!r})
        p.disable()
        p.dump({str(folder / 'both.folded')!r})
        p.dump({str(folder / 'both.pb.gz')!r})
    """))
    proc = run_python(child)
    assert proc.returncode == 0, describe(proc)
    out = folder / "back.folded"
    proc = run_strop("convert", folder / "both.pb.gz", "-o", out)
    assert proc.returncode == 0, describe(proc)
    own, back = folded_counts(folder / "both.folded"), folded_counts(out)
    # Stacks whose own time rounds to 0 µs in one and 1 µs in the other may
    # be in one file only.
    for stack in set(own) | set(back):
        assert abs(own.get(stack, 0) - back.get(stack, 0)) <= 1, stack
    assert any("leaf (" in s for s in back)
    assert abs(sum(own.values()) - sum(back.values())) <= len(own) + len(back)


@pytest.fixture(scope="module")
def cprofile_pstats(workload):
    folder, script = workload
    path = folder / "cprofile.prof"
    proc = run_python("-m", "cProfile", "-o", path, script)
    assert proc.returncode == 0, describe(proc)
    with open(path, "rb") as f:
        return path, marshal.load(f)


def test_cprofile_pstats_to_callgrind(workload, cprofile_pstats):
    folder, _ = workload
    path, stats = cprofile_pstats
    out = folder / "callgrind.out.cprofile"
    proc = run_strop("convert", path, "-o", out)
    assert proc.returncode == 0, describe(proc)
    assert len(proc.stderr.splitlines()) == 1 and "approximate" in proc.stderr, proc.stderr
    tool = require_tool("callgrind_annotate", "valgrind")
    ann = run([tool, out])
    assert ann.returncode == 0, describe(ann)
    m = re.search(r"^\s*([\d,]+)(?: \([\d.]+%\))?\s+PROGRAM TOTALS", ann.stdout, re.M)
    assert m, ann.stdout
    total = int(m.group(1).replace(",", ""))
    expected = sum(v[2] for v in stats.values()) * 1e9
    # Each node's own time rounds to a nanosecond.
    assert abs(total - expected) <= 10 * len(stats) + 1, (total, expected)


def test_cprofile_pstats_to_html_and_folded(workload, cprofile_pstats):
    folder, _ = workload
    path, stats = cprofile_pstats
    out = folder / "cprofile.html"
    proc = run_strop("convert", path, "-o", out)
    assert proc.returncode == 0, describe(proc)
    page = out.read_text(encoding="utf-8")
    assert "<html" in page.lower() and "leaf" in page
    folded = folder / "cprofile.folded"
    proc = run_strop("convert", path, "-o", folded)
    assert proc.returncode == 0, describe(proc)
    counts = folded_counts(folded)
    assert any(s.endswith("leaf (%s:2)" % (folder / "workload.py")) for s in counts), counts
    expected_us = sum(v[2] for v in stats.values()) * 1e6
    assert abs(sum(counts.values()) - expected_us) <= len(counts) + 0.001 * expected_us


def test_pstats_to_pstats_is_a_copy(workload, cprofile_pstats):
    folder, _ = workload
    path, stats = cprofile_pstats
    out = folder / "copy.pstats"
    proc = run_strop("convert", path, "-o", out)
    assert proc.returncode == 0, describe(proc)
    assert proc.stderr == ""
    with open(out, "rb") as f:
        assert marshal.load(f) == stats


def test_pyspy_and_austin_folded(tmp_path):
    pyspy = tmp_path / "pyspy.txt"
    pyspy.write_text("main (a.py:10);work (a.py:3) 7\nmain (a.py:10) 2\n"
                     "main (a.py:10);work (a.py:3);len 1\n")
    austin = tmp_path / "austin.txt"
    austin.write_text("P42;T0x7f00;a.py:main:10;a.py:work:3 7\nP42;T0x7f00;a.py:main:10 2\n")
    from strop import _engine

    for path in (pyspy, austin):
        stats = _engine.load_profile(str(path)).stats()
        assert stats[("a.py", 3, "work")][:2] == (8 if path == pyspy else 7,) * 2, stats
        assert stats[("a.py", 10, "main")][3] == pytest.approx((10 if path == pyspy else 9) * 0.01)
        assert stats[("a.py", 10, "main")][2] == pytest.approx(0.02)
    proc = run_strop("view", pyspy)
    assert proc.returncode == 0, describe(proc)
    assert "a.py:3(work)" in proc.stdout
    out = tmp_path / "pyspy.folded"
    proc = run_strop("convert", pyspy, "-o", out)
    assert proc.returncode == 0, describe(proc)
    assert folded_counts(out) == {"main (a.py:10);work (a.py:3)": 7, "main (a.py:10)": 2,
                                  "main (a.py:10);work (a.py:3);len": 1}
    out = tmp_path / "austin.pb.gz"
    proc = run_strop("convert", austin, "-o", out)
    assert proc.returncode == 0, describe(proc)
    _, samples = pprof_raw_samples(out)
    assert sorted(n for n, _ in samples) == [2, 7]


def test_view_pprof(workload):
    folder, script = workload
    path = folder / "view.pb.gz"
    proc = run_strop("run", "-q", "-o", path, script)
    assert proc.returncode == 0, describe(proc)
    proc = run_strop("view", path, "-s", "tottime")
    assert proc.returncode == 0, describe(proc)
    assert "workload.py:2(leaf)" in proc.stdout


def test_bad_inputs_one_line_exit_2(workload, tmp_path):
    folder, script = workload
    good = folder / "bad.pb.gz"
    proc = run_strop("run", "-q", "-o", good, script)
    assert proc.returncode == 0, describe(proc)
    data = good.read_bytes()
    cases = {
        "trunc.pb.gz": (data[: len(data) // 2], "not a pprof file (found truncated gzip data)"),
        "plain.pb.gz": (gzip.compress(b"hello world"), "not a pprof file"),
        "trunc.prof": (marshal.dumps({("a", 1, "f"): (1, 1, 0.0, 0.0, {})})[:9],
                       "not a pstats file"),
        "text.folded": (b"hello\nworld\n", "not a folded stacks file (found line 1"),
        "empty.prof": (b"", "not a profile file (found an empty file)"),
        "binary.folded": (bytes(range(256)), "not a folded stacks file (found binary data)"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        for command in (["view", path], ["convert", path, "-o", tmp_path / "out.folded"]):
            proc = run_strop(*command)
            assert proc.returncode == 2, describe(proc)
            assert proc.stderr == f"strop: {path}: {message}" + proc.stderr.split(message)[1]
            assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr
    # The output is checked before the input is read.
    proc = run_strop("convert", tmp_path / "missing.prof", "-o", tmp_path / "no" / "x.folded")
    assert proc.returncode == 2
    assert proc.stderr.startswith("strop: cannot write "), proc.stderr
    proc = run_strop("convert", good, "-o", folder / "x.json")
    assert proc.returncode == 2 and "timeline" in proc.stderr


def mutations(valid, rng):
    """Random files and mutations of valid ones: truncations, bit flips."""
    for _ in range(60):
        yield bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
    for _ in range(240):
        base = rng.choice(valid)
        kind = rng.randrange(4)
        data = bytearray(base)
        if kind == 0:
            data = data[: rng.randrange(len(data))]
        elif kind == 1:
            for _ in range(rng.randrange(1, 8)):
                i = rng.randrange(len(data))
                data[i] ^= 1 << rng.randrange(8)
        elif kind == 2 and base[:2] == b"\x1f\x8b":
            # Mutate the protobuf inside, then gzip it again.
            inner = bytearray(gzip.decompress(base))
            for _ in range(rng.randrange(1, 6)):
                i = rng.randrange(len(inner))
                inner[i] = rng.randrange(256)
            if rng.random() < 0.5:
                inner = inner[: rng.randrange(len(inner))]
            data = gzip.compress(bytes(inner))
        else:
            i = rng.randrange(len(data))
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 20)))
        yield bytes(data)


def test_fuzz_readers(workload, tmp_path):
    from strop import _engine

    folder, script = workload
    valid = []
    for name in ("fuzz.pb.gz", "fuzz.folded"):
        proc = run_strop("run", "-q", "-o", folder / name, script)
        assert proc.returncode == 0, describe(proc)
        valid.append((folder / name).read_bytes())
    valid.append(b"P1;T0x1;a.py:main:1;a.py:f:2 3\nmain (a.py:1);g 4\nbare 1\n")
    rng = random.Random(4)
    ok = errors = 0
    path = tmp_path / "case"
    formats = ("pstats", "folded", "pprof", "callgrind", "speedscope", "dot")
    for i, data in enumerate(mutations(valid, rng)):
        path.write_bytes(data)
        for kind in (None, "folded", "pprof"):
            try:
                loaded = _engine.load_profile(str(path), kind)
            except _engine.FormatError as e:
                assert "\n" not in str(e) and str(e).startswith(f"{path}: not a "), str(e)
                errors += 1
                continue
            loaded.stats()
            loaded.dump(str(tmp_path / "out"), formats[i % len(formats)])
            ok += 1
    assert ok and errors
    # A few through the command line: exit 0 or 2 with one line, no traceback.
    for data in list(mutations(valid, random.Random(5)))[:8]:
        path.write_bytes(data)
        proc = run_strop("convert", path, "-o", tmp_path / "out.folded")
        assert proc.returncode in (0, 2), describe(proc)
        assert "Traceback" not in proc.stderr
        if proc.returncode == 2:
            assert len(proc.stderr.splitlines()) == 1, proc.stderr


# ---- Stats.dump: any format from any Stats --------------------------------------------------

def test_stats_of_one_profile_dumps_its_own_call_tree(tmp_path):
    import strop

    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    p = strop.Profile()
    p.runcall(fib, 14)
    p.dump(str(tmp_path / "profile.folded"))
    stats = p.stats()
    stats.dump(str(tmp_path / "stats.folded"))
    assert (tmp_path / "stats.folded").read_text() == (tmp_path / "profile.folded").read_text()


def test_stats_of_a_pstats_file_dumps_approximate_stacks_with_the_same_own_times(tmp_path):
    import cProfile
    import strop

    def leaf(n):
        return sum(range(n))

    def branch():
        return [leaf(20000) for _ in range(30)]

    c = cProfile.Profile()
    c.runcall(branch)
    c.dump_stats(str(tmp_path / "c.prof"))
    stats = strop.Stats(str(tmp_path / "c.prof"))
    stats.dump(str(tmp_path / "c.folded"))
    lines = (tmp_path / "c.folded").read_text().splitlines()
    folded_us = sum(int(line.rsplit(" ", 1)[1]) for line in lines)
    total_us = sum(v[2] for v in stats.stats.values()) * 1e6
    # Own times are kept exactly; only rounding to whole microseconds differs.
    assert abs(folded_us - total_us) <= len(lines) + 1
    assert any("leaf" in line for line in lines)
