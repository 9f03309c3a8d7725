/* alloc.h: the allocation counter behind @strop.duration's net bytes.
 *
 * While at least one measured call runs, wrappers around the PYMEM_DOMAIN_MEM
 * and PYMEM_DOMAIN_OBJ allocators (PyMem_SetAllocator) remember the size of
 * every block allocated, in an open-addressing table keyed by address, and
 * keep a running total: bytes of blocks allocated since counting started and
 * not yet freed.  A measured call's net bytes are the difference of the
 * total after and before it.  Blocks allocated before counting started are
 * not known: freeing one does not count, and resizing one counts it at its
 * new size.  The raw domain is not wrapped (it may run without the GIL).
 *
 * Protected by the GIL: the two wrapped domains are only called with it held,
 * and so are these functions.  The wrappers never raise and never call into
 * Python; when the table cannot grow, they stop tracking new blocks and the
 * count is marked unreliable.
 */
#ifndef STROP_ALLOC_H
#define STROP_ALLOC_H

#include "compat.h"

/* alloc_start(): begins (or nests) counting.  Returns None. */
PyObject *strop_alloc_start(PyObject *module, PyObject *Py_UNUSED(ignored));
/* alloc_stop(): ends one alloc_start(); the last one switches the wrappers
 * off and forgets the table.  RuntimeError without a matching start. */
PyObject *strop_alloc_stop(PyObject *module, PyObject *Py_UNUSED(ignored));
/* alloc_net() -> int or None: the running total in bytes, None when the
 * count is unreliable (the table could not grow) or counting is off. */
PyObject *strop_alloc_net(PyObject *module, PyObject *Py_UNUSED(ignored));

#endif /* STROP_ALLOC_H */
