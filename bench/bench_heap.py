"""The heap census against guppy3, pympler and objgraph: prints figures, asserts nothing.

The heap is issue 9's: N small objects (200,000 by default) that each hold a
list and a child, the list holding an int, a float and a str, the child a list
of its own (8 objects each, about 1.6M in all). Each run builds it in a fresh
interpreter and times one census there, so that no tool sees what another
created (guppy3 creates the instance dicts it counts on 3.11+). Figures are
medians over the runs of CPU seconds (process_time: the machine is shared),
as ratios to strop's census; wall seconds beside them.

Also printed, from strop's runs: dicts that exist after the census and did not
before (gc.get_objects before and after; "creating nothing" means 0), and the
peak memory the census used per object (VmHWM after resetting it, minus VmRSS
before).

With --why, the same heap (125,000 nodes by default: about 1M objects) times
why things are alive instead: strop.path_to of the last node's str against
objgraph.find_backref_chain (to a module) and guppy3's shortest paths
(iso(obj).shpaths); the retained sizes of all objects (strop: census,
reference graph and dominator tree) against guppy3's dominated size of the
one node list (iso(nodes).domisize); and one strop.memory_grow of a function
that builds a string.

Usage: python bench/bench_heap.py [--nodes N] [--runs R] [--tools strop,guppy3,pympler,objgraph]
       python bench/bench_heap.py --why [--nodes N] [--runs R] [--tools strop,guppy3,objgraph]
"""
import argparse
import json
import statistics
import subprocess
import sys

# The heap both children build: the nodes, each holding a list and a child.
HEAP = r"""
import gc, json, sys, time

class Child:
    def __init__(self, i):
        self.items = [i]

class Node:
    def __init__(self, i):
        self.items = [i + 1000, i * 0.5, str(i)]
        self.child = Child(i)

nodes = [Node(i) for i in range({nodes})]
tool = {tool!r}
"""

CHILD = HEAP + r"""

def dicts():
    return sum(1 for o in gc.get_objects() if type(o) is dict)

def rss(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024

if tool == "strop":
    import strop
elif tool == "guppy3":
    from guppy import hpy
    h = hpy()
elif tool == "pympler":
    from pympler import muppy, summary
elif tool == "objgraph":
    import objgraph

gc.collect()
dicts_before = dicts()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets VmHWM to the current RSS
rss_before = rss("VmRSS")
start = time.perf_counter()
cpu_start = time.process_time()
if tool == "strop":
    census = strop.heap()
    objects, size = census.count, census.size
elif tool == "guppy3":
    census = h.heap()
    objects, size = census.count, census.size
elif tool == "pympler":
    objs = muppy.get_objects()
    rows = summary.summarize(objs)
    objects, size = sum(r[1] for r in rows), sum(r[2] for r in rows)
elif tool == "objgraph":
    counts = objgraph.typestats()
    objects, size = sum(counts.values()), None
seconds = time.perf_counter() - start
cpu = time.process_time() - cpu_start
peak = rss("VmHWM") - rss_before
if tool == "strop":
    node_rows = [r for r in census.rows if r[0].endswith("Node")]
    del census
else:
    node_rows = None
print(json.dumps({{"seconds": seconds, "cpu": cpu, "objects": objects, "size": size,
                  "dicts_created": dicts() - dicts_before, "peak": peak, "node_rows": node_rows}}))
"""


WHY_CHILD = HEAP + r"""
out = {{}}

def cpu(f):
    gc.collect()
    start = time.process_time()
    result = f()
    return time.process_time() - start, result

if tool == "strop":
    import strop
    from strop import _memory, _engine
    out["objects"] = len(_engine.heap_census(None))
    out["path"], where = cpu(lambda: strop.path_to(nodes[-1].items[2]))
    out["path_text"] = where.expression
    del where
    out["graph"], graph = cpu(_memory._graph)
    out["dominators"], top = cpu(lambda: graph.top_retainers(3))
    out["retained_nodes"] = graph.retained_of(nodes)
    del graph, top
    out["grow"], report = cpu(lambda: strop.memory_grow(lambda: "-".join(map(str, range(100)))))
    out["grow_verdict"] = report.verdict if report.verdict == "stable" else str(report)
elif tool == "objgraph":
    import objgraph
    out["path"], chain = cpu(lambda: objgraph.find_backref_chain(nodes[-1].items[2],
                                                                  objgraph.is_proper_module))
    out["path_text"] = " -> ".join(type(o).__name__ for o in chain)
elif tool == "guppy3":
    from guppy import hpy
    h = hpy()
    out["path"], paths = cpu(lambda: str(h.iso(nodes[-1].items[2]).shpaths))
    out["path_text"] = paths.splitlines()[-1].strip() if paths else ""
    out["domisize"], size = cpu(lambda: h.iso(nodes).domisize)
    out["retained_nodes"] = size
print(json.dumps(out))
"""


