"""Per-thread profiles end to end: `strop run --threads` writes pprof samples
labelled thread_name/thread_id and one speedscope profile per thread; without
--threads both files stay as before (no labels, one profile).  A reader that
is missing skips its test here and fails it under CI=true."""
import json
import re
import shutil

import pytest

from conftest import IN_CI, run, run_strop
from test_formats import check_speedscope

PROGRAM = """\
import threading

def spin(n):
    s = 0
    for i in range(n):
        s += i * i
    return s

def work_alpha():
    for _ in range(30):
        spin(2000)

def work_beta():
    for _ in range(20):
        spin(2000)

a = threading.Thread(target=work_alpha, name="alpha")
b = threading.Thread(target=work_beta, name="beta")
a.start()
b.start()
for _ in range(10):
    spin(2000)
a.join()
b.join()
"""

# spin() calls per thread.
SPINS = {"MainThread": 10, "alpha": 30, "beta": 20}


def require_go():
    go = shutil.which("go")
    if go is None:
        message = "go is not installed (Debian golang-go): pprof files are not checked"
        if IN_CI:
            pytest.fail("CI=true and " + message)
        pytest.skip(message)
    return go


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    d = tmp_path_factory.mktemp("threads")
    (d / "prog.py").write_text(PROGRAM)
    return d


def strop_run(program, output, *options):
    done = run_strop("run", "-q", *options, "-o", output, "prog.py", cwd=program)
    assert done.returncode == 0, done.stderr
    return program / output


def pprof_raw(path):
    """`go tool pprof -raw`: the samples as (values, location ids, labels),
    and the function name of each location id."""
    done = run([require_go(), "tool", "pprof", "-raw", path])
    assert done.returncode == 0, done.stderr
    samples, names = [], {}
    section = None
    for line in done.stdout.splitlines():
        if line in ("Samples:", "Locations", "Mappings"):
            section = line
            continue
        if section == "Samples:":
            m = re.match(r"^\s+(\d+)\s+(\d+):((?: \d+)*)\s*$", line)
            if m:
                samples.append(([int(m.group(1)), int(m.group(2))],
                                [int(i) for i in m.group(3).split()], {}))
                continue
            m = re.match(r"^\s+(\w+):\[(.*)\]$", line)
            if m and samples:
                samples[-1][2][m.group(1)] = m.group(2)
        elif section == "Locations":
            m = re.match(r"^\s+(\d+): 0x0 M=\d+ (\S+)", line) or \
                re.match(r"^\s+(\d+): \S+ (\S+)", line)
            if m:
                names[int(m.group(1))] = m.group(2)
    return samples, names


def test_pprof_thread_labels(program):
    samples, names = pprof_raw(strop_run(program, "t.pb.gz", "--threads"))
    assert samples
    assert {s[2].get("thread_name") for s in samples} == set(SPINS)
    for values, locations, labels in samples:
        assert "thread_id" in labels and int(labels["thread_id"]) > 0
        assert not any(names.get(i, "").startswith("<thread") for i in locations)
    # Per-thread totals: the calls of spin() under each thread's label.
    spins = {}
    for values, locations, labels in samples:
        if names.get(locations[0]) == "spin":
            spins[labels["thread_name"]] = spins.get(labels["thread_name"], 0) + values[0]
    assert spins == SPINS


def test_pprof_totals_match_speedscope(program):
    """One profile written twice: pprof's time per thread label equals
    speedscope's profile of that thread."""
    (program / "both.py").write_text(
        "import strop\np = strop.Profile(threads=True)\np.enable()\n"
        "exec(open('prog.py').read())\np.disable()\n"
        "p.dump('both.pb.gz')\np.dump('both.speedscope.json')\n")
    from conftest import run_python

    done = run_python("both.py", cwd=program)
    assert done.returncode == 0, done.stderr
    samples, _ = pprof_raw(program / "both.pb.gz")
    doc = json.loads((program / "both.speedscope.json").read_text())
    per_thread = {}
    for values, _, labels in samples:
        per_thread[labels["thread_name"]] = per_thread.get(labels["thread_name"], 0) + values[1]
    assert per_thread == {p["name"]: p["endValue"] for p in doc["profiles"]}
    assert set(per_thread) == set(SPINS)


def test_speedscope_one_profile_per_thread(program):
    doc = json.loads(strop_run(program, "t.speedscope.json", "--threads").read_text())
    check_speedscope(doc)
    assert sorted(p["name"] for p in doc["profiles"]) == sorted(SPINS)
    frames = doc["shared"]["frames"]
    assert not any(f["name"].startswith("<thread") for f in frames)
    spin = [i for i, f in enumerate(frames) if f["name"] == "spin"]
    for prof in doc["profiles"]:
        roots = {frames[s[0]]["name"] for s in prof["samples"]}
        assert not any(r.startswith("<thread") for r in roots)
        assert any(s[-1] in spin for s in prof["samples"]), prof["name"]


def test_without_threads_unchanged(program):
    doc = json.loads(strop_run(program, "plain.speedscope.json").read_text())
    check_speedscope(doc)
    assert len(doc["profiles"]) == 1
    assert doc["profiles"][0]["name"].startswith("strop run")
    samples, _ = pprof_raw(strop_run(program, "plain.pb.gz"))
    assert samples and all(labels == {} for _, _, labels in samples)


def test_pstats_without_thread_frames(program):
    """The thread roots are never called: pstats has no trace of them."""
    import marshal

    stats = marshal.loads(strop_run(program, "t.prof", "--threads").read_bytes())
    assert not any(name.startswith("<thread") for _, _, name in stats)
    assert sum(v[1] for k, v in stats.items() if k[2] == "spin") == sum(SPINS.values())


SEQUENTIAL = """\
import threading

def spin(n):
    return sum(i * i for i in range(n))

def work_first():
    spin(100)

def work_second():
    spin(100)

def work_third():
    spin(100)

# One after the other: each new thread usually gets the finished one's
# threading ident (and thread state memory), never its profile.
kept = []
for name, work in (("first", work_first), ("second", work_second), ("third", work_third)):
    t = threading.Thread(target=work, name=name)
    t.start()
    t.join()
    if KEEP:
        kept.append(t)
"""


@pytest.mark.parametrize("keep", [True, False], ids=["objects-kept", "objects-dropped"])
def test_threads_run_one_after_another_keep_their_own_roots(tmp_path, keep):
    (tmp_path / "seq.py").write_text(f"KEEP = {keep}\n" + SEQUENTIAL)
    done = run_strop("run", "-q", "--threads", "-o", "seq.folded", "seq.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    works = {}
    for line in (tmp_path / "seq.folded").read_text().splitlines():
        frames = line.rsplit(" ", 1)[0].split(";")
        for frame in frames:
            if frame.startswith("work_"):
                works.setdefault(frames[0], set()).add(frame.split(" ")[0])
    if keep:
        assert works == {"<thread first>": {"work_first"}, "<thread second>": {"work_second"},
                         "<thread third>": {"work_third"}}
    else:
        # A finished thread whose Thread object is gone has no name left to
        # read: it keeps a root of its own, labelled with its OS thread id.
        assert sorted(map(sorted, works.values())) == [["work_first"], ["work_second"],
                                                       ["work_third"]]
        assert works.get("<thread third>") == {"work_third"}
        assert all(re.fullmatch(r"<thread (third|Thread \d+)>", root) for root in works)
