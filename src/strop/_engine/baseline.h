/* baseline.h: empty interpreter hooks for benchmarks (see baseline.c). */
#ifndef STROP_BASELINE_H
#define STROP_BASELINE_H

#include "compat.h"

/* _engine._baseline_hook(mechanism, on, builtins=True): installs or removes
 * an empty hook of the named mechanism ('setprofile', 'monitoring',
 * 'evalframe').  Returns None, or NULL with an exception set.  GIL held. */
PyObject *strop_baseline_hook(PyObject *module, PyObject *args);

/* _baseline_alloc_hook(on): install or remove empty wrappers of the mem and
 * obj allocator domains (the floor of allocation tracing).  Benchmarks only. */
PyObject *strop_baseline_alloc_hook(PyObject *module, PyObject *arg);

#endif /* STROP_BASELINE_H */
