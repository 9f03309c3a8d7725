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

int
strop_thread_frame(const StropTree *tree, const StropLabel *labels, const StropWriteInfo *info,
                   uint32_t f, StropThreadFrame *out)
{
    static const char prefix[] = "<thread ";
    const size_t plen = sizeof prefix - 1;
    const StropLabel *label;
    const char *s, *end;
    if (!strop_func_named(tree, labels, f))
        return 0;
    label = &labels[f];
    if (label->file_len != 1 || label->file[0] != '~' || label->name_len < plen + 2 ||
        memcmp(label->name, prefix, plen) != 0 || label->name[label->name_len - 1] != '>')
        return 0;
    s = label->name + plen;
    end = label->name + label->name_len - 1;
    out->id = 0;
    if (info->thread_ids != NULL) {
        /* The tracer's "<thread NAME>": the id comes apart. */
        out->id = info->thread_ids[f];
    }
    else if (*s >= '0' && *s <= '9') {
        /* The sampler's "<thread TID[ main| "comm"]>". */
        const char *digits = s;
        uint64_t id = 0;
        while (s < end && *s >= '0' && *s <= '9')
            id = id * 10 + (uint64_t)(*s++ - '0');
        if (s == end) {
            out->id = id;
            out->name = digits;
            out->name_len = (size_t)(end - digits);
            return 1;
        }
        if (*s == ' ') {
            out->id = id;
            s++;
            if (end - s == 4 && memcmp(s, "main", 4) == 0) {
                out->name = "MainThread";
                out->name_len = 10;
                return 1;
            }
            if (end - s >= 2 && *s == '"' && end[-1] == '"') {
                s++;
                end--;
            }
        }
        else {
            out->id = 0;
            s = digits;
        }
    }
    out->name = s;
    out->name_len = (size_t)(end - s);
    return 1;
}

int
strop_tree_has_threads(const StropTree *tree, const StropLabel *labels,
                       const StropWriteInfo *info)
{
    StropThreadFrame tf;
    for (uint32_t c = tree->nodes[STROP_ROOT].first_child; c != STROP_NONE;
         c = tree->nodes[c].next_sibling)
        if (strop_node_thread(tree, labels, info, c, &tf))
            return 1;
    return 0;
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
