/* heap.c: the heap census and its result, HeapSet (see heap.h).
 *
 * Phase 1 is a breadth-first search whose queue is the census's own array
 * of objects: an object is appended when first seen, and the walk visits the
 * referents of objs[i] for i = 0, 1, ...  "Seen" is an open-addressing
 * table of 32-bit indices into that array (the address is objs[index]).
 * For a whole-heap census, phase 2 finds the roots by reference counts and
 * phase 3 marks what they reach, so that what only strop's own sets keep
 * alive is left out; phase 4 sizes what is counted.  Memory per object while
 * it runs: 8 bytes of pointer, 8 of size, 4 of kind (arrays grown by half),
 * 4 / load of table (load 0.35 to 0.7) and 4 of phase 3's stack, plus the
 * 8 of gc.get_objects()'s list per collected object: measured 39 bytes per
 * object at peak on bench/bench_heap.py's heap, 20 kept by the HeapSet.
 *
 * Every object found is increfed when it is appended: the __sizeof__ of a
 * Python class may run arbitrary code, and the walk must not hold a pointer
 * to an object that code freed.
 *
 * This file is not: the printing of partitions (strop/_memory.py), retained
 * sizes and referrer paths (later).
 */
#include "heap.h"

#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "mem.h"
#include "tracer.h"

#define NO_INDEX UINT32_MAX
#define NO_KIND UINT32_MAX
#define OWN_KIND (UINT32_MAX - 1) /* an object of strop's own: never counted */
#define SKIP_KIND (UINT32_MAX - 2) /* made by the census (a frame object): ignored */
#define LEFT_OUT(kind) ((kind) == OWN_KIND || (kind) == SKIP_KIND)
#define MAX_OWN_TYPES 16

/* Types whose instances the census leaves out.  Strong references; protected
 * by the GIL. */
static PyTypeObject *own_types[MAX_OWN_TYPES];
static int n_own_types;
static PyTypeObject *HeapSet_type;      /* borrowed: the module holds it */

/* ---- address hashing ------------------------------------------------- */

static inline size_t
hash_ptr(const void *p, size_t mask)
{
    uint64_t x = (uint64_t)(uintptr_t)p >> 4;
    x *= 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 20) & mask;
}

/* ---- AddrSet: a set of addresses ------------------------------------ */

#define ADDR_EMPTY ((uintptr_t)0)
#define ADDR_GONE ((uintptr_t)1) /* tombstone: never an object's address */

typedef struct {
    size_t mask;      /* capacity - 1; capacity a power of two */
    uintptr_t *slots; /* ADDR_EMPTY, ADDR_GONE or an address */
} AddrSet;

/* Fills `set` with the addresses keys[0..n).  0, or -1 when out of memory. */
static int
addrset_fill(AddrSet *set, uintptr_t *keys, size_t n)
{
    size_t cap = 64;
    while (cap < n * 2)
        cap *= 2;
    set->slots = strop_calloc(cap, sizeof(uintptr_t));
    if (set->slots == NULL)
        return -1;
    set->mask = cap - 1;
    for (size_t k = 0; k < n; k++) {
        size_t i = hash_ptr((void *)keys[k], set->mask);
        while (set->slots[i] != ADDR_EMPTY && set->slots[i] != keys[k])
            i = (i + 1) & set->mask;
        set->slots[i] = keys[k];
    }
    return 0;
}

/* The slot holding `key`, or NULL. */
static inline uintptr_t *
addrset_slot(const AddrSet *set, uintptr_t key)
{
    size_t i = hash_ptr((void *)key, set->mask);
    for (;;) {
        uintptr_t s = set->slots[i];
        if (s == ADDR_EMPTY)
            return NULL;
        if (s == key)
            return &set->slots[i];
        i = (i + 1) & set->mask;
    }
}

/* ---- setrelheap(): the objects alive then, forgotten as they are freed --
 *
 * The baseline holds the start of each object's memory block (the object's
 * address less what sys.getsizeof's pre-header covers), not references: it
 * must not keep anything alive.  So that a new object at a freed object's
 * address is not taken for the old one, a wrapper around the object
 * allocator (PYMEM_DOMAIN_OBJ, which every object's memory comes from)
 * removes a block from the baseline when it is freed or moved.  The wrapper
 * is installed by the first setrelheap() and stays: another wrapper (alloc.c,
 * tracemalloc) may have been stacked on it since, and removing ours would
 * cut it off.  With no baseline it only forwards.
 *
 * Known gap: an object that CPython frees to its type's free list (list,
 * dict, tuple, float, ...) never reaches the allocator, so a new object of
 * that type reusing an old one's memory is taken for the old one and not
 * counted (at most the free list's length: 80 lists, 80 dicts, ...).  3.13's
 * PyRefTracer_SetTracer sees every creation and would close it there.
 *
 * Protected by the GIL: the OBJ domain is only called with it held.
 */
static AddrSet relheap;            /* slots NULL: no baseline */
static PyMemAllocatorEx under_obj; /* the allocator the wrapper calls */
static int wrapper_installed;

static inline void
relheap_forget(void *block)
{
    if (relheap.slots != NULL && block != NULL) {
        uintptr_t *slot = addrset_slot(&relheap, (uintptr_t)block);
        if (slot != NULL)
            *slot = ADDR_GONE;
    }
}

static void *
wrap_malloc(void *ctx, size_t size)
{
    (void)ctx;
    return under_obj.malloc(under_obj.ctx, size);
}

static void *
wrap_calloc(void *ctx, size_t nelem, size_t elsize)
{
    (void)ctx;
    return under_obj.calloc(under_obj.ctx, nelem, elsize);
}

static void *
wrap_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    relheap_forget(ptr);
    return under_obj.realloc(under_obj.ctx, ptr, size);
}

static void
wrap_free(void *ctx, void *ptr)
{
    (void)ctx;
    relheap_forget(ptr);
    under_obj.free(under_obj.ctx, ptr);
}

static inline uintptr_t
block_of(PyObject *o)
{
    return (uintptr_t)((char *)o - strop_block_offset(o));
}

/* ---- HeapSet: the result of a census --------------------------------- */

typedef struct {
    PyObject_HEAD
    Py_ssize_t n;
    PyObject **objs;     /* n strong references */
    Py_ssize_t *sizes;   /* sys.getsizeof of each */
    uint32_t *kinds;     /* index into kind_types / kind_dictof */
    Py_ssize_t nkinds;
    PyTypeObject **kind_types; /* strong references */
    unsigned char *kind_dictof; /* 1: "dict of" kind_types[k] */
    Py_ssize_t total;
    Py_ssize_t bad_sizeof; /* objects counted at their basic size */
    /* A grouping of the objects beyond their kinds, else NULL: alt_by is
     * "rcs" (the kinds of their referrers, with_referrers()) or "site" (where
     * they were allocated, with_sites()); alt[i] the group of object i, an
     * index into alt_names (a list of str). */
    const char *alt_by;
    uint32_t *alt;
    PyObject *alt_names;
} HeapSet;

