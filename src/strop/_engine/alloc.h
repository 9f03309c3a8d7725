/* alloc.h: strop's one layer of Python allocator hooks, and its two users.
 *
 * Wrappers around the PYMEM_DOMAIN_MEM and PYMEM_DOMAIN_OBJ allocators
 * (PyMem_SetAllocator, PEP 445) are installed while either user needs them:
 *
 *   - the net-bytes counter behind @strop.duration (alloc_start/stop/net):
 *     a running total of bytes allocated since counting started and not yet
 *     freed.  Blocks allocated before counting started are not known.
 *   - allocation tracing (StropMemTrace, driven by a Tracer made with
 *     memory=True): every block is charged to the node of the calling-context
 *     tree that the tracer's shadow stack says is running (never a stack
 *     walk), and per node the tracker keeps bytes and blocks allocated, live,
 *     at the exact peak of the traced total, and temporary (freed before the
 *     call that made them returned, or within the next STROP_TEMP_WINDOW
 *     allocations).
 *
 * Both keep a table from a block's address to its size (and node), with
 * linear probing and backward-shift deletion, in the engine's own memory
 * (mem.h), never through the wrapped allocators.
 *
 * The raw domain is not wrapped: PyMem_RawMalloc may run without the GIL
 * (from threads that hold none, during interpreter start and end), and these
 * tables are protected by the GIL; taking a lock on every Python allocation
 * to cover it would cost more than the rest of the hook.
 *
 * Protected by the GIL: the two wrapped domains are only called with it held,
 * and so are these functions.  The wrappers never raise and never call into
 * Python; when a table cannot grow, they stop tracking new blocks and say so.
 */
#ifndef STROP_ALLOC_H
#define STROP_ALLOC_H

#include "compat.h"

#include <stdint.h>

#include "memseries.h"

/* alloc_start(): begins (or nests) counting.  Returns None. */
PyObject *strop_alloc_start(PyObject *module, PyObject *Py_UNUSED(ignored));
/* alloc_stop(): ends one alloc_start(); the last one switches the wrappers
 * off and forgets the table.  RuntimeError without a matching start. */
PyObject *strop_alloc_stop(PyObject *module, PyObject *Py_UNUSED(ignored));
/* alloc_net() -> int or None: the running total in bytes, None when the
 * count is unreliable (the table could not grow) or counting is off. */
PyObject *strop_alloc_net(PyObject *module, PyObject *Py_UNUSED(ignored));
/* memory_tracing() -> bool: whether an allocation tracing is attached now. */
PyObject *strop_memory_tracing(PyObject *module, PyObject *Py_UNUSED(ignored));

/* ---- allocation tracing ------------------------------------------------ */

/* Blocks freed within this many later allocations are temporary. */
#define STROP_TEMP_WINDOW 8

/* What one node of the tree allocated (its own allocations, not its
 * callees').  The peak values are read through strop_memnode_peak(). */
typedef struct StropMemNode {
    uint64_t alloc_bytes, allocs;     /* in total */
    uint64_t temp_bytes, temp_blocks; /* freed soon after (see above) */
    int64_t live_bytes, live_blocks;  /* allocated and not freed yet */
    int64_t snap_bytes, snap_blocks;  /* live at the peak, once touched after it */
    uint64_t snap_gen;                /* the peak generation of snap_* */
} StropMemNode;

typedef struct StropAllocTable StropAllocTable; /* alloc.c's own */

/* One recording.  Owned by its Tracer; alloc.c fills it while attached. */
typedef struct StropMemTrace {
    StropMemNode *nodes; /* indexed like the tree's nodes */
    uint32_t cap_nodes;
    uint64_t gen; /* bumped at each new peak of the traced total */
    int64_t cur_bytes, cur_blocks, peak_bytes, peak_blocks;
    uint64_t allocations;       /* allocations seen while attached */
    uint64_t untracked;         /* allocations not tracked (table full, huge block) */
    int failed;                 /* the tracker ran out of memory: recording stopped */
    StropAllocTable *table;     /* live blocks */
    uintptr_t recent[STROP_TEMP_WINDOW]; /* the last allocations' addresses */
    uint64_t seq;
    /* Sampled mode (sample_bytes > 0): one allocation per sample_bytes bytes
     * on average, on Poisson spacing, is tracked, and weighted so that the
     * estimates are unbiased (see strop_memtrace_weights). */
    uint64_t sample_bytes;
    int64_t countdown; /* bytes until the next sample */
    uint64_t rng;      /* xorshift64* state */
    uint64_t samples;  /* allocations sampled */
    /* strop's own blocks (made while strop_alloc_suspended): kept out of
     * every figure above, counted here so that the totals can be checked
     * against a tracker that sees them (tracemalloc). */
    int64_t own_bytes, own_blocks, own_at_peak;
    /* max_memory: when the traced total first passes limit_bytes (0: no
     * limit), the program's main thread gets a MemoryError at its next
     * bytecode boundary (a pending call); limit_hit is set then. */
    int64_t limit_bytes;
    int limit_hit;
    StropMemSeries series; /* memory over time, from the first attach */
} StropMemTrace;

/* The weights a tracked block of `size` bytes counts for: itself when not
 * sampling; else, since it was sampled with probability
 * p = 1 - exp(-size / sample_bytes), 1/p blocks and size/p bytes (rounded;
 * at least 1 block). */
void strop_memtrace_weights(const StropMemTrace *trace, size_t size, int64_t *bytes,
                            int64_t *blocks);

/* Node `n`'s live bytes and blocks at the peak. */
static inline void
strop_memnode_peak(const StropMemTrace *t, uint32_t n, int64_t *bytes, int64_t *blocks)
{
    const StropMemNode *m;
    if (n >= t->cap_nodes) {
        *bytes = *blocks = 0;
        return;
    }
    m = &t->nodes[n];
    *bytes = m->snap_gen == t->gen ? m->snap_bytes : m->live_bytes;
    *blocks = m->snap_gen == t->gen ? m->snap_blocks : m->live_blocks;
}

/* A new empty recording (sample_bytes 0: every allocation; else the mean
 * spacing of samples in bytes), or NULL when out of memory (no exception). */
StropMemTrace *strop_memtrace_new(uint64_t sample_bytes);

/* Frees a recording (detached first).  Safe on NULL. */
void strop_memtrace_free(StropMemTrace *trace);

/* Starts charging allocations to `trace`, on the nodes the tracer `owner`
 * reports (tracer.h's strop_tracer_site).  Returns 0, or -1 with
 * RuntimeError set when another recording is attached. */
int strop_memtrace_attach(StropMemTrace *trace, const void *owner);

/* Stops charging allocations to `trace` (nothing when it is not attached). */
void strop_memtrace_detach(StropMemTrace *trace);

/* Where the live block at `block` was allocated, by the recording attached
 * now: 1 with its Tracer in *owner and the node it was charged to in *node,
 * or 0 when no recording is attached or the block is not in it (allocated
 * before it began, not sampled, or strop's own).  With the GIL held. */
int strop_memtrace_site_of(const void *block, const void **owner, uint32_t *node);

/* Bytes the tracker holds for its table of live blocks, and for its nodes. */
size_t strop_memtrace_table_bytes(const StropMemTrace *trace);

/* While > 0, allocations are not traced: the tracer's own work (naming a
 * function) is not the program's.  GIL. */
extern int strop_alloc_suspended;

#endif /* STROP_ALLOC_H */
