/* writers.c: dispatch to the format writers (see writers.h), and the helpers
 * they share (see writers_int.h). */
#include "writers.h"

#include <errno.h>
#include <string.h>

#include "mem.h"
#include "writers_int.h"

int
strop_write_format(FILE *out, StropFormat format, const StropTree *tree,
                   const StropLabel *labels, const StropWriteInfo *info)
{
    switch (format) {
    case STROP_FORMAT_FOLDED:
        return strop_folded_write(out, tree, labels, info);
    case STROP_FORMAT_CALLGRIND:
        return strop_callgrind_write(out, tree, labels, info);
    case STROP_FORMAT_PPROF:
        return strop_pprof_write(out, tree, labels, info);
    case STROP_FORMAT_SPEEDSCOPE:
        return strop_speedscope_write(out, tree, labels, info);
    case STROP_FORMAT_DOT:
        return strop_dot_write(out, tree, labels, info);
    case STROP_FORMAT_HTML:
        return strop_html_write(out, tree, labels, info);
    case STROP_FORMAT_PSTATS: /* needs the aggregate: strop_pstats_write() */
    default:
        errno = EINVAL;
        return -1;
    }
}

uint32_t
strop_tree_next(const StropTree *tree, uint32_t n)
{
    if (tree->nodes[n].first_child != STROP_NONE)
        return tree->nodes[n].first_child;
    while (n != STROP_ROOT) {
        if (tree->nodes[n].next_sibling != STROP_NONE)
            return tree->nodes[n].next_sibling;
        n = tree->nodes[n].parent;
    }
    return STROP_NONE;
}

uint32_t
strop_tree_max_depth(const StropTree *tree)
{
    uint32_t depth = 0;
    for (uint32_t n = 0; n < tree->n_nodes; n++)
        if (tree->nodes[n].depth > depth)
            depth = tree->nodes[n].depth;
    return depth;
}

uint64_t
strop_ticks_to_ns(uint64_t ticks, const StropWriteInfo *info)
{
    double ns = (double)ticks * info->seconds_per_tick * 1e9;
    return ns <= 0 ? 0 : (uint64_t)(ns + 0.5);
}

uint64_t
strop_cost(uint64_t value, const StropWriteInfo *info)
{
    return info->sampled ? value : strop_ticks_to_ns(value, info);
}

int
strop_writers_aggregate(const StropTree *tree, const StropWriteInfo *info,
                        StropFuncStats **funcs_out, StropEdgeStats **edges_out,
                        size_t *n_edges)
{
    StropFuncStats *funcs = strop_malloc((size_t)tree->n_funcs * sizeof *funcs);
    StropNode *nodes = NULL;
    int rc;
    if (funcs == NULL)
        goto nomem;
    if (!info->sampled) {
        rc = strop_tree_aggregate(tree, funcs, edges_out, n_edges);
    }
    else {
        /* A copy of the tree whose ticks are samples: a node's own samples
         * are its calls, its inclusive ones the sum over its subtree.  A
         * child's index is above its parent's, so one backward pass sums. */
        StropTree copy = *tree;
        nodes = strop_malloc((size_t)tree->n_nodes * sizeof *nodes);
        if (nodes == NULL)
            goto nomem;
        memcpy(nodes, tree->nodes, (size_t)tree->n_nodes * sizeof *nodes);
        for (uint32_t n = 0; n < tree->n_nodes; n++)
            nodes[n].self_ticks = nodes[n].total_ticks = nodes[n].calls;
        for (uint32_t n = tree->n_nodes; n-- > 1;)
            nodes[nodes[n].parent].total_ticks += nodes[n].total_ticks;
        for (uint32_t n = 0; n < tree->n_nodes; n++)
            nodes[n].calls = nodes[n].total_ticks;
        copy.nodes = nodes;
        rc = strop_tree_aggregate(&copy, funcs, edges_out, n_edges);
        strop_free(nodes);
        nodes = NULL;
    }
    if (rc < 0)
        goto nomem;
    *funcs_out = funcs;
    return 0;
nomem:
    strop_free(funcs);
    strop_free(nodes);
    errno = ENOMEM;
    return -1;
}
