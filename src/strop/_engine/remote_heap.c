/* remote_heap.c: the census of another process's gc-tracked objects (see
 * remote_heap.h).
 *
 * Layout: the table of types met (open addressing by the type's remote
 * address, each type read and checked once); the size of one object; the
 * walk of one list; the census over every list of the main interpreter.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* usleep under -std=c11 */
#endif
#include "remote_heap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "remote_int.h"

/* Bytes read at a node: its PyGC_Head and the object's first 40 bytes,
 * which hold ob_type, a var-sized object's ob_size and a list's allocated. */
#define NODE_READ 56
#define NODE_MIN 32 /* the smallest collected object with its PyGC_Head */
#define TYPE_READ 272 /* bytes of a type object read: every field used is below */
#define MAX_BASICSIZE (1L << 20)
#define MAX_ITEMSIZE (1L << 16)
#define MAX_ITEMS ((int64_t)1 << 40)
#define COLLECTING_WAITS 2000 /* 1 ms each, per census: a full collection of a big heap */
#define MAX_INTERPS 64

#define rd strop_remote_rd
#define rd_ptr strop_remote_rd_ptr
#define ptr_at strop_remote_ptr_at
#define aligned strop_remote_aligned

/* Static types whose __sizeof__ adds memory of their own (hash tables, item
 * blocks, buffers) to tp_basicsize: counted at their basic size here. */
static const char *const approx_names[] = {
    "dict", "set", "frozenset", "type", "code", "collections.deque", "frame",
    "generator", "coroutine", "async_generator", "re.Pattern", "_io.BytesIO",
    "_io.StringIO", "_io.BufferedReader", "_io.BufferedWriter", "_io.BufferedRandom",
    "_io.BufferedRWPair", "mappingproxy", "functools.partial", "itertools.product",
    "itertools.combinations", "itertools.permutations", "itertools.combinations_with_replacement",
    "_struct.Struct", "Struct",
};

/* ---- the types met ------------------------------------------------------ */

static size_t
slot_of(uintptr_t addr, size_t mask)
{
    uint64_t h = (uint64_t)addr * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) & mask;
}

/* Doubles the table.  Returns 0 or STROP_REMOTE_ENOMEM (the table kept). */
static int
types_grow(StropHeapCensus *c)
{
    size_t cap = c->types ? (c->mask + 1) * 2 : 256;
    StropHeapType *fresh = strop_calloc(cap, sizeof *fresh);
    if (fresh == NULL)
        return STROP_REMOTE_ENOMEM;
    for (size_t i = 0; c->types && i <= c->mask; i++) {
        size_t j;
        if (c->types[i].addr == 0)
            continue;
        for (j = slot_of(c->types[i].addr, cap - 1); fresh[j].addr != 0; j = (j + 1) & (cap - 1))
            ;
        fresh[j] = c->types[i];
    }
    strop_free(c->types);
    c->types = fresh;
    c->mask = cap - 1;
    return 0;
}

/* Reads the NUL-ended tp_name at `at` into name (STROP_HEAP_TYPE_NAME bytes
 * at most, a longer one cut): page by page, never past the page that holds
 * its NUL.  Returns 0, or -1 when unreadable, empty or not text. */
static int
read_name(StropRemote *r, uintptr_t at, char *name)
{
    size_t have = 0;
    while (have < STROP_HEAP_TYPE_NAME) {
        uintptr_t from = at + have;
        size_t want = 4096 - (size_t)(from & 4095), i;
        if (want > STROP_HEAP_TYPE_NAME - have)
            want = STROP_HEAP_TYPE_NAME - have;
        if (rd(r, from, name + have, want) < 0)
            return -1;
        for (i = have; i < have + want; i++) {
            unsigned char ch = (unsigned char)name[i];
            if (ch == 0) {
                return i == 0 ? -1 : 0;
            }
            if (ch < 0x20 || ch == 0x7F)
                return -1;
        }
        have += want;
    }
    name[STROP_HEAP_TYPE_NAME] = '\0';
    return 0;
}

/* Static types with a tp_itemsize but no ob_size to read (3.11+: a
 * generator's frame follows it, sized by its code object), as int's
 * subclasses (3.12+: lv_tag): their items are not counted. */
static const char *const no_size_names[] = {"generator", "coroutine", "async_generator"};

static int
name_in(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(name, names[i]) == 0)
            return 1;
    }
    return 0;
}

static int
is_approx(const StropPyOffsets *o, const char *name, unsigned long flags)
{
    if (flags & (unsigned long)(o->tpflags_dict_subclass | o->tpflags_type_subclass |
                                o->tpflags_long_subclass | o->tpflags_unicode_subclass))
        return 1;
    return name_in(name, approx_names, sizeof approx_names / sizeof approx_names[0]);
}

