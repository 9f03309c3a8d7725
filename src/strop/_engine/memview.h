/* memview.h: the views of an allocation recording (alloc.h's StropMemTrace)
 * over the calling-context tree it was charged to.
 *
 * A view gives every node one weight in bytes and one in blocks, the node's
 * own allocations (not its callees'):
 *   peak       live at the peak of the traced total;
 *   leaks      still live when the recording stopped;
 *   allocated  allocated in total (blocks: allocation count);
 *   temporary  freed soon after they were made (alloc.h says how soon).
 * The file writers (writers.h) draw a view from a copy of the tree whose
 * nodes carry the view's bytes as their sample count: the same writers and
 * the same tree as every CPU profile, with StropWriteInfo saying the unit is
 * bytes and, for pprof, the four heap values of each node.
 * Needs the GIL only because alloc.h's recording is kept under it.
 */
#ifndef STROP_MEMVIEW_H
#define STROP_MEMVIEW_H

#include "alloc.h"
#include "cct.h"

typedef enum StropMemView {
    STROP_MEMVIEW_PEAK = 0,
    STROP_MEMVIEW_LEAKS,
    STROP_MEMVIEW_ALLOCATED,
    STROP_MEMVIEW_TEMPORARY,
    STROP_MEMVIEW_COUNT
} StropMemView;

/* The view named `name` ("peak", ...), or -1. */
int strop_memview_parse(const char *name);

/* Node `n`'s own bytes and blocks in view `v`. */
void strop_memview_node(const StropMemTrace *t, uint32_t n, StropMemView v, uint64_t *bytes,
                        uint64_t *blocks);

/* A copy of tree->nodes whose `calls` are view `v`'s bytes and whose times
 * are 0, to be written as a sampled profile of period 1; and, when `heap` is
 * not NULL, *heap gets 4 values per node for pprof: alloc_objects,
 * alloc_space, inuse_objects, inuse_space (in use: at the peak for the peak
 * view, at the end for the others).  Both strop_malloc'd; NULL (and *heap
 * NULL) when out of memory. */
StropNode *strop_memview_nodes(const StropTree *tree, const StropMemTrace *t, StropMemView v,
                               uint64_t **heap);

#endif /* STROP_MEMVIEW_H */
