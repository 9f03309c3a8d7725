/* readers.c: folded, pprof and pstats totals into a calling-context tree (see
 * readers.h).
 *
 * Functions are interned by (name, file, line) in an open-addressing table so
 * that the same frame written twice is one function.  Paths are added root
 * first; a node's own value goes into `calls` (samples) or `self_ticks` (ns),
 * and one backward pass at the end sums the inclusive ticks (a child's index
 * is above its parent's).  Every malformed input ends in STROP_LOAD_FORMAT
 * with `found` saying what was there; nothing is trusted: lengths, indices and
 * ids are all checked before use.
 */
#include "readers.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "mem.h"

/* Beyond this the reconstruction from pstats stops adding nodes; it also
 * stops at PSTATS_NODES_PER_ITEM per function and edge of the file, so that a
 * small file of a dense call graph cannot make a million paths. */
#define PSTATS_MAX_NODES 1000000u
#define PSTATS_NODES_PER_ITEM 64u
/* The deepest stack a folded line or a pprof Sample may have. */
#define MAX_STACK_DEPTH 100000u
/* A pprof file may name at most this many frames per byte of its protobuf
 * (plus PPROF_FRAMES_SLACK) over all its samples: a Location of many Lines
 * named by many samples would otherwise be a product of two sizes. */
#define PPROF_FRAMES_PER_BYTE 16u
#define PPROF_FRAMES_SLACK (1u << 20)

/* A count or a time from a double that a file made: NaN and negatives are 0,
 * too large is the most a uint64_t holds (a plain cast would be undefined). */
static uint64_t
to_u64(double x)
{
    if (!(x > 0))
        return 0;
    if (x >= 18446744073709551615.0)
        return UINT64_MAX;
    return (uint64_t)x;
}

static int
fail(StropLoaded *prof, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(StropLoaded *prof, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prof->found, sizeof prof->found, fmt, ap);
    va_end(ap);
    return STROP_LOAD_FORMAT;
}

/* Up to 40 bytes of `s` with anything unprintable as '?', for messages. */
static const char *
excerpt(const char *s, size_t len, char *out, size_t out_size)
{
    size_t n = len < 40 ? len : 40, i;
    if (n > out_size - 4)
        n = out_size - 4;
    for (i = 0; i < n; i++)
        out[i] = (s[i] >= 32 && s[i] < 127) ? s[i] : '?';
    if (len > n)
        out[i++] = '.', out[i++] = '.', out[i++] = '.';
    out[i] = '\0';
    return out;
}


int
strop_load_init(StropLoaded *prof)
{
    memset(prof, 0, sizeof *prof);
    prof->time_kind = "wall";
    prof->seconds_per_tick = 1e-9;
    prof->kind = "";
    prof->hash_seed = strop_random_seed();
    if (strop_tree_init(&prof->tree, 0, 0) < 0)
        return STROP_LOAD_NOMEM;
    prof->cap_labels = 256;
    prof->labels = strop_calloc(prof->cap_labels, sizeof *prof->labels);
    prof->intern_mask = 1023;
    prof->intern = strop_malloc((prof->intern_mask + 1) * sizeof *prof->intern);
    if (prof->labels == NULL || prof->intern == NULL) {
        strop_load_free(prof);
        return STROP_LOAD_NOMEM;
    }
    memset(prof->intern, 0xff, (prof->intern_mask + 1) * sizeof *prof->intern);
    return STROP_LOAD_OK;
}

void
strop_load_free(StropLoaded *prof)
{
    if (prof->labels != NULL) {
        for (uint32_t f = 0; f < prof->tree.n_funcs && f < prof->cap_labels; f++) {
            strop_free((char *)prof->labels[f].file);
            strop_free((char *)prof->labels[f].name);
        }
    }
    strop_free(prof->labels);
    strop_free(prof->intern);
    strop_tree_free(&prof->tree);
    prof->labels = NULL;
    prof->intern = NULL;
    prof->cap_labels = 0;
}

static uint64_t
hash_frame(uint64_t seed, const char *name, size_t name_len, const char *file, size_t file_len,
           long line)
{
    uint64_t h = 1469598103934665603ull ^ seed;
    for (size_t i = 0; i < name_len; i++)
        h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (size_t i = 0; i < file_len; i++)
        h = (h ^ (unsigned char)file[i]) * 1099511628211ull;
    h = (h ^ (uint64_t)line) * 1099511628211ull;
    h ^= seed;
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 29);
}

static char *
copy_string(const char *s, size_t len)
{
    char *c = strop_malloc(len + 1);
    if (c != NULL) {
        memcpy(c, s, len);
        c[len] = '\0';
    }
    return c;
}

static int
grow_intern(StropLoaded *prof)
{
    uint32_t mask = prof->intern_mask * 2 + 1;
    uint32_t *slots = strop_malloc(((size_t)mask + 1) * sizeof *slots);
    if (slots == NULL)
        return -1;
    memset(slots, 0xff, ((size_t)mask + 1) * sizeof *slots);
    for (uint32_t f = 1; f < prof->tree.n_funcs; f++) {
        const StropLabel *l = &prof->labels[f];
        uint32_t i = (uint32_t)hash_frame(prof->hash_seed, l->name, l->name_len, l->file,
                                          l->file_len, l->line) &
                     mask;
        while (slots[i] != STROP_NONE)
            i = (i + 1) & mask;
        slots[i] = f;
    }
    strop_free(prof->intern);
    prof->intern = slots;
    prof->intern_mask = mask;
    return 0;
}

