/* pprof.c: the pprof format (profile.proto, gzipped), read by `go tool
 * pprof`, speedscope, Grafana Pyroscope, Parca and Google Cloud Profiler.
 *
 * The protobuf is encoded by hand: a Profile's fields are written in turn
 * into one buffer, each sub-message first into a scratch buffer so that its
 * length can precede it.  Then the buffer is gzipped with zlib (whose memory
 * also comes from mem.h, so out-of-memory tests reach it).
 *
 * What is written: one Sample per node with calls or own time (location ids
 * leaf first); one Location per function that appears (id = function index +
 * 1, one Line with that function and its first line); one Function per
 * such function, with the same id.  Sample types: traced [calls/count,
 * wall|cpu/nanoseconds] with values [calls, own ns]; sampled [samples/count,
 * wall|cpu/nanoseconds] with values [samples, samples * period].  No Mapping:
 * the locations are symbolized already.  Unnamed functions are left out of
 * the stacks, and nodes of unnamed functions are not samples.  Functions
 * have no system_name: when it equals the name, pprof takes the name for a
 * C++ symbol and strips "<...>" from it, which empties "<listcomp>".
 * A heap profile (info->heap_values) has the sample types alloc_objects/count,
 * alloc_space/bytes, inuse_objects/count, inuse_space/bytes (the default),
 * one Sample per node with any of them, and period type space/bytes.
 * A thread's root frame (writers_int.h's strop_thread_frame()) is no
 * location: the samples under it carry the labels thread_name and, when
 * known, thread_id instead.
 */
#include <errno.h>
#include <string.h>
#include <zlib.h>

#include "mem.h"
#include "textbuf.h"
#include "writers_int.h"

/* Field numbers, from profile.proto. */
enum {
    PROFILE_SAMPLE_TYPE = 1,
    PROFILE_SAMPLE = 2,
    PROFILE_LOCATION = 4,
    PROFILE_FUNCTION = 5,
    PROFILE_STRING_TABLE = 6,
    PROFILE_TIME_NANOS = 9,
    PROFILE_DURATION_NANOS = 10,
    PROFILE_PERIOD_TYPE = 11,
    PROFILE_PERIOD = 12,
    PROFILE_COMMENT = 13,
    PROFILE_DEFAULT_SAMPLE_TYPE = 14,
    VALUE_TYPE_TYPE = 1,
    VALUE_TYPE_UNIT = 2,
    SAMPLE_LOCATION_ID = 1,
    SAMPLE_VALUE = 2,
    SAMPLE_LABEL = 3,
    LABEL_KEY = 1,
    LABEL_STR = 2,
    LABEL_NUM = 3,
    LOCATION_ID = 1,
    LOCATION_LINE = 4,
    LINE_FUNCTION_ID = 1,
    LINE_LINE = 2,
    FUNCTION_ID = 1,
    FUNCTION_NAME = 2,
    FUNCTION_FILENAME = 4,
    FUNCTION_START_LINE = 5,
};

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

static void
put_tag(StropBuf *buf, uint32_t field, int wire)
{
    strop_buf_put_varint(buf, ((uint64_t)field << 3) | (uint64_t)wire);
}

/* A varint field; zero is proto3's default and is left out. */
static void
put_uint_field(StropBuf *buf, uint32_t field, uint64_t value)
{
    if (value == 0)
        return;
    put_tag(buf, field, WIRE_VARINT);
    strop_buf_put_varint(buf, value);
}

static void
put_bytes_field(StropBuf *buf, uint32_t field, const void *data, size_t len)
{
    put_tag(buf, field, WIRE_LEN);
    strop_buf_put_varint(buf, len);
    strop_buf_put(buf, data, len);
}

/* Appends the sub-message held in `sub` as `field`, and empties `sub`. */
static void
put_msg(StropBuf *buf, uint32_t field, StropBuf *sub)
{
    put_bytes_field(buf, field, sub->data, sub->len);
    sub->len = 0;
    if (sub->failed)
        buf->failed = 1;
}

