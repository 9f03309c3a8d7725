/* alloc.c: counting the bytes a measured call allocates (see alloc.h).
 *
 * The table maps a block's address to its size with linear probing and
 * backward-shift deletion (no tombstones, so a long run of allocations and
 * frees never degrades it).  Its memory comes from mem.h, never from the
 * wrapped allocators, so the wrappers do not re-enter themselves.
 */
#include "alloc.h"

#include <stdint.h>
#include <string.h>

#include "mem.h"

typedef struct {
    uintptr_t key; /* 0: empty slot */
    size_t size;
} Slot;

/* All protected by the GIL. */
static Slot *table = NULL;
static size_t table_cap = 0;   /* a power of two, or 0 */
static size_t table_used = 0;
static int64_t net_bytes = 0;  /* allocated minus freed, of tracked blocks */
static int unreliable = 0;     /* the table could not grow: some blocks untracked */
static int depth = 0;          /* nesting of alloc_start() */
static int active = 0;         /* the wrappers count (else they only forward) */
static int installed = 0;      /* our wrappers are in the allocator chain */

enum { DOMAIN_MEM, DOMAIN_OBJ, N_DOMAINS };
static const PyMemAllocatorDomain domains[N_DOMAINS] = {PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};
static PyMemAllocatorEx originals[N_DOMAINS];
static PyMemAllocatorEx wrappers[N_DOMAINS];

static size_t
slot_of(uintptr_t key)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (table_cap - 1);
}

static int
table_grow(void)
{
    size_t old_cap = table_cap, new_cap = old_cap ? old_cap * 2 : 4096;
    Slot *old = table, *fresh;
    if (new_cap > ((size_t)1 << 28))
        return -1;
    fresh = strop_calloc(new_cap, sizeof *fresh);
    if (fresh == NULL)
        return -1;
    table = fresh;
    table_cap = new_cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].key != 0) {
            size_t j = slot_of(old[i].key);
            while (table[j].key != 0)
                j = (j + 1) & (table_cap - 1);
            table[j] = old[i];
        }
    }
    strop_free(old);
    return 0;
}

static void
table_add(void *ptr, size_t size)
{
    uintptr_t key = (uintptr_t)ptr;
    size_t i;
    if ((table_used + 1) * 4 > table_cap * 3 && table_grow() < 0) {
        unreliable = 1;
        return;
    }
    i = slot_of(key);
    while (table[i].key != 0 && table[i].key != key)
        i = (i + 1) & (table_cap - 1);
    if (table[i].key == key) {
        net_bytes -= (int64_t)table[i].size; /* cannot happen: an address reused unfreed */
    }
    else {
        table[i].key = key;
        table_used++;
    }
    table[i].size = size;
    net_bytes += (int64_t)size;
}

/* Forgets `ptr`, counting its size as freed; untracked pointers do nothing. */
static void
table_remove(void *ptr)
{
    uintptr_t key = (uintptr_t)ptr;
    size_t i, j;
    if (table_cap == 0 || ptr == NULL)
        return;
    i = slot_of(key);
    while (table[i].key != key) {
        if (table[i].key == 0)
            return;
        i = (i + 1) & (table_cap - 1);
    }
    net_bytes -= (int64_t)table[i].size;
    table_used--;
    /* Backward-shift deletion: pull later entries of the run into the hole. */
    j = i;
    for (;;) {
        size_t home;
        j = (j + 1) & (table_cap - 1);
        if (table[j].key == 0)
            break;
        home = slot_of(table[j].key);
        /* Move table[j] to i unless its home lies cyclically in (i, j]. */
        if ((i <= j) ? (home > i && home <= j) : (home > i || home <= j))
            continue;
        table[i] = table[j];
        i = j;
    }
    table[i].key = 0;
    table[i].size = 0;
}

static void *
wrap_malloc(void *ctx, size_t size)
{
    PyMemAllocatorEx *orig = ctx;
    void *p = orig->malloc(orig->ctx, size);
    if (p != NULL && active)
        table_add(p, size);
    return p;
}

static void *
wrap_calloc(void *ctx, size_t nelem, size_t elsize)
{
    PyMemAllocatorEx *orig = ctx;
    void *p = orig->calloc(orig->ctx, nelem, elsize);
    if (p != NULL && active)
        table_add(p, nelem * elsize);
    return p;
}

static void *
wrap_realloc(void *ctx, void *ptr, size_t size)
{
    PyMemAllocatorEx *orig = ctx;
    void *p = orig->realloc(orig->ctx, ptr, size);
    if (p != NULL && active) {
        table_remove(ptr);
        table_add(p, size);
    }
    return p;
}

static void
wrap_free(void *ctx, void *ptr)
{
    PyMemAllocatorEx *orig = ctx;
    if (active)
        table_remove(ptr);
    orig->free(orig->ctx, ptr);
}

static void
install(void)
{
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

/* Takes the wrappers out of the chain, unless something (tracemalloc) was
 * installed above them since: then they stay, forwarding only. */
static void
uninstall(void)
{
    int ours = 1;
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

PyObject *
strop_alloc_start(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    if (depth++ == 0) {
        net_bytes = 0;
        unreliable = 0;
        if (!installed)
            install();
        active = 1;
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
        active = 0;
        uninstall();
        strop_free(table);
        table = NULL;
        table_cap = table_used = 0;
    }
    Py_RETURN_NONE;
}

PyObject *
strop_alloc_net(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    if (!active || unreliable)
        Py_RETURN_NONE;
    return PyLong_FromLongLong((long long)net_bytes);
}
