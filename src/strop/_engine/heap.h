/* heap.h: the heap census (strop.heap, setrelheap, iso, sizeof).
 *
 * A census walks objects from a root set (by default every object the
 * cyclic collector lists, from gc.get_objects()) through tp_traverse, so it
 * also finds what containers reach and the collector does not list (str,
 * int, bytes, float, untracked tuples and dicts).  Each object is counted
 * once, at its sys.getsizeof size, with a kind: its class, or "dict of
 * Foo" for a dict that sits in a Foo instance's dict slot.  The result is a
 * HeapSet: the objects (strong references), their sizes and kinds, grouped
 * and printed by strop/_memory.py.
 *
 * What a census leaves out: objects of strop's own types (HeapSet,
 * HeapBaseline and the Python classes registered with heap_own_types), and
 * what only they reach; the root list it makes; and, with a baseline from
 * setrelheap(), every object whose address was alive when the baseline was
 * taken.  It never creates an instance __dict__ and calls no Python code
 * except the __sizeof__ of a class that defines one in Python.
 *
 * All functions need the GIL, which a census holds throughout.
 */
#ifndef STROP_HEAP_H
#define STROP_HEAP_H

#include "compat.h"

/* heap_census(roots=None, baseline=None, deep=True) -> HeapSet.
 * roots: an iterable of objects, or None for gc.get_objects().  deep:
 * False counts the roots themselves only (iso).  MemoryError, naming the
 * bytes needed, when the census cannot get memory; nothing is changed. */
PyObject *strop_heap_census(PyObject *module, PyObject *args, PyObject *kwds);

/* heap_own_types(*classes): classes whose instances a census leaves out. */
PyObject *strop_heap_own_types(PyObject *module, PyObject *args);

/* Adds HeapSet and HeapBaseline to `module`.  0, or -1 with an exception. */
int strop_heap_add_types(PyObject *module);

#endif /* STROP_HEAP_H */