/* Replaces `name` (tp_name) of the class at `type`, whose dict is at `dict`,
 * by "module.qualname" as strop.heap() names it ("qualname" for builtins),
 * when both can be read; else leaves it (a process that is gone fails the
 * census's next read).  Returns 0 or STROP_REMOTE_ENOMEM. */
static int
qualify(StropRemote *r, StropHeapCensus *c, uintptr_t type, uintptr_t dict, char *name)
{
    const StropPyOffsets *o = &r->off;
    uintptr_t module_at = 0, qualname_at;
    char *module = NULL, *qualname = NULL;
    int rc = strop_remote_dict_find(r, dict, "__module__", &c->hint_module, &module_at);
    if (rc == STROP_REMOTE_ENOMEM)
        return rc;
    if (rc == 1)
        module = strop_remote_str(r, module_at, STROP_HEAP_TYPE_NAME / 2, 1);
    if (rd_ptr(r, type + (uintptr_t)o->heaptype_qualname, &qualname_at) == 0)
        qualname = strop_remote_str(r, qualname_at, STROP_HEAP_TYPE_NAME / 2, 1);
    if (qualname != NULL && qualname[0] != '\0') {
        if (module != NULL && module[0] != '\0' && strcmp(module, "builtins") != 0)
            snprintf(name, STROP_HEAP_TYPE_NAME + 1, "%s.%s", module, qualname);
        else
            snprintf(name, STROP_HEAP_TYPE_NAME + 1, "%s", qualname);
    }
    strop_free(module);
    strop_free(qualname);
    return 0;
}

/* The entry of the type at `type`, read and checked the first time: a type
 * whose own type is a type (Py_TPFLAGS_TYPE_SUBCLASS), whose objects are
 * collected (Py_TPFLAGS_HAVE_GC), with sizes in bounds and a tp_name of
 * text.  Returns it, or NULL: *rc is then 1 (not a type: a torn read),
 * STROP_REMOTE_ENOPROC or STROP_REMOTE_ENOMEM. */
static StropHeapType *
type_at(StropRemote *r, StropHeapCensus *c, uintptr_t type, int *rc)
{
    const StropPyOffsets *o = &r->off;
    unsigned char buf[TYPE_READ], meta_flags_buf[8];
    StropHeapType t;
    uintptr_t meta;
    long basicsize, itemsize;
    unsigned long flags, meta_flags;
    size_t i;

    *rc = 1;
    if (c->types != NULL) {
        for (i = slot_of(type, c->mask); c->types[i].addr != 0; i = (i + 1) & c->mask) {
            if (c->types[i].addr == type)
                return &c->types[i];
        }
    }
    if (!aligned(type))
        return NULL;
    if (rd(r, type, buf, sizeof buf) < 0) {
        c->read_errors++;
        if (errno == ESRCH)
            *rc = STROP_REMOTE_ENOPROC;
        return NULL;
    }
    meta = ptr_at(buf, o->object_type);
    memcpy(&basicsize, buf + o->type_basicsize, sizeof basicsize);
    memcpy(&itemsize, buf + o->type_itemsize, sizeof itemsize);
    memcpy(&flags, buf + o->type_flags, sizeof flags);
    if (!(flags & (unsigned long)o->tpflags_have_gc) || basicsize < 16 ||
        basicsize > MAX_BASICSIZE || itemsize < 0 || itemsize > MAX_ITEMSIZE || !aligned(meta))
        return NULL;
    if (rd(r, meta + (uintptr_t)o->type_flags, meta_flags_buf, sizeof meta_flags_buf) < 0) {
        c->read_errors++;
        return NULL;
    }
    memcpy(&meta_flags, meta_flags_buf, sizeof meta_flags);
    if (!(meta_flags & (unsigned long)o->tpflags_type_subclass))
        return NULL;
    memset(&t, 0, sizeof t);
    if (read_name(r, ptr_at(buf, o->type_name), t.name) < 0) {
        c->read_errors++;
        return NULL;
    }
    if (flags & (unsigned long)o->tpflags_heaptype) {
        int qrc = qualify(r, c, type, ptr_at(buf, o->type_dict), t.name);
        if (qrc != 0) {
            *rc = qrc;
            return NULL;
        }
    }
    t.addr = type;
    t.basicsize = basicsize;
    t.itemsize = itemsize;
    t.flags = flags;
    t.approx = is_approx(o, t.name, flags);
    if ((flags & (unsigned long)o->tpflags_long_subclass) ||
        name_in(t.name, no_size_names, sizeof no_size_names / sizeof no_size_names[0]))
        t.itemsize = 0;
    if ((c->n_types + 1) * 2 > (c->types ? c->mask + 1 : 0) && types_grow(c) < 0) {
        *rc = STROP_REMOTE_ENOMEM;
        return NULL;
    }
    for (i = slot_of(type, c->mask); c->types[i].addr != 0; i = (i + 1) & c->mask)
        ;
    c->types[i] = t;
    c->n_types++;
    return &c->types[i];
}