/* The string table: strings by content, each written once, index 0 "". */
typedef struct Strings {
    const char **ptr;
    size_t *len;
    int64_t *slots; /* open addressing: index into ptr/len, -1 empty */
    size_t n, cap, mask;
} Strings;

static uint64_t
hash_bytes(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

static int
strings_init(Strings *st, size_t cap)
{
    size_t slots = 16;
    while (slots < 2 * cap)
        slots *= 2;
    st->ptr = strop_malloc(cap * sizeof *st->ptr);
    st->len = strop_malloc(cap * sizeof *st->len);
    st->slots = strop_malloc(slots * sizeof *st->slots);
    if (!st->ptr || !st->len || !st->slots)
        return -1;
    memset(st->slots, 0xff, slots * sizeof *st->slots);
    st->cap = cap;
    st->mask = slots - 1;
    return 0;
}

static void
strings_free(Strings *st)
{
    strop_free((void *)st->ptr);
    strop_free(st->len);
    strop_free(st->slots);
}

/* The index of `s`, added if new.  The table was sized for every string the
 * writer asks for, so it never grows. */
static uint64_t
intern(Strings *st, const char *s, size_t len)
{
    size_t i = (size_t)hash_bytes(s, len) & st->mask;
    while (st->slots[i] >= 0) {
        int64_t k = st->slots[i];
        if (st->len[k] == len && memcmp(st->ptr[k], s, len) == 0)
            return (uint64_t)k;
        i = (i + 1) & st->mask;
    }
    st->ptr[st->n] = s;
    st->len[st->n] = len;
    st->slots[i] = (int64_t)st->n;
    return st->n++;
}

static uint64_t
intern_c(Strings *st, const char *s)
{
    return intern(st, s, strlen(s));
}

static void
put_value_type(StropBuf *buf, uint32_t field, StropBuf *sub, uint64_t type, uint64_t unit)
{
    put_uint_field(sub, VALUE_TYPE_TYPE, type);
    put_uint_field(sub, VALUE_TYPE_UNIT, unit);
    put_msg(buf, field, sub);
}

static void *
zalloc(void *opaque, unsigned items, unsigned size)
{
    (void)opaque;
    return strop_calloc(items, size);
}

static void
zfree(void *opaque, void *ptr)
{
    (void)opaque;
    strop_free(ptr);
}

/* Gzips `data` to `out`.  Returns 0 or -1 with errno set. */
static int
gzip_to(FILE *out, const char *data, size_t len)
{
    z_stream zs;
    unsigned char chunk[16384];
    int rc, status = -1;
    memset(&zs, 0, sizeof zs);
    zs.zalloc = zalloc;
    zs.zfree = zfree;
    if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        errno = ENOMEM;
        return -1;
    }
    zs.next_in = (unsigned char *)data;
    do {
        /* Feed at most 1 GB at a time: avail_in is 32 bits. */
        size_t step = len > (1u << 30) ? (1u << 30) : len;
        zs.avail_in = (unsigned)step;
        len -= step;
        do {
            size_t have;
            zs.next_out = chunk;
            zs.avail_out = sizeof chunk;
            rc = deflate(&zs, len ? Z_NO_FLUSH : Z_FINISH);
            if (rc == Z_STREAM_ERROR) {
                errno = EINVAL;
                goto done;
            }
            if (rc == Z_MEM_ERROR) {
                errno = ENOMEM;
                goto done;
            }
            have = sizeof chunk - zs.avail_out;
            errno = 0;
            if (have && fwrite(chunk, 1, have, out) != have) {
                if (errno == 0)
                    errno = EIO;
                goto done;
            }
        } while (zs.avail_out == 0);
    } while (len);
    if (rc != Z_STREAM_END) {
        errno = EIO;
        goto done;
    }
    status = 0;
done:
    deflateEnd(&zs);
    return status;
}