static int
HeapSet_traverse(HeapSet *self, visitproc visit, void *arg)
{
    for (Py_ssize_t i = 0; i < self->n; i++)
        Py_VISIT(self->objs[i]);
    for (Py_ssize_t k = 0; k < self->nkinds; k++)
        Py_VISIT((PyObject *)self->kind_types[k]);
    Py_VISIT(self->alt_names);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static int
HeapSet_clear(HeapSet *self)
{
    Py_ssize_t n = self->n, nk = self->nkinds;
    PyObject **objs = self->objs;
    PyTypeObject **types = self->kind_types;
    self->n = 0;
    self->nkinds = 0;
    self->objs = NULL;
    self->kind_types = NULL;
    for (Py_ssize_t i = 0; i < n; i++)
        Py_DECREF(objs[i]);
    for (Py_ssize_t k = 0; k < nk; k++)
        Py_DECREF(types[k]);
    strop_free(objs);
    strop_free(types);
    strop_free(self->sizes);
    strop_free(self->kinds);
    strop_free(self->kind_dictof);
    strop_free(self->alt);
    self->sizes = NULL;
    self->kinds = NULL;
    self->kind_dictof = NULL;
    self->alt = NULL;
    self->alt_by = NULL;
    Py_CLEAR(self->alt_names);
    self->total = 0;
    return 0;
}

static void
HeapSet_dealloc(HeapSet *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    HeapSet_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* ---- the census ------------------------------------------------------ */

enum { SIZEOF_OBJECT, SIZEOF_LIST, SIZEOF_CFUNC, SIZEOF_CALL };

/* What the census knows about one type: its kinds and how to size it. */
typedef struct {
    PyTypeObject *type; /* NULL: empty slot; borrowed (a kind holds it) */
    uint32_t kind;
    uint32_t dict_kind; /* NO_KIND until a dict of this type's instances is met */
    int own;
    int sizeof_mode;
    PyCFunction cfunc;  /* SIZEOF_CFUNC */
} TypeInfo;

typedef struct {
    /* the objects found, in the order found; strong references */
    PyObject **objs;
    Py_ssize_t *sizes; /* -1: not counted (in the baseline) */
    uint32_t *kinds;
    size_t n, cap;
    /* seen: indices into objs, NO_INDEX = empty */
    uint32_t *table;
    size_t mask;
    /* types met, and the kinds made from them */
    TypeInfo *types;
    size_t tmask, ntypes;
    PyTypeObject **kind_types; /* strong */
    unsigned char *kind_dictof;
    size_t nkinds, kcap;
    /* leave out */
    /* the root list, our caller's frame, the barrier, the call's arguments */
    PyObject *skip1, *skip2, *skip3, *skip4;
    int relative;   /* leave out what the relheap baseline holds */
    int find_roots; /* the roots are the whole heap's: find them by reference counts */
    PyObject *sizeof_name; /* "__sizeof__" */
    PyCFunction object_sizeof;
    Py_ssize_t bad_sizeof;
    size_t need; /* bytes asked for when memory ran out; 0 = fine */
    uint32_t *stack; /* phase 3's work list */
    size_t top;
    /* referents of a batch of objects, looked up together (see flush) */
    PyObject **buf;
    size_t nbuf, capbuf;
} Census;

static int
census_grow_table(Census *c)
{
    size_t cap = c->table ? (c->mask + 1) * 2 : 1024;
    uint32_t *t = strop_malloc(cap * sizeof(uint32_t));
    if (t == NULL) {
        c->need = cap * sizeof(uint32_t);
        return -1;
    }
    memset(t, 0xff, cap * sizeof(uint32_t));
    size_t mask = cap - 1;
    for (size_t k = 0; k < c->n; k++) {
        size_t i = hash_ptr(c->objs[k], mask);
        while (t[i] != NO_INDEX)
            i = (i + 1) & mask;
        t[i] = (uint32_t)k;
    }
    strop_free(c->table);
    c->table = t;
    c->mask = mask;
    return 0;
}

/* Index of `o` in c->objs, or NO_INDEX. */
static uint32_t
census_find(const Census *c, PyObject *o)
{
    size_t i = hash_ptr(o, c->mask);
    for (;;) {
        uint32_t k = c->table[i];
        if (k == NO_INDEX || c->objs[k] == o)
            return k;
        i = (i + 1) & c->mask;
    }
}

static int
census_grow_arrays(Census *c, size_t want)
{
    size_t cap = c->cap ? c->cap + c->cap / 2 : 4096;
    if (cap < want)
        cap = want;
    if (cap >= NO_INDEX) {
        c->need = cap * (sizeof(PyObject *) + sizeof(Py_ssize_t) + sizeof(uint32_t));
        return -1;
    }
    PyObject **objs = strop_realloc(c->objs, cap * sizeof(PyObject *));
    if (objs == NULL)
        goto nomem;
    c->objs = objs;
    Py_ssize_t *sizes = strop_realloc(c->sizes, cap * sizeof(Py_ssize_t));
    if (sizes == NULL)
        goto nomem;
    c->sizes = sizes;
    uint32_t *kinds = strop_realloc(c->kinds, cap * sizeof(uint32_t));
    if (kinds == NULL)
        goto nomem;
    c->kinds = kinds;
    c->cap = cap;
    return 0;
nomem:
    c->need = cap * (sizeof(PyObject *) + sizeof(Py_ssize_t) + sizeof(uint32_t));
    return -1;
}

static int
is_own(PyTypeObject *tp)
{
    if (tp == HeapSet_type)
        return 1;
    for (int i = 0; i < n_own_types; i++)
        if (tp == own_types[i])
            return 1;
    return 0;
}

/* Adds `o` unless seen or left out (objects of strop's own types are added
 * flagged OWN_KIND: walked through, never counted).  With `count_ref`, one
 * more reference to it is known (kept in sizes[] until roots are found).
 * Returns 0, or -1 when out of memory (c->need says how much). */
static int
census_add(Census *c, PyObject *o, int count_ref)
{
    if (o == c->skip1 || o == c->skip2 || o == c->skip3 || o == c->skip4)
        return 0;
    size_t i = hash_ptr(o, c->mask);
    for (;;) {
        uint32_t k = c->table[i];
        if (k == NO_INDEX)
            break;
        if (c->objs[k] == o) {
            c->sizes[k] += count_ref;
            return 0;
        }
        i = (i + 1) & c->mask;
    }
    if (c->n == c->cap && census_grow_arrays(c, 0) < 0)
        return -1;
    c->objs[c->n] = Py_NewRef(o);
    c->kinds[c->n] = is_own(Py_TYPE(o)) ? OWN_KIND : NO_KIND;
    c->sizes[c->n] = count_ref;
    c->table[i] = (uint32_t)c->n;
    c->n++;
    if (c->n * 10 > (c->mask + 1) * 7 && census_grow_table(c) < 0)
        return -1;
    return 0;
}

/* Phase 2's visitor for strop's own objects: one more reference known to
 * an object already found. */
static int
count_visit(PyObject *o, void *arg)
{
    Census *c = arg;
    uint32_t k = census_find(c, o);
    if (k != NO_INDEX)
        c->sizes[k]++;
    return 0;
}

/* Phase 3's visitor: marks what a reached object refers to (sizes[k] 0 -> 1)
 * and pushes it on the stack. */
static int
mark_visit(PyObject *o, void *arg)
{
    Census *c = arg;
    uint32_t k = census_find(c, o);
    if (k != NO_INDEX && c->sizes[k] == 0 && !LEFT_OUT(c->kinds[k])) {
        c->sizes[k] = 1;
        c->stack[c->top++] = k;
    }
    return 0;
}

static uint32_t
census_new_kind(Census *c, PyTypeObject *tp, int dictof)
{
    if (c->nkinds == c->kcap) {
        size_t cap = c->kcap ? c->kcap * 2 : 64;
        PyTypeObject **t = strop_realloc(c->kind_types, cap * sizeof(PyTypeObject *));
        if (t == NULL)
            return NO_KIND;
        c->kind_types = t;
        unsigned char *d = strop_realloc(c->kind_dictof, cap);
        if (d == NULL)
            return NO_KIND;
        c->kind_dictof = d;
        c->kcap = cap;
    }
    Py_INCREF(tp);
    c->kind_types[c->nkinds] = tp;
    c->kind_dictof[c->nkinds] = (unsigned char)dictof;
    return (uint32_t)c->nkinds++;
}

/* How to size instances of `tp`, as sys.getsizeof would (it looks
 * __sizeof__ up on the type). */
static void
choose_sizeof(Census *c, TypeInfo *ti)
{
    PyObject *descr = _PyType_Lookup(ti->type, c->sizeof_name); /* borrowed */
    ti->sizeof_mode = SIZEOF_CALL;
    if (descr != NULL && (Py_TYPE(descr) == &PyMethodDescr_Type)) {
        PyMethodDef *def = ((PyMethodDescrObject *)descr)->d_method;
        if ((def->ml_flags & (METH_NOARGS | METH_VARARGS | METH_KEYWORDS | METH_O)) == METH_NOARGS
#ifdef METH_FASTCALL
            && !(def->ml_flags & METH_FASTCALL)
#endif
        ) {
            ti->cfunc = def->ml_meth;
            ti->sizeof_mode = SIZEOF_CFUNC;
            if (def->ml_meth == c->object_sizeof)
                ti->sizeof_mode = SIZEOF_OBJECT;
            else if (ti->type == &PyList_Type)
                ti->sizeof_mode = SIZEOF_LIST;
        }
    }
}

/* The TypeInfo of `tp`, made on first sight; NULL when out of memory. */
static TypeInfo *
census_type(Census *c, PyTypeObject *tp)
{
    size_t i = hash_ptr(tp, c->tmask);
    while (c->types[i].type != NULL) {
        if (c->types[i].type == tp)
            return &c->types[i];
        i = (i + 1) & c->tmask;
    }
    if ((c->ntypes + 1) * 2 > c->tmask + 1) {
        size_t cap = (c->tmask + 1) * 2;
        TypeInfo *t = strop_calloc(cap, sizeof(TypeInfo));
        if (t == NULL) {
            c->need = cap * sizeof(TypeInfo);
            return NULL;
        }
        for (size_t k = 0; k <= c->tmask; k++) {
            if (c->types[k].type == NULL)
                continue;
            size_t j = hash_ptr(c->types[k].type, cap - 1);
            while (t[j].type != NULL)
                j = (j + 1) & (cap - 1);
            t[j] = c->types[k];
        }
        strop_free(c->types);
        c->types = t;
        c->tmask = cap - 1;
        return census_type(c, tp);
    }
    TypeInfo *ti = &c->types[i];
    uint32_t kind = census_new_kind(c, tp, 0);
    if (kind == NO_KIND) {
        c->need = 64 * sizeof(void *);
        return NULL;
    }
    ti->type = tp;
    ti->kind = kind;
    ti->dict_kind = NO_KIND;
    ti->own = is_own(tp);
    choose_sizeof(c, ti);
    c->ntypes++;
    return ti;
}

static Py_ssize_t
basic_size(PyObject *o)
{
    PyTypeObject *tp = Py_TYPE(o);
    Py_ssize_t size = tp->tp_basicsize;
    if (tp->tp_itemsize > 0) {
        Py_ssize_t items = Py_SIZE(o);
        size += (items < 0 ? -items : items) * tp->tp_itemsize;
    }
    return size;
}

/* sys.getsizeof(o), without its exceptions: a __sizeof__ that raises or
 * returns what is not a non-negative int gives the basic size, counted in
 * c->bad_sizeof. */
static Py_ssize_t
census_sizeof(Census *c, TypeInfo *ti, PyObject *o)
{
    Py_ssize_t size;
    PyObject *res;
    switch (ti->sizeof_mode) {
    case SIZEOF_OBJECT:
        return basic_size(o) + strop_preheader_size(o);
    case SIZEOF_LIST:
        return Py_TYPE(o)->tp_basicsize +
               ((PyListObject *)o)->allocated * (Py_ssize_t)sizeof(void *) +
               strop_preheader_size(o);
    case SIZEOF_CFUNC:
        res = ti->cfunc(o, NULL);
        break;
    default: {
        /* A class's own __sizeof__: looked up on the type and bound, as
         * sys.getsizeof does; the one Python call a census makes. */
        PyObject *descr = _PyType_Lookup(ti->type, c->sizeof_name);
        if (descr == NULL) {
            res = NULL;
            break;
        }
        Py_INCREF(descr);
        descrgetfunc get = Py_TYPE(descr)->tp_descr_get;
        if (get != NULL) {
            PyObject *bound = get(descr, o, (PyObject *)ti->type);
            Py_DECREF(descr);
            if (bound == NULL) {
                res = NULL;
                break;
            }
            descr = bound;
        }
        res = PyObject_CallObject(descr, NULL);
        Py_DECREF(descr);
        break;
    }
    }
    if (res == NULL || !PyLong_Check(res)) {
        Py_XDECREF(res);
        PyErr_Clear();
        c->bad_sizeof++;
        return basic_size(o) + strop_preheader_size(o);
    }
    size = PyLong_AsSsize_t(res);
    Py_DECREF(res);
    if (size < 0) {
        PyErr_Clear();
        c->bad_sizeof++;
        return basic_size(o) + strop_preheader_size(o);
    }
    return size + strop_preheader_size(o);
}

static void
census_free(Census *c)
{
    for (size_t i = 0; i < c->n; i++)
        Py_DECREF(c->objs[i]);
    for (size_t k = 0; k < c->nkinds; k++)
        Py_DECREF(c->kind_types[k]);
    strop_free(c->objs);
    strop_free(c->sizes);
    strop_free(c->kinds);
    strop_free(c->table);
    strop_free(c->types);
    strop_free(c->kind_types);
    strop_free(c->kind_dictof);
    strop_free(c->stack);
    strop_free(c->buf);
    Py_XDECREF(c->sizeof_name);
    memset(c, 0, sizeof(*c));
}

static PyObject *
memory_error(const Census *c)
{
    return PyErr_Format(PyExc_MemoryError,
                        "strop: the heap census of %zu objects could not get %zu more bytes; "
                        "nothing was changed",
                        c->n, c->need);
}

/* Traverses o's referents (with `visit`), and the dict in its dict slot,
 * which 3.13 does not visit while the instance's inline values are valid. */
static int
traverse(PyObject *o, visitproc visit, void *arg)
{
    if (PyObject_IS_GC(o) && Py_TYPE(o)->tp_traverse != NULL)
        if (Py_TYPE(o)->tp_traverse(o, visit, arg) != 0)
            return -1;
    return 0;
}

/* Objects whose referents are gathered before they are looked up.  A
 * lookup costs two cache misses (the table, then the object array); looking
 * up a batch's referents in three passes, each prefetching what the next
 * reads, overlaps them. */
#define BATCH 64

static int
buffer_visit(PyObject *o, void *arg)
{
    Census *c = arg;
    if (c->nbuf == c->capbuf) {
        size_t cap = c->capbuf ? c->capbuf * 2 : 1024;
        PyObject **buf = strop_realloc(c->buf, cap * sizeof(PyObject *));
        if (buf == NULL) {
            c->need = cap * sizeof(PyObject *);
            return -1;
        }
        c->buf = buf;
        c->capbuf = cap;
    }
    c->buf[c->nbuf++] = o;
    return 0;
}

static void
prefetch_buffer(const Census *c)
{
    for (size_t j = 0; j < c->nbuf; j++)
        __builtin_prefetch(&c->table[hash_ptr(c->buf[j], c->mask)]);
    for (size_t j = 0; j < c->nbuf; j++) {
        uint32_t k = c->table[hash_ptr(c->buf[j], c->mask)];
        if (k != NO_INDEX)
            __builtin_prefetch(&c->objs[k]);
    }
}

/* Adds the gathered referents (one reference known to each).  0, or -1
 * when out of memory. */
static int
flush_add(Census *c)
{
    prefetch_buffer(c);
    for (size_t j = 0; j < c->nbuf; j++)
        if (census_add(c, c->buf[j], 1) < 0)
            return -1;
    c->nbuf = 0;
    return 0;
}

/* Marks the gathered referents, pushing the newly marked. */
static void
flush_mark(Census *c)
{
    prefetch_buffer(c);
    for (size_t j = 0; j < c->nbuf; j++)
        mark_visit(c->buf[j], c);
    c->nbuf = 0;
}

#if STROP_FRAMES_HIDE_LOCALS
static int
root_visit(PyObject *o, void *arg)
{
    /* A root by its reference count: the frame's reference is not seen. */
    return census_add((Census *)arg, o, 0);
}

/* Adds `o`, made by the census, as ignored.  0, or -1 out of memory. */
static int
census_add_skipped(Census *c, PyObject *o)
{
    if (census_add(c, o, 0) < 0)
        return -1;
    uint32_t k = census_find(c, o);
    if (k != NO_INDEX)
        c->kinds[k] = SKIP_KIND;
    return 0;
}
#endif

#if STROP_FRAMES_HIDE_LOCALS
static int
visit_nothing(PyObject *o, void *arg)
{
    (void)o;
    (void)arg;
    return 0;
}
#endif

/* What the frames of every thread hold, as roots.  3.11+: their locals, and
 * the frame objects that asking for them creates are left out (they are the
 * interpreter's, not the program's data); older versions: the frame objects
 * themselves, which traverse their locals.  With c NULL, only makes what
 * that makes (3.11's locals dicts) and adds nothing.  0, or -1 out of memory. */
static int
census_add_frames(Census *c)
{
#if STROP_FRAMES_HIDE_LOCALS
    PyInterpreterState *interp = PyInterpreterState_Get();
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL;
         ts = PyThreadState_Next(ts)) {
        PyFrameObject *f = PyThreadState_GetFrame(ts);
        while (f != NULL) {
            PyObject *made = NULL;
            if (c != NULL && census_add_skipped(c, (PyObject *)f) < 0) {
                Py_DECREF(f);
                return -1;
            }
            strop_visit_frame_locals(f, c != NULL ? root_visit : visit_nothing, c, &made);
            if (c != NULL && (c->need || (made != NULL && census_add_skipped(c, made) < 0))) {
                Py_DECREF(f);
                return -1;
            }
            PyFrameObject *back = PyFrame_GetBack(f);
            Py_DECREF(f);
            f = back;
        }
    }
#else
    /* Frames are objects here, but a running one may not be in the
     * collector's lists: the frames of every thread are roots. */
    PyInterpreterState *interp = PyThreadState_Get()->interp;
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL;
         ts = PyThreadState_Next(ts)) {
        for (PyFrameObject *f = ts->frame; c != NULL && f != NULL; f = f->f_back)
            if (census_add(c, (PyObject *)f, 0) < 0)
                return -1;
    }
#endif
    return 0;
}

