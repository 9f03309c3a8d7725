/* baseline.c: empty hooks, for benchmarks only.
 *
 * Each installs the same interpreter hook as one of the tracer's mechanisms
 * but does nothing in it, so that bench/ can measure the floor a mechanism
 * costs before any profiler work, in the same run as the profilers.  Not used
 * by the profiler itself.
 */
#include "baseline.h"

#include <string.h>

static int
empty_profile(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)obj;
    (void)frame;
    (void)what;
    (void)arg;
    return 0;
}

#if STROP_HAVE_EVALFRAME
static StropEvalFunc previous_eval = NULL;

static PyObject *
empty_eval(PyThreadState *tstate, StropEvalFrame *frame, int throwflag)
{
    if (previous_eval != NULL)
        return previous_eval(tstate, frame, throwflag);
    return _PyEval_EvalFrameDefault(tstate, frame, throwflag);
}
#endif

#if STROP_HAVE_MONITORING
static PyObject *
empty_callback(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    (void)args;
    (void)nargs;
    Py_RETURN_NONE;
}

static PyMethodDef empty_def = {"_empty", (PyCFunction)(void (*)(void))empty_callback,
                                METH_FASTCALL, NULL};

/* Registers (or, with on == 0, removes) the empty callback on tool id 5 for
 * the events strop's tracer uses. */
static int
monitoring_switch(int on, int builtins)
{
    static const char *events[] = {"PY_START", "PY_RESUME", "PY_THROW", "PY_RETURN", "PY_YIELD",
                                   "PY_UNWIND", "CALL", "C_RETURN", "C_RAISE"};
    PyObject *mon = PySys_GetObject("monitoring"), *ev = NULL, *cb = NULL, *r;
    long mask = 0;
    int status = -1;
    if (mon == NULL)
        return -1;
    if (!on) {
        r = PyObject_CallMethod(mon, "set_events", "ii", 5, 0);
        Py_XDECREF(r);
        r = PyObject_CallMethod(mon, "free_tool_id", "i", 5);
        Py_XDECREF(r);
        return r == NULL ? -1 : 0;
    }
    r = PyObject_CallMethod(mon, "use_tool_id", "is", 5, "strop-baseline");
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    ev = PyObject_GetAttrString(mon, "events");
    cb = PyCFunction_New(&empty_def, NULL);
    if (ev == NULL || cb == NULL)
        goto done;
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        PyObject *bit;
        long value;
        if (i >= 6 && !builtins)
            break;
        bit = PyObject_GetAttrString(ev, events[i]);
        if (bit == NULL)
            goto done;
        value = PyLong_AsLong(bit);
        r = PyObject_CallMethod(mon, "register_callback", "iOO", 5, bit, cb);
        Py_DECREF(bit);
        if (r == NULL)
            goto done;
        Py_DECREF(r);
        if (i < 7)
            mask |= value;
    }
    r = PyObject_CallMethod(mon, "set_events", "il", 5, mask);
    if (r == NULL)
        goto done;
    Py_DECREF(r);
    status = 0;
done:
    Py_XDECREF(ev);
    Py_XDECREF(cb);
    return status;
}
#endif

/* The empty allocator hook: wrappers of the mem and obj domains that only
 * forward, as alloc.c's do when nothing is counted. */
static PyMemAllocatorEx alloc_originals[2], alloc_wrappers[2];
static const PyMemAllocatorDomain alloc_domains[2] = {PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};

static void *
empty_malloc(void *ctx, size_t size)
{
    PyMemAllocatorEx *orig = ctx;
    return orig->malloc(orig->ctx, size);
}

static void *
empty_calloc(void *ctx, size_t nelem, size_t elsize)
{
    PyMemAllocatorEx *orig = ctx;
    return orig->calloc(orig->ctx, nelem, elsize);
}

static void *
empty_realloc(void *ctx, void *ptr, size_t size)
{
    PyMemAllocatorEx *orig = ctx;
    return orig->realloc(orig->ctx, ptr, size);
}

static void
empty_free(void *ctx, void *ptr)
{
    PyMemAllocatorEx *orig = ctx;
    orig->free(orig->ctx, ptr);
}

PyObject *
strop_baseline_alloc_hook(PyObject *module, PyObject *arg)
{
    static int on = 0;
    int want = PyObject_IsTrue(arg);
    (void)module;
    if (want < 0)
        return NULL;
    if (want && !on) {
        for (int d = 0; d < 2; d++) {
            PyMem_GetAllocator(alloc_domains[d], &alloc_originals[d]);
            alloc_wrappers[d].ctx = &alloc_originals[d];
            alloc_wrappers[d].malloc = empty_malloc;
            alloc_wrappers[d].calloc = empty_calloc;
            alloc_wrappers[d].realloc = empty_realloc;
            alloc_wrappers[d].free = empty_free;
            PyMem_SetAllocator(alloc_domains[d], &alloc_wrappers[d]);
        }
    }
    else if (!want && on) {
        for (int d = 0; d < 2; d++)
            PyMem_SetAllocator(alloc_domains[d], &alloc_originals[d]);
    }
    on = want;
    Py_RETURN_NONE;
}

PyObject *
strop_baseline_hook(PyObject *module, PyObject *args)
{
    const char *mechanism;
    int on, builtins = 1;
    (void)module;
    if (!PyArg_ParseTuple(args, "sp|p", &mechanism, &on, &builtins))
        return NULL;
    if (strcmp(mechanism, "setprofile") == 0) {
        strop_set_profile_all(on ? empty_profile : NULL, NULL);
        Py_RETURN_NONE;
    }
#if STROP_HAVE_EVALFRAME
    if (strcmp(mechanism, "evalframe") == 0) {
        PyInterpreterState *interp = strop_interp();
        if (on) {
            StropEvalFunc current = strop_get_evalframe(interp);
            previous_eval = current == (StropEvalFunc)_PyEval_EvalFrameDefault ? NULL : current;
            strop_set_evalframe(interp, empty_eval);
        }
        else {
            strop_set_evalframe(interp, previous_eval);
            previous_eval = NULL;
        }
        Py_RETURN_NONE;
    }
#endif
#if STROP_HAVE_MONITORING
    if (strcmp(mechanism, "monitoring") == 0) {
        if (monitoring_switch(on, builtins) < 0)
            return NULL;
        Py_RETURN_NONE;
    }
#endif
    PyErr_Format(PyExc_ValueError, "no mechanism '%s' on this Python", mechanism);
    return NULL;
}
