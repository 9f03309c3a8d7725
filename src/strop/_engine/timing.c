/* timing.c: the C timing loop and Python wrappers of statistics.h (see timing.h).
 *
 * The loop reads CLOCK_MONOTONIC (through the vDSO) once before and once after
 * the calls: two reads per measurement, so the clock's own cost and
 * resolution vanish against measurements of 0.1 s and more.  The calls go
 * through vectorcall with no arguments, the cheapest way CPython offers to
 * call an arbitrary callable.
 */
#include "timing.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "clock.h"
#include "mem.h"
#include "statistics.h"

/* Keeps the compiler from deleting the bare loop. */
static volatile Py_ssize_t loop_sink;

/* Nanoseconds the calling thread has spent runnable but waiting for a CPU
 * while other threads ran (the second field of Linux's schedstat), or -1
 * where the kernel does not say.  Opened on every call: a file kept open
 * would keep describing the thread that opened it. */
static int64_t
thread_run_delay_ns(void)
{
    char buf[128];
    ssize_t got;
    char *field, *end;
    unsigned long long delay;
    int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    got = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (got <= 0)
        return -1;
    buf[got] = '\0';
    strtoull(buf, &field, 10); /* time on the CPU */
    delay = strtoull(field, &end, 10);
    if (end == field)
        return -1;
    return (int64_t)delay;
}

/* Seconds from `start` to `stop` (ns), less the run-queue wait that surely
 * fell between them.  The waits are read (delay0, delay1) just outside the
 * timed region, at `outer0` and `outer1`: a wait counted between the two
 * readings may have fallen in the slivers outside the region (a thread
 * preempted after reading delay0 and before reading `start`), so at most the
 * slivers' length is given back.  Never below zero: a run cut by a long wait
 * just before it began used to come out as 0 s (and a rate divided by it). */
static double
net_seconds(uint64_t outer0, uint64_t start, uint64_t stop, uint64_t outer1, int64_t delay0,
            int64_t delay1)
{
    double ns = (double)(stop - start);
    if (delay0 >= 0 && delay1 >= delay0) {
        double waited = (double)(delay1 - delay0);
        double slivers = (double)(start - outer0) + (double)(outer1 - stop);
        if (waited > slivers)
            ns -= waited - slivers;
    }
    return (ns > 0 ? ns : 0) * 1e-9;
}

PyObject *
strop_timing_run_delay(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    int64_t delay = thread_run_delay_ns();
    (void)module;
    if (delay < 0)
        Py_RETURN_NONE;
    return PyFloat_FromDouble((double)delay * 1e-9);
}

PyObject *
strop_timing_time_loop(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"func", "number", "exclude_waits", NULL};
    PyObject *func;
    Py_ssize_t number;
    int exclude_waits = 1;
    int64_t delay0 = -1, delay1 = -1;
    uint64_t outer0, start, stop, outer1;
    (void)module;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "On|p:time_loop", kwlist, &func, &number,
                                     &exclude_waits))
        return NULL;
    if (number < 0) {
        PyErr_SetString(PyExc_ValueError, "number must be >= 0");
        return NULL;
    }
    if (func == Py_None) {
        start = strop_clock_mono_ns();
        for (Py_ssize_t i = 0; i < number; i++)
            loop_sink = i;
        stop = strop_clock_mono_ns();
        return PyFloat_FromDouble((double)(stop - start) * 1e-9);
    }
    if (!PyCallable_Check(func)) {
        PyErr_Format(PyExc_TypeError, "time_loop() needs a callable, not %.100s",
                     Py_TYPE(func)->tp_name);
        return NULL;
    }
    outer0 = strop_clock_mono_ns();
    if (exclude_waits)
        delay0 = thread_run_delay_ns();
    start = strop_clock_mono_ns();
    for (Py_ssize_t i = 0; i < number; i++) {
        /* _PyObject_Vectorcall names the same call on 3.8 to 3.13. */
        PyObject *result = _PyObject_Vectorcall(func, NULL, 0, NULL);
        if (result == NULL)
            return NULL;
        Py_DECREF(result);
    }
    stop = strop_clock_mono_ns();
    if (exclude_waits)
        delay1 = thread_run_delay_ns();
    outer1 = strop_clock_mono_ns();
    return PyFloat_FromDouble(net_seconds(outer0, start, stop, outer1, delay0, delay1));
}

/* A new engine array of the floats in `seq` (*n of them), or NULL with an
 * exception set.  The caller frees it with strop_free(). */
