/* test_remote_heap.c: the census of remote_heap.c on a made-up process.
 *
 * The fake process is a buffer laid out with pyoffsets.h's row of 3.12 or
 * 3.8: the runtime, the interpreter (3.12) holding the collector's state, or
 * the collector's state in the runtime (3.8), its four lists, and objects of
 * four types (a class with a pre-header, list, tuple, and a "type" whose own
 * type is no type).  Each case bends one thing and checks what the census
 * makes of it:
 *   - lists read whole: counts and sys.getsizeof sizes by type;
 *   - a back link read wrong once: the list walked again, counted whole;
 *   - a back link that stays wrong: the list left out as torn, the others
 *     counted;
 *   - a list longer than the bound, an object whose type is no type, a
 *     collection running all along (no wait: a memory image does not
 *     change): torn, nothing invented;
 *   - the process gone (ESRCH): STROP_REMOTE_ENOPROC;
 *   - out of memory at each allocation: STROP_REMOTE_ENOMEM or a whole
 *     census, nothing leaked (run under ASan);
 *   - random bytes in every field: no crash, counts bounded.
 * Prints "N passed, F failed" (check.h); exits 1 on a failure.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mem.h"
#include "remote_heap.h"
#include "remote_int.h"


#define BASE ((uintptr_t)0x7f0000000000ull)
#define SIZE 0x10000
#define RUNTIME (BASE + 0x100)
#define INTERP (BASE + 0x1000)
#define TYPE_TYPE (BASE + 0x4000)
#define TYPE_REC (BASE + 0x4200)
#define TYPE_LIST (BASE + 0x4400)
#define TYPE_TUPLE (BASE + 0x4600)
#define TYPE_FAKE (BASE + 0x4800)  /* a "type" whose own type is no type */
#define TYPE_NOTYPE (BASE + 0x4A00)
#define NAMES (BASE + 0x5000)
#define NODES (BASE + 0x8000) /* node k at NODES + k * 0x100 */

typedef struct Fake {
    unsigned char mem[SIZE];
    uintptr_t torn_at; /* a word read as torn_value ... */
    uintptr_t torn_value;
    int torn_left; /* ... this many more times (-1: always) */
    int gone;      /* every read fails with ESRCH */
} Fake;

static int
fake_read(void *ctx, uintptr_t addr, void *buf, size_t len)
{
    Fake *f = ctx;
    if (f->gone) {
        errno = ESRCH;
        return -1;
    }
    if (addr < BASE || addr + len > BASE + SIZE) {
        errno = EFAULT;
        return -1;
    }
    memcpy(buf, f->mem + (addr - BASE), len);
    if (f->torn_left != 0 && f->torn_at >= addr && f->torn_at + 8 <= addr + len) {
        memcpy((unsigned char *)buf + (f->torn_at - addr), &f->torn_value, 8);
        if (f->torn_left > 0)
            f->torn_left--;
    }
    return 0;
}

static void
put(Fake *f, uintptr_t addr, uint64_t value)
{
    memcpy(f->mem + (addr - BASE), &value, 8);
}

static uintptr_t
node(int k)
{
    return NODES + (uintptr_t)k * 0x100;
}

static void
put_type(Fake *f, const StropPyOffsets *o, uintptr_t type, uintptr_t meta, const char *name,
         long basicsize, long itemsize, unsigned long flags)
{
    static uintptr_t next_name = NAMES;
    memcpy(f->mem + (next_name - BASE), name, strlen(name) + 1);
    put(f, type + (uintptr_t)o->object_type, meta);
    put(f, type + (uintptr_t)o->type_name, next_name);
    put(f, type + (uintptr_t)o->type_basicsize, (uint64_t)basicsize);
    put(f, type + (uintptr_t)o->type_itemsize, (uint64_t)itemsize);
    put(f, type + (uintptr_t)o->type_flags, flags);
    next_name += strlen(name) + 1;
    if (next_name > NAMES + 0x800)
        next_name = NAMES;
}

/* Links nodes first..first+n-1 into the list at `head`, each an object of
 * `type`; a var-sized object gets ob_size `items`, a list `allocated`.
 * _gc_prev keeps a flag bit here and there, as CPython's does. */
static void
put_list(Fake *f, const StropPyOffsets *o, uintptr_t head, int first, int n, uintptr_t type,
         int64_t items, int64_t allocated)
{
    uintptr_t prev = head;
    if (n == 0) {
        put(f, head, head);
        put(f, head + 8, head);
        return;
    }
    put(f, head, node(first));
    for (int k = first; k < first + n; k++) {
        uintptr_t obj = node(k) + (uintptr_t)o->gc_head_size;
        put(f, node(k), k + 1 < first + n ? node(k + 1) : head);
        put(f, node(k) + 8, prev | (uintptr_t)(k & 1));
        put(f, obj, 1); /* ob_refcnt */
        put(f, obj + (uintptr_t)o->object_type, type);
        put(f, obj + (uintptr_t)o->var_size, (uint64_t)items);
        put(f, obj + (uintptr_t)o->list_allocated, (uint64_t)allocated);
        prev = node(k);
    }
    put(f, head + 8, prev);
}

