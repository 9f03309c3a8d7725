/* module.c: strop._engine, the C engine's Python module.
 *
 * Multi-phase initialisation (PEP 489); the module holds the engine's types
 * and a few functions for tests (the allocation fault switch) and for
 * reporting which clock the engine uses.
 */
#include "compat.h"

#include "alloc.h"
#include "baseline.h"
#include "clock.h"
#include "endsig.h"
#include "healthobj.h"
#include "heap.h"
#include "heapgraph.h"
#include "loaded.h"
#include "mem.h"
#include "remote_heapobj.h"
#include "sampler.h"
#include "timing.h"
#include "tracer.h"

static PyObject *
engine_clock_info(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    strop_clock_init();
    return Py_BuildValue("{s:s,s:d,s:d}", "source", strop_clock_use_tsc ? "tsc" : "monotonic",
                         "ns_per_tick", strop_clock_ns_per_tick, "read_cost_ns",
                         strop_clock_read_cost() * strop_clock_ns_per_tick);
}

static PyObject *
engine_fail_alloc_after(PyObject *module, PyObject *args)
{
    long n;
    int sticky = 0;
    (void)module;
    long failed = strop_mem_failures();
    if (!PyArg_ParseTuple(args, "l|p", &n, &sticky))
        return NULL;
    strop_mem_fail_after(n, sticky);
    return PyLong_FromLong(failed);
}

static PyMethodDef engine_methods[] = {
    {"clock_info", engine_clock_info, METH_NOARGS,
     "clock_info()\n--\n\nThe tick source, its calibration and the cost of one read."},
    {"_fail_alloc_after", engine_fail_alloc_after, METH_VARARGS,
     "_fail_alloc_after(n, sticky=False)\n--\n\nTests only: make the engine's n-th "
     "allocation from now fail (0 switches it off).  Returns how many allocations the "
     "previous setting failed."},
    {"_baseline_hook", strop_baseline_hook, METH_VARARGS,
     "_baseline_hook(mechanism, on, builtins=True)\n--\n\nBenchmarks only: install or "
     "remove an empty hook of a mechanism ('setprofile', 'monitoring', 'evalframe')."},
    {"_baseline_alloc_hook", strop_baseline_alloc_hook, METH_O,
     "_baseline_alloc_hook(on)\n--\n\nBenchmarks only: install or remove empty wrappers of "
     "the mem and obj allocator domains."},
    {"time_loop", (PyCFunction)(void (*)(void))strop_timing_time_loop,
     METH_VARARGS | METH_KEYWORDS,
     "time_loop(func, number, exclude_waits=True)\n--\n\nSeconds taken by `number` calls of "
     "func() (None: the bare loop), less the time spent waiting for a CPU."},
    {"run_delay", strop_timing_run_delay, METH_NOARGS,
     "run_delay()\n--\n\nSeconds this thread has waited for a CPU, or None."},
    {"summarize", (PyCFunction)(void (*)(void))strop_timing_summarize,
     METH_VARARGS | METH_KEYWORDS,
     "summarize(values, level=0.95, resamples=2000, seed=0)\n--\n\nMedian, mean, stdev, "
     "quartiles, MAD and a bootstrap interval of the median, as a dict."},
    {"ratio_ci", (PyCFunction)(void (*)(void))strop_timing_ratio_ci, METH_VARARGS | METH_KEYWORDS,
     "ratio_ci(old, new, level=0.95, resamples=2000, seed=0)\n--\n\n(ratio, low, high) of "
     "median(new) / median(old)."},
    {"mann_whitney", strop_timing_mann_whitney, METH_VARARGS,
     "mann_whitney(x, y)\n--\n\n(U of x, two-sided p), normal approximation."},
    {"geometric_mean", strop_timing_geometric_mean, METH_O,
     "geometric_mean(values)\n--\n\nThe geometric mean of positive numbers."},
    {"format_seconds", strop_timing_format_seconds, METH_O,
     "format_seconds(seconds)\n--\n\nA duration with three digits and its unit."},
    {"_set_ptracer", strop_sampler_set_ptracer, METH_O,
     "_set_ptracer(pid)\n--\n\nLet process pid read this one under Yama (PR_SET_PTRACER)."},
    {"alloc_start", strop_alloc_start, METH_NOARGS,
     "alloc_start()\n--\n\nBegin (or nest) counting the bytes allocated."},
    {"alloc_stop", strop_alloc_stop, METH_NOARGS,
     "alloc_stop()\n--\n\nEnd one alloc_start()."},
    {"memory_tracing", strop_memory_tracing, METH_NOARGS,
     "memory_tracing()\n--\n\nWhether an allocation tracing (track_memory) is running."},
    {"alloc_net", strop_alloc_net, METH_NOARGS,
     "alloc_net()\n--\n\nBytes allocated and not freed since counting began, or None."},
    {"load_profile", (PyCFunction)(void (*)(void))strop_loaded_load_profile,
     METH_VARARGS | METH_KEYWORDS,
     "load_profile(path, kind=None, period=0.01, max_inflated=0)\n--\n\nReads folded "
     "stacks or pprof (kind None: by the content) into a LoadedProfile; FormatError when it "
     "is neither, or when gzip data inflates beyond max_inflated bytes (0: 1 GiB)."},
    {"read_pstats", strop_loaded_read_pstats, METH_O,
     "read_pstats(path)\n--\n\nThe pstats dict in a file (as marshal.load gives it), read "
     "with every length checked; FormatError when it is not a pstats file."},
    {"load_stats", strop_loaded_load_stats, METH_O,
     "load_stats(stats)\n--\n\nA LoadedProfile with an approximate call tree rebuilt "
     "from a pstats dict."},
    {"heap_census", (PyCFunction)(void (*)(void))strop_heap_census, METH_VARARGS | METH_KEYWORDS,
     "heap_census(roots=None, relative=False, deep=True, barrier=None)\n--\n\nA HeapSet: every object "
     "reachable from roots (None: the collector's), each once, with sizes and kinds."},
    {"guard_ending_signal", strop_guard_ending_signal, METH_O,
     "guard_ending_signal(signum)\n--\n\nIn a process forked after this call, signum gets its "
     "default action at once, not the Python handler set for it."},
    {"heap_census_counts", strop_heap_census_counts, METH_NOARGS,
     "heap_census_counts()\n--\n\n(objects, bytes, blocks before, blocks after) of a census "
     "between two full collections."},
    {"heap_setrelheap", strop_heap_setrelheap, METH_NOARGS,
     "heap_setrelheap()\n--\n\nLater relative heap censuses leave out the objects alive now."},
    {"heap_graph", strop_heapgraph_new, METH_VARARGS,
     "heap_graph(set)\n--\n\nThe references between the objects of a whole-heap "
     "census, with unseen references and retained sizes."},
    {"heap_path", strop_heapgraph_path, METH_VARARGS,
     "heap_path(roots, target)\n--\n\nA shortest chain of references from one of roots to "
     "target (a list of objects), or None."},
    {"native_bytes", strop_heapgraph_native_bytes, METH_NOARGS,
     "native_bytes()\n--\n\nBytes malloc has handed out and not taken back, or None."},
    {"heap_remote", (PyCFunction)(void (*)(void))strop_heap_remote, METH_VARARGS | METH_KEYWORDS,
     "heap_remote(pid, max_objects=1 << 26)\n--\n\nThe census of the collector's lists of "
     "another process, read from outside: a dict with rows [(type, count, bytes, approx)], "
     "objects, lists, lists_torn, rewalks, read_errors, seconds, version."},
    {"heap_own_types", strop_heap_own_types, METH_VARARGS,
     "heap_own_types(*classes)\n--\n\nClasses whose instances heap censuses leave out."},
    {NULL, NULL, 0, NULL},
};

