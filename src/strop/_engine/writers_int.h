/* writers_int.h: what the tree-based writers share, internal to them.
 *
 * writers.h is the one entry point (strop_write_format); each format lives in
 * its own file (folded.c, callgrind.c, pprof.c, speedscope.c, dot.c, html.c)
 * behind a function declared here, and writers.c holds the dispatch and the
 * helpers below: the tree walk, the unit conversions and a sampling-aware
 * aggregation.  Pure C, no Python.h, no global state.
 */
#ifndef STROP_WRITERS_INT_H
#define STROP_WRITERS_INT_H

#include "writers.h"

/* The format writers: same contract as strop_write_format(). */
int strop_folded_write(FILE *out, const StropTree *tree, const StropLabel *labels,
                       const StropWriteInfo *info);
int strop_callgrind_write(FILE *out, const StropTree *tree, const StropLabel *labels,
                          const StropWriteInfo *info);
int strop_pprof_write(FILE *out, const StropTree *tree, const StropLabel *labels,
                      const StropWriteInfo *info);
int strop_speedscope_write(FILE *out, const StropTree *tree, const StropLabel *labels,
                           const StropWriteInfo *info);
/* The colour of `share` (0 to 1) as "#rrggbb" in `hex`, dark blue (cold) to
 * red (hot), as the call graph draws it; returns 1 when text on it should be
 * black.  Also used by the map of interactions (waitmap.c). */
int strop_dot_colour(double share, char hex[8]);
int strop_dot_write(FILE *out, const StropTree *tree, const StropLabel *labels,
                    const StropWriteInfo *info);
int strop_html_write(FILE *out, const StropTree *tree, const StropLabel *labels,
                     const StropWriteInfo *info);

/* The node after `n` in depth-first pre-order (parents before children), or
 * STROP_NONE after the last.  Start from STROP_ROOT; the root itself is never
 * returned.  A node's `depth` tells how far the walk went back up. */
uint32_t strop_tree_next(const StropTree *tree, uint32_t n);

/* The greatest node depth in the tree (0 for an empty tree). */
uint32_t strop_tree_max_depth(const StropTree *tree);

/* 1 when function `f` has a name to write (its label's file is not NULL). */
static inline int
strop_func_named(const StropTree *tree, const StropLabel *labels, uint32_t f)
{
    return f < tree->n_funcs && labels[f].file != NULL;
}

/* A thread's root frame: a child of the root whose function is named like
 * a built-in (file "~") "<thread ...>", made by the tracer with threads=True
 * ("<thread NAME>") or the sampler with --threads ("<thread TID main>",
 * "<thread TID \"comm\">", "<thread TID>").  The name and id of its thread. */
typedef struct StropThreadFrame {
    const char *name; /* not owned, not NUL-terminated: points into the label */
    size_t name_len;
    uint64_t id; /* 0 when unknown */
} StropThreadFrame;

/* 1 when function `f` is named as a thread's root frame (fills *out: the
 * sampler's "main" is named "MainThread", a bare TID names itself), else 0.
 * Whether a node is one also needs its parent to be STROP_ROOT: see
 * strop_node_thread(). */
int strop_thread_frame(const StropTree *tree, const StropLabel *labels,
                       const StropWriteInfo *info, uint32_t f, StropThreadFrame *out);

/* 1 when node `n` is a thread's root frame (filling *out), else 0. */
static inline int
strop_node_thread(const StropTree *tree, const StropLabel *labels, const StropWriteInfo *info,
                  uint32_t n, StropThreadFrame *out)
{
    return n != STROP_ROOT && tree->nodes[n].parent == STROP_ROOT &&
           strop_thread_frame(tree, labels, info, tree->nodes[n].func, out);
}

/* 1 when some child of the root is a thread's root frame. */
int strop_tree_has_threads(const StropTree *tree, const StropLabel *labels,
                           const StropWriteInfo *info);

/* Ticks as whole nanoseconds, rounded. */
uint64_t strop_ticks_to_ns(uint64_t ticks, const StropWriteInfo *info);

/* Per-function and per-edge totals (cct.h's strop_tree_aggregate, with
 * cProfile's recursion rules) in the cost unit of the graph formats: for a
 * traced profile ticks (convert with strop_cost()), for a sampled one
 * samples: tt is the function's own samples, ct the samples with it on the
 * stack (recursion once), nc/cc the samples that passed through the call.
 * *funcs_out (tree->n_funcs entries) and *edges_out are allocated here:
 * strop_free() both.  Returns 0, or -1 with errno = ENOMEM (nothing left
 * allocated). */
int strop_writers_aggregate(const StropTree *tree, const StropWriteInfo *info,
                            StropFuncStats **funcs_out, StropEdgeStats **edges_out,
                            size_t *n_edges);

/* An aggregated figure as the graph formats' cost: ns when traced, samples
 * when sampled. */
uint64_t strop_cost(uint64_t value, const StropWriteInfo *info);

#endif /* STROP_WRITERS_INT_H */