/* The collector's state of the fake process of `version`. */
static uintptr_t
gc_of(const StropPyOffsets *o)
{
    return o->runtime_gc >= 0 ? RUNTIME + (uintptr_t)o->runtime_gc
                              : INTERP + (uintptr_t)o->interp_gc;
}

static uintptr_t
head_of(const StropPyOffsets *o, int list)
{
    return gc_of(o) + (uintptr_t)(list < o->gc_n_generations
                                      ? o->gc_generations + list * o->gc_generation_size
                                      : o->gc_permanent);
}

/* Lays out the fake process: gen0 3 Rec, gen1 empty, gen2 2 lists and a
 * tuple of 2, the permanent generation 1 Rec. */
static void
build(Fake *f, const StropPyOffsets *o)
{
    unsigned long gc = (unsigned long)o->tpflags_have_gc;
    unsigned long pre = o->tpflags_preheader > 0 ? (unsigned long)o->tpflags_preheader : 0;
    memset(f, 0, sizeof *f);
    put(f, RUNTIME + (uintptr_t)o->runtime_interpreters_head, INTERP);
    put(f, INTERP + (uintptr_t)o->interp_next, 0);
    put_type(f, o, TYPE_TYPE, TYPE_TYPE, "type", 920, 40,
             gc | (unsigned long)o->tpflags_type_subclass);
    put_type(f, o, TYPE_REC, TYPE_TYPE, "Rec", o->tpflags_preheader > 0 ? 16 : 32, 0, gc | pre);
    put_type(f, o, TYPE_LIST, TYPE_TYPE, "list", 40, 0,
             gc | (unsigned long)o->tpflags_list_subclass);
    put_type(f, o, TYPE_TUPLE, TYPE_TYPE, "tuple", 24, 8, gc);
    put_type(f, o, TYPE_NOTYPE, TYPE_TYPE, "notype", 32, 0, 0); /* its flags lack HAVE_GC */
    put_type(f, o, TYPE_FAKE, TYPE_NOTYPE, "Fake", 32, 0, gc);
    put_list(f, o, head_of(o, 0), 0, 3, TYPE_REC, 0, 0);
    put_list(f, o, head_of(o, 1), 0, 0, 0, 0, 0);
    put_list(f, o, head_of(o, 2), 3, 2, TYPE_LIST, 3, 4);
    /* The tuple, linked last into gen2. */
    {
        uintptr_t head = head_of(o, 2), obj = node(5) + (uintptr_t)o->gc_head_size;
        put(f, node(4), node(5));
        put(f, node(5), head);
        put(f, node(5) + 8, node(4));
        put(f, obj + (uintptr_t)o->object_type, TYPE_TUPLE);
        put(f, obj + (uintptr_t)o->var_size, 2);
        put(f, head + 8, node(5));
    }
    put_list(f, o, head_of(o, 3), 6, 1, TYPE_REC, 0, 0);
}

static const StropHeapType *
row(const StropHeapCensus *c, const char *name)
{
    for (size_t i = 0; c->types && i <= c->mask; i++) {
        if (c->types[i].addr != 0 && strcmp(c->types[i].name, name) == 0)
            return &c->types[i];
    }
    return NULL;
}

static uint64_t
count_of(const StropHeapCensus *c, const char *name)
{
    const StropHeapType *t = row(c, name);
    return t ? t->count : 0;
}

static uint64_t
bytes_of(const StropHeapCensus *c, const char *name)
{
    const StropHeapType *t = row(c, name);
    return t ? t->bytes : 0;
}

static int
census(Fake *f, int version, StropHeapCensus *c, uint64_t max_objects)
{
    StropRemote *r = strop_remote_new(fake_read, f, RUNTIME, version);
    int rc;
    memset(c, 0, sizeof *c);
    if (r == NULL)
        return STROP_REMOTE_ENOMEM;
    rc = strop_heap_remote_census(r, c, max_objects);
    strop_remote_free(r);
    return rc;
}

static void
test_whole(int version)
{
    static Fake f;
    const StropPyOffsets *o = strop_pyoffsets_find(version);
    StropHeapCensus c;
    uint64_t rec = o->tpflags_preheader > 0 ? 16 + 16 + 16 : 32 + 16;
    build(&f, o);
    CHECK(census(&f, version, &c, 1000) == 0);
    CHECK(c.lists == 4 && c.lists_torn == 0 && c.rewalks == 0);
    CHECK(c.objects == 7 && c.permanent == 1);
    CHECK(count_of(&c, "Rec") == 4 && bytes_of(&c, "Rec") == 4 * rec);
    /* sys.getsizeof([a, b, c]) with 4 slots: 40 + 4 * 8 + 16 */
    CHECK(count_of(&c, "list") == 2 && bytes_of(&c, "list") == 2 * 88);
    CHECK(count_of(&c, "tuple") == 1 && bytes_of(&c, "tuple") == 24 + 2 * 8 + 16);
    CHECK(row(&c, "list") && !row(&c, "list")->approx && row(&c, "type") == NULL);
    strop_heap_remote_census_free(&c);
}

