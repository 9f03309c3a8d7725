/* pstats_read.c: the bounded reader of pstats files (see pstats.h): every
 * length and count checked against the bytes that remain before anything is
 * allocated, only the shapes a pstats file has accepted. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "pstats.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* What a marshal reference may name.  Only objects of fixed, small size are
 * shared: a reference to a dict or an entry's 5-tuple would let a few bytes
 * stand for a whole callers table again and again, and no writer makes one. */
enum {
    REF_PENDING,
    REF_STRING,
    REF_NUMBER,
    REF_KEY,
    REF_CALLER,
    REF_OTHER,
    REF_FOREIGN, /* inside a code object */
    REF_CODE     /* a code object: index into codes */
};

/* How deep objects other than pstats' own may nest (a code object's
 * constants); marshal's own limit is 2000. */
#define FOREIGN_MAX_DEPTH 64

struct StropPstatsRef {
    uint8_t kind;
    uint8_t is_float;
    uint32_t index; /* a string, a key or a caller */
    StropPstatsNum num;
};

typedef struct Cursor {
    const unsigned char *data;
    size_t len, pos;
    StropPstatsFile *file;
    char *error;
    size_t error_size;
} Cursor;

char *
strop_format_count(char *buf, size_t size, unsigned long long value)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", value), o = 0;
    for (int i = 0; i < n && (size_t)o + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

static int
read_fail(Cursor *c, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
read_fail(Cursor *c, size_t at, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(c->error, c->error_size, "byte %zu: ", at);
    if (n >= 0 && (size_t)n < c->error_size) {
        va_start(ap, fmt);
        vsnprintf(c->error + n, c->error_size - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return STROP_PSTATS_FORMAT;
}

/* "byte AT: <what> of N <unit> in a file of LEN bytes".  Kept out of line:
 * the hot readers then hold no arrays, so no stack-protector canary. */
static __attribute__((noinline)) int
too_large(Cursor *c, size_t at, const char *what, unsigned long long n, const char *unit)
{
    char a[32], b[32];
    return read_fail(c, at, "%s of %s %s in a file of %s bytes", what,
                     strop_format_count(a, sizeof a, n), unit,
                     strop_format_count(b, sizeof b, c->len));
}

/* What a marshal type byte is, for messages. */
static const char *
type_name(unsigned char t)
{
    switch (t & 0x7f) {
    case '0': return "the end of a dict";
    case 'N': return "None";
    case 'F': case 'T': return "a bool";
    case 'S': return "StopIteration";
    case '.': return "Ellipsis";
    case 'i': case 'l': return "an int";
    case 'f': case 'g': return "a float";
    case 'x': case 'y': return "a complex";
    case 's': return "bytes";
    case 'u': case 't': case 'a': case 'A': case 'z': case 'Z': return "a string";
    case '(': case ')': return "a tuple";
    case '[': return "a list";
    case '{': return "a dict";
    case '<': case '>': return "a set";
    case 'c': return "a code object";
    case 'r': return "a reference";
    default: return "no marshal type";
    }
}

static int
unexpected(Cursor *c, size_t at, const char *where)
{
    if (at >= c->len)
        return read_fail(c, at, "the file ends where %s belongs (truncated?)", where);
    unsigned char t = c->data[at];
    return read_fail(c, at, "0x%02x (%s) where %s belongs", t, type_name(t), where);
}

/* Grows an array so that one more item fits.  0 or -1. */
static int
make_room(void **items, size_t n, size_t *cap, size_t item_size)
{
    if (n < *cap)
        return 0;
    size_t new_cap = *cap ? *cap * 2 : 64;
    void *grown = strop_realloc(*items, new_cap * item_size);
    if (grown == NULL)
        return -1;
    *items = grown;
    *cap = new_cap;
    return 0;
}

static int
make_room32(void **items, uint32_t n, uint32_t *cap, size_t item_size)
{
    size_t c = *cap;
    if (n >= UINT32_MAX - 1)
        return -1;
    if (make_room(items, n, &c, item_size) < 0)
        return -1;
    *cap = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
    return 0;
}

static int32_t
get_int32(const unsigned char *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

/* Takes `n` bytes; -1 (with the error) when fewer remain. */
static int
take(Cursor *c, size_t at, size_t n, const char *what)
{
    if (c->len - c->pos < n)
        return read_fail(c, at, "the file ends inside %s (truncated?)", what);
    c->pos += n;
    return 0;
}

/* The type byte at the cursor, consumed; a STROP_MARSHAL_FLAG_REF reserves the object's
 * reference index in *ref (else UINT32_MAX), as marshal numbers them. */
static int
type_byte(Cursor *c, const char *where, unsigned char *type, uint32_t *ref)
{
    if (c->pos >= c->len)
        return unexpected(c, c->pos, where);
    unsigned char t = c->data[c->pos++];
    *type = t & 0x7f;
    *ref = UINT32_MAX;
    if (t & STROP_MARSHAL_FLAG_REF) {
        StropPstatsFile *f = c->file;
        if (*type == 'r' || *type == '0')
            return unexpected(c, c->pos - 1, where);
        if (make_room32((void **)&f->refs, f->n_refs, &f->cap_refs, sizeof *f->refs) < 0)
            return STROP_PSTATS_NOMEM;
        *ref = f->n_refs++;
        f->refs[*ref].kind = REF_PENDING;
    }
    return 0;
}

/* The object a reference at `at` (type byte already consumed) names; it must
 * be complete and of kind `kind`. */
static __attribute__((noinline)) int
bad_ref(Cursor *c, size_t at, int32_t i)
{
    char a[32], b[32];
    return read_fail(c, at, "a reference to object %s of the %s read so far",
                     strop_format_count(a, sizeof a, (unsigned long long)(uint32_t)i),
                     strop_format_count(b, sizeof b, c->file->n_refs));
}

static __attribute__((noinline)) int
wrong_ref(Cursor *c, size_t at, int kind, const char *where)
{
    if (kind == REF_PENDING)
        return read_fail(c, at, "a reference to an object that contains it (a cycle)");
    return read_fail(c, at, "a reference to %s where %s belongs",
                     kind == REF_STRING   ? "a string"
                     : kind == REF_NUMBER ? "a number"
                     : kind == REF_KEY    ? "a (file, line, name) key"
                     : kind == REF_CALLER ? "a caller's numbers"
                     : kind == REF_FOREIGN ? "an object of a code object"
                     : kind == REF_CODE   ? "a code object"
                                          : "a shared dict or tuple",
                     where);
}

/* The object a reference at `at` (type byte already consumed) names; it must
 * be complete and of kind `kind`. */
static int
follow_ref(Cursor *c, size_t at, int kind, const char *where, const StropPstatsRef **out)
{
    int rc = take(c, at, 4, "a reference");
    if (rc < 0)
        return rc;
    int32_t i = get_int32(c->data + c->pos - 4);
    if (i < 0 || (uint32_t)i >= c->file->n_refs)
        return bad_ref(c, at, i);
    *out = &c->file->refs[i];
    if ((*out)->kind != kind)
        return wrong_ref(c, at, (*out)->kind, where);
    return 0;
}

static int
read_string(Cursor *c, uint32_t *index)
{
    static const char where[] = "a string of a (file, line, name) key";
    size_t at = c->pos;
    unsigned char t;
    uint32_t ref;
    size_t n;
    int rc = type_byte(c, where, &t, &ref), latin1;
    if (rc < 0)
        return rc;
    if (t == 'r') {
        const StropPstatsRef *r;
        if ((rc = follow_ref(c, at, REF_STRING, where, &r)) < 0)
            return rc;
        *index = r->index;
        return 0;
    }
    if (t == 'u' || t == 't' || t == 'a' || t == 'A') {
        if ((rc = take(c, at, 4, "a string's length")) < 0)
            return rc;
        int32_t v = get_int32(c->data + c->pos - 4);
        if (v < 0)
            return read_fail(c, at, "a string of negative length %ld", (long)v);
        n = (size_t)v;
        latin1 = t == 'a' || t == 'A';
    }
    else if (t == 'z' || t == 'Z') {
        if ((rc = take(c, at, 1, "a string's length")) < 0)
            return rc;
        n = c->data[c->pos - 1];
        latin1 = 1;
    }
    else {
        return unexpected(c, at, where);
    }
    if (n > c->len - c->pos)
        return too_large(c, at, "a string", n, "bytes");
    StropPstatsFile *f = c->file;
    if (make_room32((void **)&f->strings, f->n_strings, &f->cap_strings, sizeof *f->strings) < 0)
        return STROP_PSTATS_NOMEM;
    *index = f->n_strings++;
    f->strings[*index] = (StropPstatsString){c->pos, (uint32_t)n, (uint8_t)latin1};
    c->pos += n;
    if (ref != UINT32_MAX)
        f->refs[ref] = (StropPstatsRef){REF_STRING, 0, *index, {0}};
    return 0;
}

/* marshal's 'l': an int of base-2**15 digits, within int64 here. */
static __attribute__((noinline)) int
read_long(Cursor *c, size_t at, StropPstatsNum *num)
{
    char a[32];
    int rc;
    if ((rc = take(c, at, 4, "an int's size")) < 0)
        return rc;
    int32_t n = get_int32(c->data + c->pos - 4);
    uint64_t digits = n < 0 ? (uint64_t)(-(int64_t)n) : (uint64_t)n, v = 0;
    if (digits * 2 > c->len - c->pos)
        return too_large(c, at, "an int", digits, "digits");
    if (digits > 5)
        return read_fail(c, at, "an int of %s digits, too large for a count",
                         strop_format_count(a, sizeof a, digits));
    for (uint64_t k = digits; k-- > 0;) {
        const unsigned char *p = c->data + c->pos + 2 * k;
        unsigned d = (unsigned)p[0] | (unsigned)p[1] << 8;
        if (d >= 0x8000 || (k == digits - 1 && d == 0))
            return read_fail(c, at, "an int with a bad digit (marshal's long format)");
        if (v >> 48)
            return read_fail(c, at, "an int too large for a count");
        v = v << 15 | d;
    }
    if (v > (uint64_t)INT64_MAX)
        return read_fail(c, at, "an int too large for a count");
    c->pos += 2 * digits;
    num->i = n < 0 ? -(int64_t)v : (int64_t)v;
    return 0;
}

/* marshal's 'f' (format versions 0 and 1): a float as up to 255 characters. */
static __attribute__((noinline)) int
read_text_float(Cursor *c, size_t at, StropPstatsNum *num)
{
    char text[257], *end;
    int rc;
    if ((rc = take(c, at, 1, "a float")) < 0)
        return rc;
    size_t n = c->data[c->pos - 1];
    if ((rc = take(c, at, n, "a float")) < 0)
        return rc;
    memcpy(text, c->data + c->pos - n, n);
    text[n] = '\0';
    num->f = strtod(text, &end);
    if (n == 0 || end != text + n)
        return read_fail(c, at, "a float in text that is not a number");
    return 0;
}

/* An int or a float; `int_only` refuses floats (a key's line, a bare count). */
static int
read_number(Cursor *c, const char *where, int int_only, StropPstatsNum *num, int *is_float)
{
    size_t at = c->pos;
    unsigned char t;
    uint32_t ref;
    int rc = type_byte(c, where, &t, &ref);
    if (rc < 0)
        return rc;
    *is_float = 0;
    if (t == 'r') {
        const StropPstatsRef *r;
        if ((rc = follow_ref(c, at, REF_NUMBER, where, &r)) < 0)
            return rc;
        if (int_only && r->is_float)
            return read_fail(c, at, "a reference to a float where %s belongs", where);
        *num = r->num;
        *is_float = r->is_float;
        return 0;
    }
    if (t == 'i') {
        if ((rc = take(c, at, 4, "an int")) < 0)
            return rc;
        num->i = get_int32(c->data + c->pos - 4);
    }
    else if (t == 'g' && !int_only) {
        uint64_t bits = 0;
        if ((rc = take(c, at, 8, "a float")) < 0)
            return rc;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(&bits, c->data + c->pos - 8, 8);
#else
        for (int k = 8; k-- > 0;)
            bits = bits << 8 | c->data[c->pos - 8 + k];
#endif
        memcpy(&num->f, &bits, sizeof bits);
        *is_float = 1;
    }
    else if (t == 'l') {
        if ((rc = read_long(c, at, num)) < 0)
            return rc;
    }
    else if (t == 'f' && !int_only) {
        if ((rc = read_text_float(c, at, num)) < 0)
            return rc;
        *is_float = 1;
    }
    else {
        return unexpected(c, at, where);
    }
    if (ref != UINT32_MAX)
        c->file->refs[ref] = (StropPstatsRef){REF_NUMBER, (uint8_t)*is_float, 0, *num};
    return 0;
}

/* A tuple's header of exactly `want` items. */
static int
tuple_of(Cursor *c, size_t at, unsigned char t, size_t want, const char *what)
{
    size_t n;
    int rc;
    if (t == ')') {
        if ((rc = take(c, at, 1, "a tuple's size")) < 0)
            return rc;
        n = c->data[c->pos - 1];
    }
    else {
        if ((rc = take(c, at, 4, "a tuple's size")) < 0)
            return rc;
        int32_t v = get_int32(c->data + c->pos - 4);
        if (v < 0)
            return read_fail(c, at, "a tuple of negative size %ld", (long)v);
        n = (size_t)v;
        if (n > c->len - c->pos)
            return too_large(c, at, "a tuple", n, "items");
    }
    if (n != want)
        return read_fail(c, at, "a tuple of %zu items where %s has %zu", n, what, want);
    return 0;
}

/* Any marshal object, checked and skipped (not built): what a `python -m
 * profile` file has for a key's name, a code object, of which only co_name,
 * co_filename and co_firstlineno are kept (*code: its index in `codes`, or
 * UINT32_MAX for any other object).  Strings and numbers are recorded as
 * read, since later references may name them; anything else flagged becomes
 * REF_FOREIGN.  Lengths are checked as everywhere, nesting is at most
 * FOREIGN_MAX_DEPTH. */
static int
skip_object(Cursor *c, int depth, uint32_t *code)
{
    static const char where[] = "an object of a code object";
    size_t at = c->pos, n;
    unsigned char t;
    uint32_t ref, ignored;
    int rc, is_float;
    StropPstatsNum num;
    *code = UINT32_MAX;
    if (depth > FOREIGN_MAX_DEPTH)
        return read_fail(c, at, "objects nested more than %d deep", FOREIGN_MAX_DEPTH);
    if (at >= c->len)
        return unexpected(c, at, where);
    t = c->data[at] & 0x7f;
    switch (t) {
    case 'u': case 't': case 'a': case 'A': case 'z': case 'Z':
        return read_string(c, &ignored);
    case 'i': case 'g': case 'f':
        return read_number(c, where, 0, &num, &is_float);
    case 'r': {
        const StropPstatsRef *r;
        c->pos++;
        if ((rc = take(c, at, 4, "a reference")) < 0)
            return rc;
        int32_t i = get_int32(c->data + c->pos - 4);
        if (i < 0 || (uint32_t)i >= c->file->n_refs)
            return bad_ref(c, at, i);
        r = &c->file->refs[i];
        if (r->kind == REF_PENDING)
            return wrong_ref(c, at, r->kind, where);
        if (r->kind == REF_CODE)
            *code = r->index;
        return 0;
    }
    default:
        break;
    }
    if ((rc = type_byte(c, where, &t, &ref)) < 0)
        return rc;
    switch (t) {
    case 'N': case 'F': case 'T': case 'S': case '.':
        break;
    case 'y':
        rc = take(c, at, 16, "a complex");
        break;
    case 'l': /* any size here: a constant of the code */
        if ((rc = take(c, at, 4, "an int's size")) < 0)
            break;
        n = (size_t)(get_int32(c->data + c->pos - 4) < 0 ? -(int64_t)get_int32(c->data + c->pos - 4)
                                                          : get_int32(c->data + c->pos - 4));
        if (n > (c->len - c->pos) / 2)
            return too_large(c, at, "an int", n, "digits");
        c->pos += 2 * n;
        break;
    case 'x':
        for (int k = 0; k < 2 && rc == 0; k++)
            if ((rc = take(c, at, 1, "a complex")) == 0)
                rc = take(c, at, c->data[c->pos - 1], "a complex");
        break;
    case 's':
        if ((rc = take(c, at, 4, "bytes")) < 0)
            break;
        if (get_int32(c->data + c->pos - 4) < 0)
            return read_fail(c, at, "bytes of negative length");
        n = (size_t)get_int32(c->data + c->pos - 4);
        if (n > c->len - c->pos)
            return too_large(c, at, "bytes", n, "bytes");
        c->pos += n;
        break;
    case '(': case '[': case '<': case '>': case ')':
        if (t == ')') {
            if ((rc = take(c, at, 1, "a tuple's size")) < 0)
                break;
            n = c->data[c->pos - 1];
        }
        else {
            if ((rc = take(c, at, 4, "a container's size")) < 0)
                break;
            if (get_int32(c->data + c->pos - 4) < 0)
                return read_fail(c, at, "a container of negative size");
            n = (size_t)get_int32(c->data + c->pos - 4);
            if (n > c->len - c->pos)
                return too_large(c, at, "a container", n, "items");
        }
        for (size_t k = 0; k < n && rc == 0; k++)
            rc = skip_object(c, depth + 1, &ignored);
        break;
    case '{':
        while (rc == 0) {
            if (c->pos < c->len && c->data[c->pos] == '0') {
                c->pos++;
                break;
            }
            if ((rc = skip_object(c, depth + 1, &ignored)) == 0)
                rc = skip_object(c, depth + 1, &ignored);
        }
        break;
    case 'c': {
        /* Fields: ints, then 8 objects of which co_filename and co_name are
         * the 7th and 8th (3.8 to 3.10) or the 6th and 7th (3.11 on), then
         * co_firstlineno, then 1 or 2 objects. */
        int layout = c->file->code_layout;
        size_t ints = layout == STROP_PSTATS_CODE_38 ? 6 : 5;
        int after = layout == STROP_PSTATS_CODE_38 ? 1 : 2;
        int file_at = layout == STROP_PSTATS_CODE_38 ? 6 : 5;
        StropPstatsCode found = {0, 0, 0};
        StropPstatsFile *f = c->file;
        if (layout == STROP_PSTATS_CODE_NONE)
            return unexpected(c, at, "a string of a (file, line, name) key");
        if ((rc = take(c, at, 4 * ints, "a code object")) < 0)
            break;
        for (int k = 0; k < 8 && rc == 0; k++) {
            if (k == file_at)
                rc = read_string(c, &found.file);
            else if (k == file_at + 1)
                rc = read_string(c, &found.name);
            else
                rc = skip_object(c, depth + 1, &ignored);
        }
        if (rc == 0 && (rc = take(c, at, 4, "a code object")) == 0)
            found.line = get_int32(c->data + c->pos - 4);
        for (int k = 0; k < after && rc == 0; k++)
            rc = skip_object(c, depth + 1, &ignored);
        if (rc < 0)
            break;
        if (make_room32((void **)&f->codes, f->n_codes, &f->cap_codes, sizeof *f->codes) < 0)
            return STROP_PSTATS_NOMEM;
        *code = f->n_codes++;
        f->codes[*code] = found;
        if (ref != UINT32_MAX)
            f->refs[ref] = (StropPstatsRef){REF_CODE, 0, *code, {0}};
        return 0;
    }
    default:
        return unexpected(c, at, where);
    }
    if (rc == 0 && ref != UINT32_MAX)
        c->file->refs[ref].kind = REF_FOREIGN;
    return rc;
}

/* A key's name: a string, or (python -m profile) a code object (then *name
 * is UINT32_MAX and *code its index). */
static int
read_name(Cursor *c, uint32_t *name, uint32_t *code)
{
    size_t at = c->pos;
    unsigned char t = at < c->len ? c->data[at] : 0;
    *code = UINT32_MAX;
    if ((t & 0x7f) == 'c' && c->file->code_layout != STROP_PSTATS_CODE_NONE) {
        *name = UINT32_MAX;
        return skip_object(c, 0, code);
    }
    if (t == 'r' && c->len - at >= 5) {
        int32_t i = get_int32(c->data + at + 1);
        if (i >= 0 && (uint32_t)i < c->file->n_refs && c->file->refs[i].kind == REF_CODE) {
            c->pos += 5;
            *name = UINT32_MAX;
            *code = c->file->refs[i].index;
            return 0;
        }
    }
    return read_string(c, name);
}

/* ---- keys by their strings ---------------------------------------------------- */

/* Keys are made one when they name the same string objects (the same string
 * indices: marshal shares a code object's co_filename and co_name through
 * references) and the same line.  That is what cProfile's caller keys are,
 * new tuples of the same strings; comparing by content instead would cost a
 * hash of every key's bytes for the few keys whose strings are not shared. */
static uint64_t
key_hash(const Cursor *c, uint32_t file, int64_t line, uint32_t name)
{
    uint64_t h = c->file->key_seed ^ ((uint64_t)file << 32 | name);
    h ^= (uint64_t)line * 0x9e3779b97f4a7c15ull;
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 32);
}

static int
grow_key_slots(StropPstatsFile *f, const Cursor *c)
{
    uint32_t count = f->key_mask ? (f->key_mask + 1) * 2 : 1024, mask = count - 1;
    uint32_t *slots;
    if (count == 0)
        return -1;
    slots = strop_malloc((size_t)count * sizeof *slots);
    if (slots == NULL)
        return -1;
    memset(slots, 0xff, (size_t)count * sizeof *slots);
    for (uint32_t k = 0; k < f->n_keys; k++) {
        const StropPstatsKey *key = &f->keys[k];
        if (key->name == UINT32_MAX)
            continue;
        uint32_t i = (uint32_t)key_hash(c, key->file, key->line, key->name) & mask;
        while (slots[i] != UINT32_MAX)
            i = (i + 1) & mask;
        slots[i] = k;
    }
    strop_free(f->key_slots);
    f->key_slots = slots;
    f->key_mask = mask;
    return 0;
}

/* The key (file, line, name), added when new.  UINT32_MAX when out of
 * memory. */
static uint32_t
intern_key(Cursor *c, uint32_t file, int64_t line, uint32_t name, uint32_t code)
{
    StropPstatsFile *f = c->file;
    uint32_t i = 0, k;
    if (name != UINT32_MAX) {
        if ((f->n_keys + 1) * 2 > f->key_mask && grow_key_slots(f, c) < 0)
            return UINT32_MAX;
        i = (uint32_t)key_hash(c, file, line, name) & f->key_mask;
        for (; (k = f->key_slots[i]) != UINT32_MAX; i = (i + 1) & f->key_mask) {
            const StropPstatsKey *key = &f->keys[k];
            if (key->line == line && key->file == file && key->name == name)
                return k;
        }
    }
    if (make_room32((void **)&f->keys, f->n_keys, &f->cap_keys, sizeof *f->keys) < 0)
        return UINT32_MAX;
    k = f->n_keys++;
    f->keys[k] = (StropPstatsKey){file, name, line, code};
    if (name != UINT32_MAX)
        f->key_slots[i] = k;
    return k;
}

static int
read_key(Cursor *c, const char *where, uint32_t *index)
{
    size_t at = c->pos;
    unsigned char t;
    uint32_t ref, file, name, code;
    StropPstatsNum line;
    int is_float, rc = type_byte(c, where, &t, &ref);
    if (rc < 0)
        return rc;
    if (t == 'r') {
        const StropPstatsRef *r;
        if ((rc = follow_ref(c, at, REF_KEY, where, &r)) < 0)
            return rc;
        *index = r->index;
        return 0;
    }
    if (t != '(' && t != ')')
        return unexpected(c, at, where);
    if ((rc = tuple_of(c, at, t, 3, "a (file, line, name) key")) < 0 ||
        (rc = read_string(c, &file)) < 0 ||
        (rc = read_number(c, "the line of a (file, line, name) key", 1, &line, &is_float)) < 0 ||
        (rc = read_name(c, &name, &code)) < 0)
        return rc;
    StropPstatsFile *f = c->file;
    *index = intern_key(c, file, line.i, name, code);
    if (*index == UINT32_MAX)
        return STROP_PSTATS_NOMEM;
    if (ref != UINT32_MAX)
        f->refs[ref] = (StropPstatsRef){REF_KEY, 0, *index, {0}};
    return 0;
}

/* Four numbers into num[], their float bits into *floats. */
static int
read_four(Cursor *c, const char *where, StropPstatsNum *num, uint8_t *floats)
{
    *floats = 0;
    for (int k = 0; k < 4; k++) {
        int is_float, rc = read_number(c, where, 0, &num[k], &is_float);
        if (rc < 0)
            return rc;
        *floats |= (uint8_t)(is_float << k);
    }
    return 0;
}

static int
read_caller(Cursor *c)
{
    static const char where[] = "a caller's (nc, cc, tt, ct)";
    StropPstatsFile *f = c->file;
    StropPstatsCaller caller;
    size_t at;
    unsigned char t;
    uint32_t ref = UINT32_MAX;
    int rc;
    memset(&caller, 0, sizeof caller);
    if ((rc = read_key(c, "a caller's (file, line, name) key", &caller.key)) < 0)
        return rc;
    at = c->pos;
    t = at < c->len ? c->data[at] & 0x7f : 0;
    if (t == 'r' && c->len - at >= 5) {
        /* A shared bare count, or a shared (nc, cc, tt, ct). */
        int32_t i = get_int32(c->data + at + 1);
        if (i >= 0 && (uint32_t)i < f->n_refs && f->refs[i].kind == REF_NUMBER)
            t = 'i';
    }
    if (t == 'i' || t == 'l') {
        /* The pure-Python profile module's callers: caller -> call count. */
        int is_float;
        if ((rc = read_number(c, "a caller's call count", 1, &caller.num[0], &is_float)) < 0)
            return rc;
        caller.bare = 1;
    }
    else {
        if ((rc = type_byte(c, where, &t, &ref)) < 0)
            return rc;
        if (t == 'r') {
            const StropPstatsRef *r;
            if ((rc = follow_ref(c, at, REF_CALLER, where, &r)) < 0)
                return rc;
            caller.floats = f->callers[r->index].floats;
            memcpy(caller.num, f->callers[r->index].num, sizeof caller.num);
        }
        else if (t == '(' || t == ')') {
            if ((rc = tuple_of(c, at, t, 4, where)) < 0 ||
                (rc = read_four(c, where, caller.num, &caller.floats)) < 0)
                return rc;
        }
        else {
            return unexpected(c, at, where);
        }
    }
    if (f->n_callers >= UINT32_MAX - 1 ||
        make_room((void **)&f->callers, f->n_callers, &f->cap_callers, sizeof *f->callers) < 0)
        return STROP_PSTATS_NOMEM;
    f->callers[f->n_callers] = caller;
    if (ref != UINT32_MAX)
        f->refs[ref] = (StropPstatsRef){REF_CALLER, 0, (uint32_t)f->n_callers, {0}};
    f->n_callers++;
    return 0;
}

static int
read_entry(Cursor *c)
{
    static const char where[] = "a function's (cc, nc, tt, ct, callers)";
    StropPstatsFile *f = c->file;
    StropPstatsEntry entry;
    size_t at;
    unsigned char t;
    uint32_t ref;
    int rc;
    memset(&entry, 0, sizeof entry);
    if ((rc = read_key(c, "a function's (file, line, name) key", &entry.key)) < 0)
        return rc;
    at = c->pos;
    if ((rc = type_byte(c, where, &t, &ref)) < 0)
        return rc;
    if (t != '(' && t != ')')
        return unexpected(c, at, where);
    if ((rc = tuple_of(c, at, t, 5, where)) < 0 ||
        (rc = read_four(c, where, entry.num, &entry.floats)) < 0)
        return rc;
    if (ref != UINT32_MAX)
        f->refs[ref].kind = REF_OTHER;
    at = c->pos;
    if ((rc = type_byte(c, "a function's callers dict", &t, &ref)) < 0)
        return rc;
    if (t != '{')
        return unexpected(c, at, "a function's callers dict");
    if (ref != UINT32_MAX)
        f->refs[ref].kind = REF_OTHER;
    entry.first_caller = f->n_callers;
    for (;;) {
        if (c->pos < c->len && c->data[c->pos] == '0') {
            c->pos++;
            break;
        }
        if ((rc = read_caller(c)) < 0)
            return rc;
    }
    entry.n_callers = f->n_callers - entry.first_caller;
    if (make_room((void **)&f->entries, f->n_entries, &f->cap_entries, sizeof *f->entries) < 0)
        return STROP_PSTATS_NOMEM;
    f->entries[f->n_entries++] = entry;
    return 0;
}

int
strop_pstats_read(StropPstatsFile *out, const unsigned char *data, size_t len, char *error,
                  size_t error_size)
{
    Cursor c = {data, len, 0, out, error, error_size};
    unsigned char t;
    uint32_t ref;
    int rc, layout = out->code_layout;
    memset(out, 0, sizeof *out);
    out->code_layout = layout;
    out->key_seed = strop_random_seed(); /* no file can put all keys in one slot */
    if (error_size)
        error[0] = '\0';
    if (len == 0)
        return read_fail(&c, 0, "an empty file");
    if ((data[0] & 0x7f) != '{')
        return read_fail(&c, 0, "0x%02x (%s), where a pstats file starts with a marshal dict",
                         data[0], type_name(data[0]));
    if ((rc = type_byte(&c, "a dict", &t, &ref)) < 0)
        return rc;
    if (ref != UINT32_MAX)
        out->refs[ref].kind = REF_OTHER;
    for (;;) {
        if (c.pos < len && data[c.pos] == '0')
            return STROP_PSTATS_OK;
        if ((rc = read_entry(&c)) < 0)
            return rc;
    }
}

void
strop_pstats_file_free(StropPstatsFile *file)
{
    int layout = file->code_layout;
    strop_free(file->strings);
    strop_free(file->keys);
    strop_free(file->entries);
    strop_free(file->callers);
    strop_free(file->refs);
    strop_free(file->key_slots);
    strop_free(file->codes);
    memset(file, 0, sizeof *file);
    file->code_layout = layout;
}
