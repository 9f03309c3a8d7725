/* timing.h: the C timing loop and the statistics, as strop._engine functions.
 *
 * The functions strop's speed tests (strop/_speed.py) call: a loop that calls
 * a Python callable N times between two clock reads, and thin wrappers of
 * statistics.h that take Python sequences of floats.  Every function here
 * needs the GIL and returns a new reference, or NULL with an exception set.
 */
#ifndef STROP_TIMING_H
#define STROP_TIMING_H

#include "compat.h"

/* time_loop(func, number, exclude_waits=True) -> float: seconds taken by
 * `number` calls of func() (vectorcall, no arguments, results dropped); func
 * None times the bare loop.  With exclude_waits, the time the thread waited
 * for a CPU while other processes ran (Linux schedstat) is left out: what
 * remains is the time the calls ran or slept.  The first exception of a call
 * stops the loop and is raised. */
PyObject *strop_timing_time_loop(PyObject *module, PyObject *args, PyObject *kwargs);

/* run_delay() -> float or None: seconds this thread has waited for a CPU so
 * far (None where the kernel does not say). */
PyObject *strop_timing_run_delay(PyObject *module, PyObject *Py_UNUSED(ignored));

/* summarize(values, level=0.95, resamples=2000, seed=0) -> dict with n, best,
 * worst, median, mean, stdev, q1, q3, iqr, mad, ci_low, ci_high (the median's
 * interval), mean_ci_low, mean_ci_high (the mean's). */
PyObject *strop_timing_summarize(PyObject *module, PyObject *args, PyObject *kwargs);

/* ratio_ci(old, new, level=0.95, resamples=2000, seed=0) -> (ratio, low,
 * high): median(new) / median(old) and its bootstrap interval. */
PyObject *strop_timing_ratio_ci(PyObject *module, PyObject *args, PyObject *kwargs);

/* mann_whitney(x, y) -> (u, p): two-sided, normal approximation. */
PyObject *strop_timing_mann_whitney(PyObject *module, PyObject *args);

/* geometric_mean(values) -> float; ValueError unless every value is > 0. */
PyObject *strop_timing_geometric_mean(PyObject *module, PyObject *arg);

/* format_seconds(seconds) -> str such as '12.3 µs'. */
PyObject *strop_timing_format_seconds(PyObject *module, PyObject *arg);

#endif /* STROP_TIMING_H */
