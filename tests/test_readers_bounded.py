"""Readers bounded by their input (issue 14): no file can make strop's readers
use more memory or time than its bytes justify, and every bad file ends in one
line naming the byte where it went wrong, exit status 2, no traceback.

Ground truth: marshal.load (the stdlib) for what a pstats file holds; the
files are cProfile's, the profile module's and strop's own.  The damaged files
are real files with bytes changed (tests/helpers/mutate.py), read under a
memory limit (RLIMIT_AS) in a child.
"""
import gzip
import json
import marshal
import os
import random
import struct
import sys
import textwrap
import time
import zlib

import pytest

from conftest import HELPERS, describe, run_python, run_strop

sys.path.insert(0, str(HELPERS))
from mutate import mutate  # noqa: E402

WORKLOAD = textwrap.dedent("""
    def leaf(n):
        return sum(i * i for i in range(n))

    def middle(n):
        return leaf(n) + len(str(list(range(n))))

    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    class Box:
        def __init__(self, n):
            self.items = sorted(range(n), key=lambda x: -x)

    def main():
        for _ in range(10):
            middle(500)
            Box(50)
        fib(12)

    main()
""")


@pytest.fixture(scope="module")
def real_files(tmp_path_factory):
    """strop's pstats, folded and pprof, cProfile's and the profile module's
    pstats of the same small program."""
    folder = tmp_path_factory.mktemp("real")
    script = folder / "workload.py"
    script.write_text(WORKLOAD)
    files = {}
    for kind, name in (("strop_pstats", "s.prof"), ("folded", "s.folded"),
                       ("pprof", "s.pb.gz")):
        proc = run_strop("run", "-q", "-o", folder / name, script)
        assert proc.returncode == 0, describe(proc)
        files[kind] = folder / name
    for kind, module in (("cprofile_pstats", "cProfile"), ("profile_pstats", "profile")):
        out = folder / f"{module}.prof"
        proc = run_python("-m", module, "-o", out, script)
        assert proc.returncode == 0, describe(proc)
        files[kind] = out
    return files


def read_pstats(path):
    from strop import _engine

    return _engine.read_pstats(str(path))


# ---- pstats: the same dict as marshal, or one line with a byte offset -----------

def without_code_objects(stats):
    """`stats` with each code object in a key (python -m profile names the
    script's entry by one) as the reader gives it: the string of its repr,
    less the address."""
    def key(k):
        if isinstance(k[2], type(key.__code__)):
            code = k[2]
            return (k[0], k[1], f'<code object {code.co_name}, file "{code.co_filename}", '
                                f'line {code.co_firstlineno}>')
        return k
    return {key(k): v[:4] + ({key(c): cv for c, cv in v[4].items()},)
            for k, v in stats.items()}


def test_pstats_reader_gives_what_marshal_gives(real_files, tmp_path):
    for kind in ("strop_pstats", "cprofile_pstats", "profile_pstats"):
        with open(real_files[kind], "rb") as f:
            want = without_code_objects(marshal.load(f))
        assert read_pstats(real_files[kind]) == want, kind
        # Every marshal format version, from 0 (text floats, no references) to 4.
        with open(real_files[kind], "rb") as f:
            original = marshal.load(f)
        for version in range(5):
            path = tmp_path / f"{kind}-v{version}.prof"
            path.write_bytes(marshal.dumps(original, version))
            got = read_pstats(path)
            assert got == want, (kind, version)
            assert [type(x) for v in got.values() for x in v[:4]] == \
                [type(x) for v in want.values() for x in v[:4]]
    # Counts beyond 32 bits (marshal's 'l'), negative ones, non-ASCII names.
    odd = {("/src/é.py", 3, "f"): (2 ** 40, 2 ** 40 + 3, 0.25, 1.5,
                                   {("~", 0, "<built-in method x>"): (2 ** 33, -5, 0.5, 1.5)}),
           ("~", 0, "<built-in method x>"): (1, 1, 0.0, 0.0, {})}
    path = tmp_path / "odd.prof"
    path.write_bytes(marshal.dumps(odd))
    assert read_pstats(path) == odd


def huge_count_file(real_files, tmp_path):
    """strop's pstats file with its first 5-tuple's count set to 2**31 - 1, as
    the damaged file of issue 14 had; returns (path, offset of that tuple)."""
    data = bytearray(real_files["strop_pstats"].read_bytes())
    at = data.index(b"(\x05\x00\x00\x00")
    data[at + 1:at + 5] = struct.pack("<i", 2 ** 31 - 1)
    path = tmp_path / "huge.prof"
    path.write_bytes(bytes(data))
    return path, at, len(data)


