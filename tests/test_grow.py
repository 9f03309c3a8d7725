"""strop.memory_grow and `strop grow` against truths strop did not make.

Ground truths: sys.getsizeof of the objects a function is known to leave
behind each call; eval() of the path strop prints, which must give back the
object; two C extensions built here from source with this Python's compiler
flags (sysconfig), one leaking one reference per call (a missing Py_DECREF),
one leaking 64 bytes of malloc per call; and functions known not to leak
(string building, dict churn, a warmed lru_cache, a generator, threads started
and joined), which must not be called leaks.
"""
import functools
import os
import shlex
import subprocess
import sys
import sysconfig
import textwrap
import threading

import pytest

import strop
from conftest import IN_CI, child_env, describe, run_python, run_strop

# ---- functions known not to leak -------------------------------------------


def build_string():
    s = ""
    for i in range(300):
        s += str(i)
    return "-".join([s] * 10)


def dict_churn():
    d = {}
    for i in range(2000):
        d["k%d" % i] = [i]
    for i in range(0, 2000, 2):
        del d["k%d" % i]
    return len(d)


@functools.lru_cache(maxsize=32)
def _cached(i):
    return [i] * 5


def warmed_lru_cache():
    # 32 keys: the warm-ups fill the cache; later calls only hit it
    for i in range(64):
        _cached(i % 32)


def generator():
    return sum(x * x for x in range(2000) if x % 3)