/* Phase 1: finds everything reachable from roots[0..nroots) (deep: through
 * tp_traverse) and kinds it.  Each object's sizes[] slot counts the
 * references the walk saw to it, the root list's included.  0, or -1 with
 * an exception. */
static int
census_find_all(Census *c, PyObject **roots, Py_ssize_t nroots, int deep)
{
    /* Room for the roots and half as many again (what containers reach
     * beyond the collector's list), so the arrays and table rarely grow. */
    size_t want = (size_t)nroots + (size_t)nroots / 2;
    if (want > c->cap && census_grow_arrays(c, want) < 0)
        return memory_error(c), -1;
    /* The table (4 bytes a slot) for twice the roots: growing it rehashes. */
    while ((size_t)nroots * 2 * 10 > (c->mask + 1) * 7)
        if (census_grow_table(c) < 0)
            return memory_error(c), -1;
    if (c->find_roots && census_add_frames(c) < 0)
        return memory_error(c), -1;
    for (Py_ssize_t r = 0; r < nroots; r++) {
        if (buffer_visit(roots[r], c) < 0)
            return memory_error(c), -1;
        if (c->nbuf >= 4 * BATCH && flush_add(c) < 0)
            return memory_error(c), -1;
    }
    if (flush_add(c) < 0)
        return memory_error(c), -1;
    for (size_t start = 0; start < c->n;) {
        size_t end = start + BATCH < c->n ? start + BATCH : c->n;
        if (deep) {
            for (size_t i = start; i < end; i++)
                if (!LEFT_OUT(c->kinds[i]) && traverse(c->objs[i], buffer_visit, c) < 0 &&
                    c->need)
                    return memory_error(c), -1;
            if (flush_add(c) < 0)
                return memory_error(c), -1;
        }
        for (size_t i = start; i < end; i++) {
            PyObject *o = c->objs[i];
            if (LEFT_OUT(c->kinds[i]))
                continue; /* see census_reach */
            TypeInfo *ti = census_type(c, Py_TYPE(o));
            if (ti == NULL)
                return memory_error(c), -1;
            if (deep && !PyDict_CheckExact(o)) {
                /* A dict in this object's dict slot is "dict of" its class. */
                PyObject *dict = strop_instance_dict(o);
                if (dict != NULL) {
                    if (census_add(c, dict, 0) < 0)
                        return memory_error(c), -1;
                    uint32_t d = census_find(c, dict);
                    /* The dict may have been reached (and kinded "dict") first. */
                    if (d != NO_INDEX && !LEFT_OUT(c->kinds[d]) &&
                        (c->kinds[d] == NO_KIND || !c->kind_dictof[c->kinds[d]])) {
                        if (ti->dict_kind == NO_KIND) {
                            ti->dict_kind = census_new_kind(c, ti->type, 1);
                            if (ti->dict_kind == NO_KIND)
                                return PyErr_NoMemory(), -1;
                        }
                        c->kinds[d] = ti->dict_kind;
                    }
                }
            }
            if (c->kinds[i] == NO_KIND)
                c->kinds[i] = ti->kind;
        }
        start = end;
    }
    return 0;
}