static void
test_torn(int version)
{
    static Fake f;
    const StropPyOffsets *o = strop_pyoffsets_find(version);
    StropHeapCensus c;
    build(&f, o);
    /* The second list's back link read wrong once: walked again, whole. */
    f.torn_at = node(4) + 8;
    f.torn_value = node(0);
    f.torn_left = 1;
    CHECK(census(&f, version, &c, 1000) == 0);
    CHECK(c.lists == 4 && c.lists_torn == 0 && c.rewalks == 1);
    CHECK(count_of(&c, "list") == 2 && c.objects == 7);
    strop_heap_remote_census_free(&c);
    /* ... and always: gen2 left out, its objects not counted, nor any half. */
    f.torn_left = -1;
    CHECK(census(&f, version, &c, 1000) == 0);
    CHECK(c.lists == 3 && c.lists_torn == 1 && c.rewalks == STROP_HEAP_RETRIES);
    CHECK(count_of(&c, "list") == 0 && count_of(&c, "tuple") == 0);
    CHECK(count_of(&c, "Rec") == 4 && c.objects == 4);
    strop_heap_remote_census_free(&c);
    /* A bound below a list's length: torn. */
    build(&f, o);
    CHECK(census(&f, version, &c, 2) == 0);
    CHECK(c.lists_torn == 2 && count_of(&c, "Rec") == 1 && c.objects == 1);
    strop_heap_remote_census_free(&c);
    /* An object whose type's type is no type: torn. */
    build(&f, o);
    put(&f, node(1) + (uintptr_t)o->gc_head_size + (uintptr_t)o->object_type, TYPE_FAKE);
    CHECK(census(&f, version, &c, 1000) == 0);
    CHECK(c.lists_torn == 1 && count_of(&c, "Rec") == 1 && count_of(&c, "Fake") == 0);
    strop_heap_remote_census_free(&c);
    /* A next link that is no address: torn. */
    build(&f, o);
    put(&f, node(0), node(1) + 3);
    CHECK(census(&f, version, &c, 1000) == 0);
    CHECK(c.lists_torn == 1 && c.objects == 4);
    strop_heap_remote_census_free(&c);
    /* A collection running all along: every list put off, then torn. */
    build(&f, o);
    put(&f, gc_of(o) + (uintptr_t)o->gc_collecting, 1);
    CHECK(census(&f, version, &c, 1000) == 0);
    CHECK(c.lists == 0 && c.lists_torn == 4 && c.objects == 0);
    strop_heap_remote_census_free(&c);
    /* The process gone. */
    build(&f, o);
    f.gone = 1;
    CHECK(census(&f, version, &c, 1000) == STROP_REMOTE_ENOPROC);
    CHECK(c.objects == 0);
    strop_heap_remote_census_free(&c);
}

static void
test_out_of_memory(int version)
{
    static Fake f;
    const StropPyOffsets *o = strop_pyoffsets_find(version);
    int whole = 0;
    build(&f, o);
    for (long n = 1; n < 20 && !whole; n++) {
        StropHeapCensus c;
        int rc;
        strop_mem_fail_after(n, 0);
        rc = census(&f, version, &c, 1000);
        strop_mem_fail_after(0, 0);
        CHECK(rc == 0 || rc == STROP_REMOTE_ENOMEM);
        if (rc == 0) {
            whole = 1;
            CHECK(c.objects == 7);
        }
        strop_heap_remote_census_free(&c);
    }
    CHECK(whole);
}

static void
test_random(int version)
{
    static Fake f;
    const StropPyOffsets *o = strop_pyoffsets_find(version);
    unsigned seed = 12345;
    for (int round = 0; round < 400; round++) {
        StropHeapCensus c;
        int rc;
        build(&f, o);
        /* Random words over the heads, the objects and the types. */
        for (int k = 0; k < 8 + round % 64; k++) {
            uintptr_t at;
            uint64_t v;
            seed = seed * 1103515245u + 12345u;
            at = (round & 1 ? NODES : TYPE_TYPE) + ((seed >> 8) % 0x800 & ~(uintptr_t)7);
            if (k == 0)
                at = head_of(o, (int)(seed >> 4) % 4);
            seed = seed * 1103515245u + 12345u;
            v = (seed & 3) == 0 ? (uint64_t)seed << 20 : BASE + (seed % SIZE);
            put(&f, at, v);
        }
        rc = census(&f, version, &c, 1000);
        CHECK(rc == 0 || rc == STROP_REMOTE_EREAD);
        CHECK(c.objects <= 1000 * 4);
        strop_heap_remote_census_free(&c);
    }
}

int
main(void)
{
    int versions[] = {0x0308, 0x030C};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        test_whole(versions[i]);
        test_torn(versions[i]);
        test_out_of_memory(versions[i]);
        test_random(versions[i]);
    }
    return CHECK_SUMMARY();
}
