/* loaded.h: strop._engine.LoadedProfile, a profile read back from a file
 * (readers.h), and the functions that make one.  Needs the GIL.
 */
#ifndef STROP_LOADED_H
#define STROP_LOADED_H

#include "compat.h"

/* load_profile(path, kind=None, period=0.01) and load_stats(stats). */
PyObject *strop_loaded_load_profile(PyObject *module, PyObject *args, PyObject *kwds);
PyObject *strop_loaded_load_stats(PyObject *module, PyObject *stats);

/* read_pstats(path) -> the pstats dict in the file, as marshal.load gives it
 * (except that a code object in a key is the string of its repr), read by
 * pstats.h's bounded reader.  FormatError "<path>: not a pstats file
 * (byte N: ...)" when the file is not one; OSError when it cannot be read. */
PyObject *strop_loaded_read_pstats(PyObject *module, PyObject *path);

/* Adds LoadedProfile and FormatError to `module`.  Returns 0, or -1 with an
 * exception set. */
int strop_loaded_add_types(PyObject *module);

#endif /* STROP_LOADED_H */