def run_why(tool, nodes):
    out = subprocess.run([sys.executable, "-c", WHY_CHILD.format(nodes=nodes, tool=tool)],
                         capture_output=True, text=True, timeout=1200)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main_why(opts):
    tools = [t for t in opts.tools.split(",") if t in ("strop", "guppy3", "objgraph")]
    results = {tool: [] for tool in tools}
    for _ in range(opts.runs):
        for tool in tools:
            results[tool].append(run_why(tool, opts.nodes))
    print("Python %s, %d nodes, %d runs each (medians of CPU seconds)"
          % (sys.version.split()[0], opts.nodes, opts.runs))
    med = {}
    for tool in tools:
        good = results[tool]
        if any("error" in r for r in good):
            print("%-9s unavailable: %s" % (tool, good[0].get("error")))
            continue
        med[tool] = {k: statistics.median(r[k] for r in good)
                     for k in good[0] if isinstance(good[0][k], float)}
        med[tool]["last"] = good[-1]
    s = med.get("strop")
    if s:
        print("strop     census of %d objects; path_to %.3f s: %s"
              % (s["last"]["objects"], s["path"], s["last"]["path_text"]))
        print("          retained sizes of all: census + graph %.3f s, dominator tree %.3f s, "
              "total %.3f s; retained by the node list %d bytes"
              % (s["graph"], s["dominators"], s["graph"] + s["dominators"],
                 s["last"]["retained_nodes"]))
        print("          memory_grow of a string builder %.3f s: %s"
              % (s["grow"], s["last"]["grow_verdict"]))
    for tool in ("objgraph", "guppy3"):
        t = med.get(tool)
        if not t:
            continue
        ratio = " (%.1fx strop's path_to)" % (t["path"] / s["path"]) if s else ""
        print("%-9s path %.3f s%s: %s" % (tool, t["path"], ratio, t["last"]["path_text"]))
        if tool == "guppy3":
            ratio = (" (%.1fx strop's retained sizes of every object)"
                     % (t["domisize"] / (s["graph"] + s["dominators"])) if s else "")
            print("          domisize of the node list alone %.3f s%s: %d bytes"
                  % (t["domisize"], ratio, t["last"]["retained_nodes"]))


def run(tool, nodes):
    out = subprocess.run([sys.executable, "-c", CHILD.format(nodes=nodes, tool=tool)],
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tools", default="strop,guppy3,pympler,objgraph")
    parser.add_argument("--why", action="store_true",
                        help="time path_to, retained sizes and memory_grow instead")
    opts = parser.parse_args(argv)
    if opts.why:
        opts.nodes = opts.nodes or 125000
        return main_why(opts)
    opts.nodes = opts.nodes or 200000
    tools = opts.tools.split(",")
    results = {tool: [] for tool in tools}
    # Interleaved, so that a busy moment of the machine hits every tool alike.
    for _ in range(opts.runs):
        for tool in tools:
            results[tool].append(run(tool, opts.nodes))
    print("Python %s, %d nodes, %d runs each (medians)" % (sys.version.split()[0], opts.nodes,
                                                           opts.runs))
    base = None
    for tool in tools:
        good = results[tool]
        if any("error" in r for r in good):
            print("%-9s unavailable: %s" % (tool, results[tool][0].get("error")))
            continue
        seconds = statistics.median(r["seconds"] for r in good)
        cpu = statistics.median(r["cpu"] for r in good)
        if tool == "strop":
            base = cpu
        last = good[-1]
        ratio = "%5.1fx strop" % (cpu / base) if base else ""
        print("%-9s CPU %7.3f s (wall %7.3f s) %s  objects %d  size %s  dicts created %d  "
              "peak %.1f MB (%.1f B/object)" % (
                  tool, cpu, seconds, ratio, last["objects"],
                  last["size"] if last["size"] is not None else "-", last["dicts_created"],
                  last["peak"] / 1e6, last["peak"] / max(last["objects"], 1)))
        if last.get("node_rows"):
            print("          rows for Node: %s" % last["node_rows"])


if __name__ == "__main__":
    main()
