/* sampler.h: the statistical profiler, strop._engine.Sampler.
 *
 * Reads another process's Python stacks with remote.h at a fixed rate,
 * without stopping it, and counts them into a calling-context tree (cct.h):
 * a leaf node's `calls` are the samples taken in it, `self_ticks` the same
 * samples, `total_ticks` the samples that passed through the node.  One tick
 * is one sample.  The sampling loop runs without the GIL, allocates only when
 * it meets a new code object or call path, and never calls into Python but
 * to check for signals (Ctrl-C) ten times a second.  The profile is written
 * by the same writers as the tracer's (pstats with sample counts as call
 * counts, and every format of writers.h with info.sampled = 1).
 */
#ifndef STROP_SAMPLER_H
#define STROP_SAMPLER_H

#include "compat.h"

/* Creates the Sampler type for the module.  Returns a new reference, or NULL
 * with an exception set.  Needs the GIL. */
PyObject *strop_sampler_type_new(PyObject *module);

#endif /* STROP_SAMPLER_H */
