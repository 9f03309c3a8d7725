"""The HTML report (Profile.dump("x.html"), strop run -o x.html), checked by
its real reader: headless Chromium, driven by Playwright.

A child process profiles a small program (recursion, a built-in, a function
named `<script>alert(1)</script>`) and writes the report and strop's own
numbers (the pstats dict of p._tracer.stats()).  The plain tests read the
file as text and JSON; the browser tests load it in Chromium and use the
page's test hook, window.stropReport (zoom root, matched share, rectangles
drawn, where a frame is), through real clicks and key presses.

Without Chromium (Debian `chromium`) or Playwright (PyPI `playwright`; no
browser download: the Debian browser is used) the browser tests skip, and
fail under CI=true.  The 100,000-node load time is measured by
bench/bench_report.py, not asserted here.
"""
import json
import os
import re
import shutil
import sys

import pytest

from conftest import IN_CI, REPO, TARGETS, child_env, describe, run_python, run_strop

SCARY = "<script>alert(1)</script>"
TEMPLATE = REPO / "src" / "strop" / "report.html"
MARK = "/*STROP_PROFILE_JSON*/"

# The child: profile a program, write the report and strop's numbers.
CHILD = r'''
import json, sys, types
import strop

out, numbers = sys.argv[1], sys.argv[2]
code = compile("def f(n):\n    return sum(range(n))\n", "/srv/app/evil.py", "exec").co_consts[0]
evil = types.FunctionType(code.replace(co_name=%(scary)r), globals())

def leaf(n):
    s = 0
    for i in range(n):
        s += i
    return s

def rec(k):
    if k == 0:
        return leaf(3000)
    return rec(k - 1) + leaf(800)

def main():
    for _ in range(40):
        rec(6)
        evil(4000)
        leaf(1500)

p = strop.Profile()
p.runcall(main)
stats = p._tracer.stats()
p.dump(out, command="demo.py --flag <b>&amp;")
rows = [[k[0], k[1], k[2], v[0], v[1], v[2], v[3]] for k, v in stats.items()]
with open(numbers, "w") as f:
    json.dump(rows, f)
''' % {"scary": SCARY}


def data_of(html):
    """The profile JSON inside a report's text."""
    m = re.search(r'<script type="application/json" id="strop-profile">(.*?)</script>', html,
                  re.S)
    assert m, "no profile data in the page"
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """(path of the report, strop's numbers: {name: (cc, nc, tt, ct)}, sum of tt)."""
    folder = tmp_path_factory.mktemp("report")
    out, numbers = folder / "report.html", folder / "numbers.json"
    proc = run_python("-c", CHILD, out, numbers)
    assert proc.returncode == 0, describe(proc)
    rows = json.loads(numbers.read_text())
    by_name = {r[2]: tuple(r[3:]) for r in rows}
    return out, by_name, sum(r[5] for r in rows)


# --- The file as text: escaping and the data (no browser) -----------------------------------

def test_the_data_is_escaped_inside_the_script_element(report):
    path, numbers, _ = report
    html = path.read_text(encoding="utf-8")
    template = TEMPLATE.read_text(encoding="utf-8")
    # Nothing from the data closes a script element or opens one.
    assert html.count("</script>") == template.count("</script>")
    assert html.count("<script") == template.count("<script")
    assert SCARY not in html
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in html
    assert "demo.py --flag \\u003cb\\u003e\\u0026amp;" in html
    data = data_of(html)
    assert SCARY in [f[0] for f in data["funcs"]]
    assert data["command"] == "demo.py --flag <b>&amp;"
    assert MARK not in html


def test_the_data_agrees_with_strops_numbers(report):
    path, numbers, _ = report
    data = data_of(path.read_text(encoding="utf-8"))
    funcs, stats, tree = data["funcs"], data["stats"], data["tree"]
    assert data["version"] == 1 and data["unit"] == "ns" and data["sampled"] is False
    assert len(stats) == 4 * len(funcs)
    for f, (name, _file, _line) in enumerate(funcs):
        cc, nc, tt, ct = stats[4 * f:4 * f + 4]
        want = numbers[name]
        assert (cc, nc) == (want[0], want[1]), name
        assert tt == pytest.approx(want[2] * 1e9, abs=1000) and ct == pytest.approx(want[3] * 1e9,
                                                                                  abs=1000), name
    assert data["calls"] == sum(v[1] for v in numbers.values())
    n = len(tree["parent"])
    assert all(len(tree[k]) == n for k in ("func", "self", "total", "calls"))
    assert tree["parent"][0] == -1 and tree["func"][0] == -1
    assert all(0 <= tree["parent"][i] < i for i in range(1, n))
    children = [0] * n
    for i in range(1, n):
        children[tree["parent"][i]] += tree["total"][i]
    assert tree["total"][0] == children[0]
    for i in range(1, n):  # inclusive = own + children's (to rounding)
        assert abs(tree["total"][i] - tree["self"][i] - children[i]) <= 2 + n // 10


