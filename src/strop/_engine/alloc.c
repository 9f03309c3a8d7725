/* alloc.c: the allocator hooks and their two users (see alloc.h).
 *
 * A table maps a block's address to its size (and, when tracing, the node
 * charged and a stamp of the call that was running) with linear probing and
 * backward-shift deletion (no tombstones, so a long run of allocations and
 * frees never degrades it).  A slot is 16 bytes: the address shifted right by
 * 3 (every allocator aligns blocks to 8 at least) in 48 bits, the stamp in
 * 16, node and size in 32 each.  Blocks of 4 GiB or more, and addresses
 * beyond 2^51, are not tracked and are counted as such.  Table memory comes
 * from mem.h, never from the wrapped allocators, so the wrappers do not
 * re-enter themselves.
 */
#include "alloc.h"

#include <math.h>
#include <string.h>

#include "cct.h"
#include "mem.h"
#include "pstats.h" /* strop_random_seed */
#include "tracer.h"

typedef struct {
    uint32_t key_lo; /* (address >> 3), low 32 bits; key 0: empty slot */
    uint16_t key_hi; /* and the next 16 bits */
    uint16_t stamp;  /* the call that allocated it (tracer.h's strop_tracer_site) */
    uint32_t node;
    uint32_t size;
} Slot;

struct StropAllocTable {
    Slot *slots;
    size_t cap; /* a power of two, or 0 */
    size_t used;
};

#define KEY_LIMIT ((uint64_t)1 << 48)
#define OWN_NODE UINT32_MAX /* a block of strop's own (StropMemTrace.own_bytes) */

int strop_alloc_suspended = 0;

/* ---- the table ------------------------------------------------------------ */

static inline uint64_t
slot_key(const Slot *s)
{
    return ((uint64_t)s->key_hi << 32) | s->key_lo;
}

/* A block's home slot: a random base per 4 KiB page of addresses, plus the
 * block's offset in the page (key = address >> 3, so 512 keys a page).
 * pymalloc serves allocations in a row from one pool, so blocks made and
 * freed together sit in the same few cache lines of the table instead of
 * one line each: a third less time per allocation than a fully random hash
 * on allocation-heavy code.  Within a page, blocks are 16 bytes apart at
 * least (pymalloc's alignment), so a page fills at most half its window. */
static inline size_t
slot_of(const StropAllocTable *t, uint64_t key)
{
    uint64_t page = (key >> 9) * 0x9E3779B97F4A7C15ull;
    return (size_t)((page >> 24) + ((key & 511) >> 1)) & (t->cap - 1);
}

static int
table_grow(StropAllocTable *t)
{
    size_t old_cap = t->cap, new_cap = old_cap ? old_cap * 2 : 4096;
    Slot *old = t->slots, *fresh;
    if (new_cap > ((size_t)1 << 31))
        return -1;
    fresh = strop_calloc(new_cap, sizeof *fresh);
    if (fresh == NULL)
        return -1;
    t->slots = fresh;
    t->cap = new_cap;
    for (size_t i = 0; i < old_cap; i++) {
        uint64_t key = slot_key(&old[i]);
        if (key != 0) {
            size_t j = slot_of(t, key);
            while (slot_key(&t->slots[j]) != 0)
                j = (j + 1) & (t->cap - 1);
            t->slots[j] = old[i];
        }
    }
    strop_free(old);
    return 0;
}

/* The key of `ptr`, or 0 when it cannot be one. */
static inline uint64_t
key_of(const void *ptr)
{
    uint64_t key = (uint64_t)(uintptr_t)ptr >> 3;
    return key < KEY_LIMIT ? key : 0;
}

/* Adds `ptr` (or finds it: an address reused unfreed, which cannot happen
 * but for blocks untracked at their free).  Returns its slot, with *fresh 1
 * when new; NULL when the table cannot grow. */