/* The function named (name, file, line), added when new.  STROP_NONE when out
 * of memory; STROP_OVERFLOW_FUNC past the tree's cap. */
static uint32_t
intern_func(StropLoaded *prof, const char *name, size_t name_len, const char *file,
            size_t file_len, long line)
{
    uint32_t i = (uint32_t)hash_frame(prof->hash_seed, name, name_len, file, file_len, line) &
                 prof->intern_mask;
    uint32_t f;
    for (; prof->intern[i] != STROP_NONE; i = (i + 1) & prof->intern_mask) {
        const StropLabel *l = &prof->labels[prof->intern[i]];
        if (l->line == line && l->name_len == name_len && l->file_len == file_len &&
            memcmp(l->name, name, name_len) == 0 && memcmp(l->file, file, file_len) == 0)
            return prof->intern[i];
    }
    if (prof->tree.n_funcs >= prof->tree.max_funcs)
        return STROP_OVERFLOW_FUNC;
    if (prof->tree.n_funcs >= prof->cap_labels) {
        uint32_t cap = prof->cap_labels * 2;
        StropLabel *labels = strop_realloc(prof->labels, (size_t)cap * sizeof *labels);
        if (labels == NULL)
            return STROP_NONE;
        memset(labels + prof->cap_labels, 0, (size_t)(cap - prof->cap_labels) * sizeof *labels);
        prof->labels = labels;
        prof->cap_labels = cap;
    }
    char *name_copy = copy_string(name, name_len), *file_copy = copy_string(file, file_len);
    if (name_copy == NULL || file_copy == NULL) {
        strop_free(name_copy);
        strop_free(file_copy);
        return STROP_NONE;
    }
    f = strop_tree_func_add(&prof->tree, (uintptr_t)prof->tree.n_funcs + 1, STROP_NONE);
    if (f == STROP_NONE || f == STROP_OVERFLOW_FUNC) {
        strop_free(name_copy);
        strop_free(file_copy);
        return f;
    }
    prof->labels[f].name = name_copy;
    prof->labels[f].name_len = name_len;
    prof->labels[f].file = file_copy;
    prof->labels[f].file_len = file_len;
    prof->labels[f].line = line;
    prof->intern[i] = f;
    if ((prof->tree.n_funcs + 1) * 2 > prof->intern_mask + 1 && grow_intern(prof) < 0)
        return STROP_NONE;
    return f;
}

/* The child of `parent` for function `f`, added when new; STROP_NONE when out
 * of memory. */
static uint32_t
child_of(StropLoaded *prof, uint32_t parent, uint32_t f)
{
    uintptr_t key = prof->tree.funcs[f].key;
    uint32_t c;
    if (parent == STROP_OVERFLOW_NODE)
        return parent;
    c = strop_tree_child_find(&prof->tree, parent, key);
    if (c == STROP_NONE)
        c = strop_tree_child_add(&prof->tree, parent, key, f);
    return c;
}

/* Sums the inclusive ticks, after every own value is in. */
static void
finish(StropLoaded *prof)
{
    StropNode *nodes = prof->tree.nodes;
    for (uint32_t n = 0; n < prof->tree.n_nodes; n++) {
        if (prof->sampled)
            nodes[n].self_ticks = nodes[n].calls;
        nodes[n].total_ticks = nodes[n].self_ticks;
    }
    for (uint32_t n = prof->tree.n_nodes; n-- > 1;)
        nodes[nodes[n].parent].total_ticks += nodes[n].total_ticks;
}

/* ---- folded ------------------------------------------------------------- */