def test_writer_refuses_a_template_without_the_mark(tmp_path):
    import strop

    p = strop.Profile()
    p.runcall(sum, range(10))
    with pytest.raises(ValueError, match="template"):
        p._tracer.dump(str(tmp_path / "a.html"), "html")
    with pytest.raises(OSError):
        p._tracer.dump(str(tmp_path / "b.html"), "html", template="<html>no mark</html>")
    p._tracer.dump(str(tmp_path / "c.html"), "html", template="A" + MARK + "B")
    text = (tmp_path / "c.html").read_text()
    assert text.startswith("A{") and text.endswith("}B") and json.loads(text[1:-1])["funcs"]


def test_cli_writes_the_report(tmp_path):
    out = tmp_path / "run.html"
    proc = run_strop("run", "-q", "-o", out, TARGETS / "rec_known.py")
    assert proc.returncode == 0, describe(proc)
    data = data_of(out.read_text(encoding="utf-8"))
    assert "rec_known.py" in data["command"]
    assert data["python"] and data["duration_ns"] > 0 and data["date_unix_ms"] > 0
    fact = [f for f in data["funcs"] if f[0] == "fact"]
    assert len(fact) == 1
    f = data["funcs"].index(fact[0])
    assert data["stats"][4 * f:4 * f + 2] == [2, 13]
    other = tmp_path / "report.data"
    proc = run_strop("run", "-q", "--format", "html", "-o", other, TARGETS / "rec_known.py")
    assert proc.returncode == 0, describe(proc)
    assert other.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_without_graphviz_the_report_says_so(tmp_path):
    out = tmp_path / "nodot.html"
    empty = tmp_path / "bin"
    empty.mkdir()
    proc = run_strop("run", "-q", "-o", out, TARGETS / "rec_known.py",
                     env=child_env(PATH=str(empty)))
    assert proc.returncode == 0, describe(proc)
    data = data_of(out.read_text(encoding="utf-8"))
    assert data["callgraph_svg"] is None and "graphviz" in data["callgraph_note"]


def test_with_graphviz_the_call_graph_is_inside(report):
    if shutil.which("dot") is None:
        if IN_CI:
            pytest.fail("CI=true and graphviz's dot is missing")
        pytest.skip("graphviz's dot is not installed (Debian graphviz)")
    data = data_of(report[0].read_text(encoding="utf-8"))
    assert data["callgraph_svg"].lstrip().startswith(("<?xml", "<!DOCTYPE", "<svg"))
    assert "</svg>" in data["callgraph_svg"] and data["callgraph_note"] is None


# --- The C writer alone, built with the sanitizers ------------------------------------------

C_SOURCES = ["cct.c", "mem.c", "textbuf.c", "writers.c", "folded.c", "callgrind.c", "pprof.c",
             "speedscope.c", "dot.c", "html.c"]