/* Phases 2 and 3, for a census of the whole heap: the collector lists every
 * container, but also those that only strop's sets keep alive.  The roots are
 * the objects with more references than the walk saw (held by a frame, by C,
 * immortal), as the collector itself finds them; what they reach is the
 * heap.  Leaves sizes[i] 1 for a reached object, 0 for the others.  0, or -1
 * with an exception. */
static int
census_reach(Census *c)
{
    /* References that strop's own objects hold (their referents were all
     * found by now: what only they hold is not in the census at all). */
    for (size_t i = 0; i < c->n; i++)
        if (c->kinds[i] == OWN_KIND)
            traverse(c->objs[i], count_visit, c);
    /* References that the census's kinds hold to their types. */
    for (size_t k = 0; k < c->nkinds; k++) {
        uint32_t t = census_find(c, (PyObject *)c->kind_types[k]);
        if (t != NO_INDEX)
            c->sizes[t]++;
    }
    c->stack = strop_malloc((c->n + 1) * sizeof(uint32_t));
    if (c->stack == NULL) {
        c->need = (c->n + 1) * sizeof(uint32_t);
        return memory_error(c), -1;
    }
    c->top = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (i + 16 < c->n)
            __builtin_prefetch(c->objs[i + 16]);
        /* the census's own reference is the 1 */
        int root = !LEFT_OUT(c->kinds[i]) &&
                   (Py_ssize_t)Py_REFCNT(c->objs[i]) - 1 - c->sizes[i] > 0;
        c->sizes[i] = root;
        if (root)
            c->stack[c->top++] = (uint32_t)i;
    }
    while (c->top > 0) {
        for (int b = 0; b < BATCH && c->top > 0; b++) {
            PyObject *o = c->objs[c->stack[--c->top]];
            if (traverse(o, buffer_visit, c) < 0 && c->need)
                return memory_error(c), -1;
            if (!PyDict_CheckExact(o)) {
                PyObject *dict = strop_instance_dict(o);
                if (dict != NULL && buffer_visit(dict, c) < 0)
                    return memory_error(c), -1;
            }
        }
        flush_mark(c);
    }
    strop_free(c->stack);
    c->stack = NULL;
    return 0;
}

/* The whole census: find, reach (whole heap only), size.  Leaves sizes[i]
 * the size of each counted object, -1 for the others. */
static int
census_walk(Census *c, PyObject **roots, Py_ssize_t nroots, int deep)
{
    if (census_find_all(c, roots, nroots, deep) < 0)
        return -1;
    if (c->find_roots) {
        if (census_reach(c) < 0)
            return -1;
    }
    else {
        for (size_t i = 0; i < c->n; i++)
            c->sizes[i] = 1;
    }
    for (size_t i = 0; i < c->n; i++) {
        PyObject *o = c->objs[i];
        if (i + 16 < c->n)
            __builtin_prefetch(c->objs[i + 16]);
        if (c->sizes[i] == 0 || LEFT_OUT(c->kinds[i]) ||
            (c->relative && addrset_slot(&relheap, block_of(o)) != NULL)) {
            c->sizes[i] = -1;
            continue;
        }
        TypeInfo *ti = census_type(c, Py_TYPE(o));
        if (ti == NULL)
            return memory_error(c), -1;
        c->sizes[i] = census_sizeof(c, ti, o);
    }
    return 0;
}

