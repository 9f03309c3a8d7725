/* remote_heapobj.h: strop._engine.heap_remote(), the Python face of
 * remote_heap.h (remote_heapobj.c).  Needs the GIL. */
#ifndef STROP_REMOTE_HEAPOBJ_H
#define STROP_REMOTE_HEAPOBJ_H

#include "compat.h"

/* heap_remote(pid, max_objects=1 << 26): attaches to process `pid` and takes
 * the census of its collector's lists.  Returns a new dict:
 *   rows: [(tp_name, count, bytes, approx)] by bytes, then count, largest
 *         first (approx: the type's sys.getsizeof may be more, remote_heap.h);
 *   objects, permanent, lists, lists_torn, rewalks, read_errors, collecting_waits,
 *   reads: the census's counters (StropHeapCensus); seconds: its wall time
 *   (attaching included); version: "3.12".
 * Errors: those of an attach as Sampler raises them
 * (strop_sampler_attach_error: ProcessLookupError, PermissionError,
 * ValueError), ProcessLookupError when the process ends during the census,
 * OSError when its collector's state cannot be read, MemoryError.  Reads
 * with the GIL released. */
PyObject *strop_heap_remote(PyObject *module, PyObject *args, PyObject *kwargs);

#endif /* STROP_REMOTE_HEAPOBJ_H */