# A hand-built tree: main -> scary (2 calls) -> hidden (unnamed) -> leaf (3);
# main -> sum (built-in, 5); main -> leaf.  Ticks are milliseconds.  Writes
# PREFIX.traced and PREFIX.sampled; checks the error paths and survival of
# each allocation failing in turn.
C_TEST = r"""
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cct.h"
#include "mem.h"
#include "writers.h"

static int passed, failed;
#define CHECK(c) do { if (c) passed++; else { failed++; \
    fprintf(stderr, "line %d: check failed: %s\n", __LINE__, #c); } } while (0)

enum { K_MAIN = 1, K_SCARY, K_HIDDEN, K_LEAF, K_SUM };

static uint32_t
add(StropTree *t, uint32_t parent, uintptr_t key, uint64_t calls, uint64_t self)
{
    uint32_t f = strop_tree_func_find(t, key), n;
    if (f == STROP_NONE)
        f = strop_tree_func_add(t, key, STROP_NONE);
    n = strop_tree_child_add(t, parent, key, f);
    t->nodes[n].calls = calls;
    t->nodes[n].self_ticks = t->nodes[n].total_ticks = self;
    return n;
}

static void
label(StropLabel *l, const char *file, long line, const char *name)
{
    l->file = file;
    l->file_len = file ? strlen(file) : 0;
    l->line = line;
    l->name = name;
    l->name_len = name ? strlen(name) : 0;
}

static int
write_to(const char *path, const StropTree *t, const StropLabel *labels,
         const StropWriteInfo *info)
{
    FILE *out = fopen(path, "wb");
    int rc, saved;
    if (out == NULL)
        return -2;
    rc = strop_write_format(out, STROP_FORMAT_HTML, t, labels, info);
    saved = errno;
    fclose(out);
    errno = saved;
    return rc;
}

int
main(int argc, char **argv)
{
    static const char page[] = "<pre>" STROP_HTML_MARK "</pre>";
    char path[4096];
    StropTree t;
    StropLabel labels[8];
    StropWriteInfo info;
    uint32_t m, s, h;
    int rc, ok = 0;

    if (argc != 2 || strop_tree_init(&t, 0, 0) < 0)
        return 2;
    m = add(&t, STROP_ROOT, K_MAIN, 1, 10);
    s = add(&t, m, K_SCARY, 2, 5);
    h = add(&t, s, K_HIDDEN, 1, 7);
    add(&t, h, K_LEAF, 3, 4);
    add(&t, m, K_SUM, 5, 20);
    add(&t, m, K_LEAF, 1, 2);
    for (uint32_t n = t.n_nodes; n-- > 2;)
        t.nodes[t.nodes[n].parent].total_ticks += t.nodes[n].total_ticks;
    memset(labels, 0, sizeof labels);
    label(&labels[STROP_OVERFLOW_FUNC], "~", 0, "<strop: functions beyond the cap>");
    label(&labels[strop_tree_func_find(&t, K_MAIN)], "prog.py", 10, "main");
    label(&labels[strop_tree_func_find(&t, K_SCARY)], "a<b>&.py", 20,
          "</script><script>alert(1)</script><!-- \"q\" \\ \n \xff");
    label(&labels[strop_tree_func_find(&t, K_LEAF)], "prog.py", 30, "leaf");
    label(&labels[strop_tree_func_find(&t, K_SUM)], "~", 0, "<built-in method sum>");

    memset(&info, 0, sizeof info);
    info.command = "prog.py </script>";
    info.time_kind = "wall";
    info.seconds_per_tick = 1e-3;
    info.duration_ns = 50000000;
    info.start_unix_ns = 1700000000000000000ull;
    info.html_svg = "<svg><script>alert(2)</script></svg>";
    info.html_svg_len = strlen(info.html_svg);
    info.python_version = "CPython 3.x";

    /* Without a template, or without the mark in it: EINVAL. */
    errno = 0;
    CHECK(write_to("/dev/null", &t, labels, &info) == -1 && errno == EINVAL);
    info.html_template = "<html>no mark</html>";
    info.html_template_len = strlen(info.html_template);
    errno = 0;
    CHECK(write_to("/dev/null", &t, labels, &info) == -1 && errno == EINVAL);
    info.html_template = page;
    info.html_template_len = strlen(page);

    snprintf(path, sizeof path, "%s.traced", argv[1]);
    CHECK(write_to(path, &t, labels, &info) == 0);

    /* Out of memory at every allocation in turn: -1 and ENOMEM, or done. */
    for (long k = 1; k < 1000 && !ok; k++) {
        strop_mem_fail_after(k, 0);
        errno = 0;
        rc = write_to("/dev/null", &t, labels, &info);
        strop_mem_fail_after(0, 0);
        if (rc == 0)
            ok = 1;
        else
            CHECK(rc == -1 && errno == ENOMEM);
    }
    CHECK(ok);

    info.sampled = 1;
    info.period_ns = 1000000;
    info.html_svg = NULL;
    info.html_note = "no <dot> here";
    snprintf(path, sizeof path, "%s.sampled", argv[1]);
    CHECK(write_to(path, &t, labels, &info) == 0);

    strop_tree_free(&t);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
"""


