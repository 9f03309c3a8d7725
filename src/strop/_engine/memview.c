/* memview.c: views of an allocation recording (see memview.h). */
#include "memview.h"

#include <string.h>

#include "mem.h"

static const char *const names[STROP_MEMVIEW_COUNT] = {"peak", "leaks", "allocated",
                                                       "temporary"};

int
strop_memview_parse(const char *name)
{
    for (int v = 0; v < STROP_MEMVIEW_COUNT; v++)
        if (strcmp(name, names[v]) == 0)
            return v;
    return -1;
}

static uint64_t
positive(int64_t x)
{
    return x > 0 ? (uint64_t)x : 0;
}

void
strop_memview_node(const StropMemTrace *t, uint32_t n, StropMemView v, uint64_t *bytes,
                   uint64_t *blocks)
{
    const StropMemNode *m;
    *bytes = *blocks = 0;
    if (n >= t->cap_nodes)
        return;
    m = &t->nodes[n];
    switch (v) {
    case STROP_MEMVIEW_PEAK: {
        int64_t b, k;
        strop_memnode_peak(t, n, &b, &k);
        *bytes = positive(b);
        *blocks = positive(k);
        break;
    }
    case STROP_MEMVIEW_LEAKS:
        *bytes = positive(m->live_bytes);
        *blocks = positive(m->live_blocks);
        break;
    case STROP_MEMVIEW_ALLOCATED:
        *bytes = m->alloc_bytes;
        *blocks = m->allocs;
        break;
    case STROP_MEMVIEW_TEMPORARY:
        *bytes = m->temp_bytes;
        *blocks = m->temp_blocks;
        break;
    default:
        break;
    }
}

StropNode *
strop_memview_nodes(const StropTree *tree, const StropMemTrace *t, StropMemView v,
                    uint64_t **heap)
{
    StropNode *nodes = strop_malloc((size_t)tree->n_nodes * sizeof *nodes);
    uint64_t *values = NULL;
    if (heap != NULL) {
        *heap = NULL;
        values = strop_calloc((size_t)tree->n_nodes * 4, sizeof *values);
    }
    if (nodes == NULL || (heap != NULL && values == NULL)) {
        strop_free(nodes);
        strop_free(values);
        return NULL;
    }
    memcpy(nodes, tree->nodes, (size_t)tree->n_nodes * sizeof *nodes);
    for (uint32_t n = 0; n < tree->n_nodes; n++) {
        uint64_t bytes, blocks;
        strop_memview_node(t, n, v, &bytes, &blocks);
        nodes[n].calls = bytes;
        nodes[n].self_ticks = nodes[n].total_ticks = 0;
        if (values != NULL) {
            StropMemView in_use = v == STROP_MEMVIEW_PEAK ? v : STROP_MEMVIEW_LEAKS;
            strop_memview_node(t, n, STROP_MEMVIEW_ALLOCATED, &bytes, &blocks);
            values[4 * n] = blocks;
            values[4 * n + 1] = bytes;
            strop_memview_node(t, n, in_use, &bytes, &blocks);
            values[4 * n + 2] = blocks;
            values[4 * n + 3] = bytes;
        }
    }
    if (heap != NULL)
        *heap = values;
    return nodes;
}
