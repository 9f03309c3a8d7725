#!/usr/bin/env python3
"""How long the HTML report of a 100,000-node profile takes to write and to open.

Not a test: a script that prints one table.  It profiles a generated program
whose calling-context tree has about 100,000 nodes (500 functions in 25
files; each call of the tree calls 5 distinct others, 7 levels deep, so every
call is a node of its own), then times:

  write    Profile.dump("x.html"): the C writer, plus graphviz's dot for the
           call graph when it is installed; the C writer is also timed alone
           (Tracer.dump with the template and no call graph);
  load     headless Chromium (Debian chromium, through Playwright) from
           page.goto() to the first drawing of the flame graph
           (window.stropReport.ready), and the page's own count from
           navigation start (performance.now() when ready);
  search   a regex search over every node, and one zoom click.

The issue's budget: the page opens in under 2 s.  Playwright and Chromium
must be installed (pip install playwright; apt-get install chromium).

usage: python bench/bench_report.py [--rounds N] [--keep FILE]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types

FUNCTIONS = 500
BRANCHING = 5
LEVELS = 7


def build_program():
    """The generated program's entry point: FUNCTIONS functions that call each other."""
    template = compile("def f(level, seed):\n"
                       "    if level == 0:\n"
                       "        return 0\n"
                       "    for j in range(BRANCHING):\n"
                       "        callee = FUNCS[(seed * 7 + j * 101 + 13) % FUNCTIONS]\n"
                       "        callee(level - 1, seed * 5 + j)\n"
                       "    return 0\n", "<bench>", "exec").co_consts[0]
    space = {"BRANCHING": BRANCHING, "FUNCTIONS": FUNCTIONS}
    funcs = []
    for i in range(FUNCTIONS):
        code = template.replace(co_name="handler_%d" % i, co_firstlineno=10 + 20 * (i % 40),
                                co_filename="/srv/app/pkg%d/module%d.py" % (i // 100, i // 20))
        funcs.append(types.FunctionType(code, space))
    space["FUNCS"] = funcs

    def main():
        funcs[0](LEVELS, 1)

    return main


def profile_once(path):
    import strop
    from strop import _profile

    main = build_program()
    p = strop.Profile(builtins=False)
    p.runcall(main)
    nodes = p.info["nodes"]
    start = time.perf_counter()
    p.dump(path, command="bench_report.py (generated, %d functions)" % FUNCTIONS)
    write_time = time.perf_counter() - start
    # Writer alone: the page without the call graph step.
    with open(os.path.join(os.path.dirname(_profile.__file__), "report.html"),
              encoding="utf-8") as f:
        template = f.read()
    start = time.perf_counter()
    p._tracer.dump(path + ".nodot.html", "html", "bench", 0.005, 0.001, template=template,
                   note="(no call graph in this run)")
    c_time = time.perf_counter() - start
    os.unlink(path + ".nodot.html")
    return {"nodes": nodes, "write_s": write_time, "c_writer_s": c_time,
            "dot_s": max(write_time - c_time, 0.0),
            "bytes": os.path.getsize(path)}


def load_in_chromium(path, rounds):
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    loads, own, searches, zooms = [], [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        for _ in range(rounds):
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            start = time.perf_counter()
            page.goto("file://" + os.path.abspath(path))
            page.wait_for_function("window.stropReport && window.stropReport.ready",
                                   timeout=60000, polling=10)
            loads.append(time.perf_counter() - start)
            own.append(page.evaluate("window.stropReport.loadMs") / 1000)
            if errors:
                raise SystemExit("the page reported errors: %s" % errors)
            start = time.perf_counter()
            page.fill("#search", "handler_1[0-9]$")
            page.press("#search", "Enter")
            searches.append(time.perf_counter() - start)
            rect = page.evaluate("window.stropReport.rectOf('handler_0')")
            box = page.locator("#flame").bounding_box()
            start = time.perf_counter()
            page.mouse.click(box["x"] + rect["x"], box["y"] + 60)
            zooms.append(time.perf_counter() - start)
            drawn = page.evaluate("window.stropReport.drawnRects")
            page.close()
        browser.close()
    return {"load_s": statistics.median(loads), "page_own_s": statistics.median(own),
            "search_s": statistics.median(searches), "zoom_click_s": statistics.median(zooms),
            "drawn_after_zoom": drawn}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3, help="page loads to take the median of")
    ap.add_argument("--keep", metavar="FILE", help="also copy the report there")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "report.html")
        # Profile in a child, so that the browser's driver does not share the interpreter.
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", path],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        written = json.loads(proc.stdout)
        if args.keep:
            shutil.copy(path, args.keep)
        loaded = load_in_chromium(path, args.rounds)
    result = dict(written, **loaded)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print("HTML report of a %d-node profile (%.1f MB)" % (result["nodes"], result["bytes"] / 1e6))
    rows = [("Profile.dump (C writer + dot)", result["write_s"]),
            ("  C writer alone", result["c_writer_s"]),
            ("  the rest: graphviz dot -Tsvg", result["dot_s"]),
            ("Chromium: goto -> first drawing", result["load_s"]),
            ("  page's own count from navigation", result["page_own_s"]),
            ("regex search over all nodes", result["search_s"]),
            ("zoom click", result["zoom_click_s"])]
    for label, seconds in rows:
        print("  %-36s %8.3f s" % (label, seconds))
    verdict = "within" if result["load_s"] < 2.0 else "OVER"
    print("  load %s the 2 s budget; %d rectangles drawn after the zoom" % (
        verdict, result["drawn_after_zoom"]))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(profile_once(sys.argv[2])))
    else:
        main()