static Slot *
table_put(StropAllocTable *t, uint64_t key, int *fresh)
{
    size_t i;
    if ((t->used + 1) * 4 > t->cap * 3 && table_grow(t) < 0)
        return NULL;
    i = slot_of(t, key);
    for (;;) {
        uint64_t k = slot_key(&t->slots[i]);
        if (k == key) {
            *fresh = 0;
            return &t->slots[i];
        }
        if (k == 0)
            break;
        i = (i + 1) & (t->cap - 1);
    }
    t->slots[i].key_lo = (uint32_t)key;
    t->slots[i].key_hi = (uint16_t)(key >> 32);
    t->used++;
    *fresh = 1;
    return &t->slots[i];
}

/* The slot of `key`, or NULL. */
static inline Slot *
table_find(const StropAllocTable *t, uint64_t key)
{
    size_t i;
    if (t->cap == 0 || key == 0)
        return NULL;
    i = slot_of(t, key);
    for (;;) {
        uint64_t k = slot_key(&t->slots[i]);
        if (k == key)
            return &t->slots[i];
        if (k == 0)
            return NULL;
        i = (i + 1) & (t->cap - 1);
    }
}

/* Empties `slot` (found by table_find), pulling later entries of its run
 * into the hole. */
static void
table_delete(StropAllocTable *t, Slot *slot)
{
    size_t i = (size_t)(slot - t->slots), j = i;
    t->used--;
    for (;;) {
        size_t home;
        uint64_t k;
        j = (j + 1) & (t->cap - 1);
        k = slot_key(&t->slots[j]);
        if (k == 0)
            break;
        home = slot_of(t, k);
        /* Move slots[j] to i unless its home lies cyclically in (i, j]. */
        if ((i <= j) ? (home > i && home <= j) : (home > i || home <= j))
            continue;
        t->slots[i] = t->slots[j];
        i = j;
    }
    memset(&t->slots[i], 0, sizeof t->slots[i]);
}

static void
table_clear(StropAllocTable *t)
{
    strop_free(t->slots);
    t->slots = NULL;
    t->cap = t->used = 0;
}

/* ---- user 1: the net-bytes counter (all protected by the GIL) ------------ */

static StropAllocTable net_table;
static int64_t net_bytes = 0; /* allocated minus freed, of tracked blocks */
static int unreliable = 0;    /* the table could not grow: some blocks untracked */
static int depth = 0;         /* nesting of alloc_start() */

static void
net_add(void *ptr, size_t size)
{
    uint64_t key = key_of(ptr);
    Slot *s;
    int fresh;
    if (key == 0 || size >= UINT32_MAX || (s = table_put(&net_table, key, &fresh)) == NULL) {
        unreliable = 1;
        return;
    }
    if (!fresh)
        net_bytes -= (int64_t)s->size;
    s->size = (uint32_t)size;
    net_bytes += (int64_t)size;
}

static void
net_remove(void *ptr)
{
    Slot *s = table_find(&net_table, key_of(ptr));
    if (s != NULL) {
        net_bytes -= (int64_t)s->size;
        table_delete(&net_table, s);
    }
}

/* ---- user 2: allocation tracing (all protected by the GIL) --------------- */

static StropMemTrace *tracing = NULL; /* the attached recording, or NULL */
static const void *tracing_owner = NULL;

/* The node record for `n`, grown on demand; NULL when out of memory (the
 * recording is then stopped). */
static inline StropMemNode *
trace_node(StropMemTrace *t, uint32_t n)
{
    if (n >= t->cap_nodes) {
        uint32_t cap = t->cap_nodes ? t->cap_nodes : 1024;
        StropMemNode *nodes;
        while (cap <= n)
            cap *= 2;
        nodes = strop_realloc(t->nodes, (size_t)cap * sizeof *nodes);
        if (nodes == NULL) {
            t->failed = 1;
            return NULL;
        }
        memset(nodes + t->cap_nodes, 0, (size_t)(cap - t->cap_nodes) * sizeof *nodes);
        t->nodes = nodes;
        t->cap_nodes = cap;
    }
    return &t->nodes[n];
}

/* Before a node's live counts change: if the peak moved since it was last
 * touched, its live counts are its counts at the peak. */