static int
all_digits(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static long
parse_line_number(const char *s, size_t len)
{
    long v = 0;
    for (size_t i = 0; i < len && v < 100000000; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* Austin's process and thread frames: P<pid>, T<tid> (hex or pid:tid). */
static int
austin_meta_frame(const char *s, size_t len)
{
    if (len < 2 || (s[0] != 'P' && s[0] != 'T'))
        return 0;
    for (size_t i = 1; i < len; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (s[0] == 'T' && ((c >= 'a' && c <= 'f') || c == 'x' ||
                                                          c == ':'))))
            return 0;
    }
    return 1;
}

/* The function of one frame, added when new. */
static uint32_t
folded_frame(StropLoaded *prof, const char *s, size_t len)
{
    /* name (file:line) */
    if (len >= 5 && s[len - 1] == ')') {
        for (size_t open = len - 1; open-- > 0;) {
            if (s[open] == '(' && open > 0 && s[open - 1] == ' ') {
                const char *in = s + open + 1;
                size_t in_len = len - open - 2, colon = in_len;
                while (colon-- > 0 && in[colon] != ':')
                    ;
                if (colon < in_len && all_digits(in + colon + 1, in_len - colon - 1))
                    return intern_func(prof, s, open - 1, in, colon,
                                       parse_line_number(in + colon + 1, in_len - colon - 1));
                break;
            }
        }
    }
    /* file:name:line */
    {
        size_t last = len, mid;
        while (last-- > 0 && s[last] != ':')
            ;
        if (last < len && all_digits(s + last + 1, len - last - 1)) {
            mid = last;
            while (mid-- > 0 && s[mid] != ':')
                ;
            if (mid < last && mid > 0 && last > mid + 1)
                return intern_func(prof, s + mid + 1, last - mid - 1, s, mid,
                                   parse_line_number(s + last + 1, len - last - 1));
        }
    }
    return intern_func(prof, s, len, "~", 1, 0);
}

int
strop_load_folded(StropLoaded *prof, const char *data, size_t len, double period_s)
{
    size_t pos = 0, line_no = 0, stacks = 0;
    char buf[64];
    prof->kind = "folded";
    prof->sampled = 1;
    if (!(period_s > 0))
        period_s = 0.01;
    prof->seconds_per_tick = period_s;
    prof->period_ns = to_u64(period_s * 1e9 + 0.5);
    if (len == 0)
        return fail(prof, "an empty file");
    if (memchr(data, '\0', len < 4096 ? len : 4096) != NULL)
        return fail(prof, "binary data");
    while (pos < len) {
        const char *line = data + pos, *nl = memchr(line, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - line) : len - pos, space, start, depth = 0;
        uint64_t count = 0;
        uint32_t node = STROP_ROOT;
        pos += line_len + (nl != NULL);
        line_no++;
        while (line_len && (line[line_len - 1] == '\r' || line[line_len - 1] == ' ' ||
                            line[line_len - 1] == '\t'))
            line_len--;
        if (line_len == 0)
            continue;
        space = line_len;
        while (space-- > 0 && line[space] != ' ')
            ;
        if (space >= line_len || space == 0 || line_len - space - 1 > 19 ||
            !all_digits(line + space + 1, line_len - space - 1) ||
            memchr(line, '\0', line_len) != NULL)
            return fail(prof, "line %zu is not 'frame;frame;... count': '%s'", line_no,
                        excerpt(line, line_len, buf, sizeof buf));
        for (size_t i = space + 1; i < line_len; i++)
            count = count * 10 + (uint64_t)(line[i] - '0');
        start = 0;
        for (size_t i = 0; i <= space; i++) {
            if (i < space && line[i] != ';')
                continue;
            if (depth >= MAX_STACK_DEPTH)
                return fail(prof, "line %zu: a stack of more than 100,000 frames", line_no);
            if (i > start && !(depth < 2 && austin_meta_frame(line + start, i - start))) {
                uint32_t f = folded_frame(prof, line + start, i - start);
                if (f == STROP_NONE)
                    return STROP_LOAD_NOMEM;
                node = child_of(prof, node, f);
                if (node == STROP_NONE)
                    return STROP_LOAD_NOMEM;
            }
            depth++;
            start = i + 1;
        }
        if (node != STROP_ROOT)
            prof->tree.nodes[node].calls += count;
        stacks++;
    }
    if (stacks == 0)
        return fail(prof, "no stacks, only blank lines");
    finish(prof);
    return STROP_LOAD_OK;
}

/* ---- pprof -------------------------------------------------------------- */

typedef struct Span {
    const uint8_t *p;
    size_t len;
} Span;

typedef struct Reader {
    const uint8_t *p, *end;
    int bad;
} Reader;

static uint64_t
get_varint(Reader *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            r->bad = 1;
            return 0;
        }
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

/* The next field: its number, wire type, and value (a varint's value, or the
 * span of a length-delimited one).  0 at the end or on bad data (r->bad). */
static uint32_t
next_field(Reader *r, int *wire, uint64_t *value, Span *span)
{
    uint64_t tag, len;
    if (r->p >= r->end || r->bad)
        return 0;
    tag = get_varint(r);
    *wire = (int)(tag & 7);
    switch (*wire) {
    case 0:
        *value = get_varint(r);
        break;
    case 1:
    case 5: {
        size_t n = *wire == 1 ? 8 : 4;
        if ((size_t)(r->end - r->p) < n) {
            r->bad = 1;
            return 0;
        }
        *value = 0;
        for (size_t i = n; i-- > 0;)
            *value = (*value << 8) | r->p[i];
        r->p += n;
        break;
    }
    case 2:
        len = get_varint(r);
        if (r->bad || len > (uint64_t)(r->end - r->p)) {
            r->bad = 1;
            return 0;
        }
        span->p = r->p;
        span->len = (size_t)len;
        r->p += len;
        break;
    default:
        r->bad = 1;
        return 0;
    }
    if (r->bad || (tag >> 3) == 0 || (tag >> 3) > UINT32_MAX) {
        r->bad = 1;
        return 0;
    }
    return (uint32_t)(tag >> 3);
}

/* Appends to a growing array of `size`-byte items. */
static int
push(void **items, size_t *n, size_t *cap, size_t size, const void *item)
{
    if (*n == *cap) {
        size_t new_cap = *cap ? *cap * 2 : 64;
        void *grown = strop_realloc(*items, new_cap * size);
        if (grown == NULL)
            return -1;
        *items = grown;
        *cap = new_cap;
    }
    memcpy((char *)*items + *n * size, item, size);
    (*n)++;
    return 0;
}

/* Repeated integers, packed or one by one. */
static int
push_ints(uint64_t **items, size_t *n, size_t *cap, int wire, uint64_t value, Span span,
          int *bad)
{
    if (wire == 0)
        return push((void **)items, n, cap, sizeof **items, &value);
    if (wire != 2) {
        *bad = 1;
        return 0;
    }
    Reader r = {span.p, span.p + span.len, 0};
    while (r.p < r.end) {
        uint64_t v = get_varint(&r);
        if (r.bad) {
            *bad = 1;
            return 0;
        }
        if (push((void **)items, n, cap, sizeof **items, &v) < 0)
            return -1;
    }
    return 0;
}

static void
zfree_cb(void *opaque, void *ptr)
{
    (void)opaque;
    strop_free(ptr);
}

static void *
zalloc_cb(void *opaque, unsigned items, unsigned size)
{
    (void)opaque;
    return strop_calloc(items, size);
}

/* One inflate of all of `data`: into out[0 .. cap) when `out` is given, else
 * only counted (through a scratch buffer, so a bomb costs time, not memory).
 * Stops past `cap` bytes.  *n is the size inflated.  0, NOMEM or FORMAT. */
static int
inflate_pass(StropLoaded *prof, const uint8_t *data, size_t len, uint8_t *out, size_t cap,
             size_t *n)
{
    z_stream zs;
    uint8_t scratch[16384];
    int zrc, status = STROP_LOAD_OK;
    memset(&zs, 0, sizeof zs);
    zs.zalloc = zalloc_cb;
    zs.zfree = zfree_cb;
    *n = 0;
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return STROP_LOAD_NOMEM;
    zs.next_in = (Bytef *)data;
    zs.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
    for (;;) {
        if (out != NULL) {
            zs.next_out = out + *n;
            zs.avail_out = (uInt)(cap - *n > UINT32_MAX ? UINT32_MAX : cap - *n);
        }
        else {
            zs.next_out = scratch;
            zs.avail_out = sizeof scratch;
        }
        uInt before = zs.avail_out, before_in = zs.avail_in;
        zrc = inflate(&zs, Z_NO_FLUSH);
        *n += before - zs.avail_out;
        if (zrc == Z_BUF_ERROR && before == zs.avail_out && before_in == zs.avail_in) {
            status = fail(prof, "truncated gzip data");
            break;
        }
        if (zrc == Z_STREAM_END)
            break;
        if (zrc == Z_MEM_ERROR) {
            status = STROP_LOAD_NOMEM;
            break;
        }
        if (zrc == Z_DATA_ERROR || zrc == Z_NEED_DICT || zrc == Z_STREAM_ERROR) {
            status = fail(prof, "corrupt gzip data (%s)", zs.msg ? zs.msg : "bad data");
            break;
        }
        if (*n > cap || (out != NULL && *n == cap)) {
            char a[32];
            status = fail(prof, "gzip data that inflates to more than %s bytes, the most "
                                "strop reads (a gzip bomb? --max-input raises it)",
                          strop_format_count(a, sizeof a, prof->max_inflated));
            break;
        }
        if (zs.avail_in == 0 && (zrc == Z_BUF_ERROR || zs.avail_out != 0)) {
            status = fail(prof, "truncated gzip data");
            break;
        }
    }
    inflateEnd(&zs);
    return status;
}

/* Inflates gzip `data` into *out (strop_malloc'd, exactly as large as it
 * inflates to): one pass counts, refusing more than prof->max_inflated bytes,
 * the second fills.  0, NOMEM or FORMAT. */
static int
gunzip(StropLoaded *prof, const uint8_t *data, size_t len, uint8_t **out, size_t *out_len)
{
    size_t n = 0, got = 0;
    int status;
    *out = NULL;
    if (prof->max_inflated == 0)
        prof->max_inflated = STROP_LOAD_MAX_INFLATED;
    status = inflate_pass(prof, data, len, NULL, prof->max_inflated, &n);
    if (status != STROP_LOAD_OK)
        return status;
    *out = strop_malloc(n + 1);
    if (*out == NULL)
        return STROP_LOAD_NOMEM;
    status = inflate_pass(prof, data, len, *out, n + 1, &got);
    if (status == STROP_LOAD_OK && got != n)
        status = fail(prof, "gzip data that inflates differently twice");
    if (status != STROP_LOAD_OK) {
        strop_free(*out);
        *out = NULL;
        return status;
    }
    *out_len = n;
    return STROP_LOAD_OK;
}

typedef struct PFunc {
    uint64_t id, name, file;
    int64_t start_line;
} PFunc;

typedef struct PLine {
    uint64_t func_id;
    int64_t line;
} PLine;

typedef struct PLoc {
    uint64_t id, address;
    size_t first_line, n_lines;
} PLoc;

static int
by_func_id(const void *a, const void *b)
{
    uint64_t x = ((const PFunc *)a)->id, y = ((const PFunc *)b)->id;
    return x < y ? -1 : x > y;
}

static int
by_loc_id(const void *a, const void *b)
{
    uint64_t x = ((const PLoc *)a)->id, y = ((const PLoc *)b)->id;
    return x < y ? -1 : x > y;
}

static int
span_is(Span s, const char *text)
{
    return s.len == strlen(text) && memcmp(s.p, text, s.len) == 0;
}

/* What a pprof decode collects; freed by pprof_free. */
typedef struct Pprof {
    Span *strings;
    size_t n_strings, cap_strings;
    Span *samples;
    size_t n_samples, cap_samples;
    uint64_t *types; /* type, unit pairs */
    size_t n_types, cap_types;
    PFunc *funcs;
    size_t n_funcs, cap_funcs;
    PLoc *locs;
    size_t n_locs, cap_locs;
    PLine *lines;
    size_t n_lines, cap_lines;
    uint64_t *ids, *values;
    size_t n_ids, cap_ids, n_values, cap_values;
    uint32_t *path;
    size_t cap_path;
    size_t frames_left; /* the budget of frames over all samples */
    uint64_t period, default_type, period_unit;
} Pprof;

static void
pprof_free(Pprof *pp)
{
    strop_free(pp->strings);
    strop_free(pp->samples);
    strop_free(pp->types);
    strop_free(pp->funcs);
    strop_free(pp->locs);
    strop_free(pp->lines);
    strop_free(pp->ids);
    strop_free(pp->values);
    strop_free(pp->path);
}

#define PUSH(arr, item) push((void **)&pp->arr, &pp->n_##arr, &pp->cap_##arr, sizeof *pp->arr, item)

/* Decodes the top level and the small messages.  0, NOMEM or FORMAT. */
static int
pprof_decode(StropLoaded *prof, Pprof *pp, const uint8_t *data, size_t len, int inflated)
{
    /* Offsets in messages are into the protobuf, which is not the file's
     * bytes when it was gzipped. */
    const char *where = inflated ? " of the inflated data" : "";
    Reader r = {data, data + len, 0};
    uint64_t value = 0;
    Span span = {NULL, 0};
    int wire;
    uint32_t field;
    for (const uint8_t *at = r.p; (field = next_field(&r, &wire, &value, &span)) != 0; at = r.p) {
        if (wire != 2 && (field == 1 || field == 2 || field == 4 || field == 5 || field == 6 ||
                          field == 11))
            return fail(prof, "byte %zu%s: protobuf data that is not a pprof Profile (field "
                              "%u of wire type %d)", (size_t)(at - data), where, field, wire);
        if (field == 6) {
            if (PUSH(strings, &span) < 0)
                return STROP_LOAD_NOMEM;
        }
        else if (field == 2) {
            if (PUSH(samples, &span) < 0)
                return STROP_LOAD_NOMEM;
        }
        else if (field == 1 || field == 11) {
            Reader s = {span.p, span.p + span.len, 0};
            uint64_t v = 0, pair[2] = {0, 0};
            Span sub;
            int w;
            uint32_t f;
            while ((f = next_field(&s, &w, &v, &sub)) != 0)
                if ((f == 1 || f == 2) && w == 0)
                    pair[f - 1] = v;
            if (s.bad)
                return fail(prof, "byte %zu%s: a pprof ValueType that does not decode",
                            (size_t)(s.p - data), where);
            if (field == 1) {
                if (PUSH(types, &pair[0]) < 0 || PUSH(types, &pair[1]) < 0)
                    return STROP_LOAD_NOMEM;
            }
            else {
                pp->period_unit = pair[1];
            }
        }
        else if (field == 5) {
            Reader s = {span.p, span.p + span.len, 0};
            PFunc fn = {0, 0, 0, 0};
            uint64_t v = 0;
            Span sub;
            int w;
            uint32_t f;
            while ((f = next_field(&s, &w, &v, &sub)) != 0) {
                if (w != 0)
                    continue;
                if (f == 1)
                    fn.id = v;
                else if (f == 2)
                    fn.name = v;
                else if (f == 4)
                    fn.file = v;
                else if (f == 5)
                    fn.start_line = (int64_t)v;
            }
            if (s.bad)
                return fail(prof, "byte %zu%s: a pprof Function that does not decode",
                            (size_t)(s.p - data), where);
            if (PUSH(funcs, &fn) < 0)
                return STROP_LOAD_NOMEM;
        }
        else if (field == 4) {
            Reader s = {span.p, span.p + span.len, 0};
            PLoc loc = {0, 0, pp->n_lines, 0};
            uint64_t v = 0;
            Span sub;
            int w;
            uint32_t f;
            while ((f = next_field(&s, &w, &v, &sub)) != 0) {
                if (f == 1 && w == 0)
                    loc.id = v;
                else if (f == 3 && w == 0)
                    loc.address = v;
                else if (f == 4 && w == 2) {
                    Reader l = {sub.p, sub.p + sub.len, 0};
                    PLine line = {0, 0};
                    Span s2;
                    uint64_t v2 = 0;
                    int w2;
                    uint32_t f2;
                    while ((f2 = next_field(&l, &w2, &v2, &s2)) != 0) {
                        if (f2 == 1 && w2 == 0)
                            line.func_id = v2;
                        else if (f2 == 2 && w2 == 0)
                            line.line = (int64_t)v2;
                    }
                    if (l.bad)
                        return fail(prof, "byte %zu%s: a pprof Line that does not decode",
                            (size_t)(l.p - data), where);
                    if (PUSH(lines, &line) < 0)
                        return STROP_LOAD_NOMEM;
                    loc.n_lines++;
                }
            }
            if (s.bad)
                return fail(prof, "byte %zu%s: a pprof Location that does not decode",
                            (size_t)(s.p - data), where);
            if (PUSH(locs, &loc) < 0)
                return STROP_LOAD_NOMEM;
        }
        else if (field == 12 && wire == 0) {
            pp->period = value;
        }
        else if (field == 14 && wire == 0) {
            pp->default_type = value;
        }
    }
    if (r.bad)
        return fail(prof, "byte %zu%s: data that is not a pprof Profile (protobuf does not "
                          "decode)", (size_t)(r.p - data), where);
    if (pp->n_strings == 0 || pp->strings[0].len != 0)
        return fail(prof, "protobuf data without pprof's string table");
    return STROP_LOAD_OK;
}

static int
string_ok(const Pprof *pp, uint64_t i)
{
    return i < pp->n_strings;
}

/* Pushes function `f` of Line `line` on the path (root first, built leaf
 * first here and reversed later). */
static int
pprof_frame(StropLoaded *prof, Pprof *pp, size_t *depth, uint64_t func_id, int64_t line,
            uint64_t address)
{
    uint32_t f;
    if (pp->frames_left == 0)
        return fail(prof, "pprof samples that name more frames than %zu per byte of the file",
                    (size_t)PPROF_FRAMES_PER_BYTE);
    pp->frames_left--;
    if (*depth >= MAX_STACK_DEPTH)
        return fail(prof, "a pprof Sample of more than 100,000 frames");
    if (*depth == pp->cap_path) {
        size_t cap = pp->cap_path ? pp->cap_path * 2 : 64;
        uint32_t *grown = strop_realloc(pp->path, cap * sizeof *grown);
        if (grown == NULL)
            return STROP_LOAD_NOMEM;
        pp->path = grown;
        pp->cap_path = cap;
    }
    if (func_id == 0 && address != 0) {
        char name[32];
        int n = snprintf(name, sizeof name, "0x%llx", (unsigned long long)address);
        f = intern_func(prof, name, (size_t)n, "~", 1, 0);
    }
    else {
        PFunc key = {func_id, 0, 0, 0};
        const PFunc *fn = pp->n_funcs == 0 ? NULL
                          : bsearch(&key, pp->funcs, pp->n_funcs, sizeof *pp->funcs,
                                    by_func_id);
        if (fn == NULL)
            return fail(prof, "a pprof Line naming function %llu, which is not there",
                        (unsigned long long)func_id);
        if (!string_ok(pp, fn->name) || !string_ok(pp, fn->file))
            return fail(prof, "a pprof Function with a string index out of range");
        Span name = pp->strings[fn->name], file = pp->strings[fn->file];
        long ln = (long)(fn->start_line > 0 ? fn->start_line : (line > 0 ? line : 0));
        if (ln > 100000000 || ln < 0)
            ln = 0;
        if (file.len == 0)
            f = intern_func(prof, (const char *)name.p, name.len, "~", 1, 0);
        else
            f = intern_func(prof, (const char *)name.p, name.len, (const char *)file.p,
                            file.len, ln);
    }
    if (f == STROP_NONE)
        return STROP_LOAD_NOMEM;
    pp->path[(*depth)++] = f;
    return STROP_LOAD_OK;
}

/* ns per unit of a time unit, 0 for any other unit. */
static double
ns_per_unit(Span unit)
{
    if (span_is(unit, "nanoseconds"))
        return 1;
    if (span_is(unit, "microseconds"))
        return 1e3;
    if (span_is(unit, "milliseconds"))
        return 1e6;
    if (span_is(unit, "seconds"))
        return 1e9;
    return 0;
}

int
strop_load_pprof(StropLoaded *prof, const unsigned char *data, size_t len)
{
    Pprof pp;
    uint8_t *raw = NULL;
    size_t raw_len = len, chosen, count_index = SIZE_MAX, n_types;
    double time_scale;
    int status;
    memset(&pp, 0, sizeof pp);
    prof->kind = "pprof";
    if (len == 0)
        return fail(prof, "an empty file");
    if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        status = gunzip(prof, data, len, &raw, &raw_len);
        if (status != STROP_LOAD_OK)
            return status;
        data = raw;
    }
    pp.frames_left = raw_len > (SIZE_MAX - PPROF_FRAMES_SLACK) / PPROF_FRAMES_PER_BYTE
                         ? SIZE_MAX
                         : raw_len * PPROF_FRAMES_PER_BYTE + PPROF_FRAMES_SLACK;
    status = pprof_decode(prof, &pp, data, raw_len, raw != NULL);
    if (status != STROP_LOAD_OK)
        goto done;
    n_types = pp.n_types / 2;
    for (size_t i = 0; i < pp.n_types; i++) {
        if (!string_ok(&pp, pp.types[i])) {
            status = fail(prof, "a pprof sample type with a string index out of range");
            goto done;
        }
    }
    if (!string_ok(&pp, pp.period_unit)) {
        status = fail(prof, "a pprof period type with a string index out of range");
        goto done;
    }
    if (n_types == 0) {
        status = fail(prof, "a pprof Profile without sample types");
        goto done;
    }
    chosen = n_types - 1;
    for (size_t i = 0; pp.default_type && i < n_types; i++)
        if (pp.types[2 * i] == pp.default_type)
            chosen = i;
    for (size_t i = 0; i < n_types; i++)
        if (i != chosen && span_is(pp.strings[pp.types[2 * i + 1]], "count")) {
            count_index = i;
            break;
        }
    time_scale = ns_per_unit(pp.strings[pp.types[2 * chosen + 1]]);
    if (span_is(pp.strings[pp.types[2 * chosen]], "cpu"))
        prof->time_kind = "cpu";
    if (time_scale > 0 && !(pp.period > 0 && count_index != SIZE_MAX)) {
        prof->sampled = 0; /* own times, with calls when counted */
        prof->seconds_per_tick = 1e-9;
    }
    else {
        prof->sampled = 1;
        if (time_scale == 0)
            count_index = chosen; /* samples, bytes, ...: the value is the count */
        prof->period_ns = pp.period && ns_per_unit(pp.strings[pp.period_unit]) > 0
                              ? to_u64((double)pp.period *
                                       ns_per_unit(pp.strings[pp.period_unit]))
                              : 10000000u;
        prof->seconds_per_tick = (double)prof->period_ns * 1e-9;
    }
    if (pp.n_funcs > 0) /* qsort and bsearch take no NULL, even for 0 items */
        qsort(pp.funcs, pp.n_funcs, sizeof *pp.funcs, by_func_id);
    if (pp.n_locs > 0)
        qsort(pp.locs, pp.n_locs, sizeof *pp.locs, by_loc_id);
    for (size_t s = 0; s < pp.n_samples; s++) {
        Reader r = {pp.samples[s].p, pp.samples[s].p + pp.samples[s].len, 0};
        uint64_t value = 0;
        Span span = {NULL, 0};
        int wire, bad = 0;
        uint32_t field, node = STROP_ROOT;
        size_t depth = 0;
        int64_t v, calls;
        pp.n_ids = pp.n_values = 0;
        while ((field = next_field(&r, &wire, &value, &span)) != 0) {
            int rc = 0;
            if (field == 1)
                rc = push_ints(&pp.ids, &pp.n_ids, &pp.cap_ids, wire, value, span, &bad);
            else if (field == 2)
                rc = push_ints(&pp.values, &pp.n_values, &pp.cap_values, wire, value, span,
                               &bad);
            if (rc < 0) {
                status = STROP_LOAD_NOMEM;
                goto done;
            }
        }
        if (r.bad || bad) {
            status = fail(prof, "a pprof Sample that does not decode");
            goto done;
        }
        if (pp.n_values != n_types) {
            status = fail(prof, "a pprof Sample with %zu values for %zu sample types",
                          pp.n_values, n_types);
            goto done;
        }
        for (size_t i = 0; i < pp.n_ids; i++) {
            PLoc key = {pp.ids[i], 0, 0, 0};
            const PLoc *loc = pp.n_locs == 0 ? NULL
                              : bsearch(&key, pp.locs, pp.n_locs, sizeof *pp.locs, by_loc_id);
            if (loc == NULL) {
                status = fail(prof, "a pprof Sample naming location %llu, which is not there",
                              (unsigned long long)pp.ids[i]);
                goto done;
            }
            if (loc->n_lines == 0)
                status = pprof_frame(prof, &pp, &depth, 0, 0, loc->address ? loc->address : 1);
            for (size_t l = 0; l < loc->n_lines && status == STROP_LOAD_OK; l++)
                status = pprof_frame(prof, &pp, &depth, pp.lines[loc->first_line + l].func_id,
                                     pp.lines[loc->first_line + l].line, 0);
            if (status != STROP_LOAD_OK)
                goto done;
        }
        for (size_t i = depth; i-- > 0 && node != STROP_NONE;)
            node = child_of(prof, node, pp.path[i]);
        if (node == STROP_NONE) {
            status = STROP_LOAD_NOMEM;
            goto done;
        }
        if (node == STROP_ROOT)
            continue;
        v = (int64_t)pp.values[chosen];
        calls = count_index != SIZE_MAX ? (int64_t)pp.values[count_index] : 1;
        if (prof->sampled) {
            if (calls > 0)
                prof->tree.nodes[node].calls += (uint64_t)calls;
        }
        else {
            if (v > 0)
                prof->tree.nodes[node].self_ticks += to_u64((double)v * time_scale + 0.5);
            if (calls > 0)
                prof->tree.nodes[node].calls += (uint64_t)calls;
        }
    }
    finish(prof);
    status = STROP_LOAD_OK;
done:
    pprof_free(&pp);
    strop_free(raw);
    return status;
}

