/* dumpfile.h: the dump(path, format=..., ...) and stats() that every
 * profile type has.
 *
 * Tracer.dump and Sampler.dump take the same arguments and write the same
 * formats from a calling-context tree; they differ only in how they name
 * functions, what their numbers mean, and how pstats totals are made.  This
 * file parses the arguments, picks the format, opens and closes the file, and
 * turns each failure into one Python exception.  Needs the GIL.
 */
#ifndef STROP_DUMPFILE_H
#define STROP_DUMPFILE_H

#include "compat.h"

#include "cct.h"
#include "pstats.h"
#include "writers.h"

typedef struct StropDumpSource {
    const StropTree *tree;
    /* What the numbers mean: time_kind, seconds_per_tick, sampled, period_ns,
     * start_unix_ns, duration_ns.  The arguments fill in the rest. */
    StropWriteInfo info;
    /* The pstats file's seconds per tick (or per sample). */
    double pstats_seconds_per_unit;
    void *owner;
    /* One label per function, strop_malloc'd (freed by strop_dump); NULL
     * with an exception set on failure. */
    StropLabel *(*labels)(void *owner);
    /* The labels of pstats files when they differ (keys keep cProfile's
     * co_name where the others show qualified names), or NULL: `labels`. */
    StropLabel *(*pstats_labels)(void *owner);
    /* pstats totals, strop_malloc'd (freed by strop_dump); 0, or -1 with an
     * exception set. */
    int (*totals)(void *owner, StropFuncStats **funcs, StropEdgeStats **edges, size_t *n_edges);
} StropDumpSource;

/* dump(path, format='pstats', command=None, node_thres=0.005, edge_thres=0.001,
 * template=None, svg=None, note=None, python=None, machine=None, map_svg=None,
 * map_text=None) on `src`.  Returns None (a
 * new reference), or NULL with an exception set. */
PyObject *strop_dump(StropDumpSource *src, PyObject *args, PyObject *kwds);

/* The pstats dict of aggregated totals, as cProfile's create_stats makes it:
 * keys[f] is function f's (file, line, name) tuple (borrowed), or NULL to
 * leave it out; an edge goes in when both its ends do and it has calls.
 * Ticks (or samples) become seconds through `seconds_per_unit`.  Returns a
 * new reference, or NULL with an exception set. */
PyObject *strop_stats_dict(const StropFuncStats *funcs, uint32_t n_funcs,
                           const StropEdgeStats *edges, size_t n_edges, PyObject *const *keys,
                           double seconds_per_unit);

/* Opens `path` (str, bytes or os.PathLike) for writing as *out, with *path_bytes
 * its encoded name (owned: Py_DECREF it).  Returns 0, or -1 with OSError set. */
int strop_dump_open(PyObject *path, FILE **out, PyObject **path_bytes);

/* Closes *out after `write_status` (the writer's 0 or -1 with errno) and sets
 * OSError naming `path` on any failure.  Returns 0 or -1. */
int strop_dump_close(PyObject *path, FILE *out, int write_status);

#endif /* STROP_DUMPFILE_H */
