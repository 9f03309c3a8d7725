"""Sampled profiles write every format traced ones write (`strop sample -o`,
`strop.Sampler.dump()`), each file read back by its real consumer: the
stdlib's pstats, gprof2dot, go tool pprof, callgrind_annotate, the
speedscope schema, graphviz's dot, an XML parser, and headless Chromium for
the HTML report and the pictures.

The target spends about twice as long in `hot` as in `warm`, each in its own
loop, so the readers must agree that `hot` has the most samples of its own.
Readers that are missing skip (fail under CI=true), as in test_formats.py.
"""
import json
import marshal
import pstats
import re
import sys
import xml.etree.ElementTree as ET

import pytest

from conftest import describe, require_module, run, run_python, run_strop
from test_formats import annotate_total, check_speedscope, pprof_raw, require_tool, summary_of
from test_report import Page, browser, data_of  # noqa: F401 (browser: a fixture)

TARGET = r'''
import time

def hot():
    end = time.perf_counter() + 0.40
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n

def warm():
    end = time.perf_counter() + 0.20
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n

def main():
    hot()
    warm()

main()
print("target done")
'''

# Every -o name `strop run --help` lists, and the format it must give.
NAMES = [
    ("x.prof", "pstats"), ("x.pstats", "pstats"), ("x.folded", "folded"),
    ("x.collapsed", "folded"), ("x.pb.gz", "pprof"), ("x.pprof", "pprof"),
    ("callgrind.out.7", "callgrind"), ("x.callgrind", "callgrind"),
    ("x.speedscope.json", "speedscope"), ("x.dot", "dot"), ("x.svg", "svg"), ("x.png", "png"),
    ("flame.html", "html"),
]
SAMPLES_LINE = re.compile(r"^(\d+) samples in .*; (\d+) could not be read", re.M)


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    path = tmp_path_factory.mktemp("target") / "hot_warm.py"
    path.write_text(TARGET)
    return path


@pytest.fixture(scope="module")
def written(tmp_path_factory, target):
    """{name: (path, samples the text report counted, unreadable ones)}: one
    `strop sample -o NAME` run per name."""
    folder = tmp_path_factory.mktemp("sampled")
    result = {}
    for name, fmt in NAMES:
        if fmt in ("svg", "png", "dot"):
            require_tool("dot", "graphviz")
        out = folder / name
        proc = run_strop("sample", "--rate", "200", "-l", "3", "-o", out, target)
        assert proc.returncode == 0, describe(proc)
        assert proc.stdout == "target done\n"
        assert "strop: profile written to " + str(out) in proc.stderr, describe(proc)
        m = SAMPLES_LINE.search(proc.stderr)
        assert m, describe(proc)
        result[name] = (out, int(m.group(1)), int(m.group(2)))
    return result


def names_of(fmt):
    return [name for name, f in NAMES if f == fmt]


@pytest.mark.parametrize("name", names_of("pstats"))
def test_pstats_loads_in_the_stdlib(written, name):
    path, samples, _ = written[name]
    st = pstats.Stats(str(path))
    assert st.total_calls > 0
    top = max(st.stats.items(), key=lambda kv: kv[1][2])[0]
    assert top[2] == "hot", st.stats.keys()
    # Each sample counts once, in the own samples of its innermost function.
    with open(path, "rb") as f:
        raw = marshal.load(f)
    assert sum(v[2] for v in raw.values()) == pytest.approx(samples / 200, abs=1e-6)


@pytest.mark.parametrize("name", names_of("folded"))
def test_folded_is_read_by_gprof2dot(written, name):
    path, samples, _ = written[name]
    lines = path.read_text(encoding="utf-8").splitlines()
    counts = {}
    for line in lines:
        stack, n = line.rsplit(" ", 1)
        leaf = stack.split(";")[-1]
        counts[leaf] = counts.get(leaf, 0) + int(n)
    assert sum(counts.values()) == samples
    assert max(counts, key=counts.get).startswith("hot ")
    require_module("gprof2dot", "reads folded stacks")
    proc = run([sys.executable, "-m", "gprof2dot", "-f", "collapse", path])
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.startswith("digraph") and "hot" in proc.stdout


@pytest.mark.parametrize("name", names_of("pprof"))
def test_pprof_is_read_by_go(written, name):
    path, samples, _ = written[name]
    header, rows, _ = pprof_raw(path)
    assert header == ["samples/count", "wall/nanoseconds[dflt]"], header  # wall mode
    assert sum(n for n, _, _ in rows) == samples


@pytest.mark.parametrize("name", names_of("callgrind"))
def test_callgrind_is_read_by_callgrind_annotate(written, name):
    path, samples, _ = written[name]
    summary, text = summary_of(path)
    assert summary == samples
    total, report = annotate_total(path)
    assert total == summary and "hot" in report


