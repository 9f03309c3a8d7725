"""The tracer's timeline: every call as a Chrome trace "X" event, per thread.

Ground truth: the call counts of the same recording (which equal cProfile's,
see test_tracer.py), and the rule of the format that the spans of one thread
nest as calls do.
"""
import json
import threading

import pytest

from strop import _engine


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def record(timeline, builtins=True):
    tracer = _engine.Tracer(builtins=builtins, timeline=timeline)
    worker = threading.Thread(target=fib, args=(9,), name="worker-thread")
    tracer.enable()
    worker.start()
    fib(11)
    worker.join()
    tracer.disable()
    names = {t.ident: t.name for t in threading.enumerate()}
    names[worker.ident] = worker.name
    return tracer, names, worker


def load(tracer, names, tmp_path):
    path = tmp_path / "trace.json"
    tracer.dump_timeline(str(path), names, "test run")
    return json.loads(path.read_text())


def spans_nest(events):
    """True when the X events of each thread nest (no partial overlap)."""
    by_thread = {}
    for e in events:
        by_thread.setdefault(e["tid"], []).append(e)
    for spans in by_thread.values():
        spans.sort(key=lambda e: (e["ts"], -e["dur"]))
        open_ends = []
        for e in spans:
            start, end = e["ts"], e["ts"] + e["dur"]
            while open_ends and open_ends[-1] <= start + 1e-3:
                open_ends.pop()
            if open_ends and end > open_ends[-1] + 1e-3:
                return False
            open_ends.append(end)
    return True


@pytest.mark.parametrize("builtins", [True, False], ids=["builtins", "no-builtins"])
def test_every_call_is_a_span_and_spans_nest(tmp_path, builtins):
    tracer, names, worker = record(100000, builtins)
    trace = load(tracer, names, tmp_path)
    events = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    fib_key = next(k for k in tracer.stats() if k[2] == "fib")
    fib_calls = tracer.stats()[fib_key][1]
    fib_spans = [e for e in events if e["name"].startswith("fib (")]
    assert len(fib_spans) == fib_calls == 287 + 109
    # fib(9) ran on the worker, fib(11) on the main thread.
    # Threads are the OS's (what Perfetto shows), named from threading's ident.
    assert sum(e["tid"] == worker.native_id for e in fib_spans) == 109
    assert spans_nest(events)
    threads = {e["tid"]: e["args"]["name"] for e in trace["traceEvents"] if e["ph"] == "M"}
    assert threads[worker.native_id] == "worker-thread"
    assert trace["otherData"]["dropped_calls"] == 0


def test_a_full_buffer_drops_calls_and_says_how_many(tmp_path):
    tracer, names, _ = record(50)
    info = tracer.info()
    assert info["timeline_calls"] == 50 and info["timeline_dropped"] > 0
    trace = load(tracer, names, tmp_path)
    assert len([e for e in trace["traceEvents"] if e["ph"] == "X"]) <= 50
    assert trace["otherData"]["dropped_calls"] == info["timeline_dropped"]


def test_no_timeline_without_asking():
    tracer = _engine.Tracer()
    tracer.enable()
    fib(3)
    tracer.disable()
    with pytest.raises(RuntimeError, match="timeline"):
        tracer.dump_timeline("/tmp/never-written.json")


def test_strop_run_writes_a_timeline(tmp_path):
    import subprocess
    import sys

    from conftest import TARGETS, child_env

    out = tmp_path / "trace.json"
    proc = subprocess.run([sys.executable, "-m", "strop", "run", "-q", "--timeline", "-o",
                           str(out), str(TARGETS / "rec_known.py")], capture_output=True,
                          text=True, env=child_env())
    assert proc.returncode == 0, proc.stderr
    events = json.loads(out.read_text())["traceEvents"]
    assert any(e["ph"] == "X" and e["name"].startswith("fact (") for e in events)
    assert spans_nest([e for e in events if e["ph"] == "X"])