/* Moves the counted objects of `c` into a new HeapSet.  New reference. */
static PyObject *
census_result(Census *c)
{
    HeapSet *set = PyObject_GC_New(HeapSet, HeapSet_type);
    if (set == NULL)
        return NULL;
    set->n = 0;
    set->objs = NULL;
    set->sizes = NULL;
    set->kinds = NULL;
    set->nkinds = 0;
    set->kind_types = NULL;
    set->kind_dictof = NULL;
    set->alt_by = NULL;
    set->alt = NULL;
    set->alt_names = NULL;
    set->total = 0;
    set->bad_sizeof = c->bad_sizeof;
    /* Compact in place: the census's arrays become the set's. */
    size_t m = 0;
    Py_ssize_t total = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->sizes[i] < 0) {
            Py_DECREF(c->objs[i]);
            continue;
        }
        c->objs[m] = c->objs[i];
        c->sizes[m] = c->sizes[i];
        c->kinds[m] = c->kinds[i];
        total += c->sizes[i];
        m++;
    }
    c->n = 0;
    set->objs = c->objs;
    set->sizes = c->sizes;
    set->kinds = c->kinds;
    set->n = (Py_ssize_t)m;
    set->total = total;
    set->kind_types = c->kind_types;
    set->kind_dictof = c->kind_dictof;
    set->nkinds = (Py_ssize_t)c->nkinds;
    c->objs = NULL;
    c->sizes = NULL;
    c->kinds = NULL;
    c->kind_types = NULL;
    c->kind_dictof = NULL;
    c->nkinds = 0;
    PyObject_GC_Track(set);
    return (PyObject *)set;
}

/* gc.get_objects(): a new list. */
static PyObject *
gc_objects(void)
{
    PyObject *gc = PyImport_ImportModule("gc");
    if (gc == NULL)
        return NULL;
    PyObject *list = PyObject_CallMethod(gc, "get_objects", NULL);
    Py_DECREF(gc);
    return list;
}

static int
census_init(Census *c, int relative)
{
    memset(c, 0, sizeof(*c));
    c->relative = relative && relheap.slots != NULL;
    c->sizeof_name = PyUnicode_InternFromString("__sizeof__");
    if (c->sizeof_name == NULL)
        return -1;
    PyObject *descr = _PyType_Lookup(&PyBaseObject_Type, c->sizeof_name);
    if (descr != NULL && Py_TYPE(descr) == &PyMethodDescr_Type)
        c->object_sizeof = ((PyMethodDescrObject *)descr)->d_method->ml_meth;
    c->types = strop_calloc(64, sizeof(TypeInfo));
    c->tmask = 63;
    if (c->types == NULL || census_grow_table(c) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

PyObject *
strop_heap_census(PyObject *module, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"roots", "relative", "deep", "barrier", NULL};
    PyObject *roots = Py_None, *barrier = NULL, *seq = NULL;
    PyObject *result = NULL;
    int deep = 1, relative = 0;
    Census c;
    (void)module;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OppO:heap_census", kwlist, &roots, &relative,
                                     &deep, &barrier))
        return NULL;
    if (census_init(&c, relative) < 0)
        goto error;
    c.skip3 = barrier;
    /* The arguments' tuple was made for this call (strop/_memory.py passes
     * them one by one); the empty one is a singleton the program uses too. */
    if (PyTuple_GET_SIZE(args) > 0)
        c.skip4 = args;
    if (roots == Py_None) {
        c.find_roots = 1;
        /* Taken before the list is made, so neither is in it. */
        c.skip2 = strop_own_frame_object();
        seq = gc_objects();
    }
    else {
        seq = PySequence_Fast(roots, "roots must be iterable");
    }
    if (seq == NULL)
        goto error;
    c.skip1 = seq;
    if (census_walk(&c, PySequence_Fast_ITEMS(seq), PySequence_Fast_GET_SIZE(seq), deep) < 0)
        goto error;
    result = census_result(&c);
error:
    census_free(&c);
    Py_XDECREF(seq);
    return result;
}

/* sys.getallocatedblocks(), called from C (no frame); -1 with an error set. */
static Py_ssize_t
allocated_blocks(void)
{
    PyObject *f = PySys_GetObject("getallocatedblocks"); /* borrowed */
    if (f == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "sys.getallocatedblocks is gone");
        return -1;
    }
    PyObject *n = PyObject_CallObject(f, NULL);
    if (n == NULL)
        return -1;
    Py_ssize_t v = PyLong_AsSsize_t(n);
    Py_DECREF(n);
    return v;
}

PyObject *
strop_heap_census_counts(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    PyObject *noargs = PyTuple_New(0);
    if (noargs == NULL)
        return NULL;
    /* What the census's walk of the running frames makes (their frame
     * objects, 3.11's locals dicts), made beforehand: it lives as long as
     * the frames. */
    (void)census_add_frames(NULL);
    PyGC_Collect();
    Py_ssize_t before = allocated_blocks();
    HeapSet *set = before < 0 ? NULL : (HeapSet *)strop_heap_census(module, noargs, NULL);
    Py_DECREF(noargs);
    if (set == NULL)
        return NULL;
    Py_ssize_t n = set->n, total = set->total;
    Py_DECREF(set);
    PyGC_Collect();
    Py_ssize_t after = allocated_blocks();
    if (after < 0)
        return NULL;
    return Py_BuildValue("nnnn", n, total, before, after);
}

PyObject *
strop_heap_setrelheap(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    Census c;
    PyObject *seq = NULL, *result = NULL;
    uintptr_t *blocks = NULL;
    (void)module;
    if (census_init(&c, 0) < 0)
        goto error;
    c.skip2 = strop_own_frame_object();
    c.find_roots = 1;
    seq = gc_objects();
    if (seq == NULL)
        goto error;
    c.skip1 = seq;
    if (census_walk(&c, PySequence_Fast_ITEMS(seq), PySequence_Fast_GET_SIZE(seq), 1) < 0)
        goto error;
    blocks = strop_malloc((c.n + 1) * sizeof(uintptr_t));
    AddrSet fresh = {0, NULL};
    if (blocks == NULL) {
        c.need = (c.n + 1) * sizeof(uintptr_t);
        memory_error(&c);
        goto error;
    }
    for (size_t i = 0; i < c.n; i++)
        blocks[i] = block_of(c.objs[i]);
    if (addrset_fill(&fresh, blocks, c.n) < 0) {
        c.need = c.n * 2 * sizeof(uintptr_t);
        memory_error(&c);
        goto error;
    }
    if (!wrapper_installed) {
        PyMemAllocatorEx wrapper = {NULL, wrap_malloc, wrap_calloc, wrap_realloc, wrap_free};
        PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &under_obj);
        PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &wrapper);
        wrapper_installed = 1;
    }
    strop_free(relheap.slots);
    relheap = fresh;
    result = PyLong_FromSize_t(c.n);
error:
    strop_free(blocks);
    census_free(&c);
    Py_XDECREF(seq);
    return result;
}

PyObject *
strop_heap_own_types(PyObject *module, PyObject *args)
{
    (void)module;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(args); i++) {
        PyObject *tp = PyTuple_GET_ITEM(args, i);
        if (!PyType_Check(tp))
            return PyErr_Format(PyExc_TypeError, "heap_own_types takes classes, not %.100s",
                                Py_TYPE(tp)->tp_name);
        if (is_own((PyTypeObject *)tp))
            continue;
        if (n_own_types == MAX_OWN_TYPES)
            return PyErr_Format(PyExc_ValueError, "at most %d own types", MAX_OWN_TYPES);
        own_types[n_own_types++] = (PyTypeObject *)Py_NewRef(tp);
    }
    Py_RETURN_NONE;
}

int
strop_heap_is_own(PyTypeObject *tp)
{
    return is_own(tp);
}

int
strop_heap_add_own(PyTypeObject *tp)
{
    if (is_own(tp))
        return 0;
    if (n_own_types == MAX_OWN_TYPES) {
        PyErr_Format(PyExc_ValueError, "at most %d own types", MAX_OWN_TYPES);
        return -1;
    }
    own_types[n_own_types++] = (PyTypeObject *)Py_NewRef((PyObject *)tp);
    return 0;
}

int
strop_heapset_view(PyObject *set, PyObject ***objs, Py_ssize_t **sizes, Py_ssize_t *n)
{
    if (Py_TYPE(set) != HeapSet_type) {
        PyErr_Format(PyExc_TypeError, "expected a HeapSet, not %.100s", Py_TYPE(set)->tp_name);
        return -1;
    }
    *objs = ((HeapSet *)set)->objs;
    *sizes = ((HeapSet *)set)->sizes;
    *n = ((HeapSet *)set)->n;
    return 0;
}

