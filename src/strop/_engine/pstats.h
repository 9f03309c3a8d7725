/* pstats.h: the pstats file writer (what cProfile's dump_stats writes).
 *
 * The file is marshal data of one dict:
 *   (file, line, name) -> (cc, nc, tt, ct, {caller (file, line, name): (nc, cc, tt, ct)})
 * written with marshal's opcodes and references (format version 3, which
 * every Python 3.4+ reads).  Pure
 * C, no Python.h; see ../shared/FORMATS.md for the format's facts.
 */
#ifndef STROP_PSTATS_H
#define STROP_PSTATS_H

#include <stdint.h>
#include <stdio.h>

#include "cct.h"

/* How a function is named in the file.  Strings are UTF-8, not owned. */
typedef struct StropLabel {
    const char *file;
    size_t file_len;
    long line;
    const char *name;
    size_t name_len;
} StropLabel;

/* Writes the pstats dict for `n_funcs` functions (labels and totals indexed
 * alike) and their caller edges.  Functions with no completed call and a NULL
 * label file are left out.  Ticks become seconds through `seconds_per_tick`.
 * Returns 0, or -1 on a write error or when out of memory (errno tells). */
int strop_pstats_write(FILE *out, const StropLabel *labels, const StropFuncStats *funcs,
                       uint32_t n_funcs, const StropEdgeStats *edges, size_t n_edges,
                       double seconds_per_tick);

#endif /* STROP_PSTATS_H */