/* ---- pstats ------------------------------------------------------------- */

typedef struct Visit {
    uint32_t node, func;
    size_t next_edge;
    double budget; /* seconds of this function in this context */
} Visit;

int
strop_load_pstats(StropLoaded *prof, const StropPstatsFunc *funcs, uint32_t n_funcs,
                  const StropPstatsEdge *edges, size_t n_edges)
{
    uint32_t *func_of = NULL, *on_path = NULL;
    size_t *first = NULL, *order = NULL;
    double *self = NULL, *reached = NULL, total = 0, min_budget;
    Visit *stack = NULL;
    size_t cap_self = 0;
    int status = STROP_LOAD_NOMEM;

    uint64_t max_nodes = ((uint64_t)n_funcs + n_edges + 64) * PSTATS_NODES_PER_ITEM;
    if (max_nodes > PSTATS_MAX_NODES)
        max_nodes = PSTATS_MAX_NODES;
    prof->kind = "pstats";
    prof->sampled = 0;
    prof->seconds_per_tick = 1e-9;
    func_of = strop_calloc(n_funcs + 1, sizeof *func_of);
    on_path = strop_calloc(n_funcs + 1, sizeof *on_path);
    first = strop_calloc((size_t)n_funcs + 2, sizeof *first);
    order = strop_calloc(n_edges + 1, sizeof *order);
    reached = strop_calloc(n_funcs + 1, sizeof *reached);
    stack = strop_calloc((size_t)n_funcs + 2, sizeof *stack);
    if (!func_of || !on_path || !first || !order || !reached || !stack)
        goto done;
    for (uint32_t i = 0; i < n_funcs; i++) {
        const StropLabel *l = &funcs[i].label;
        func_of[i] = intern_func(prof, l->name, l->name_len, l->file, l->file_len, l->line);
        if (func_of[i] == STROP_NONE)
            goto done;
        total += funcs[i].tt > 0 ? funcs[i].tt : 0;
    }
    /* Edges by caller (counting sort), and who is called by someone else. */
    for (size_t e = 0; e < n_edges; e++)
        if (edges[e].caller < n_funcs && edges[e].callee < n_funcs)
            first[edges[e].caller + 1]++;
    for (uint32_t i = 0; i < n_funcs; i++)
        first[i + 1] += first[i];
    {
        size_t *fill = strop_calloc((size_t)n_funcs + 1, sizeof *fill);
        if (fill == NULL)
            goto done;
        for (size_t e = 0; e < n_edges; e++) {
            uint32_t c = edges[e].caller;
            if (c < n_funcs && edges[e].callee < n_funcs) {
                order[first[c] + fill[c]++] = e;
                if (edges[e].callee != c)
                    on_path[edges[e].callee] = 1; /* has a caller */
            }
        }
        strop_free(fill);
    }
    min_budget = total * 1e-6;
    /* Depth-first from every root; on_path now says "has a caller", turned
     * into "is on the path" below. */
    for (uint32_t root = 0; root < n_funcs; root++) {
        size_t top = 0;
        if ((on_path[root] & 1) || !(funcs[root].ct > 0))
            continue;
        uint32_t node = child_of(prof, STROP_ROOT, func_of[root]);
        if (node == STROP_NONE)
            goto done;
        stack[top++] = (Visit){node, root, first[root], funcs[root].ct};
        on_path[root] |= 2;
        while (top > 0) {
            Visit *v = &stack[top - 1];
            const StropPstatsFunc *fn = &funcs[v->func];
            if (v->next_edge == first[v->func]) {
                /* First visit: own time and calls of this context. */
                double share = fn->ct > 0 ? v->budget / fn->ct : 0;
                if (v->node >= cap_self) {
                    size_t cap = (size_t)prof->tree.cap_nodes + 1;
                    double *grown = strop_realloc(self, cap * sizeof *grown);
                    if (grown == NULL)
                        goto done;
                    memset(grown + cap_self, 0, (cap - cap_self) * sizeof *grown);
                    self = grown;
                    cap_self = cap;
                }
                self[v->node] += fn->tt * (share > 1 ? 1 : share);
                reached[v->func] += fn->tt * (share > 1 ? 1 : share);
                prof->tree.nodes[v->node].calls += to_u64((double)fn->nc * share + 0.5);
            }
            if (v->next_edge >= first[v->func + 1]) {
                on_path[v->func] &= ~2u;
                top--;
                continue;
            }
            const StropPstatsEdge *e = &edges[order[v->next_edge++]];
            double budget = fn->ct > 0 ? v->budget * e->ct / fn->ct : 0;
            if ((on_path[e->callee] & 2) || !(budget > min_budget) ||
                prof->tree.n_nodes >= max_nodes || top > n_funcs)
                continue;
            uint32_t parent = v->node;
            node = child_of(prof, parent, func_of[e->callee]);
            if (node == STROP_NONE)
                goto done;
            if (node == STROP_OVERFLOW_NODE)
                continue;
            stack[top++] = (Visit){node, e->callee, first[e->callee], budget};
            on_path[e->callee] |= 2;
        }
    }
    /* Functions never reached (only in cycles): one node under the root. */
    for (uint32_t i = 0; i < n_funcs; i++) {
        if (reached[i] > 0 || !(funcs[i].tt > 0))
            continue;
        uint32_t node = child_of(prof, STROP_ROOT, func_of[i]);
        if (node == STROP_NONE)
            goto done;
        if (node >= cap_self) {
            size_t cap = (size_t)prof->tree.cap_nodes + 1;
            double *grown = strop_realloc(self, cap * sizeof *grown);
            if (grown == NULL)
                goto done;
            memset(grown + cap_self, 0, (cap - cap_self) * sizeof *grown);
            self = grown;
            cap_self = cap;
        }
        self[node] += funcs[i].tt;
        reached[i] += funcs[i].tt;
        prof->tree.nodes[node].calls += funcs[i].nc;
    }
    /* Scale each function's own time over its nodes to its tt. */
    {
        double *scale = strop_calloc((size_t)prof->tree.n_funcs + 1, sizeof *scale);
        if (scale == NULL)
            goto done;
        for (uint32_t i = 0; i < n_funcs; i++)
            if (reached[i] > 0 && func_of[i] < prof->tree.n_funcs)
                scale[func_of[i]] = funcs[i].tt / reached[i];
        for (uint32_t n = 2; n < prof->tree.n_nodes && n < cap_self; n++) {
            double ns = self[n] * scale[prof->tree.nodes[n].func] * 1e9;
            prof->tree.nodes[n].self_ticks = to_u64(ns + 0.5);
        }
        strop_free(scale);
    }
    finish(prof);
    status = STROP_LOAD_OK;
done:
    strop_free(func_of);
    strop_free(on_path);
    strop_free(first);
    strop_free(order);
    strop_free(reached);
    strop_free(stack);
    strop_free(self);
    return status;
}