@pytest.fixture(scope="module")
def c_report(tmp_path_factory):
    """Builds and runs the C test above; {kind: (page text, its JSON)}."""
    import subprocess

    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        if IN_CI:
            pytest.fail("no C compiler in CI")
        pytest.skip("no C compiler")
    folder = tmp_path_factory.mktemp("c_html")
    source, exe = folder / "test_html.c", folder / "test_html"
    source.write_text(C_TEST)
    engine = REPO / "src" / "strop" / "_engine"
    flags = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes",
             "-Wmissing-prototypes", "-Werror", "-g", "-O1"]
    if not os.environ.get("STROP_UNDER_SANITIZER"):
        flags += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
    subprocess.run([cc, *flags, "-I", str(engine), str(source),
                    *[str(engine / s) for s in C_SOURCES], "-lz", "-o", str(exe)], check=True)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
    env.pop("LD_PRELOAD", None)
    proc = subprocess.run([str(exe), str(folder / "page")], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip().endswith(" 0 failed"), describe(proc)
    pages = {}
    for kind in ("traced", "sampled"):
        text = (folder / ("page." + kind)).read_text(encoding="utf-8")
        assert text.startswith("<pre>{") and text.endswith("}</pre>")
        pages[kind] = (text, json.loads(text[len("<pre>"):-len("</pre>")]))
    return pages


def test_c_writer_escapes_everything_that_could_end_the_script(c_report):
    for text, data in c_report.values():
        inside = text[len("<pre>"):-len("</pre>")]
        assert "<" not in inside and ">" not in inside and "&" not in inside
        scary = [f for f in data["funcs"] if f[0].startswith("</script>")]
        assert scary == [["</script><script>alert(1)</script><!-- \"q\" \\ \n \ufffd",
                          "a<b>&.py", 20]]
        assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)" in inside
        assert data["command"] == "prog.py </script>" and data["python"] == "CPython 3.x"
    assert c_report["traced"][1]["callgraph_svg"] == "<svg><script>alert(2)</script></svg>"
    assert c_report["sampled"][1]["callgraph_note"] == "no <dot> here"


def tree_rows(data):
    """[(name of the node, name of its parent, self, total, calls)] in the page's order."""
    tree, funcs = data["tree"], data["funcs"]
    name = lambda i: "-" if i < 0 else "all" if i == 0 else funcs[tree["func"][i]][0][:9]
    return [(name(i), name(tree["parent"][i]), tree["self"][i], tree["total"][i],
             tree["calls"][i]) for i in range(len(tree["parent"]))]


def test_c_writer_tree_and_table(c_report):
    traced = c_report["traced"][1]
    ms = 1000000
    # The unnamed node is left out; its child hangs from its parent.  (The
    # order of siblings is the tree's.)
    assert sorted(tree_rows(traced)) == sorted([
        ("all", "-", 0, 48 * ms, 0),
        ("main", "all", 10 * ms, 48 * ms, 1),
        ("</script>", "main", 5 * ms, 16 * ms, 2),
        ("leaf", "</script>", 4 * ms, 4 * ms, 3),
        ("<built-in", "main", 20 * ms, 20 * ms, 5),
        ("leaf", "main", 2 * ms, 2 * ms, 1),
    ])
    assert traced["calls"] == 12 and traced["unit"] == "ns" and traced["duration_ns"] == 50 * ms
    assert traced["date_unix_ms"] == 1700000000000
    names = [f[0][:9] for f in traced["funcs"]]
    leaf = names.index("leaf")
    assert traced["stats"][4 * leaf:4 * leaf + 4] == [4, 4, 6 * ms, 6 * ms]
    sampled = c_report["sampled"][1]
    assert sampled["unit"] == "samples" and sampled["period_ns"] == ms and sampled["sampled"]
    assert sorted(tree_rows(sampled)) == sorted([
        ("all", "-", 0, 13, 0),
        ("main", "all", 1, 13, 1),
        ("</script>", "main", 2, 6, 2),
        ("leaf", "</script>", 3, 3, 3),
        ("<built-in", "main", 5, 5, 5),
        ("leaf", "main", 1, 1, 1),
    ])