# Under ASan the children inherit its runtime, which reserves terabytes of
# address space for its shadow: no RLIMIT_AS there (the plain runs have it),
# and its slower code gets more CPU time per case.
UNDER_SANITIZER = bool(os.environ.get("STROP_UNDER_SANITIZER"))
CPU_SECONDS_PER_CASE = 5.0 if UNDER_SANITIZER else 1.0


def limited_strop(*args, limit_mb=400):
    """strop in a child whose address space is limited to limit_mb."""
    code = textwrap.dedent(f"""
        import resource, sys
        limit = {limit_mb} * 1024 * 1024
        if not {UNDER_SANITIZER}:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        from strop.cli import main
        sys.exit(main(sys.argv[1:]))
    """)
    return run_python("-c", code, *args, timeout=120)


def test_huge_count_is_one_line_with_its_byte(real_files, tmp_path):
    path, at, size = huge_count_file(real_files, tmp_path)
    for command in (["view", path], ["convert", path, "-o", tmp_path / "out.folded"]):
        start = time.monotonic()
        proc = limited_strop(*command)
        assert proc.returncode == 2, describe(proc)
        assert proc.stderr == (f"strop: {path}: not a pstats file (byte {at}: a tuple of "
                               f"2,147,483,647 items in a file of {size:,} bytes)\n")
        assert time.monotonic() - start < 60
    import strop

    with pytest.raises(strop.FormatError, match=f"byte {at}: a tuple of 2,147,483,647"):
        strop.Stats(str(path))


def test_file_that_crashes_marshal_is_refused(tmp_path):
    """tests/data/marshal_segfault.prof: strop's pstats file of a small program
    with a few bytes changed (found by the mutated-file test).  CPython 3.12's
    marshal.loads, and so the stdlib's pstats and strop before issue 14, die
    of a segmentation fault on it; strop view says where it is damaged."""
    path = os.path.join(os.path.dirname(__file__), "data", "marshal_segfault.prof")
    proc = run_strop("view", path)
    assert proc.returncode == 2, describe(proc)
    assert proc.stderr == (f"strop: {path}: not a pstats file (byte 1436: a tuple of 2,051 "
                           "items in a file of 1,678 bytes)\n")