/* ---- HeapSet methods ------------------------------------------------- */

/* The name of kind k: "mod.Qual", "Qual" for builtins, "dict of ..." or
 * "dict (no owner)".  New reference. */
static PyObject *
type_name(PyTypeObject *tp)
{
    PyObject *module = NULL, *qualname = NULL, *name = NULL;
    module = PyObject_GetAttrString((PyObject *)tp, "__module__");
    if (module == NULL)
        PyErr_Clear();
    qualname = PyObject_GetAttrString((PyObject *)tp, "__qualname__");
    if (qualname == NULL || !PyUnicode_Check(qualname)) {
        PyErr_Clear();
        Py_XDECREF(qualname);
        qualname = PyUnicode_FromString(tp->tp_name);
        if (qualname == NULL)
            goto error;
    }
    if (module == NULL || !PyUnicode_Check(module) ||
        PyUnicode_CompareWithASCIIString(module, "builtins") == 0)
        name = Py_NewRef(qualname);
    else
        name = PyUnicode_FromFormat("%U.%U", module, qualname);
error:
    Py_XDECREF(module);
    Py_XDECREF(qualname);
    return name;
}

/* Group names for every kind under `by` ("kind", "type", "module").  A new
 * list of nkinds strings. */
static PyObject *
group_names(HeapSet *self, const char *by)
{
    if (self->alt_by != NULL && strcmp(by, self->alt_by) == 0)
        return PyList_GetSlice(self->alt_names, 0, PY_SSIZE_T_MAX);
    PyObject *names = PyList_New(self->nkinds);
    if (names == NULL)
        return NULL;
    for (Py_ssize_t k = 0; k < self->nkinds; k++) {
        PyTypeObject *tp = self->kind_types[k];
        int dictof = self->kind_dictof[k];
        PyObject *name = NULL;
        if (strcmp(by, "module") == 0) {
            PyObject *of = (PyObject *)(dictof ? &PyDict_Type : tp);
            name = PyObject_GetAttrString(of, "__module__");
            if (name == NULL || !PyUnicode_Check(name)) {
                PyErr_Clear();
                Py_XDECREF(name);
                name = PyUnicode_FromString("?");
            }
        }
        else if (dictof && strcmp(by, "type") == 0) {
            name = PyUnicode_FromString("dict");
        }
        else if (tp == &PyDict_Type && strcmp(by, "kind") == 0) {
            name = PyUnicode_FromString("dict (no owner)");
        }
        else {
            PyObject *base = type_name(tp);
            if (base != NULL && dictof) {
                name = PyUnicode_FromFormat("dict of %U", base);
                Py_DECREF(base);
            }
            else
                name = base;
        }
        if (name == NULL) {
            Py_DECREF(names);
            return NULL;
        }
        PyList_SET_ITEM(names, k, name);
    }
    return names;
}

/* 0 when `by` names a grouping of self ("rcs", "site": only after
 * with_referrers(), with_sites()), else -1 with ValueError. */
static int
check_by(const HeapSet *self, const char *by)
{
    if (strcmp(by, "kind") == 0 || strcmp(by, "type") == 0 || strcmp(by, "module") == 0 ||
        (self->alt_by != NULL && strcmp(by, self->alt_by) == 0))
        return 0;
    if (strcmp(by, "rcs") == 0 || strcmp(by, "site") == 0)
        PyErr_Format(PyExc_ValueError, "this set is not grouped by %s: %s gives it", by,
                     by[0] == 'r' ? "with_referrers()" : "with_sites()");
    else
        PyErr_Format(PyExc_ValueError,
                     "by must be 'kind', 'type', 'module', 'rcs' or 'site', not %.50s", by);
    return -1;
}

/* The groups under `by`: each object's group (*of) and how many (*n). */
static void
groups_of(const HeapSet *self, const char *by, const uint32_t **of, Py_ssize_t *n)
{
    if (self->alt_by != NULL && strcmp(by, self->alt_by) == 0) {
        *of = self->alt;
        *n = PyList_GET_SIZE(self->alt_names);
    }
    else {
        *of = self->kinds;
        *n = self->nkinds;
    }
}

static int
row_order(const void *a, const void *b)
{
    /* rows are (size, count, index) triples of Py_ssize_t; biggest first */
    const Py_ssize_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? 1 : -1;
    if (x[1] != y[1])
        return x[1] < y[1] ? 1 : -1;
    return x[2] < y[2] ? -1 : (x[2] > y[2]);
}