static inline void
touch(StropMemTrace *t, StropMemNode *m)
{
    if (m->snap_gen != t->gen) {
        m->snap_bytes = m->live_bytes;
        m->snap_blocks = m->live_blocks;
        m->snap_gen = t->gen;
    }
}

/* The next spacing of samples: exponential with mean t->sample_bytes. */
static int64_t
next_spacing(StropMemTrace *t)
{
    double u;
    t->rng ^= t->rng >> 12;
    t->rng ^= t->rng << 25;
    t->rng ^= t->rng >> 27;
    u = (double)((t->rng * 0x2545F4914F6CDD1Dull) >> 11) * (1.0 / 9007199254740992.0);
    return (int64_t)(-log(1.0 - u) * (double)t->sample_bytes) + 1;
}

void
strop_memtrace_weights(const StropMemTrace *t, size_t size, int64_t *bytes, int64_t *blocks)
{
    double p;
    if (t->sample_bytes == 0) {
        *bytes = (int64_t)size;
        *blocks = 1;
        return;
    }
    p = -expm1(-(double)size / (double)t->sample_bytes);
    if (!(p > 0)) {
        *bytes = (int64_t)t->sample_bytes; /* size 0: count it as one spacing */
        *blocks = 1;
        return;
    }
    *bytes = (int64_t)((double)size / p + 0.5);
    *blocks = (int64_t)(1.0 / p + 0.5);
    if (*blocks < 1)
        *blocks = 1;
}

/* The pending call that stops a program past its memory limit: the
 * MemoryError a program that ran out of memory would get. */
static int64_t limit_reported;

static int
limit_reached(void *unused)
{
    (void)unused;
    PyErr_Format(PyExc_MemoryError,
                 "strop: the program's traced memory passed the limit of %lld bytes "
                 "(--max-memory); the profile holds what was alive then",
                 (long long)limit_reported);
    return -1;
}

static void
trace_add(StropMemTrace *t, void *ptr, size_t size)
{
    uint16_t stamp;
    uint32_t node;
    uint64_t key = key_of(ptr);
    int64_t bytes = (int64_t)size, blocks = 1;
    StropMemNode *m;
    Slot *s;
    int fresh;

    t->allocations++;
    if (t->failed)
        return;
    if (strop_alloc_suspended) {
        if (key != 0 && size < UINT32_MAX && (s = table_put(t->table, key, &fresh)) != NULL &&
            fresh) {
            s->node = OWN_NODE;
            s->size = (uint32_t)size;
            t->own_bytes += (int64_t)size;
            t->own_blocks++;
        }
        return;
    }
    if (t->sample_bytes) {
        /* Sampled: only an allocation that crosses the countdown is tracked. */
        t->countdown -= (int64_t)size;
        if (t->countdown > 0)
            return;
        t->countdown = next_spacing(t);
        t->samples++;
        strop_memtrace_weights(t, size, &bytes, &blocks);
    }
    if (key == 0 || size >= UINT32_MAX) {
        t->untracked++;
        return;
    }
    node = strop_tracer_site(tracing_owner, &stamp);
    m = trace_node(t, node);
    if (m == NULL)
        return;
    s = table_put(t->table, key, &fresh);
    if (s == NULL) {
        t->failed = 1;
        return;
    }
    if (!fresh && s->node == OWN_NODE) { /* cannot happen: an address reused unfreed */
        t->own_bytes -= s->size;
        t->own_blocks--;
    }
    else if (!fresh) {
        StropMemNode *old = &t->nodes[s->node];
        int64_t old_bytes, old_blocks;
        strop_memtrace_weights(t, s->size, &old_bytes, &old_blocks);
        touch(t, old);
        old->live_bytes -= old_bytes;
        old->live_blocks -= old_blocks;
        t->cur_bytes -= old_bytes;
        t->cur_blocks -= old_blocks;
    }
    s->node = node;
    s->size = (uint32_t)size;
    s->stamp = stamp;
    touch(t, m);
    m->alloc_bytes += (uint64_t)bytes;
    m->allocs += (uint64_t)blocks;
    m->live_bytes += bytes;
    m->live_blocks += blocks;
    t->cur_bytes += bytes;
    t->cur_blocks += blocks;
    if (t->cur_bytes > t->peak_bytes) {
        t->peak_bytes = t->cur_bytes;
        t->peak_blocks = t->cur_blocks;
        t->own_at_peak = t->own_bytes;
        t->gen++; /* every node's live counts are now its peak counts */
        if (t->limit_bytes > 0 && t->cur_bytes > t->limit_bytes && !t->limit_hit) {
            t->limit_hit = 1;
            limit_reported = t->limit_bytes;
            Py_AddPendingCall(limit_reached, NULL);
        }
    }
    if (!t->sample_bytes) /* sampled: only the same-call rule makes sense */
        t->recent[t->seq++ % STROP_TEMP_WINDOW] = (uintptr_t)ptr;
    strop_memseries_tick(&t->series, t->cur_bytes);
}

