/* cct.h: the calling-context tree, the one model behind every profile.
 *
 * A node is "function F called along this path" with its counters; node 0 is
 * the root.  Nodes live in one growing array and are named by index, so the
 * hot path holds no pointer across a call that may grow it.  Functions are
 * keyed by an opaque pointer-sized key (a code object, a PyMethodDef); their
 * names live with the tree's user.  Both tables are capped: past the caps,
 * new calls fold into one catch-all node so memory stays bounded.
 *
 * Pure C, no Python.h, not thread-safe: the tracer calls it with the GIL held.
 */
#ifndef STROP_CCT_H
#define STROP_CCT_H

#include <stddef.h>
#include <stdint.h>

#define STROP_NONE UINT32_MAX
#define STROP_ROOT 0u
/* Function 0 and node 1 are the catch-all for what lies beyond the caps. */
#define STROP_OVERFLOW_FUNC 0u
#define STROP_OVERFLOW_NODE 1u

typedef struct StropNode {
    uintptr_t key;         /* the function's key */
    uint32_t func;         /* index in the function table */
    uint32_t parent;       /* index of the parent node */
    uint32_t first_child;  /* STROP_NONE when a leaf */
    uint32_t next_sibling; /* STROP_NONE when last */
    uint32_t last_child;   /* the child found last: checked first */
    uint32_t depth;        /* root is 0 */
    uint64_t calls;        /* calls that completed, or samples */
    uint64_t self_ticks;   /* time in the function itself */
    uint64_t total_ticks;  /* inclusive time, summed over every call */
} StropNode;

typedef struct StropFunc {
    uintptr_t key;
    uint32_t canon; /* the function it counts as: itself, or one of the same name */
} StropFunc;

typedef struct StropTree {
    StropNode *nodes;
    uint32_t n_nodes, cap_nodes, max_nodes;
    StropFunc *funcs;
    uint32_t n_funcs, cap_funcs, max_funcs;
    uint32_t *child_slots; /* open addressing: (parent, key) -> node */
    uint32_t child_mask;
    uint32_t *func_slots; /* open addressing: key -> function */
    uint32_t func_mask;
    uint64_t folded; /* calls that went to the catch-all because of a cap */
} StropTree;

/* Per-function totals, in pstats' sense: cc primitive calls, nc all calls,
 * tt own ticks, ct inclusive ticks with recursion counted once. */
typedef struct StropFuncStats {
    uint64_t cc, nc, tt, ct;
} StropFuncStats;

/* Per caller->callee pair, the same four numbers as cProfile keeps them. */
typedef struct StropEdgeStats {
    uint32_t caller, callee;
    uint64_t cc, nc, tt, ct;
} StropEdgeStats;

/* Sets up an empty tree (root, catch-all node and function).  Caps of 0 take
 * the defaults.  Returns 0, or -1 when out of memory (the tree is then empty
 * and safe to free). */
int strop_tree_init(StropTree *tree, uint32_t max_nodes, uint32_t max_funcs);

/* Frees the tree.  Safe on a zeroed or already freed tree. */
void strop_tree_free(StropTree *tree);

/* The function of `key` (its canon), or STROP_NONE when it has none yet. */
uint32_t strop_tree_func_find(const StropTree *tree, uintptr_t key);

/* Adds a function for `key` that counts as function `canon` (STROP_NONE: as
 * itself; the user names functions, and two keys of the same name are one
 * function).  Returns the function it counts as, STROP_OVERFLOW_FUNC when the
 * cap is reached, or STROP_NONE when out of memory. */
uint32_t strop_tree_func_add(StropTree *tree, uintptr_t key, uint32_t canon);

/* The child of `parent` for `key`, or STROP_NONE.  The common case, the same
 * child as last time, is one compare. */
uint32_t strop_tree_child_find_slow(StropTree *tree, uint32_t parent, uintptr_t key);

static inline uint32_t
strop_tree_child_find(StropTree *tree, uint32_t parent, uintptr_t key)
{
    uint32_t c = tree->nodes[parent].last_child;
    if (c != STROP_NONE && tree->nodes[c].key == key)
        return c;
    return strop_tree_child_find_slow(tree, parent, key);
}

/* Adds a child of `parent` for `key` and function `func`.  Returns its index,
 * STROP_OVERFLOW_NODE when the node cap is reached, or STROP_NONE when out of
 * memory.  May move tree->nodes. */
uint32_t strop_tree_child_add(StropTree *tree, uint32_t parent, uintptr_t key, uint32_t func);

/* Folds the tree into per-function and per-edge totals.  `funcs_out` has
 * tree->n_funcs entries; *edges_out is allocated here (strop_free() it) with
 * *n_edges entries.  Returns 0 or -1 when out of memory (nothing allocated). */
int strop_tree_aggregate(const StropTree *tree, StropFuncStats *funcs_out,
                         StropEdgeStats **edges_out, size_t *n_edges);

#endif /* STROP_CCT_H */