def threads_started_and_joined():
    out = []
    workers = [threading.Thread(target=out.append, args=(i,)) for i in range(4)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return len(out)


GROW_CHILD = r"""
import json, sys
sys.path.insert(0, {tests!r})
import strop, test_grow
function = {function}
report = strop.memory_grow(function, runs={runs})
print(json.dumps({{"verdict": report.verdict, "text": str(report),
                  "per_call": report.per_call, "deltas": report.deltas,
                  "has_native": report.has_native, "native_leak": report.native_leak,
                  "ref_leaks": len(report.ref_leaks), "samples": len(report.samples)}}))
"""


def grow_in_child(function, runs=5):
    """memory_grow(function) in a fresh interpreter, where no other thread
    allocates meanwhile (pytest-xdist's messenger thread does: it moved the
    allocated blocks by one on most calls of dict_churn); its report as a
    dict.  `function` is an expression in the child (test_grow is imported)."""
    import json

    proc = run_python("-c", GROW_CHILD.format(tests=os.path.dirname(os.path.abspath(__file__)),
                                               function=function, runs=runs))
    assert proc.returncode == 0, describe(proc)
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("function", ["build_string", "dict_churn", "warmed_lru_cache",
                                      "generator", "threads_started_and_joined"])
def test_no_false_leak_in_20_runs(function):
    report = grow_in_child("test_grow." + function, runs=20)
    assert report["verdict"] == "stable", report["text"]
    assert report["per_call"]["objects"] == 0, report["text"]
    assert report["ref_leaks"] == 0 and not report["native_leak"]


# ---- leaks in Python -------------------------------------------------------


class Small:
    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n


LEAKED = []


def leak_one_small_object():
    LEAKED.append(Small(None))


def test_catches_one_leaked_small_object_per_call():
    report = strop.memory_grow(leak_one_small_object)
    text = str(report)
    assert report.verdict == "grows", text
    assert report.deltas["objects"] == [1] * report.runs
    kind, count, size, where = report.samples[0]
    assert kind == __name__ + ".Small"
    assert count == 1.0
    assert size == sys.getsizeof(Small(None))
    # the path is Python that gives back a leaked object
    assert eval(where.expression, {"sys": sys}) is where.objects[-1]
    assert type(where.holder) is list and where.holder is LEAKED
    assert "list `LEAKED`" in text
    del LEAKED[:]


d = []


def greedy():
    # the chapter's function
    for i in range(100):
        d.append("garbage data" * i)


def test_greedy_names_d_list_and_bytes_per_call():
    report = strop.memory_grow(greedy)
    text = str(report)
    assert report.verdict == "grows", text
    # "garbage data" * 0 and * 1 are the interpreter's own strings: 98 new a call
    new = ["garbage data" * i for i in range(2, 100)]
    kind, count, size, where = report.samples[0]
    assert (kind, count) == ("str", 98.0)
    assert size == sum(sys.getsizeof(s) for s in new)
    assert where.holder is d
    assert "held by list `d`" in text
    assert "%.0f bytes" % size in text
    assert eval(where.expression, {"sys": sys}) is where.objects[-1]
    # Where they were made: one more call under allocation tracing says.
    site = "%s:%d(greedy)" % (greedy.__code__.co_filename, greedy.__code__.co_firstlineno)
    assert report.made_in == {"str": site}
    assert "made in " + site in text
    del d[:]


# ---- leaks in C --------------------------------------------------------------

LEAK_REF_C = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* leak_ref(obj): takes a reference to obj and forgets to give it back. */
static PyObject *
leak_ref(PyObject *self, PyObject *obj)
{
    (void)self;
    Py_INCREF(obj);
    Py_RETURN_NONE;
}

/* leak_new(): makes a list and forgets to give back its only reference. */
static PyObject *
leak_new(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    if (PyList_New(3) == NULL)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {{"leak_ref", leak_ref, METH_O, NULL},
                                {"leak_new", leak_new, METH_NOARGS, NULL},
                                {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "leakref", NULL, -1, methods};
PyMODINIT_FUNC PyInit_leakref(void) { return PyModule_Create(&mod); }
"""

LEAK_MALLOC_C = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

static void *volatile last; /* only the last block: the others are lost */

/* leak_bytes(): mallocs 64 bytes and never frees them. */
static PyObject *
leak_bytes(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    void *p = malloc(64);
    if (p == NULL)
        return PyErr_NoMemory();
    memset(p, 0x5a, 64);
    last = p;
    Py_RETURN_NONE;
}

/* leak_block(): one block of CPython's allocator (32 bytes), never freed:
 * seen by sys.getallocatedblocks() only, malloc's bytes move by the arena. */
static PyObject *
leak_block(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    void *p = PyMem_Malloc(32);
    if (p == NULL)
        return PyErr_NoMemory();
    memset(p, 0x5a, 32);
    last = p;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {{"leak_bytes", leak_bytes, METH_NOARGS, NULL},
                                {"leak_block", leak_block, METH_NOARGS, NULL},
                                {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "leakmalloc", NULL, -1, methods};
PyMODINIT_FUNC PyInit_leakmalloc(void) { return PyModule_Create(&mod); }
"""


def _build_extension(folder, name, source):
    """Compiles `source` into module `name` in `folder` with this Python's
    compiler and flags; returns the module."""
    cc = sysconfig.get_config_var("CC") or "cc"
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    c_file = os.path.join(folder, name + ".c")
    so_file = os.path.join(folder, name + suffix)
    with open(c_file, "w") as f:
        f.write(source)
    cmd = shlex.split(cc) + ["-shared", "-fPIC", "-O1", "-Wall", "-Werror",
                             "-I", sysconfig.get_paths()["include"], c_file, "-o", so_file]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except OSError as e:
        if IN_CI:
            pytest.fail("CI=true and no C compiler (%s)" % e)
        pytest.skip("no C compiler: %s" % e)
    assert proc.returncode == 0, describe(proc)
    return load_extension(folder, name)


def load_extension(folder, name):
    """Imports module `name` built in `folder`."""
    import importlib.util

    so_file = os.path.join(folder, name + (sysconfig.get_config_var("EXT_SUFFIX") or ".so"))
    spec = importlib.util.spec_from_file_location(name, so_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def leakref(tmp_path_factory):
    return _build_extension(str(tmp_path_factory.mktemp("leakref")), "leakref", LEAK_REF_C)


@pytest.fixture(scope="module")
def leakmalloc(tmp_path_factory):
    return _build_extension(str(tmp_path_factory.mktemp("leakmalloc")), "leakmalloc",
                            LEAK_MALLOC_C)


class Marker:
    pass


def test_catches_one_leaked_reference_per_call_in_c(leakref):
    target = Marker()
    # Naming the leak reads this frame's locals, which 3.8-3.12 copy into a
    # dict the frame keeps (one more reference to target): made here first.
    strop.path_to(target)
    before = sys.getrefcount(target)
    report = strop.memory_grow(leakref.leak_ref, target)
    text = str(report)
    assert report.verdict == "grows", text
    assert report.deltas["objects"] == [0] * report.runs
    kinds = [(kind, growth) for kind, growth, _ in report.ref_leaks]
    assert ("Marker", 1.0) in kinds, text
    where = [w for kind, _, w in report.ref_leaks if kind == "Marker"][0]
    assert where.objects[-1] is target
    assert where.expression == "target"
    assert "Py_DECREF" in text and "Marker" in text
    # the truth: the calls took this many references that nobody gave back
    calls = report.warmups + report.rounds * report.runs
    del report, where
    assert sys.getrefcount(target) - before == calls


def _calls_into_c(leakref):
    leakref.leak_new()


def test_names_the_python_function_that_called_the_leaking_extension(leakref):
    """A missing Py_DECREF on a new object: the object outlives every call,
    nothing the census sees holds it, and the report names the Python
    function that called into the extension when it was made."""
    report = strop.memory_grow(_calls_into_c, leakref)
    text = str(report)
    assert report.verdict == "grows", text
    assert report.deltas["objects"] == [1] * report.runs, text
    kind, count, _, where = report.samples[0]
    assert (kind, count) == ("list", 1.0), text
    assert where.held_by_c, text
    code = _calls_into_c.__code__
    assert report.made_in == {"list": "%s:%d(_calls_into_c)" % (code.co_filename,
                                                                 code.co_firstlineno)}, text


def test_catches_64_native_bytes_per_call_in_c(leakmalloc):
    folder = os.path.dirname(leakmalloc.__file__)
    report = grow_in_child("test_grow.load_extension(%r, 'leakmalloc').leak_bytes" % folder)
    text = report["text"]
    if not report["has_native"]:
        # AddressSanitizer's builds have no trustworthy count (heapgraph.c)
        pytest.skip("this C library (or the sanitizer) does not say how much malloc handed out")
    assert report["verdict"] == "grows", text
    assert report["native_leak"]
    assert "the leak is below Python, in C" in text
    # 64 bytes and malloc's header, rounded to its 16 bytes
    assert 64 <= report["per_call"]["native"] <= 96, text
    assert set(report["deltas"]["objects"]) == {0}
    assert report["samples"] == 0 and report["ref_leaks"] == 0


def test_catches_one_allocator_block_per_call_in_c(leakmalloc):
    # The census's own blocks are taken off (3.11 kept one more at each
    # census for a while): a leak of exactly one block reads one, not two.
    folder = os.path.dirname(leakmalloc.__file__)
    if os.environ.get("STROP_UNDER_SANITIZER"):
        pytest.skip("under the sanitizer's preload (PYTHONMALLOC=malloc) no block is counted")
    # CPython's own blocks move the count by one now and then: in about one
    # interpreter in five (by hash seed and memory layout; 5 of 25 seeds gave
    # [+1, +1, +0, +1, +0, ...] before this session's changes too) a block
    # that the measurement left is freed during a later call, and the round
    # reads "inconclusive (too noisy)", not a leak.  So up to three fresh
    # interpreters: a leak must be read exactly in one of them.
    for _ in range(3):
        report = grow_in_child("test_grow.load_extension(%r, 'leakmalloc').leak_block" % folder,
                               runs=8)
        if report["verdict"] == "grows":
            break
        assert report["verdict"] == "inconclusive (too noisy)", report["text"]
    text = report["text"]
    assert report["verdict"] == "grows", text
    assert report["native_leak"]
    # the first call of a round also meets the round's own set-up
    assert report["deltas"]["blocks"][1:] == [1] * 7, text
    assert report["per_call"]["blocks"] == 1, text
    assert "kept 1 more block a call" in text and "PyMem_Malloc" in text, text
    assert set(report["deltas"]["objects"]) == {0}


# ---- strop grow --------------------------------------------------------------

CHAPTER = textwrap.dedent("""\
    d = []


    def greedy():
        for i in range(100):
            d.append('garbage data' * i)


    def stable():
        return "some" * 10000


    def boom():
        raise ValueError("the function's own error")
""")


def test_strop_grow_from_the_shell(tmp_path):
    (tmp_path / "chapter.py").write_text(CHAPTER)
    proc = run_strop("grow", "chapter:greedy", cwd=tmp_path)
    assert proc.returncode == 1, describe(proc)
    assert "grows" in proc.stdout and "held by list `d`" in proc.stdout, describe(proc)
    assert "sys.modules['chapter'].d[" in proc.stdout
    # Under these hash seeds, 3.11's free lists gained a block at each census
    # for a while: read after the census, a leak of a block a call.
    for seed in ("1", "2"):
        proc = run_strop("grow", "chapter:stable", "--runs", "8", cwd=tmp_path,
                         env=child_env(PYTHONHASHSEED=seed))
        assert proc.returncode == 0, describe(proc)
        assert "stable" in proc.stdout


def test_strop_grow_of_a_function_that_raises(tmp_path):
    (tmp_path / "chapter.py").write_text(CHAPTER)
    proc = run_strop("grow", "chapter:boom", cwd=tmp_path)
    assert proc.returncode == 1, describe(proc)
    assert proc.stderr.rstrip().endswith("ValueError: the function's own error"), describe(proc)


@pytest.mark.parametrize("args, message", [
    (["chapter"], "expected module:function, not 'chapter'"),
    (["nosuchmodule:f"], "no module named 'nosuchmodule' (run from the folder that holds it, "
                         "or set PYTHONPATH)"),
    (["chapter:nope"], "module 'chapter' has no 'nope'"),
    (["chapter:d"], "chapter:d is a list, not a function"),
    (["chapter:greedy", "--runs", "1"], "--runs must be at least 2"),
])
def test_strop_grow_bad_input_is_one_line(tmp_path, args, message):
    (tmp_path / "chapter.py").write_text(CHAPTER)
    proc = run_strop("grow", *args, cwd=tmp_path)
    assert proc.returncode == 2, describe(proc)
    assert proc.stderr.strip().splitlines() == ["strop: " + message], describe(proc)