/* Forgets a freed (or moved, `resized`) block; untracked ones do nothing. */
static void
trace_remove(StropMemTrace *t, void *ptr, int resized)
{
    Slot *s = table_find(t->table, key_of(ptr));
    StropMemNode *m;
    int64_t bytes, blocks;
    if (s == NULL)
        return;
    if (s->node == OWN_NODE) {
        t->own_bytes -= s->size;
        t->own_blocks--;
        table_delete(t->table, s);
        return;
    }
    strop_memtrace_weights(t, s->size, &bytes, &blocks);
    m = &t->nodes[s->node];
    touch(t, m);
    m->live_bytes -= bytes;
    m->live_blocks -= blocks;
    t->cur_bytes -= bytes;
    t->cur_blocks -= blocks;
    if (!resized) {
        int temporary = 0;
        for (int i = 0; i < STROP_TEMP_WINDOW; i++)
            temporary |= t->recent[i] == (uintptr_t)ptr;
        if (temporary || strop_tracer_site_running(tracing_owner, s->node, s->stamp)) {
            m->temp_bytes += (uint64_t)bytes;
            m->temp_blocks += (uint64_t)blocks;
        }
    }
    table_delete(t->table, s);
    strop_memseries_tick(&t->series, t->cur_bytes);
}

StropMemTrace *
strop_memtrace_new(uint64_t sample_bytes)
{
    StropMemTrace *t = strop_calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->sample_bytes = sample_bytes;
    t->series.statm = -1;
    if (sample_bytes) {
        t->rng = strop_random_seed() | 1;
        t->countdown = next_spacing(t);
    }
    t->table = strop_calloc(1, sizeof *t->table);
    if (t->table == NULL) {
        strop_free(t);
        return NULL;
    }
    return t;
}

void
strop_memtrace_free(StropMemTrace *t)
{
    if (t == NULL)
        return;
    strop_memtrace_detach(t);
    table_clear(t->table);
    strop_free(t->table);
    strop_free(t->nodes);
    strop_memseries_free(&t->series);
    strop_free(t);
}

size_t
strop_memtrace_table_bytes(const StropMemTrace *t)
{
    return t->table->cap * sizeof(Slot);
}

/* ---- the wrappers ----------------------------------------------------------- */

static int installed = 0; /* our wrappers are in the allocator chain */

enum { DOMAIN_MEM, DOMAIN_OBJ, N_DOMAINS };
static const PyMemAllocatorDomain domains[N_DOMAINS] = {PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};
static PyMemAllocatorEx originals[N_DOMAINS];
static PyMemAllocatorEx wrappers[N_DOMAINS];

static inline void
note_alloc(void *p, size_t size)
{
    if (depth)
        net_add(p, size);
    if (tracing != NULL)
        trace_add(tracing, p, size);
}

static inline void
note_free(void *p, int resized)
{
    if (depth)
        net_remove(p);
    if (tracing != NULL)
        trace_remove(tracing, p, resized);
}

static void *
wrap_malloc(void *ctx, size_t size)
{
    PyMemAllocatorEx *orig = ctx;
    void *p = orig->malloc(orig->ctx, size);
    if (p != NULL)
        note_alloc(p, size);
    return p;
}