/* ---- one object ---------------------------------------------------------- */

/* The 8-byte field at `field` of the object whose PyGC_Head is at `node`:
 * from buf (its first `len` bytes) when they hold it, else read.  0 or -1. */
static int
node_word(StropRemote *r, uintptr_t node, const unsigned char *buf, size_t len, size_t field,
          int64_t *out)
{
    size_t at = (size_t)r->off.gc_head_size + field;
    if (at + sizeof *out <= len) {
        memcpy(out, buf + at, sizeof *out);
        return 0;
    }
    return rd(r, node + at, out, sizeof *out);
}

/* sys.getsizeof of the object whose node (PyGC_Head first) was read into
 * buf (`len` bytes, at least NODE_MIN): tp_basicsize, the items of a
 * var-sized object, a list's item buffer, the PyGC_Head and the pre-header
 * of a type with a managed dict or weakref (_PyType_PreHeaderSize).  Reads
 * what buf lacks.  Returns the size, or -1 when a read fails or a count is
 * out of bounds (torn). */
static int64_t
object_size(StropRemote *r, uintptr_t node, const unsigned char *buf, size_t len,
            const StropHeapType *t)
{
    const StropPyOffsets *o = &r->off;
    int64_t size = t->basicsize + o->gc_head_size;
    if (o->tpflags_preheader >= 0 && (t->flags & (unsigned long)o->tpflags_preheader))
        size += 2 * (int64_t)sizeof(void *);
    if (t->itemsize > 0) {
        int64_t items;
        if (node_word(r, node, buf, len, (size_t)o->var_size, &items) < 0)
            return -1;
        if (items < 0)
            items = -items;
        if (items > MAX_ITEMS)
            return -1;
        size += items * t->itemsize;
    }
    if (t->flags & (unsigned long)o->tpflags_list_subclass) {
        int64_t allocated;
        if (node_word(r, node, buf, len, (size_t)o->list_allocated, &allocated) < 0)
            return -1;
        if (allocated < 0 || allocated > MAX_ITEMS)
            return -1;
        size += allocated * (int64_t)sizeof(void *);
    }
    return size;
}

/* ---- one list ------------------------------------------------------------- */

/* Reads the node at `node`: NODE_READ bytes, or fewer when those cross
 * into an unmapped page (a small object at the end of a mapping).  Returns
 * the bytes read, or 0 (errno set). */
static size_t
read_node(StropRemote *r, uintptr_t node, unsigned char *buf)
{
    size_t len = NODE_READ, to_page = 4096 - (size_t)(node & 4095);
    if (rd(r, node, buf, len) == 0)
        return len;
    if (errno == ESRCH || to_page >= NODE_READ)
        return 0;
    len = to_page < NODE_MIN ? NODE_MIN : to_page;
    return rd(r, node, buf, len) == 0 ? len : 0;
}

/* Sets the pending counts of every type to 0, adding them to the totals
 * first when `keep`. */
static void
settle(StropHeapCensus *c, int keep)
{
    for (size_t i = 0; c->types && i <= c->mask; i++) {
        StropHeapType *t = &c->types[i];
        if (t->addr == 0)
            continue;
        if (keep) {
            t->count += t->pending_count;
            t->bytes += t->pending_bytes;
        }
        t->pending_count = 0;
        t->pending_bytes = 0;
    }
}

/* Walks the list whose head (a PyGC_Head) is at `head`, counting into the
 * types' pending counts.  Returns 0 when it was read whole (*n: its
 * objects), 1 when a check failed (torn), STROP_REMOTE_ENOPROC,
 * STROP_REMOTE_ENOMEM. */