/* rows(by="kind") -> [(name, count, size)], biggest size first. */
static PyObject *
HeapSet_rows(HeapSet *self, PyObject *args)
{
    const char *by = "kind";
    PyObject *names = NULL, *index = NULL, *result = NULL;
    Py_ssize_t *per_kind = NULL, *rows = NULL, ngroups;
    const uint32_t *group;
    if (!PyArg_ParseTuple(args, "|s:rows", &by) || check_by(self, by) < 0)
        return NULL;
    groups_of(self, by, &group, &ngroups);
    names = group_names(self, by);
    if (names == NULL)
        goto error;
    per_kind = strop_calloc((size_t)ngroups * 2 + 1, sizeof(Py_ssize_t));
    rows = strop_calloc((size_t)ngroups * 3 + 1, sizeof(Py_ssize_t));
    index = PyDict_New();
    if (per_kind == NULL || rows == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    if (index == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < self->n; i++) {
        per_kind[2 * group[i]] += 1;
        per_kind[2 * group[i] + 1] += self->sizes[i];
    }
    Py_ssize_t nrows = 0;
    for (Py_ssize_t k = 0; k < ngroups; k++) {
        if (per_kind[2 * k] == 0)
            continue;
        PyObject *name = PyList_GET_ITEM(names, k);
        PyObject *at = PyDict_GetItemWithError(index, name); /* borrowed */
        Py_ssize_t r;
        if (at != NULL) {
            r = PyLong_AsSsize_t(at);
        }
        else {
            if (PyErr_Occurred())
                goto error;
            r = nrows++;
            PyObject *rv = PyLong_FromSsize_t(r);
            if (rv == NULL || PyDict_SetItem(index, name, rv) < 0) {
                Py_XDECREF(rv);
                goto error;
            }
            Py_DECREF(rv);
            rows[3 * r + 2] = k;
        }
        rows[3 * r] += per_kind[2 * k + 1];
        rows[3 * r + 1] += per_kind[2 * k];
    }
    qsort(rows, (size_t)nrows, 3 * sizeof(Py_ssize_t), row_order);
    result = PyList_New(nrows);
    if (result == NULL)
        goto error;
    for (Py_ssize_t r = 0; r < nrows; r++) {
        PyObject *row = Py_BuildValue("(Onn)", PyList_GET_ITEM(names, rows[3 * r + 2]),
                                      rows[3 * r + 1], rows[3 * r]);
        if (row == NULL) {
            Py_CLEAR(result);
            goto error;
        }
        PyList_SET_ITEM(result, r, row);
    }
error:
    Py_XDECREF(names);
    Py_XDECREF(index);
    strop_free(per_kind);
    strop_free(rows);
    return result;
}

/* A new HeapSet of the objects i whose keep[i] is set.  New reference. */
static PyObject *
HeapSet_subset(HeapSet *self, const unsigned char *keep)
{
    HeapSet *set = PyObject_GC_New(HeapSet, HeapSet_type);
    if (set == NULL)
        return NULL;
    Py_ssize_t m = 0;
    for (Py_ssize_t i = 0; i < self->n; i++)
        m += keep[i];
    set->n = 0;
    set->total = 0;
    set->bad_sizeof = 0;
    set->nkinds = 0;
    set->alt_by = self->alt_by;
    set->alt_names = NULL;
    set->objs = strop_malloc((size_t)m * sizeof(PyObject *));
    set->sizes = strop_malloc((size_t)m * sizeof(Py_ssize_t));
    set->kinds = strop_malloc((size_t)m * sizeof(uint32_t));
    set->kind_types = strop_malloc((size_t)self->nkinds * sizeof(PyTypeObject *));
    set->kind_dictof = strop_malloc((size_t)self->nkinds);
    set->alt = self->alt != NULL ? strop_malloc((size_t)m * sizeof(uint32_t) + 1) : NULL;
    if (!set->objs || !set->sizes || !set->kinds || !set->kind_types || !set->kind_dictof ||
        (self->alt != NULL && set->alt == NULL)) {
        PyObject_GC_Track(set);
        Py_DECREF(set);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t k = 0; k < self->nkinds; k++) {
        set->kind_types[k] = (PyTypeObject *)Py_NewRef(self->kind_types[k]);
        set->kind_dictof[k] = self->kind_dictof[k];
    }
    set->nkinds = self->nkinds;
    for (Py_ssize_t i = 0; i < self->n; i++) {
        if (!keep[i])
            continue;
        set->objs[set->n] = Py_NewRef(self->objs[i]);
        set->sizes[set->n] = self->sizes[i];
        set->kinds[set->n] = self->kinds[i];
        if (self->alt != NULL)
            set->alt[set->n] = self->alt[i];
        set->total += self->sizes[i];
        set->n++;
    }
    set->alt_names = Py_XNewRef(self->alt_names);
    PyObject_GC_Track(set);
    return (PyObject *)set;
}

/* select(by, names) -> HeapSet of the objects in the groups named. */
static PyObject *
HeapSet_select(HeapSet *self, PyObject *args)
{
    const char *by;
    PyObject *wanted, *names = NULL, *result = NULL;
    unsigned char *keep_kind = NULL, *keep = NULL;
    const uint32_t *group;
    Py_ssize_t ngroups;
    if (!PyArg_ParseTuple(args, "sO:select", &by, &wanted) || check_by(self, by) < 0)
        return NULL;
    groups_of(self, by, &group, &ngroups);
    wanted = PyFrozenSet_New(wanted);
    if (wanted == NULL)
        return NULL;
    names = group_names(self, by);
    if (names == NULL)
        goto done;
    keep_kind = strop_calloc((size_t)ngroups + 1, 1);
    keep = strop_calloc((size_t)self->n + 1, 1);
    if (keep_kind == NULL || keep == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < ngroups; k++) {
        int in = PySet_Contains(wanted, PyList_GET_ITEM(names, k));
        if (in < 0)
            goto done;
        keep_kind[k] = (unsigned char)in;
    }
    for (Py_ssize_t i = 0; i < self->n; i++)
        keep[i] = keep_kind[group[i]];
    result = HeapSet_subset(self, keep);
done:
    strop_free(keep_kind);
    strop_free(keep);
    Py_XDECREF(names);
    Py_DECREF(wanted);
    return result;
}

/* minus(other) -> HeapSet of the objects of self that are not in other.
 * Exact: both sets hold their objects, so no address was reused. */
static PyObject *
HeapSet_minus(HeapSet *self, PyObject *other_obj)
{
    if (Py_TYPE(other_obj) != HeapSet_type) {
        PyErr_SetString(PyExc_TypeError, "minus() takes a HeapSet");
        return NULL;
    }
    HeapSet *other = (HeapSet *)other_obj;
    AddrSet other_set = {0, NULL};
    unsigned char *keep = strop_malloc((size_t)self->n + 1);
    PyObject *result = NULL;
    if (keep == NULL || addrset_fill(&other_set, (uintptr_t *)other->objs, (size_t)other->n) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < self->n; k++)
        keep[k] = addrset_slot(&other_set, (uintptr_t)self->objs[k]) == NULL;
    result = HeapSet_subset(self, keep);
done:
    strop_free(other_set.slots);
    strop_free(keep);
    return result;
}

/* ---- by referrers' kinds (heapy's byrcs) ------------------------------ */

typedef struct {
    AddrSet set;      /* the objects of the set being grouped */
    uint32_t *index;  /* per slot of `set`: the object's index in it */
    uint32_t kind;    /* the kind of the referrer being traversed */
    uint64_t *pairs;  /* (object index << 32 | referrer kind) */
    size_t n, cap;
    int failed;
} Referrers;

static int
referrer_visit(PyObject *o, void *arg)
{
    Referrers *r = arg;
    uintptr_t *slot = addrset_slot(&r->set, (uintptr_t)o);
    if (slot == NULL)
        return 0;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        uint64_t *p = strop_realloc(r->pairs, cap * sizeof *p);
        if (p == NULL) {
            r->failed = 1;
            return -1;
        }
        r->pairs = p;
        r->cap = cap;
    }
    r->pairs[r->n++] = (uint64_t)r->index[slot - r->set.slots] << 32 | r->kind;
    return 0;
}