static int
engine_exec(PyObject *module)
{
    PyObject *tracer = strop_tracer_type_new(module);
    if (tracer == NULL)
        return -1;
    if (PyModule_AddObject(module, "Tracer", tracer) < 0) {
        Py_DECREF(tracer);
        return -1;
    }
    PyObject *sampler = strop_sampler_type_new(module);
    if (sampler == NULL)
        return -1;
    if (PyModule_AddObject(module, "Sampler", sampler) < 0) {
        Py_DECREF(sampler);
        return -1;
    }
    if (strop_loaded_add_types(module) < 0)
        return -1;
    if (strop_health_add_type(module) < 0)
        return -1;
    if (strop_heap_add_types(module) < 0 || strop_heapgraph_add_types(module) < 0)
        return -1;
    if (PyModule_AddIntConstant(module, "HAVE_MONITORING", STROP_HAVE_MONITORING) < 0 ||
        PyModule_AddIntConstant(module, "HAVE_EVALFRAME", STROP_HAVE_EVALFRAME) < 0)
        return -1;
    return 0;
}

static PyModuleDef_Slot engine_slots[] = {
    {Py_mod_exec, (void *)engine_exec},
    {0, NULL},
};

static struct PyModuleDef engine_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "strop._engine",
    .m_doc = "strop's C engine: tracer, call tree, clocks and file writers.",
    .m_size = 0,
    .m_methods = engine_methods,
    .m_slots = engine_slots,
};

/* Exported whatever -fvisibility says: 3.8's PyMODINIT_FUNC does not say it. */
__attribute__((visibility("default"))) PyMODINIT_FUNC PyInit__engine(void);

__attribute__((visibility("default"))) PyMODINIT_FUNC
PyInit__engine(void)
{
    return PyModuleDef_Init(&engine_module);
}