@pytest.mark.parametrize("data, message", [
    (b"[\x00\x00\x00\x00", "byte 0: 0x5b (a list), where a pstats file starts with a marshal dict"),
    (b"{(\x02\x00\x00\x00NNNN", "byte 1: a tuple of 2 items where a (file, line, name) key has 3"),
    (b"{)\x03u\xff\xff\xff\x7f", "byte 3: a string of 2,147,483,647 bytes in a file of 8 bytes"),
    (b"{)\x03z\x01ai\x01\x00\x00\x00z\x01f[",
     "byte 14: 0x5b (a list) where a function's (cc, nc, tt, ct, callers) belongs"),
    (b"{)\x03z\x01ar\x00\x00\x00\x00", "byte 6: a reference to object 0 of the 0 read so far"),
    (b"\xfb)\x03z\x01ar\x00\x00\x00\x00",  # the dict is object 0
     "byte 6: a reference to a shared dict or tuple where the line of a (file, line, name) key"),
    (b"{)\x03z\x01ai\x01\x00\x00\x00z\x01f)\x05", "byte 16: the file ends where a function's"),
    (b"{)\x03z\x01al\xff\xff\xff\x7f", "byte 6: an int of 2,147,483,647 digits in a file of 11"),
])
def test_pstats_shapes_refused_with_their_byte(tmp_path, data, message):
    from strop import _engine

    path = tmp_path / "bad.prof"
    path.write_bytes(data)
    with pytest.raises(_engine.FormatError) as info:
        read_pstats(path)
    assert str(info.value).startswith(f"{path}: not a pstats file ({message}"), str(info.value)
    if data[:1] not in (b"{", b"\xfb"):
        return  # strop view takes it for folded stacks, by its first byte
    proc = run_strop("view", path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, describe(proc)
    assert f"({message}" in proc.stderr and "Traceback" not in proc.stderr


# ---- pprof and folded: caps on inflation, frames and depth ------------------------

def test_gzip_bomb_stops_at_the_cap(tmp_path):
    from strop import _engine

    path = tmp_path / "bomb.pb.gz"
    path.write_bytes(gzip.compress(bytes(8 << 20), compresslevel=9))
    with pytest.raises(_engine.FormatError,
                       match=r"gzip data that inflates to more than 1,048,576 bytes, the most "
                             r"strop reads \(a gzip bomb\? --max-input raises it\)"):
        _engine.load_profile(str(path), "pprof", max_inflated=1 << 20)


def test_gzip_bomb_through_the_command_line(tmp_path):
    """A .pb.gz inflating past 1 GiB: refused at the cap, in bounded memory."""
    path = tmp_path / "bomb.pb.gz"
    z = zlib.compressobj(1, zlib.DEFLATED, 31)
    chunk = bytes(1 << 20)
    with open(path, "wb") as f:
        for _ in range(1100):  # 1,100 MiB of zeros, 5 MB gzipped
            f.write(z.compress(chunk))
        f.write(z.flush())
    proc = limited_strop("view", path, limit_mb=400)
    assert proc.returncode == 2, describe(proc)
    assert proc.stderr == (f"strop: {path}: not a pprof file (found gzip data that inflates to "
                           "more than 1,073,741,824 bytes, the most strop reads (a gzip "
                           "bomb? --max-input raises it))\n")


def test_max_input_sets_the_cap(tmp_path):
    """--max-input lowers (or raises) the cap, on gzip data once inflated and
    on plain files as they are; a size it cannot read is a usage error."""
    bomb = tmp_path / "bomb.pb.gz"
    bomb.write_bytes(gzip.compress(bytes(8 << 20), compresslevel=9))
    proc = limited_strop("convert", bomb, "-o", tmp_path / "x.folded", "--max-input", "1M",
                         limit_mb=400)
    assert proc.returncode == 2, describe(proc)
    assert "inflates to more than 1,048,576 bytes" in proc.stderr, describe(proc)
    big = tmp_path / "big.folded"
    big.write_text("main;work 1\n" * 200000)  # 2.4 MB
    proc = limited_strop("view", big, "--max-input", "2M", limit_mb=400)
    assert proc.returncode == 2 and proc.stderr == (
        f"strop: {big}: 2,400,000 bytes, more than the 2,097,152 that strop reads; raise "
        "--max-input to read it\n"), describe(proc)
    proc = limited_strop("view", big, "--max-input", "3M", limit_mb=400)
    assert proc.returncode == 0 and "work" in proc.stdout, describe(proc)
    proc = limited_strop("view", big, "--max-input", "lots", limit_mb=400)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, describe(proc)
    assert "expected a size such as 500M or 2G, not 'lots'" in proc.stderr, describe(proc)


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def test_pprof_frames_are_budgeted(tmp_path):
    """One Location of 500 inlined Lines, named 150 times by each of 4,000
    Samples: 300 million frames from 0.6 MB, which took the reader about ten
    seconds of CPU and now stops at 16 frames a byte."""
    from strop import _engine

    strings = b"".join(field(6, s) for s in (b"", b"samples", b"count", b"f", b"a.py"))
    types = field(1, b"\x08\x01\x10\x02")
    function = field(5, b"\x08\x01\x10\x03\x20\x04")
    line = field(4, b"\x08\x01\x10\x07")
    location = field(4, b"\x08\x01" + line * 500)
    sample = field(2, field(1, b"\x01" * 150) + field(2, b"\x01"))
    path = tmp_path / "frames.pb"
    path.write_bytes(types + strings + function + location + sample * 4000)
    start = time.process_time()
    with pytest.raises(_engine.FormatError, match="more frames than 16 per byte of the file"):
        _engine.load_profile(str(path), "pprof")
    assert time.process_time() - start < 5


def test_folded_depth_is_limited(tmp_path):
    from strop import _engine

    path = tmp_path / "deep.folded"
    path.write_text(";".join(["f"] * 100_001) + " 1\n")
    with pytest.raises(_engine.FormatError, match="line 1: a stack of more than 100,000 frames"):
        _engine.load_profile(str(path), "folded")
    path.write_text(";".join(["f"] * 100_000) + " 1\n")
    assert _engine.load_profile(str(path), "folded").info()["nodes"] == 100_002


# ---- damaged real files, many of them, under a memory limit -----------------------

MUTATIONS_PER_FILE = 400


def test_mutated_files_end_in_0_or_2_within_memory_and_time(real_files, tmp_path):
    """Every real file damaged MUTATIONS_PER_FILE times; each case read by
    strop view (and every fourth by strop convert) in one child limited to
    256 MB of address space beyond its start.  Each must end in exit status 0
    or 2, with one line on stderr for 2, nothing escaping as a traceback, in
    under a second of CPU (CPU time, so a busy machine does not fail it)."""
    rng = random.Random(14)
    cases = []
    folder = tmp_path / "cases"
    folder.mkdir()
    for kind, path in sorted(real_files.items()):
        data = path.read_bytes()
        for i in range(MUTATIONS_PER_FILE):
            case = folder / f"{kind}-{i}{''.join(path.suffixes)}"
            case.write_bytes(mutate(data, rng))
            cases.append(case)
    out = tmp_path / "results.json"
    proc = run_python(HELPERS / "read_cases.py", 256, out, folder, timeout=600)
    assert proc.returncode == 0, describe(proc)
    records = json.loads(out.read_text())
    assert len(records) >= len(cases)
    bad = [r for r in records if r["escaped"] or r["status"] not in (0, 2)
           or (r["status"] == 2 and r["stderr"].count("\n") != 1)
           or "Traceback" in r["stderr"] or r["cpu"] > CPU_SECONDS_PER_CASE]
    assert not bad, json.dumps(bad[:5], indent=1)
    refused = sum(r["status"] == 2 for r in records)
    assert 0 < refused < len(records)  # the damage is seen, and not everything is refused


# ---- out of memory on every allocation in turn -----------------------------------

def test_view_survives_every_allocation_failing(real_files, tmp_path):
    """strop view of a small file of each kind, with the engine's Nth
    allocation failing, for every N until the read needs fewer: each ends in
    exit 0 (the failure was absorbed) or 2 with one line, never a crash."""
    small = tmp_path / "small.folded"
    small.write_text("main (a.py:1);f (a.py:2) 3\nmain (a.py:1);g (a.py:3);h (a.py:4) 2\n")
    code = textwrap.dedent("""
        import io, sys
        from contextlib import redirect_stderr, redirect_stdout
        from strop import _engine
        from strop.cli import main
        results = []
        for n in range(1, 400):
            err = io.StringIO()
            _engine._fail_alloc_after(n)
            try:
                with redirect_stdout(io.StringIO()), redirect_stderr(err):
                    status = main(["view", sys.argv[1]])
            finally:
                _engine._fail_alloc_after(0)
            results.append((status, err.getvalue()))
        print(repr(results))
    """)
    for path in (small, real_files["pprof"], real_files["cprofile_pstats"]):
        proc = run_python("-c", code, path)
        assert proc.returncode == 0, describe(proc)
        results = eval(proc.stdout)
        assert all(s in (0, 2) for s, _ in results), results
        failed = [e for s, e in results if s == 2]
        assert all(e.count("\n") == 1 and "out of memory" in e for e in failed), failed[:3]
        assert failed  # the walk reached the reader's allocations


# ---- benchmark files (JSON) ----------------------------------------------------

def test_benchmark_file_nested_or_oversized_is_one_line(tmp_path):
    from strop import _speed_cli

    good = tmp_path / "good.json"
    _speed_cli.write(str(good), _speed_cli.new_document())
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    proc = run_strop("compare", good, deep)
    assert proc.returncode == 2, describe(proc)
    assert proc.stderr == f"strop: {deep} is not a strop benchmark file: JSON nested too deeply\n"
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(_speed_cli.MAX_FILE_BYTES + 1)
    proc = run_strop("compare", good, big)
    assert proc.returncode == 2, describe(proc)
    assert proc.stderr == (f"strop: {big} is not a strop benchmark file: 67,108,865 bytes, more "
                           "than the 67,108,864 strop reads\n")


def test_pprof_error_names_its_byte(tmp_path):
    path = tmp_path / "bad.pb.gz"
    path.write_bytes(gzip.compress(field(6, b"") + b"\x08\x01" + field(2, b"abc")))
    proc = run_strop("view", path)
    assert proc.returncode == 2, describe(proc)
    assert proc.stderr == (f"strop: {path}: not a pprof file (byte 2 of the inflated data: "
                           "protobuf data that is not a pprof Profile (field 1 of wire type 0))\n")
