/* cct.c: the calling-context tree (see cct.h).
 *
 * Two open-addressing hash tables of uint32 indices sit beside the arrays: one
 * from (parent, key) to child node, one from key to function.  Both are
 * rebuilt on growth, which is rare and amortised; a lookup is a hash, a
 * compare, and usually one probe.
 */
#include "cct.h"

#include <string.h>

#include "mem.h"

#define DEFAULT_MAX_NODES (2u << 20)
#define DEFAULT_MAX_FUNCS (200u * 1000u)

static inline uint32_t
hash_ptr(uintptr_t key)
{
    uint64_t h = (uint64_t)key;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

static inline uint32_t
hash_child(uint32_t parent, uintptr_t key)
{
    return hash_ptr(key ^ ((uintptr_t)parent * 0x9e3779b97f4a7c15ull));
}

static uint32_t *
new_slots(uint32_t count)
{
    uint32_t *slots = strop_malloc((size_t)count * sizeof *slots);
    if (slots != NULL)
        memset(slots, 0xff, (size_t)count * sizeof *slots); /* STROP_NONE */
    return slots;
}

/* Rebuilds the child table at twice the size.  Returns 0 or -1. */
static int
grow_child_slots(StropTree *tree)
{
    uint32_t count = (tree->child_mask + 1) * 2, mask = count - 1;
    uint32_t *slots = new_slots(count);
    if (slots == NULL)
        return -1;
    for (uint32_t n = 2; n < tree->n_nodes; n++) {
        uint32_t i = hash_child(tree->nodes[n].parent, tree->nodes[n].key) & mask;
        while (slots[i] != STROP_NONE)
            i = (i + 1) & mask;
        slots[i] = n;
    }
    strop_free(tree->child_slots);
    tree->child_slots = slots;
    tree->child_mask = mask;
    return 0;
}

static int
grow_func_slots(StropTree *tree)
{
    uint32_t count = (tree->func_mask + 1) * 2, mask = count - 1;
    uint32_t *slots = new_slots(count);
    if (slots == NULL)
        return -1;
    for (uint32_t f = 1; f < tree->n_funcs; f++) {
        uint32_t i = hash_ptr(tree->funcs[f].key) & mask;
        while (slots[i] != STROP_NONE)
            i = (i + 1) & mask;
        slots[i] = f;
    }
    strop_free(tree->func_slots);
    tree->func_slots = slots;
    tree->func_mask = mask;
    return 0;
}

static void
init_node(StropNode *node, uintptr_t key, uint32_t func, uint32_t parent, uint32_t depth)
{
    memset(node, 0, sizeof *node);
    node->key = key;
    node->func = func;
    node->parent = parent;
    node->first_child = STROP_NONE;
    node->next_sibling = STROP_NONE;
    node->last_child = STROP_NONE;
    node->depth = depth;
}

int
strop_tree_init(StropTree *tree, uint32_t max_nodes, uint32_t max_funcs)
{
    memset(tree, 0, sizeof *tree);
    tree->max_nodes = max_nodes ? max_nodes : DEFAULT_MAX_NODES;
    tree->max_funcs = max_funcs ? max_funcs : DEFAULT_MAX_FUNCS;
    if (tree->max_nodes < 4)
        tree->max_nodes = 4;
    if (tree->max_funcs < 2)
        tree->max_funcs = 2;
    tree->cap_nodes = 1024;
    tree->cap_funcs = 256;
    tree->nodes = strop_malloc(tree->cap_nodes * sizeof *tree->nodes);
    tree->funcs = strop_malloc(tree->cap_funcs * sizeof *tree->funcs);
    tree->child_slots = new_slots(2048);
    tree->func_slots = new_slots(512);
    if (!tree->nodes || !tree->funcs || !tree->child_slots || !tree->func_slots) {
        strop_tree_free(tree);
        return -1;
    }
    tree->child_mask = 2047;
    tree->func_mask = 511;
    init_node(&tree->nodes[STROP_ROOT], 0, STROP_OVERFLOW_FUNC, STROP_ROOT, 0);
    init_node(&tree->nodes[STROP_OVERFLOW_NODE], 0, STROP_OVERFLOW_FUNC, STROP_ROOT, 1);
    tree->nodes[STROP_ROOT].first_child = STROP_OVERFLOW_NODE;
    tree->n_nodes = 2;
    tree->funcs[STROP_OVERFLOW_FUNC].key = 0;
    tree->funcs[STROP_OVERFLOW_FUNC].canon = STROP_OVERFLOW_FUNC;
    tree->n_funcs = 1;
    return 0;
}

void
strop_tree_free(StropTree *tree)
{
    strop_free(tree->nodes);
    strop_free(tree->funcs);
    strop_free(tree->child_slots);
    strop_free(tree->func_slots);
    memset(tree, 0, sizeof *tree);
}

uint32_t
strop_tree_func_find(const StropTree *tree, uintptr_t key)
{
    uint32_t i = hash_ptr(key) & tree->func_mask;
    for (;;) {
        uint32_t f = tree->func_slots[i];
        if (f == STROP_NONE)
            return f;
        if (tree->funcs[f].key == key)
            return tree->funcs[f].canon;
        i = (i + 1) & tree->func_mask;
    }
}

uint32_t
strop_tree_func_add(StropTree *tree, uintptr_t key, uint32_t canon)
{
    uint32_t f, i;
    if (tree->n_funcs >= tree->max_funcs)
        return STROP_OVERFLOW_FUNC;
    if (tree->n_funcs == tree->cap_funcs) {
        StropFunc *funcs = strop_realloc(tree->funcs, 2 * tree->cap_funcs * sizeof *funcs);
        if (funcs == NULL)
            return STROP_NONE;
        tree->funcs = funcs;
        tree->cap_funcs *= 2;
    }
    if ((tree->n_funcs + 1) * 2 > tree->func_mask + 1 && grow_func_slots(tree) < 0)
        return STROP_NONE;
    f = tree->n_funcs++;
    tree->funcs[f].key = key;
    tree->funcs[f].canon = canon < f ? canon : f;
    i = hash_ptr(key) & tree->func_mask;
    while (tree->func_slots[i] != STROP_NONE)
        i = (i + 1) & tree->func_mask;
    tree->func_slots[i] = f;
    return tree->funcs[f].canon;
}

uint32_t
strop_tree_child_find_slow(StropTree *tree, uint32_t parent, uintptr_t key)
{
    uint32_t i = hash_child(parent, key) & tree->child_mask;
    for (;;) {
        uint32_t n = tree->child_slots[i];
        if (n == STROP_NONE)
            return STROP_NONE;
        if (tree->nodes[n].key == key && tree->nodes[n].parent == parent) {
            tree->nodes[parent].last_child = n;
            return n;
        }
        i = (i + 1) & tree->child_mask;
    }
}

uint32_t
strop_tree_child_add(StropTree *tree, uint32_t parent, uintptr_t key, uint32_t func)
{
    uint32_t n, i;
    if (tree->n_nodes >= tree->max_nodes) {
        tree->folded++;
        return STROP_OVERFLOW_NODE;
    }
    if (tree->n_nodes == tree->cap_nodes) {
        uint32_t cap = tree->cap_nodes * 2;
        StropNode *nodes;
        if (cap > tree->max_nodes)
            cap = tree->max_nodes;
        nodes = strop_realloc(tree->nodes, (size_t)cap * sizeof *nodes);
        if (nodes == NULL)
            return STROP_NONE;
        tree->nodes = nodes;
        tree->cap_nodes = cap;
    }
    if ((tree->n_nodes + 1) * 2 > tree->child_mask + 1 && grow_child_slots(tree) < 0)
        return STROP_NONE;
    n = tree->n_nodes++;
    init_node(&tree->nodes[n], key, func, parent, tree->nodes[parent].depth + 1);
    tree->nodes[n].next_sibling = tree->nodes[parent].first_child;
    tree->nodes[parent].first_child = n;
    tree->nodes[parent].last_child = n;
    i = hash_child(parent, key) & tree->child_mask;
    while (tree->child_slots[i] != STROP_NONE)
        i = (i + 1) & tree->child_mask;
    tree->child_slots[i] = n;
    return n;
}

/* A caller->callee pair being aggregated, with how many of its instances are
 * open on the current path. */
typedef struct EdgeTable {
    StropEdgeStats *edges;
    uint32_t *active;
    size_t n, cap;
    uint32_t *slots;
    uint32_t mask;
} EdgeTable;

static uint32_t
edge_find_or_add(EdgeTable *table, uint32_t caller, uint32_t callee)
{
    uint64_t pair = ((uint64_t)caller << 32) | callee;
    uint32_t i = hash_ptr((uintptr_t)pair) & table->mask;
    for (;;) {
        uint32_t e = table->slots[i];
        if (e == STROP_NONE)
            break;
        if (table->edges[e].caller == caller && table->edges[e].callee == callee)
            return e;
        i = (i + 1) & table->mask;
    }
    /* The table was sized for every node being an edge: no growth needed. */
    table->slots[i] = (uint32_t)table->n;
    memset(&table->edges[table->n], 0, sizeof table->edges[0]);
    table->edges[table->n].caller = caller;
    table->edges[table->n].callee = callee;
    table->active[table->n] = 0;
    return (uint32_t)table->n++;
}

int
strop_tree_aggregate(const StropTree *tree, StropFuncStats *funcs_out,
                     StropEdgeStats **edges_out, size_t *n_edges)
{
    uint32_t *active_func = NULL, *stack = NULL, *edge_of = NULL;
    EdgeTable table = {0};
    uint32_t slots = 16, depth = 0;
    int status = -1;

    while (slots < 2 * tree->n_nodes)
        slots *= 2;
    active_func = strop_calloc(tree->n_funcs, sizeof *active_func);
    stack = strop_malloc((size_t)tree->n_nodes * sizeof *stack);
    edge_of = strop_malloc((size_t)tree->n_nodes * sizeof *edge_of);
    table.edges = strop_malloc((size_t)tree->n_nodes * sizeof *table.edges);
    table.active = strop_malloc((size_t)tree->n_nodes * sizeof *table.active);
    table.slots = new_slots(slots);
    table.mask = slots - 1;
    if (!active_func || !stack || !edge_of || !table.edges || !table.active || !table.slots)
        goto done;
    memset(funcs_out, 0, (size_t)tree->n_funcs * sizeof *funcs_out);

    /* Iterative depth-first walk: a node is entered when pushed and left when
     * its last child is done, so the `active` counts say which function and
     * which pair is already open above the node: those calls are recursive. */
    stack[depth++] = STROP_ROOT;
    {
        uint32_t n = tree->nodes[STROP_ROOT].first_child;
        while (depth > 0) {
            if (n != STROP_NONE) {
                const StropNode *node = &tree->nodes[n];
                uint32_t f = node->func, parent = node->parent;
                StropFuncStats *fs = &funcs_out[f];
                fs->nc += node->calls;
                fs->tt += node->self_ticks;
                if (active_func[f]++ == 0) {
                    fs->cc += node->calls;
                    fs->ct += node->total_ticks;
                }
                edge_of[n] = STROP_NONE;
                if (parent != STROP_ROOT) {
                    uint32_t e = edge_find_or_add(&table, tree->nodes[parent].func, f);
                    StropEdgeStats *es = &table.edges[e];
                    es->nc += node->calls;
                    es->tt += node->self_ticks;
                    if (table.active[e]++ == 0) {
                        es->cc += node->calls;
                        es->ct += node->total_ticks;
                    }
                    edge_of[n] = e;
                }
                stack[depth++] = n;
                n = node->first_child;
            }
            else {
                uint32_t done = stack[--depth];
                if (done == STROP_ROOT)
                    break;
                active_func[tree->nodes[done].func]--;
                if (edge_of[done] != STROP_NONE)
                    table.active[edge_of[done]]--;
                n = tree->nodes[done].next_sibling;
            }
        }
    }
    *edges_out = table.edges;
    *n_edges = table.n;
    table.edges = NULL;
    status = 0;
done:
    strop_free(active_func);
    strop_free(stack);
    strop_free(edge_of);
    strop_free(table.edges);
    strop_free(table.active);
    strop_free(table.slots);
    return status;
}