static int
walk_list(StropRemote *r, StropHeapCensus *c, uintptr_t head, uint64_t max_objects, uint64_t *n)
{
    const StropPyOffsets *o = &r->off;
    unsigned char buf[NODE_READ];
    uintptr_t prev = head, node;
    *n = 0;
    if (rd_ptr(r, head, &node) < 0) {
        c->read_errors++;
        return errno == ESRCH ? STROP_REMOTE_ENOPROC : 1;
    }
    while (node != head) {
        StropHeapType *t;
        size_t len;
        int64_t size;
        int rc;
        if (!aligned(node) || *n >= max_objects)
            return 1;
        len = read_node(r, node, buf);
        if (len == 0) {
            c->read_errors++;
            return errno == ESRCH ? STROP_REMOTE_ENOPROC : 1;
        }
        /* _gc_prev's low two bits are flags; the rest must be where we came
         * from, or the list changed under us. */
        if ((ptr_at(buf, 8) & ~(uintptr_t)3) != prev)
            return 1;
        t = type_at(r, c, ptr_at(buf, o->gc_head_size + o->object_type), &rc);
        if (t == NULL)
            return rc;
        size = object_size(r, node, buf, len, t);
        if (size < 0)
            return 1;
        t->pending_count++;
        t->pending_bytes += (uint64_t)size;
        (*n)++;
        prev = node;
        node = ptr_at(buf, 0);
    }
    return 0;
}

/* Whether the target's collector is running: 1, 0, or -1 when unreadable. */
static int
collecting(StropRemote *r, uintptr_t gc)
{
    int flag;
    if (r->off.gc_collecting < 0)
        return 0;
    if (rd(r, gc + (uintptr_t)r->off.gc_collecting, &flag, sizeof flag) < 0)
        return -1;
    return flag != 0;
}

/* ---- the census ---------------------------------------------------------- */

/* The address of the main interpreter's struct _gc_runtime_state, or 0 with
 * *rc set. */
static uintptr_t
gc_state(StropRemote *r, int *rc)
{
    const StropPyOffsets *o = &r->off;
    uintptr_t interp, next;
    *rc = STROP_REMOTE_EREAD;
    if (o->runtime_gc >= 0)
        return r->runtime + (uintptr_t)o->runtime_gc;
    if (o->interp_gc < 0 || o->gc_generations < 0) {
        *rc = STROP_REMOTE_EVERSION;
        return 0;
    }
    /* The list is newest first: the main interpreter is its last. */
    if (rd_ptr(r, r->runtime + (uintptr_t)o->runtime_interpreters_head, &interp) < 0) {
        *rc = errno == ESRCH ? STROP_REMOTE_ENOPROC : STROP_REMOTE_EREAD;
        return 0;
    }
    for (int i = 0;; i++) {
        if (i >= MAX_INTERPS || !aligned(interp))
            return 0;
        if (rd_ptr(r, interp + (uintptr_t)o->interp_next, &next) < 0) {
            *rc = errno == ESRCH ? STROP_REMOTE_ENOPROC : STROP_REMOTE_EREAD;
            return 0;
        }
        if (next == 0)
            break;
        interp = next;
    }
    return interp + (uintptr_t)o->interp_gc;
}

int
strop_heap_remote_census(StropRemote *r, StropHeapCensus *c, uint64_t max_objects)
{
    const StropPyOffsets *o = &r->off;
    uint64_t reads = strop_remote_reads(r);
    int rc = 0;
    uintptr_t gc = gc_state(r, &rc);
    if (gc == 0)
        return rc;
    for (int list = 0; list <= o->gc_n_generations; list++) {
        uintptr_t head = gc + (uintptr_t)(list < o->gc_n_generations
                                               ? o->gc_generations + list * o->gc_generation_size
                                               : o->gc_permanent);
        for (int attempt = 0;; attempt++) {
            uint64_t n = 0;
            int state;
            /* A collection moves objects from list to list: wait it out, for
             * 2 s in all (finalizers run while the flag is set, and may
             * sleep): after that a list read during one is torn.  A memory
             * image (tests, fuzzing: no pid) does not change: no wait. */
            while ((state = collecting(r, gc)) == 1 && strop_remote_pid(r) != 0 &&
                   c->collecting < COLLECTING_WAITS) {
                c->collecting++;
                usleep(1000);
            }
            if (state < 0) {
                rc = errno == ESRCH ? STROP_REMOTE_ENOPROC : STROP_REMOTE_EREAD;
                goto done;
            }
            rc = walk_list(r, c, head, max_objects, &n);
            if (rc < 0) {
                settle(c, 0);
                goto done;
            }
            if (rc == 0 && collecting(r, gc) != 0)
                rc = 1;
            settle(c, rc == 0);
            if (rc == 0) {
                c->objects += n;
                if (list == o->gc_n_generations)
                    c->permanent += n;
                c->lists++;
                break;
            }
            if (attempt == STROP_HEAP_RETRIES) {
                c->lists_torn++;
                break;
            }
            c->rewalks++;
        }
    }
    rc = 0;
done:
    c->reads += strop_remote_reads(r) - reads;
    return rc;
}

void
strop_heap_remote_census_free(StropHeapCensus *c)
{
    strop_free(c->types);
    memset(c, 0, sizeof *c);
}