# --- In the browser -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    # The page does not depend on the Python that wrote it: tools/test-all
    # drives the browser in one of its runs only (STROP_BROWSER_TESTS=0 in the
    # others, among them the sanitizer run, whose LD_PRELOAD Chromium must not get).
    if os.environ.get("STROP_BROWSER_TESTS") == "0":
        pytest.skip("browser tests run in another of this CI run's Python versions")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        message = "playwright is not importable (%s; PyPI playwright)" % exc
        if IN_CI:
            pytest.fail("CI=true and " + message)
        pytest.skip(message)
    if chromium is None:
        message = "chromium is not installed (Debian chromium)"
        if IN_CI:
            pytest.fail("CI=true and " + message)
        pytest.skip(message)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium)
        try:
            yield b
        finally:
            b.close()


class Page:
    """A report loaded in a fresh page, with what went wrong on the way."""

    def __init__(self, browser, path):
        self.errors, self.dialogs = [], []
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.goto(path.as_uri())
        self.page.wait_for_function("window.stropReport && window.stropReport.ready",
                                    timeout=20000)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def hook(self):
        return self.page.evaluate(
            "() => { const r = window.stropReport; return {zoomName: r.zoomName, "
            "matchedShare: r.matchedShare, drawnRects: r.drawnRects, inverted: r.inverted, "
            "sortKey: r.sortKey, sortDescending: r.sortDescending}; }")

    def rect(self, name):
        return self.page.evaluate("n => window.stropReport.rectOf(n)", name)

    def point(self, name):
        """Page coordinates of the middle of the widest frame named `name`."""
        r = self.rect(name)
        assert r is not None, "no frame %r drawn" % name
        box = self.page.locator("#flame").bounding_box()
        return box["x"] + r["x"], box["y"] + r["y"]

    def search(self, text):
        self.page.fill("#search", text)
        self.page.press("#search", "Enter")

    def column(self, cls):
        return self.page.eval_on_selector_all(
            "#functions tbody td." + cls,
            "tds => tds.map(td => td.dataset.value || td.textContent)")

    def close(self):
        self.page.close()


@pytest.fixture
def page(browser, report):
    pg = Page(browser, report[0])
    yield pg
    pg.close()


def test_loads_without_console_errors(page):
    assert page.errors == [] and page.dialogs == []
    hook = page.hook()
    assert hook["drawnRects"] > 5 and hook["zoomName"] is None
    assert page.page.text_content("#command") == "demo.py --flag <b>&amp;"
    meta = page.page.text_content("#meta")
    for word in ("Python", "Duration", "Calls", "Date"):
        assert word in meta
    assert page.page.locator("#callgraph img, #callgraph p").count() == 1


def test_clicking_a_frame_zooms_to_it_and_reset_goes_back(page):
    width = page.page.locator("#flame").bounding_box()["width"]
    assert page.rect("rec")["w"] < width * 0.95
    page.page.mouse.click(*page.point("rec"))
    assert page.hook()["zoomName"] == "rec"
    assert "rec" in page.page.text_content("#zoom-status")
    assert page.rect("rec")["w"] == pytest.approx(width, abs=1)
    page.page.click("#reset")
    assert page.hook()["zoomName"] is None
    page.page.mouse.click(*page.point("leaf"))
    assert page.hook()["zoomName"] == "leaf"
    page.page.keyboard.press("Escape")
    assert page.hook()["zoomName"] is None
    assert page.errors == []


@pytest.mark.parametrize("name, regex", [("rec", "^rec$"), ("leaf", "^leaf$"),
                                         ("<built-in method builtins.sum>", r"builtins\.sum")])
def test_search_shows_the_matched_share(page, report, name, regex):
    _, numbers, total = report
    page.search(regex)
    share = page.hook()["matchedShare"]
    expected = numbers[name][3] / total  # cumulative time, recursion counted once
    assert share == pytest.approx(expected, rel=1e-3)
    status = page.page.text_content("#search-status")
    assert "Matched 1 function" in status
    assert re.search(r"(\d+\.\d+)%", status).group(1) == (
        "%.1f" % (expected * 100) if expected >= 0.0995 else "%.2f" % (expected * 100))
    page.search("")
    assert page.hook()["matchedShare"] is None
    page.search("(")  # not a regex: said so, no console error
    assert "valid" in page.page.text_content("#search-status")
    assert page.errors == []