def test_speedscope_validates(written):
    path, samples, _ = written["x.speedscope.json"]
    doc = json.loads(path.read_text(encoding="utf-8"))
    check_speedscope(doc)
    assert len(doc["profiles"][0]["samples"]) > 0


def test_dot_renders(written):
    path = written["x.dot"][0]
    proc = run([require_tool("dot", "graphviz"), "-Tsvg", path])
    assert proc.returncode == 0 and proc.stderr == "", describe(proc)
    assert "hot" in proc.stdout


def test_svg_is_an_svg_document(written):
    root = ET.parse(str(written["x.svg"][0])).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "hot" in texts


def test_png_is_a_png(written):
    data = written["x.png"][0].read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 10 and height > 10


def test_html_holds_the_samples(written):
    path, samples, unreadable = written["flame.html"]
    data = data_of(path.read_text(encoding="utf-8"))
    assert data["sampled"] is True and data["unit"] == "samples"
    assert data["calls"] == samples
    sampling = data["sampling"]
    assert sampling["rate"] == 200 and 0 < sampling["achieved_rate"] <= 400
    assert sampling["unreadable"] == unreadable and sampling["readings"] >= samples
    assert data["python"] == "CPython %d.%d" % sys.version_info[:2]
    own = {}
    for i, f in enumerate(data["tree"]["func"][1:], 1):
        name = data["funcs"][f][0]
        own[name] = own.get(name, 0) + data["tree"]["self"][i]
    assert max(own, key=own.get) == "hot"


def test_the_report_of_samples_in_the_browser(browser, written):  # noqa: F811
    path, samples, unreadable = written["flame.html"]
    pg = Page(browser, path)
    try:
        assert pg.errors == [] and pg.dialogs == []
        meta = pg.page.text_content("#meta")
        assert "Samples%d" % samples in meta.replace(",", "")
        assert re.search(r"Rate[\d.]+ Hz achieved of 200 Hz asked", meta), meta
        assert re.search(r"Unreadable[\d.]+%% \(%d of [\d,]+ readings\)" % unreadable, meta), meta
        shown = [h.text_content() for h in pg.page.query_selector_all("#functions th")
                 if h.is_visible()]
        assert shown == ["own time (est.)", "own %", "total time (est.)", "total %", "function",
                         "file:line"], shown
        # No call counts anywhere in the table: the first row is the most own
        # samples once sorted by own time, and its time is an estimate in ms.
        pg.page.click("#functions th:text-is('own time (est.)')")
        first = pg.page.eval_on_selector("#functions tbody tr",
                                         "tr => Array.from(tr.cells).filter(c => "
                                         "c.offsetParent !== null).map(c => c.textContent)")
        assert first[4] == "hot", first
        assert re.fullmatch(r"[\d.]+ ms", first[0]) and first[1].endswith("%"), first
        pg.search("^hot$")
        assert pg.hook()["matchedShare"] > 0.4
    finally:
        pg.close()


@pytest.mark.parametrize("name", ["x.svg", "x.png"])
def test_the_pictures_show_in_the_browser(browser, written, name):  # noqa: F811
    page = browser.new_page()
    try:
        page.goto(written[name][0].as_uri())
        size = page.evaluate("() => { const i = document.querySelector('img, svg'); "
                             "const r = i.getBoundingClientRect(); return [r.width, r.height]; }")
        assert size[0] > 10 and size[1] > 10
    finally:
        page.close()


def test_a_timeline_is_refused_before_sampling(tmp_path, target):
    proc = run_strop("sample", "-o", tmp_path / "trace.json", target)
    assert proc.returncode == 2, describe(proc)
    assert proc.stdout == "" and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("strop: cannot write ") and "strop run --timeline" in proc.stderr


IN_PROCESS = r'''
import sys, time
import strop

def hot():
    end = time.perf_counter() + 0.3
    while time.perf_counter() < end:
        pass

with strop.Sampler(rate=200) as s:
    hot()
for out in sys.argv[1:]:
    s.dump(out)
s.close()
'''


def test_the_in_process_sampler_writes_html_and_pictures(tmp_path):
    require_tool("dot", "graphviz")
    html, svg = tmp_path / "in.html", tmp_path / "in.svg"
    proc = run_python("-c", IN_PROCESS, html, svg)
    assert proc.returncode == 0, describe(proc)
    data = data_of(html.read_text(encoding="utf-8"))
    assert data["sampled"] and data["sampling"]["rate"] == 200
    assert "hot" in [f[0] for f in data["funcs"]]
    # The Sampler's own start and stop are not in the user's profile.
    assert not any("_sampler_api" in f[1] for f in data["funcs"])
    assert ET.parse(str(svg)).getroot().tag.endswith("svg")
