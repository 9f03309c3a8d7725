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
 * What a census leaves out: objects of strop's own types (HeapSet and
 * the Python classes registered with heap_own_types), and
 * what only they reach; the root list it makes; and, in a relative census,
 * every object alive at the last heap_setrelheap().  It never creates an instance __dict__ and calls no Python code
 * except the __sizeof__ of a class that defines one in Python.
 *
 * All functions need the GIL, which a census holds throughout.
 */
#ifndef STROP_HEAP_H
#define STROP_HEAP_H

#include "compat.h"

/* heap_census(roots=None, relative=False, deep=True, barrier=None) -> HeapSet.
 * roots: an iterable of objects, or None for gc.get_objects().  relative:
 * leave out the objects alive at the last heap_setrelheap().  deep: False
 * counts the roots themselves only (iso).  barrier: an object the walk
 * neither counts nor goes through.  MemoryError, naming the
 * bytes needed, when the census cannot get memory; nothing is changed. */
PyObject *strop_heap_census(PyObject *module, PyObject *args, PyObject *kwds);

/* heap_census_counts() -> (objects, bytes, blocks before, blocks after):
 * a census of the whole heap, its figures kept and the set dropped, between
 * two readings of sys.getallocatedblocks() each after a full collection.
 * Made in C so that no frame of its own comes and goes between the readings:
 * their difference is what the census itself left allocated (on 3.11 its
 * reading of the running frames' locals keeps blocks for a while). */
PyObject *strop_heap_census_counts(PyObject *module, PyObject *Py_UNUSED(ignored));

/* heap_setrelheap() -> int: takes the census's baseline, the objects alive
 * now (their number is returned); later relative censuses leave them out.
 * Installs a wrapper of the object allocator that forgets each baseline
 * object as it is freed, so that a new object at its address is counted. */
PyObject *strop_heap_setrelheap(PyObject *module, PyObject *Py_UNUSED(ignored));

/* heap_own_types(*classes): classes whose instances a census leaves out. */
PyObject *strop_heap_own_types(PyObject *module, PyObject *args);

/* The objects of HeapSet `set`: *objs (n borrowed references, owned by the
 * set) and *sizes (sys.getsizeof of each).  0, or -1 with TypeError when
 * `set` is not a HeapSet.  The arrays live as long as the set. */
int strop_heapset_view(PyObject *set, PyObject ***objs, Py_ssize_t **sizes, Py_ssize_t *n);

/* 1 if instances of `tp` are strop's own (a census leaves them out). */
int strop_heap_is_own(PyTypeObject *tp);

/* Makes instances of `tp` strop's own.  0, or -1 with an exception. */
int strop_heap_add_own(PyTypeObject *tp);

/* Adds HeapSet to `module`.  0, or -1 with an exception. */
int strop_heap_add_types(PyObject *module);

#endif /* STROP_HEAP_H */