static double *
doubles_from(PyObject *seq, const char *what, size_t *n)
{
    PyObject *fast = PySequence_Fast(seq, what);
    double *values = NULL;
    Py_ssize_t size;
    if (fast == NULL)
        return NULL;
    size = PySequence_Fast_GET_SIZE(fast);
    values = strop_malloc((size_t)(size ? size : 1) * sizeof *values);
    if (values == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    for (Py_ssize_t i = 0; i < size; i++) {
        values[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(fast, i));
        if (values[i] == -1.0 && PyErr_Occurred())
            goto error;
    }
    Py_DECREF(fast);
    *n = (size_t)size;
    return values;
error:
    Py_DECREF(fast);
    strop_free(values);
    return NULL;
}

/* Sets the exception that a STROP_STATS_E* code means; returns NULL. */
static PyObject *
stats_error(int status, const char *what)
{
    if (status == STROP_STATS_ENOMEM)
        return PyErr_NoMemory();
    if (status == STROP_STATS_EEMPTY)
        PyErr_Format(PyExc_ValueError, "%s: not enough values", what);
    else
        PyErr_Format(PyExc_ValueError, "%s: a value is out of range (NaN, or not > 0)", what);
    return NULL;
}

static int
check_level(double level, int resamples)
{
    if (!(level > 0.0 && level < 1.0)) {
        PyErr_SetString(PyExc_ValueError, "level must be between 0 and 1");
        return -1;
    }
    if (resamples < 1) {
        PyErr_SetString(PyExc_ValueError, "resamples must be >= 1");
        return -1;
    }
    return 0;
}

PyObject *
strop_timing_summarize(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"values", "level", "resamples", "seed", NULL};
    PyObject *seq;
    double level = 0.95, *values;
    int resamples = 2000, status;
    unsigned long long seed = 0;
    size_t n = 0;
    StropSummary s;
    (void)module;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|diK:summarize", kwlist, &seq, &level,
                                     &resamples, &seed))
        return NULL;
    if (check_level(level, resamples) < 0)
        return NULL;
    values = doubles_from(seq, "summarize() needs a sequence of numbers", &n);
    if (values == NULL)
        return NULL;
    status = strop_stats_summarize(values, n, level, (unsigned)resamples, seed, &s);
    strop_free(values);
    if (status != STROP_STATS_OK)
        return stats_error(status, "summarize()");
    return Py_BuildValue("{s:n,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d}", "n",
                         (Py_ssize_t)s.n, "best", s.best, "worst", s.worst, "median", s.median,
                         "mean", s.mean, "stdev", s.stdev, "q1", s.q1, "q3", s.q3, "iqr", s.iqr,
                         "mad", s.mad, "ci_low", s.ci_low, "ci_high", s.ci_high, "mean_ci_low",
                         s.mean_ci_low, "mean_ci_high", s.mean_ci_high);
}

PyObject *
strop_timing_ratio_ci(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"old", "new", "level", "resamples", "seed", NULL};
    PyObject *old_seq, *new_seq;
    double level = 0.95, *old = NULL, *new = NULL, ratio = 0, low = 0, high = 0;
    int resamples = 2000, status;
    unsigned long long seed = 0;
    size_t n_old = 0, n_new = 0;
    (void)module;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|diK:ratio_ci", kwlist, &old_seq, &new_seq,
                                     &level, &resamples, &seed))
        return NULL;
    if (check_level(level, resamples) < 0)
        return NULL;
    old = doubles_from(old_seq, "ratio_ci() needs sequences of numbers", &n_old);
    if (old == NULL)
        return NULL;
    new = doubles_from(new_seq, "ratio_ci() needs sequences of numbers", &n_new);
    if (new == NULL) {
        strop_free(old);
        return NULL;
    }
    status = strop_stats_ratio_ci(old, n_old, new, n_new, level, (unsigned)resamples, seed,
                                  &ratio, &low, &high);
    strop_free(old);
    strop_free(new);
    if (status != STROP_STATS_OK)
        return stats_error(status, "ratio_ci()");
    return Py_BuildValue("(ddd)", ratio, low, high);
}

PyObject *
strop_timing_mann_whitney(PyObject *module, PyObject *args)
{
    PyObject *x_seq, *y_seq;
    double *x = NULL, *y = NULL, u = 0, p = 1;
    size_t nx = 0, ny = 0;
    int status;
    (void)module;
    if (!PyArg_ParseTuple(args, "OO:mann_whitney", &x_seq, &y_seq))
        return NULL;
    x = doubles_from(x_seq, "mann_whitney() needs sequences of numbers", &nx);
    if (x == NULL)
        return NULL;
    y = doubles_from(y_seq, "mann_whitney() needs sequences of numbers", &ny);
    if (y == NULL) {
        strop_free(x);
        return NULL;
    }
    status = strop_stats_mann_whitney(x, nx, y, ny, &u, &p);
    strop_free(x);
    strop_free(y);
    if (status != STROP_STATS_OK)
        return stats_error(status, "mann_whitney()");
    return Py_BuildValue("(dd)", u, p);
}

PyObject *
strop_timing_geometric_mean(PyObject *module, PyObject *arg)
{
    size_t n = 0;
    double result = 0, *values = doubles_from(arg, "geometric_mean() needs numbers", &n);
    int status;
    (void)module;
    if (values == NULL)
        return NULL;
    status = strop_stats_geomean(values, n, &result);
    strop_free(values);
    if (status != STROP_STATS_OK)
        return stats_error(status, "geometric_mean()");
    return PyFloat_FromDouble(result);
}

PyObject *
strop_timing_format_seconds(PyObject *module, PyObject *arg)
{
    char buf[64];
    double seconds = PyFloat_AsDouble(arg);
    (void)module;
    if (seconds == -1.0 && PyErr_Occurred())
        return NULL;
    strop_stats_format_seconds(seconds, buf, sizeof buf);
    return PyUnicode_FromString(buf);
}