def test_search_draws_matches_in_their_colour(page):
    def colour_at(x, y):
        return page.page.evaluate(
            "([x, y]) => { const c = document.getElementById('flame'); const r = "
            "c.getBoundingClientRect(); const d = devicePixelRatio; return Array.from("
            "c.getContext('2d').getImageData((x - r.left) * d, (y - r.top) * d, 1, 1).data); }",
            [x, y])

    x, y = page.point("rec")
    before = colour_at(x - 10, y)
    page.search("^rec$")
    after = colour_at(x - 10, y)
    assert before != after and after[:3] == [0xd0, 0x4e, 0xd6]


def test_a_scary_name_shows_as_text(page):
    names = page.column("name")
    assert SCARY in names
    assert page.page.locator("script").count() == 2
    page.page.mouse.move(*page.point(SCARY))
    assert page.page.text_content("#tooltip .name") == SCARY
    page.page.mouse.click(*page.point(SCARY))
    assert page.hook()["zoomName"] == SCARY
    assert SCARY in page.page.text_content("#zoom-status")
    assert page.dialogs == [] and page.errors == []


def test_the_table_sorts_when_a_header_is_clicked(page):
    assert page.hook()["sortKey"] == "cumtime"
    page.page.click("#functions th:text-is('tottime')")
    values = [float(v) for v in page.column("tottime")]
    assert values == sorted(values, reverse=True) and page.hook()["sortDescending"]
    page.page.click("#functions th:text-is('tottime')")
    values = [float(v) for v in page.column("tottime")]
    assert values == sorted(values) and not page.hook()["sortDescending"]
    page.page.click("#functions th:text-is('ncalls')")
    values = [float(v) for v in page.column("ncalls")]
    assert values == sorted(values, reverse=True) and values[0] > values[-1]
    page.page.click("#functions th:text-is('function')")
    names = page.column("name")
    assert names == sorted(names) and page.hook()["sortKey"] == "name"
    page.page.click("#functions th:text-is('cumtime')")
    values = [float(v) for v in page.column("cumtime")]
    assert values == sorted(values, reverse=True)
    assert page.errors == []


def test_clicking_a_name_in_the_table_searches_it(page):
    page.page.click("#functions td.name button:text-is('leaf')")
    assert page.page.input_value("#search") == "^leaf$"
    assert page.hook()["matchedShare"] > 0


def test_the_icicle_toggle_turns_the_graph_over(page):
    height = page.page.locator("#flame").bounding_box()["height"]
    assert page.rect("all")["y"] > height - 18  # flame: the root at the bottom
    page.page.click("#invert")
    hook = page.hook()
    assert hook["inverted"] and page.page.get_attribute("#invert", "aria-pressed") == "true"
    assert page.rect("all")["y"] < 18  # icicle: the root on top
    page.page.mouse.click(*page.point("rec"))  # and it still zooms
    assert page.hook()["zoomName"] == "rec"
    page.page.click("#invert")
    assert not page.hook()["inverted"]
    assert page.errors == []


def test_a_sampled_profile_loads(browser, c_report, tmp_path):
    data_text = c_report["sampled"][0][len("<pre>"):-len("</pre>")]
    page_text = TEMPLATE.read_text(encoding="utf-8").replace(MARK, data_text)
    out = tmp_path / "sampled.html"
    out.write_text(page_text, encoding="utf-8")
    pg = Page(browser, out)
    try:
        assert pg.errors == [] and pg.dialogs == []
        assert "Samples" in pg.page.text_content("#meta")
        # Sample shares and the times they stand for; no call counts.
        assert not pg.page.is_visible("#functions th[data-key=ncalls]")
        assert pg.page.text_content("#functions th[data-key=tottime]:not(.pct)") == \
            "own time (est.)"
        assert pg.page.text_content("#functions th.pct[data-key=cumtime]") == "total %"
        pg.search("^leaf$")
        assert pg.hook()["matchedShare"] == pytest.approx(4 / 13)
        assert "no <dot> here" == pg.page.text_content("#callgraph p")
        pg.page.mouse.click(*pg.point("main"))
        assert pg.hook()["zoomName"] == "main"
    finally:
        pg.close()


def test_an_empty_profile_loads(browser, tmp_path):
    import strop

    out = tmp_path / "empty.html"
    strop.Profile().dump(out)
    pg = Page(browser, out)
    try:
        assert pg.errors == []
        assert pg.page.is_visible("#flame-empty")
    finally:
        pg.close()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
