/* heapgraph.h: why objects are alive, from a census (heap.h).
 *
 * A HeapGraph is the references between the objects of a whole-heap census
 * (a HeapSet), as integer arrays: for each object the objects of the set it
 * refers to (tp_traverse, plus an instance dict the traversal does not
 * visit).  On it:
 *   - unseen references: an object's reference count less the references
 *     that the set's objects hold and those of the objects the collector lists
 *     that the census left out (strop's own, what only they hold, cyclic
 *     garbage); more than zero for a
 *     root (held by a frame, by the interpreter, or by C), and growing by one
 *     per call for an object that C code forgets to Py_DECREF;
 *   - retained sizes: the bytes that would be freed if an object went away,
 *     from the dominator tree over a virtual root that refers to every
 *     object with unseen references (Lengauer-Tarjan, iterative, with path
 *     compression).
 * Also here: the shortest path from a set of roots to one object (a
 * breadth-first walk of the live heap, without a census), and the bytes
 * that malloc has handed out (for growth below Python).
 *
 * Every function needs the GIL, and none calls Python code while it walks.
 */
#ifndef STROP_HEAPGRAPH_H
#define STROP_HEAPGRAPH_H

#include "compat.h"

/* heap_graph(set) -> HeapGraph.  `set` a HeapSet of a whole-heap census,
 * taken just before (what changed since is not seen).  MemoryError naming
 * the bytes needed. */
PyObject *strop_heapgraph_new(PyObject *module, PyObject *args);

/* heap_path(roots, target) -> None, or the list of objects from one of
 * `roots` (a list) to `target`, each referring to the next: a shortest such
 * chain over tp_traverse.  The list `roots` itself and strop's own objects
 * are not walked through. */
PyObject *strop_heapgraph_path(PyObject *module, PyObject *args);

/* native_bytes() -> int or None: bytes malloc has handed out and not taken
 * back (glibc's mallinfo2: in use in the arenas plus mmapped chunks), None
 * where the C library does not say and in a sanitizer build. */
PyObject *strop_heapgraph_native_bytes(PyObject *module, PyObject *Py_UNUSED(ignored));

/* Adds HeapGraph to `module` (and makes it one of strop's own types).  0, or
 * -1 with an exception. */
int strop_heapgraph_add_types(PyObject *module);

#endif /* STROP_HEAPGRAPH_H */