static void *
wrap_calloc(void *ctx, size_t nelem, size_t elsize)
{
    PyMemAllocatorEx *orig = ctx;
    void *p = orig->calloc(orig->ctx, nelem, elsize);
    if (p != NULL)
        note_alloc(p, nelem * elsize);
    return p;
}

static void *
wrap_realloc(void *ctx, void *ptr, size_t size)
{
    PyMemAllocatorEx *orig = ctx;
    void *p = orig->realloc(orig->ctx, ptr, size);
    if (p != NULL) {
        if (ptr != NULL)
            note_free(ptr, 1);
        note_alloc(p, size);
    }
    return p;
}

static void
wrap_free(void *ctx, void *ptr)
{
    PyMemAllocatorEx *orig = ctx;
    if (ptr != NULL)
        note_free(ptr, 0);
    orig->free(orig->ctx, ptr);
}

static void
install(void)
{
    if (installed)
        return;
    for (int d = 0; d < N_DOMAINS; d++) {
        PyMem_GetAllocator(domains[d], &originals[d]);
        wrappers[d].ctx = &originals[d];
        wrappers[d].malloc = wrap_malloc;
        wrappers[d].calloc = wrap_calloc;
        wrappers[d].realloc = wrap_realloc;
        wrappers[d].free = wrap_free;
        PyMem_SetAllocator(domains[d], &wrappers[d]);
    }
    installed = 1;
}

/* Takes the wrappers out of the chain when no user needs them, unless
 * something (tracemalloc) was installed above them since: then they stay,
 * forwarding only. */
static void
uninstall(void)
{
    int ours = 1;
    if (!installed || depth > 0 || tracing != NULL)
        return;
    for (int d = 0; d < N_DOMAINS; d++) {
        PyMemAllocatorEx current;
        PyMem_GetAllocator(domains[d], &current);
        if (current.ctx != &originals[d] || current.malloc != wrap_malloc)
            ours = 0;
    }
    if (!ours)
        return;
    for (int d = 0; d < N_DOMAINS; d++)
        PyMem_SetAllocator(domains[d], &originals[d]);
    installed = 0;
}

int
strop_memtrace_attach(StropMemTrace *t, const void *owner)
{
    if (tracing == t)
        return 0;
    if (tracing != NULL) {
        PyErr_SetString(PyExc_RuntimeError,
                        "strop is already tracking memory in this process: track_memory() "
                        "cannot be entered twice; stop the first one before starting another");
        return -1;
    }
    tracing = t;
    tracing_owner = owner;
    strop_memseries_start(&t->series);
    strop_memseries_note(&t->series, t->cur_bytes, 1);
    install();
    return 0;
}

void
strop_memtrace_detach(StropMemTrace *t)
{
    if (t == NULL || tracing != t)
        return;
    strop_memseries_note(&t->series, t->cur_bytes, 1);
    tracing = NULL;
    tracing_owner = NULL;
    uninstall();
}

int
strop_memtrace_site_of(const void *block, const void **owner, uint32_t *node)
{
    const Slot *s;
    if (tracing == NULL || tracing->table == NULL)
        return 0;
    s = table_find(tracing->table, key_of(block));
    if (s == NULL || s->node == OWN_NODE)
        return 0;
    *owner = tracing_owner;
    *node = s->node;
    return 1;
}

PyObject *
strop_memory_tracing(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    return PyBool_FromLong(tracing != NULL);
}

/* ---- the net-bytes counter's Python functions ------------------------------ */

PyObject *
strop_alloc_start(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    if (depth++ == 0) {
        net_bytes = 0;
        unreliable = 0;
        install();
    }
    Py_RETURN_NONE;
}

PyObject *
strop_alloc_stop(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    if (depth == 0) {
        PyErr_SetString(PyExc_RuntimeError, "alloc_stop() without alloc_start()");
        return NULL;
    }
    if (--depth == 0) {
        uninstall();
        table_clear(&net_table);
    }
    Py_RETURN_NONE;
}

PyObject *
strop_alloc_net(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    if (depth == 0 || unreliable)
        Py_RETURN_NONE;
    return PyLong_FromLongLong((long long)net_bytes);
}