int
strop_pprof_write(FILE *out, const StropTree *tree, const StropLabel *labels,
                  const StropWriteInfo *info)
{
    StropBuf prof = {0}, sub = {0}, packed = {0};
    Strings st = {0};
    unsigned char *used = NULL;
    uint64_t *name_id = NULL, *file_id = NULL;
    uint64_t s_count, s_unit_count, s_time, s_ns, s_thread_name = 0, s_thread_id = 0;
    uint64_t s_heap[4] = {0}, s_bytes = 0, s_space = 0;
    const uint64_t *heap = info->heap_values; /* a heap profile: 4 values a node */
    StropThreadFrame thread = {0};
    uint32_t thread_node = STROP_NONE; /* the thread frame above the walk, if any */
    const char *time_kind = info->time_kind ? info->time_kind : "wall";
    uint32_t n_funcs = tree->n_funcs;
    int status = -1;

    used = strop_calloc(n_funcs, 1);
    name_id = strop_calloc(n_funcs, sizeof *name_id);
    file_id = strop_calloc(n_funcs, sizeof *file_id);
    if (!used || !name_id || !file_id || strings_init(&st, 3 * (size_t)n_funcs + 20) < 0) {
        errno = ENOMEM;
        goto done;
    }
    for (uint32_t n = STROP_OVERFLOW_NODE; n < tree->n_nodes; n++)
        if (strop_func_named(tree, labels, tree->nodes[n].func) &&
            !strop_node_thread(tree, labels, info, n, &thread) &&
            (n != STROP_OVERFLOW_NODE || tree->nodes[n].calls || tree->nodes[n].self_ticks))
            used[tree->nodes[n].func] = 1;

    intern(&st, "", 0);
    s_count = intern_c(&st, info->sampled ? "samples" : "calls");
    s_unit_count = intern_c(&st, "count");
    s_time = intern_c(&st, time_kind);
    s_ns = intern_c(&st, "nanoseconds");
    if (heap != NULL) {
        static const char *const heap_types[4] = {"alloc_objects", "alloc_space",
                                                  "inuse_objects", "inuse_space"};
        s_bytes = intern_c(&st, "bytes");
        s_space = intern_c(&st, "space");
        for (int k = 0; k < 4; k++) {
            s_heap[k] = intern_c(&st, heap_types[k]);
            put_value_type(&prof, PROFILE_SAMPLE_TYPE, &sub, s_heap[k],
                           k % 2 ? s_bytes : s_unit_count);
        }
    }
    else {
        put_value_type(&prof, PROFILE_SAMPLE_TYPE, &sub, s_count, s_unit_count);
        put_value_type(&prof, PROFILE_SAMPLE_TYPE, &sub, s_time, s_ns);
    }
    if (strop_tree_has_threads(tree, labels, info)) {
        s_thread_name = intern_c(&st, "thread_name");
        s_thread_id = intern_c(&st, "thread_id");
    }

    /* Samples. */
    for (uint32_t n = strop_tree_next(tree, STROP_ROOT); n != STROP_NONE;
         n = strop_tree_next(tree, n)) {
        const StropNode *node = &tree->nodes[n];
        uint64_t count = node->calls, ns;
        if (node->depth == 1) {
            thread_node = strop_node_thread(tree, labels, info, n, &thread) ? n : STROP_NONE;
            if (thread_node != STROP_NONE)
                continue;
        }
        if (!strop_func_named(tree, labels, node->func))
            continue;
        ns = info->sampled ? node->calls * info->period_ns
                           : strop_ticks_to_ns(node->self_ticks, info);
        if (heap != NULL && !(heap[4 * n] | heap[4 * n + 1] | heap[4 * n + 2] | heap[4 * n + 3]))
            continue;
        if (heap == NULL && count == 0 && ns == 0)
            continue;
        for (uint32_t m = n; m != STROP_ROOT; m = tree->nodes[m].parent)
            if (m != thread_node && strop_func_named(tree, labels, tree->nodes[m].func))
                strop_buf_put_varint(&packed, (uint64_t)tree->nodes[m].func + 1);
        put_msg(&sub, SAMPLE_LOCATION_ID, &packed);
        if (heap != NULL) {
            for (int k = 0; k < 4; k++)
                strop_buf_put_varint(&packed, heap[4 * (size_t)n + k]);
        }
        else {
            strop_buf_put_varint(&packed, count);
            strop_buf_put_varint(&packed, ns);
        }
        put_msg(&sub, SAMPLE_VALUE, &packed);
        if (thread_node != STROP_NONE) {
            put_uint_field(&packed, LABEL_KEY, s_thread_name);
            put_uint_field(&packed, LABEL_STR, intern(&st, thread.name, thread.name_len));
            put_msg(&sub, SAMPLE_LABEL, &packed);
            if (thread.id != 0) {
                put_uint_field(&packed, LABEL_KEY, s_thread_id);
                put_uint_field(&packed, LABEL_NUM, thread.id);
                put_msg(&sub, SAMPLE_LABEL, &packed);
            }
        }
        put_msg(&prof, PROFILE_SAMPLE, &sub);
        if (prof.failed)
            goto nomem;
    }

    /* Locations and functions, one each per function that appears. */
    for (uint32_t f = 0; f < n_funcs; f++) {
        const StropLabel *label = &labels[f];
        uint64_t line = label->line > 0 ? (uint64_t)label->line : 0;
        if (!used[f])
            continue;
        put_uint_field(&packed, LINE_FUNCTION_ID, (uint64_t)f + 1);
        put_uint_field(&packed, LINE_LINE, line);
        put_uint_field(&sub, LOCATION_ID, (uint64_t)f + 1);
        put_msg(&sub, LOCATION_LINE, &packed);
        put_msg(&prof, PROFILE_LOCATION, &sub);
        name_id[f] = intern(&st, label->name, label->name_len);
        file_id[f] = strop_label_is_builtin(label) ? 0
                                                   : intern(&st, label->file, label->file_len);
    }
    for (uint32_t f = 0; f < n_funcs; f++) {
        if (!used[f])
            continue;
        put_uint_field(&sub, FUNCTION_ID, (uint64_t)f + 1);
        put_uint_field(&sub, FUNCTION_NAME, name_id[f]);
        put_uint_field(&sub, FUNCTION_FILENAME, file_id[f]);
        put_uint_field(&sub, FUNCTION_START_LINE,
                       labels[f].line > 0 ? (uint64_t)labels[f].line : 0);
        put_msg(&prof, PROFILE_FUNCTION, &sub);
    }

    put_uint_field(&prof, PROFILE_TIME_NANOS, info->start_unix_ns);
    put_uint_field(&prof, PROFILE_DURATION_NANOS, info->duration_ns);
    if (heap != NULL) {
        put_value_type(&prof, PROFILE_PERIOD_TYPE, &sub, s_space, s_bytes);
    }
    else {
        put_value_type(&prof, PROFILE_PERIOD_TYPE, &sub, s_time, s_ns);
        put_uint_field(&prof, PROFILE_PERIOD, info->sampled ? info->period_ns : 0);
    }
    if (info->command != NULL)
        put_uint_field(&prof, PROFILE_COMMENT, intern_c(&st, info->command));
    put_uint_field(&prof, PROFILE_DEFAULT_SAMPLE_TYPE, heap != NULL ? s_heap[3] : s_time);
    /* The string table last: only now is it complete.  Field order does not
     * matter to protobuf readers. */
    for (size_t i = 0; i < st.n; i++) {
        /* protobuf strings are UTF-8: ill-formed bytes become U+FFFD. */
        strop_buf_put_utf8(&sub, st.ptr[i], st.len[i], NULL, NULL);
        put_msg(&prof, PROFILE_STRING_TABLE, &sub);
    }
    if (prof.failed || sub.failed || packed.failed)
        goto nomem;
    if (gzip_to(out, prof.data, prof.len) < 0 || fflush(out) != 0)
        goto done;
    status = 0;
    goto done;
nomem:
    errno = ENOMEM;
done:
    strop_buf_free(&prof);
    strop_buf_free(&sub);
    strop_buf_free(&packed);
    strings_free(&st);
    strop_free(used);
    strop_free(name_id);
    strop_free(file_id);
    return status;
}
