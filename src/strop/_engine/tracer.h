/* tracer.h: the deterministic profiler, strop._engine.Tracer.
 *
 * Records every call and return of the program into a calling-context tree
 * (cct.h), through one of three mechanisms chosen at enable():
 *   - "monitoring": sys.monitoring callbacks on a tool id of strop's own
 *     (3.12+), Python and C functions, counts equal to cProfile's;
 *   - "setprofile": the C profile hook on every thread (3.8 to 3.11), the same;
 *   - "evalframe": a PEP 523 frame-evaluation hook (3.9+), Python functions
 *     only, several times cheaper (fast mode, builtins=False).
 * Hooks never raise and never call back into Python but to name a function
 * the first time it is seen.  A fault inside the engine (out of memory) stops
 * the recording, keeps what was gathered and is reported once in warnings.
 *
 * Only one Tracer records at a time in a process; enabling a second one pauses
 * the first until the second is disabled (the first then reports the gap).
 */
#ifndef STROP_TRACER_H
#define STROP_TRACER_H

#include "compat.h"

#include <stdint.h>

/* Creates the Tracer type for the module.  Returns a new reference, or NULL
 * with an exception set.  Needs the GIL. */
PyObject *strop_tracer_type_new(PyObject *module);

/* For the allocation hooks (alloc.c), with the GIL held; both never raise,
 * never allocate, and cost a few loads.
 *
 * strop_tracer_site(): the node of the calling thread's running call when
 * `owner` is the Tracer recording now, else the root (STROP_ROOT, 0); the
 * root too before the thread's first event of this recording.  *stamp gets
 * a 16-bit mark of that call (its start time's low bits): with the node it
 * tells this call from later calls of the same path.
 *
 * strop_tracer_site_running(): 1 when the call that (node, stamp) named is
 * still running on the calling thread (on its stack), else 0. */
uint32_t strop_tracer_site(const void *owner, uint16_t *stamp);
int strop_tracer_site_running(const void *owner, uint32_t node, uint16_t stamp);

/* The name of the function of node `node` of the Tracer `owner` (as
 * strop_memtrace_site_of gives them), as the memory table prints it:
 * "file:line(function)", a C function's or thread's own name, or
 * "<outside Python code>" for the root.  A new reference, or NULL (with an
 * exception set only when out of memory) when the node has no name.  With
 * the GIL held, while the recording is attached. */
PyObject *strop_tracer_node_name(const void *owner, uint32_t node);

#endif /* STROP_TRACER_H */