static int
pair_order(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The label of referrer kinds kinds[0..n) (whole's kind indices), their
 * names sorted and joined by ", ".  New reference. */
static PyObject *
rcs_label(PyObject *kind_names, const uint64_t *pairs, size_t n)
{
    PyObject *names = PyList_New((Py_ssize_t)n), *sep, *label;
    if (names == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        PyList_SET_ITEM(names, (Py_ssize_t)i,
                        Py_NewRef(PyList_GET_ITEM(kind_names, (Py_ssize_t)(pairs[i] & 0xFFFFFFFFu))));
    if (PyList_Sort(names) < 0) {
        Py_DECREF(names);
        return NULL;
    }
    sep = PyUnicode_FromString(", ");
    label = sep != NULL ? PyUnicode_Join(sep, names) : NULL;
    Py_XDECREF(sep);
    Py_DECREF(names);
    return label;
}

/* ---- alternative groupings (byrcs, bysite) ---------------------------- */

/* The group index that `seen` (key -> index) gives `key`: >= 0, -2 when it
 * has none yet, -1 with an error set. */
static Py_ssize_t
label_find(PyObject *seen, PyObject *key)
{
    PyObject *at = PyDict_GetItemWithError(seen, key); /* borrowed */
    if (at != NULL)
        return PyLong_AsSsize_t(at);
    return PyErr_Occurred() ? -1 : -2;
}

/* Appends `label` (stolen) to `labels` as a new group known by `key` in
 * `seen`: its index, or -1 with an error set. */
static Py_ssize_t
label_add(PyObject *labels, PyObject *seen, PyObject *key, PyObject *label)
{
    Py_ssize_t g = PyList_GET_SIZE(labels);
    PyObject *at;
    int rc;
    if (label == NULL)
        return -1;
    rc = PyList_Append(labels, label);
    Py_DECREF(label);
    if (rc < 0 || (at = PyLong_FromSsize_t(g)) == NULL)
        return -1;
    rc = PyDict_SetItem(seen, key, at);
    Py_DECREF(at);
    return rc < 0 ? -1 : g;
}

/* A copy of self with a new, unfilled alternative grouping (alt[]); NULL
 * with an error set. */
static HeapSet *
alt_copy(HeapSet *self)
{
    unsigned char *all = strop_malloc((size_t)self->n + 1);
    HeapSet *copy;
    if (all == NULL)
        return (HeapSet *)PyErr_NoMemory();
    memset(all, 1, (size_t)self->n + 1);
    copy = (HeapSet *)HeapSet_subset(self, all);
    strop_free(all);
    if (copy == NULL)
        return NULL;
    strop_free(copy->alt);
    copy->alt = strop_malloc((size_t)self->n * sizeof(uint32_t) + 1);
    if (copy->alt == NULL) {
        Py_DECREF(copy);
        return (HeapSet *)PyErr_NoMemory();
    }
    copy->alt_by = NULL;
    Py_CLEAR(copy->alt_names);
    return copy;
}

/* The group of the object whose referrer kinds are pairs[0..n): an index
 * into `labels`, made on first sight (`seen` maps the kinds, as bytes, to
 * it).  -1 with an error set. */
static Py_ssize_t
rcs_group(PyObject *labels, PyObject *seen, PyObject *kind_names, const uint64_t *pairs, size_t n)
{
    uint32_t key[64];
    size_t m = n < 64 ? n : 64;
    PyObject *k;
    Py_ssize_t g;
    for (size_t i = 0; i < m; i++)
        key[i] = (uint32_t)(pairs[i] & 0xFFFFFFFFu);
    k = PyBytes_FromStringAndSize((const char *)key, (Py_ssize_t)(m * sizeof key[0]));
    if (k == NULL)
        return -1;
    g = label_find(seen, k);
    if (g == -2)
        g = label_add(labels, seen, k,
                      n == 0 ? PyUnicode_FromString("<none: held by frames, roots or C only>")
                             : rcs_label(kind_names, pairs, m));
    Py_DECREF(k);
    return g;
}

/* with_referrers(whole) -> a copy of this set that can also be grouped by
 * the kinds of each object's referrers among the objects of `whole` (a
 * census of the whole heap): rows('rcs').  An object none of them refers to
 * (held by frames, module roots or C) has its own group. */
static PyObject *
HeapSet_with_referrers(HeapSet *self, PyObject *whole_obj)
{
    HeapSet *whole, *copy = NULL;
    Referrers r = {{0, NULL}, NULL, 0, NULL, 0, 0, 0};
    PyObject *kind_names = NULL, *labels = NULL, *seen = NULL;
    size_t at = 0;
    if (Py_TYPE(whole_obj) != HeapSet_type) {
        PyErr_SetString(PyExc_TypeError, "with_referrers() takes a HeapSet");
        return NULL;
    }
    whole = (HeapSet *)whole_obj;
    if ((uint64_t)self->n >= UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "too many objects to group by referrers");
        return NULL;
    }
    if (addrset_fill(&r.set, (uintptr_t *)self->objs, (size_t)self->n) < 0 ||
        (r.index = strop_malloc((r.set.mask + 1) * sizeof(uint32_t))) == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t j = 0; j < self->n; j++)
        r.index[addrset_slot(&r.set, (uintptr_t)self->objs[j]) - r.set.slots] = (uint32_t)j;
    for (Py_ssize_t i = 0; i < whole->n; i++) {
        r.kind = whole->kinds[i];
        if (traverse(whole->objs[i], referrer_visit, &r) < 0 && r.failed) {
            PyErr_NoMemory();
            goto done;
        }
    }
    if (r.n > 1)
        qsort(r.pairs, r.n, sizeof *r.pairs, pair_order);
    kind_names = group_names(whole, "kind");
    labels = PyList_New(0);
    seen = PyDict_New();
    if (kind_names == NULL || labels == NULL || seen == NULL || (copy = alt_copy(self)) == NULL)
        goto done;
    for (Py_ssize_t j = 0; j < self->n; j++) {
        size_t start = at, m = 0;
        Py_ssize_t g;
        /* This object's distinct referrer kinds, in order. */
        while (at < r.n && (r.pairs[at] >> 32) == (uint64_t)j) {
            if (m == 0 || r.pairs[start + m - 1] != r.pairs[at])
                r.pairs[start + m++] = r.pairs[at];
            at++;
        }
        g = rcs_group(labels, seen, kind_names, r.pairs + start, m);
        if (g < 0) {
            Py_CLEAR(copy);
            goto done;
        }
        copy->alt[j] = (uint32_t)g;
    }
    copy->alt_by = "rcs";
    copy->alt_names = Py_NewRef(labels);
done:
    strop_free(r.set.slots);
    strop_free(r.index);
    strop_free(r.pairs);
    Py_XDECREF(kind_names);
    Py_XDECREF(labels);
    Py_XDECREF(seen);
    return (PyObject *)copy;
}

/* ---- by where they were allocated (heapy's bysite) --------------------- */

/* with_sites() -> a copy of this set that can also be grouped by where each
 * object was allocated, as the allocation tracing attached now (strop's
 * track_memory, strop mem) charged its memory block: rows('site'), one row
 * per function ("file:line(function)").  Objects it has no record of (made
 * before tracing began, or not sampled) have their own row. */
static PyObject *
HeapSet_with_sites(HeapSet *self, PyObject *Py_UNUSED(ignored))
{
    HeapSet *copy = NULL;
    PyObject *labels = PyList_New(0), *seen = PyDict_New(), *none;
    none = PyUnicode_FromString("<not traced: made before tracing began, or not sampled>");
    if (labels == NULL || seen == NULL || none == NULL || (copy = alt_copy(self)) == NULL)
        goto done;
    for (Py_ssize_t j = 0; j < self->n; j++) {
        const void *owner;
        uint32_t node;
        PyObject *name = NULL;
        Py_ssize_t g;
        if (strop_memtrace_site_of((void *)block_of(self->objs[j]), &owner, &node) &&
            (name = strop_tracer_node_name(owner, node)) == NULL && PyErr_Occurred())
            goto fail;
        if (name == NULL)
            name = Py_NewRef(none);
        g = label_find(seen, name);
        if (g == -2)
            g = label_add(labels, seen, name, Py_NewRef(name));
        Py_DECREF(name);
        if (g < 0)
            goto fail;
        copy->alt[j] = (uint32_t)g;
    }
    copy->alt_by = "site";
    copy->alt_names = Py_NewRef(labels);
    goto done;
fail:
    Py_CLEAR(copy);
done:
    Py_XDECREF(labels);
    Py_XDECREF(seen);
    Py_XDECREF(none);
    return (PyObject *)copy;
}

/* entries() -> [(object, size, kind name)] in census order. */
static PyObject *
HeapSet_entries(HeapSet *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *names = group_names(self, "kind"), *result = NULL;
    if (names == NULL)
        return NULL;
    result = PyList_New(self->n);
    if (result == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < self->n; i++) {
        PyObject *e = Py_BuildValue("(OnO)", self->objs[i], self->sizes[i],
                                    PyList_GET_ITEM(names, self->kinds[i]));
        if (e == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, i, e);
    }
done:
    Py_DECREF(names);
    return result;
}

static Py_ssize_t
HeapSet_length(HeapSet *self)
{
    return self->n;
}

static PyObject *
HeapSet_size_get(HeapSet *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(self->total);
}

static PyObject *
HeapSet_bad_get(HeapSet *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(self->bad_sizeof);
}

static PyMethodDef HeapSet_methods[] = {
    {"rows", (PyCFunction)HeapSet_rows, METH_VARARGS,
     "rows(by='kind')\n--\n\n[(name, count, size)] by group, biggest size first."},
    {"select", (PyCFunction)HeapSet_select, METH_VARARGS,
     "select(by, names)\n--\n\nThe HeapSet of the objects in the groups named."},
    {"minus", (PyCFunction)HeapSet_minus, METH_O,
     "minus(other)\n--\n\nThe HeapSet of the objects not in `other`."},
    {"with_referrers", (PyCFunction)HeapSet_with_referrers, METH_O,
     "with_referrers(whole)\n--\n\nA copy that can also be grouped by the kinds of each "
     "object's referrers in `whole`: rows('rcs')."},
    {"with_sites", (PyCFunction)HeapSet_with_sites, METH_NOARGS,
     "with_sites()\n--\n\nA copy that can also be grouped by where each object was "
     "allocated, by the allocation tracing attached now: rows('site')."},
    {"entries", (PyCFunction)HeapSet_entries, METH_NOARGS,
     "entries()\n--\n\n[(object, size, kind)] of every object."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef HeapSet_getset[] = {
    {"size", (getter)HeapSet_size_get, NULL, "Total bytes (sys.getsizeof of each).", NULL},
    {"bad_sizeof", (getter)HeapSet_bad_get, NULL,
     "Objects whose __sizeof__ raised or lied, counted at their basic size.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot HeapSet_slots[] = {
    {Py_tp_dealloc, (void *)HeapSet_dealloc},
    {Py_tp_traverse, (void *)HeapSet_traverse},
    {Py_tp_clear, (void *)HeapSet_clear},
    {Py_tp_methods, (void *)HeapSet_methods},
    {Py_tp_getset, (void *)HeapSet_getset},
    {Py_sq_length, (void *)HeapSet_length},
    {Py_tp_doc, (void *)"The objects of a heap census, with their sizes and kinds."},
    {0, NULL},
};

static PyType_Spec HeapSet_spec = {
    .name = "strop._engine.HeapSet",
    .basicsize = sizeof(HeapSet),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = HeapSet_slots,
};

int
strop_heap_add_types(PyObject *module)
{
    PyObject *set = PyType_FromSpec(&HeapSet_spec);
    if (set == NULL)
        return -1;
    if (PyModule_AddObject(module, "HeapSet", set) < 0) {
        Py_DECREF(set);
        return -1;
    }
    HeapSet_type = (PyTypeObject *)set;
    return 0;
}
