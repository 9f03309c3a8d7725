/* remote_names.c: threading's thread names in another process (see
 * remote_names.h).
 *
 * The path: interpreter -> modules dict -> "threading" -> its md_dict ->
 * "_active" -> each (int ident, Thread) entry -> the Thread's attributes ->
 * "_name" -> str.  Dicts are read whole (the entries array in one read) and
 * searched linearly by comparing key text, no hashing; a key str's address is
 * remembered where it was found, so the next lookup compares pointers first.
 * Where a version keeps an object's attributes (a dict at tp_dictoffset, a
 * managed dict before the object, values with the type's shared keys) comes
 * from the offset table, never from a version test here.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "remote_names.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "remote_int.h"

#define MAX_INTERPS 64
#define MAX_ENTRIES (1 << 16) /* entries of a dict we read: sys.modules is the largest */
#define DICT_READ 64          /* bytes of a dict object or key table header we read */
#define TYPE_READ 1024        /* bytes of a type object we read */

/* This file's short names for remote_int.h's helpers. */
#define rd strop_remote_rd
#define rd_ptr strop_remote_rd_ptr
#define ptr_at strop_remote_ptr_at
#define aligned strop_remote_aligned

/* Status of a step: found, not there (a normal answer), a failed read or a
 * wrong object, out of memory; or STROP_REMOTE_ENOPROC. */
enum { FOUND = 1, ABSENT = 0, FAILED = -100, NOMEM = -101 };

/* The entries of one dict as read: keys and values by index. */
typedef struct Table {
    unsigned char *entries; /* n entries of entry_size bytes */
    size_t n;
    int entry_size, key_at, value_at;
    uintptr_t *values; /* a split table's values (n of them), else NULL */
} Table;

static void
table_free(Table *t)
{
    strop_free(t->entries);
    strop_free(t->values);
    memset(t, 0, sizeof *t);
}

static uintptr_t
table_key(const Table *t, size_t i)
{
    return ptr_at(t->entries, (int)(i * (size_t)t->entry_size) + t->key_at);
}

static uintptr_t
table_value(const Table *t, size_t i)
{
    if (t->values != NULL)
        return t->values[i];
    return ptr_at(t->entries, (int)(i * (size_t)t->entry_size) + t->value_at);
}

static int
failed(void)
{
    return errno == ESRCH ? STROP_REMOTE_ENOPROC : FAILED;
}

/* Reads the key table at `keys` and, for a split table, `n_values`... the
 * values array at `values` (0: combined).  Returns FOUND, FAILED, NOMEM or
 * STROP_REMOTE_ENOPROC. */
static int
read_table(StropRemote *r, uintptr_t keys, uintptr_t values, Table *t)
{
    const StropPyOffsets *o = &r->off;
    unsigned char head[DICT_READ];
    uint64_t size, index_bytes, entries_at;
    int64_t nentries;
    memset(t, 0, sizeof *t);
    if (!aligned(keys) || o->dictkeys_indices > DICT_READ || rd(r, keys, head, DICT_READ) < 0)
        return failed();
    memcpy(&nentries, head + o->dictkeys_nentries, sizeof nentries);
    t->entry_size = o->dictkeys_general_entry;
    t->key_at = 8; /* {hash, key, value} */
    t->value_at = 16;
    if (o->dictkeys_log2_index_bytes >= 0) {
        /* 3.11+: sizes as powers of two; unicode entries are {key, value}. */
        unsigned log2_size = head[o->dictkeys_size];
        unsigned log2_index = head[o->dictkeys_log2_index_bytes];
        if (log2_size < 3 || log2_size > 24 || log2_index < log2_size ||
            log2_index > log2_size + 3)
            return FAILED;
        size = (uint64_t)1 << log2_size;
        index_bytes = (uint64_t)1 << log2_index;
        if (head[o->dictkeys_kind] != 0) {
            t->entry_size = o->dictkeys_unicode_entry;
            t->key_at = 0;
            t->value_at = 8;
        }
    }
    else {
        /* 3.8-3.10: dk_size slots, indices of 1 to 8 bytes by size. */
        int64_t ssize;
        memcpy(&ssize, head + o->dictkeys_size, sizeof ssize);
        if (ssize < 8 || ssize > (1 << 24) || (ssize & (ssize - 1)) != 0)
            return FAILED;
        size = (uint64_t)ssize;
        index_bytes = size * (size <= 0xff ? 1 : size <= 0xffff ? 2 : 4);
    }
    if (nentries < 0 || (uint64_t)nentries > size || nentries > MAX_ENTRIES ||
        t->entry_size <= 0 || t->entry_size > 64)
        return FAILED;
    t->n = (size_t)nentries;
    entries_at = keys + (uint64_t)o->dictkeys_indices + index_bytes;
    if (t->n == 0)
        return FOUND;
    t->entries = strop_malloc(t->n * (size_t)t->entry_size);
    if (t->entries == NULL)
        return NOMEM;
    if (rd(r, (uintptr_t)entries_at, t->entries, t->n * (size_t)t->entry_size) < 0) {
        int rc = failed();
        table_free(t);
        return rc;
    }
    if (values != 0) {
        t->values = strop_malloc(t->n * sizeof *t->values);
        if (t->values == NULL) {
            table_free(t);
            return NOMEM;
        }
        if (!aligned(values) ||
            rd(r, values + (uintptr_t)o->dictvalues_values, t->values, t->n * sizeof *t->values) <
                0) {
            int rc = failed();
            table_free(t);
            return rc;
        }
    }
    return FOUND;
}

/* The type of the object at `obj` into *type.  Returns FOUND or a failure. */
static int
type_of(StropRemote *r, uintptr_t obj, uintptr_t *type)
{
    if (!aligned(obj) || rd_ptr(r, obj + (uintptr_t)r->off.object_type, type) < 0)
        return failed();
    return aligned(*type) ? FOUND : FAILED;
}

/* Checks that `obj` is of the type kept in *slot (learnt from its tp_name
 * `name` the first time).  Returns FOUND or a failure. */
static int
is_a(StropRemote *r, uintptr_t obj, uintptr_t *slot, const char *name)
{
    uintptr_t type;
    int rc = type_of(r, obj, &type);
    if (rc != FOUND)
        return rc;
    if (*slot != 0)
        return type == *slot ? FOUND : FAILED;
    if (strop_remote_type_named(r, type, name) != 1)
        return FAILED;
    *slot = type;
    return FOUND;
}

/* Reads the dict at `dict` (checked to be a dict) into *t. */
static int
read_dict(StropRemote *r, uintptr_t dict, Table *t)
{
    const StropPyOffsets *o = &r->off;
    unsigned char head[DICT_READ];
    int rc = is_a(r, dict, &r->dict_type, "dict");
    memset(t, 0, sizeof *t);
    if (rc != FOUND)
        return rc;
    if (o->dict_values + 8 > DICT_READ || o->dict_keys + 8 > DICT_READ ||
        rd(r, dict, head, DICT_READ) < 0)
        return failed();
    return read_table(r, ptr_at(head, o->dict_keys), ptr_at(head, o->dict_values), t);
}

/* 1 when the str at `key` is `want`, 0 when not (or not a str, or out of
 * memory: the name is then not found, which is safe). */
static int
key_is(StropRemote *r, uintptr_t key, const char *want)
{
    size_t len = strlen(want);
    char *text = strop_remote_str(r, key, len, 0);
    int same;
    if (text == NULL)
        return 0;
    same = strcmp(text, want) == 0;
    strop_free(text);
    return same;
}

/* Looks up str key `want` in `t`: the entry whose key is at *hint first (a
 * pointer compare), else every key's text.  Sets *value and *hint.  Returns
 * FOUND or ABSENT. */
static int
table_find(StropRemote *r, const Table *t, const char *want, uintptr_t *hint, uintptr_t *value)
{
    for (int pass = *hint ? 0 : 1; pass < 2; pass++) {
        for (size_t i = 0; i < t->n; i++) {
            uintptr_t key = table_key(t, i), v = table_value(t, i);
            int same;
            if (key == 0 || v == 0 || (pass == 0 && key != *hint))
                continue;
            same = key_is(r, key, want);
            if (same) {
                *hint = key;
                *value = v;
                return FOUND;
            }
        }
    }
    return ABSENT;
}

/* Looks up `want` in the dict at `dict`.  Returns FOUND, ABSENT or a failure. */
static int
dict_find(StropRemote *r, uintptr_t dict, const char *want, uintptr_t *hint, uintptr_t *value)
{
    Table t;
    int rc = read_dict(r, dict, &t);
    if (rc != FOUND)
        return rc;
    rc = table_find(r, &t, want, hint, value);
    table_free(&t);
    return rc;
}

int
strop_remote_dict_find(StropRemote *r, uintptr_t dict, const char *key, uintptr_t *hint,
                       uintptr_t *value)
{
    int rc = dict_find(r, dict, key, hint, value);
    if (rc == FOUND || rc == ABSENT || rc == STROP_REMOTE_ENOPROC)
        return rc;
    return rc == NOMEM ? STROP_REMOTE_ENOMEM : STROP_REMOTE_EREAD;
}

/* Looks up attribute `want` among the instance attributes of the object at
 * `obj`, wherever its version keeps them.  Returns FOUND, ABSENT or a
 * failure. */
static int
attribute_find(StropRemote *r, uintptr_t obj, const char *want, uintptr_t *hint,
               uintptr_t *value)
{
    const StropPyOffsets *o = &r->off;
    unsigned char tp[TYPE_READ];
    uintptr_t type, dict = 0, values = 0;
    uint64_t flags;
    int rc = type_of(r, obj, &type);
    if (rc != FOUND)
        return rc;
    if (o->heaptype_cached_keys + 8 > TYPE_READ || o->type_dictoffset + 8 > TYPE_READ ||
        rd(r, type, tp, (size_t)o->heaptype_cached_keys + 8) < 0)
        return failed();
    memcpy(&flags, tp + o->type_flags, sizeof flags);
    if (o->tpflags_managed_dict >= 0 && (flags & (uint64_t)o->tpflags_managed_dict)) {
        /* 3.11+: a dict pointer before the object, or values laid out by the
         * type's shared keys. */
        uintptr_t before;
        if (obj < 4096 + (uintptr_t)o->object_dict_before ||
            rd_ptr(r, obj - (uintptr_t)o->object_dict_before, &before) < 0)
            return failed();
        if (o->object_values_before >= 0) {
            /* 3.11: the values pointer sits apart, before the dict's. */
            dict = before;
            if (rd_ptr(r, obj - (uintptr_t)o->object_values_before, &values) < 0)
                return failed();
        }
        else if (o->tpflags_inline_values < 0) {
            /* 3.12: one pointer, a dict, or the values' address minus one
             * (_PyDictOrValues_SetValues), so with the low bit set. */
            if (before & 1)
                values = before + 1;
            else
                dict = before;
        }
        else {
            /* 3.13: a dict when one was made, else the values inline after
             * the object, while they are valid. */
            dict = before;
            if (dict == 0 && (flags & (uint64_t)o->tpflags_inline_values)) {
                int64_t basicsize;
                unsigned char valid;
                memcpy(&basicsize, tp + o->type_basicsize, sizeof basicsize);
                if (basicsize < 16 || basicsize > 4096 ||
                    rd(r, obj + (uintptr_t)basicsize + (uintptr_t)o->dictvalues_valid, &valid,
                       1) < 0)
                    return failed();
                if (!valid)
                    return FAILED; /* being switched to a dict: torn */
                values = obj + (uintptr_t)basicsize;
            }
        }
    }
    else {
        /* 3.8-3.10, and types without a managed dict: tp_dictoffset. */
        int64_t offset;
        memcpy(&offset, tp + o->type_dictoffset, sizeof offset);
        if (offset == 0)
            return ABSENT;
        if (offset < 0 || offset > 4096 || rd_ptr(r, obj + (uintptr_t)offset, &dict) < 0)
            return FAILED;
    }
    if (dict != 0)
        return dict_find(r, dict, want, hint, value);
    if (values != 0) {
        Table t;
        rc = read_table(r, ptr_at(tp, o->heaptype_cached_keys), values, &t);
        if (rc != FOUND)
            return rc;
        rc = table_find(r, &t, want, hint, value);
        table_free(&t);
        return rc;
    }
    return ABSENT;
}

/* The value of the int at `obj` when it is one from 0 to 2**64 - 1.
 * Returns FOUND or a failure. */
static int
read_ident(StropRemote *r, uintptr_t obj, uint64_t *ident)
{
    const StropPyOffsets *o = &r->off;
    unsigned char head[32];
    uint32_t digits[3];
    uint64_t ndigits, value = 0;
    int rc = is_a(r, obj, &r->int_type, "int");
    if (rc != FOUND)
        return rc;
    if (o->long_size + 8 > (int)sizeof head || rd(r, obj, head, (size_t)o->long_size + 8) < 0)
        return failed();
    if (o->long_non_size_bits >= 0) {
        /* lv_tag: digits << 3 | sign (0 positive, 1 zero, 2 negative). */
        uint64_t tag;
        memcpy(&tag, head + o->long_size, sizeof tag);
        if ((tag & 3) == 2)
            return FAILED;
        ndigits = (tag & 3) == 1 ? 0 : tag >> o->long_non_size_bits;
    }
    else {
        int64_t size;
        memcpy(&size, head + o->long_size, sizeof size);
        if (size < 0)
            return FAILED;
        ndigits = (uint64_t)size;
    }
    if (ndigits * (uint64_t)o->long_shift > 64 + (uint64_t)o->long_shift - 1 || ndigits > 3)
        return FAILED;
    if (ndigits && rd(r, obj + (uintptr_t)o->long_digits, digits, ndigits * 4) < 0)
        return failed();
    for (uint64_t i = ndigits; i-- > 0;) {
        if (digits[i] >> o->long_shift)
            return FAILED;
        if (value >> (64 - o->long_shift))
            return FAILED; /* above 2**64 */
        value = (value << o->long_shift) | digits[i];
    }
    *ident = value;
    return FOUND;
}

/* Whether `s` is well-formed UTF-8: a name read while the program replaced
 * the string (its memory freed and reused) comes out as other bytes. */
static int
valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int extra = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2
                  : (*p & 0xF8) == 0xF0 ? 3 : -1;
        if (extra < 0 || (extra == 1 && *p < 0xC2))
            return 0;
        p++;
        while (extra-- > 0) {
            if ((*p & 0xC0) != 0x80)
                return 0;
            p++;
        }
    }
    return 1;
}

/* Cuts `s` to at most STROP_THREAD_NAME_MAX bytes on a character boundary. */
static void
cut_utf8(char *s)
{
    size_t n = strlen(s);
    if (n <= STROP_THREAD_NAME_MAX)
        return;
    n = STROP_THREAD_NAME_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    s[n] = '\0';
}

/* Appends the names of threading._active of the interpreter at `interp` to
 * *names.  Returns FOUND (ABSENT when threading is not imported) or a
 * failure. */
static int
interp_names(StropRemote *r, uintptr_t interp, StropThreadName **names, size_t *n, size_t *cap)
{
    const StropPyOffsets *o = &r->off;
    uintptr_t modules, threading, globals, active;
    Table t;
    int rc;
    if (rd_ptr(r, interp + (uintptr_t)o->interp_modules, &modules) < 0)
        return failed();
    if (modules == 0)
        return ABSENT; /* not initialised yet, or being finalised */
    rc = dict_find(r, modules, "threading", &r->hint_threading, &threading);
    if (rc != FOUND)
        return rc;
    rc = is_a(r, threading, &r->module_type, "module");
    if (rc != FOUND)
        return rc;
    if (rd_ptr(r, threading + (uintptr_t)o->module_dict, &globals) < 0)
        return failed();
    rc = dict_find(r, globals, "_active", &r->hint_active, &active);
    if (rc != FOUND)
        return rc == ABSENT ? FAILED : rc; /* a module named threading without it */
    rc = read_dict(r, active, &t);
    if (rc != FOUND)
        return rc;
    for (size_t i = 0; i < t.n && rc == FOUND; i++) {
        uintptr_t key = table_key(&t, i), thread = table_value(&t, i), name_obj;
        uint64_t ident = 0;
        char *name;
        if (key == 0 || thread == 0)
            continue;
        rc = read_ident(r, key, &ident);
        if (rc != FOUND)
            break;
        rc = attribute_find(r, thread, "_name", &r->hint_name, &name_obj);
        if (rc == ABSENT) {
            rc = FOUND; /* a Thread not yet initialised: no name */
            continue;
        }
        if (rc != FOUND)
            break;
        name = strop_remote_str(r, name_obj, STROP_THREAD_NAME_MAX, 1);
        if (name == NULL) {
            rc = FAILED;
            break;
        }
        {
            /* A thread renamed while we read: its old string may have been
             * freed and its memory reused under us.  Keep the name only when
             * the thread still holds the same string and it reads as text;
             * else it is read again at the next refresh. */
            uintptr_t again = 0;
            int still = attribute_find(r, thread, "_name", &r->hint_name, &again);
            if (still != FOUND || again != name_obj || !valid_utf8(name)) {
                strop_free(name);
                continue;
            }
        }
        cut_utf8(name);
        if (name[0] != '\0') {
            if (*n == *cap) {
                size_t new_cap = *cap ? *cap * 2 : 16;
                StropThreadName *p = NULL;
                if (new_cap <= STROP_REMOTE_MAX_THREADS)
                    p = strop_realloc(*names, new_cap * sizeof *p);
                if (p == NULL) {
                    strop_free(name);
                    rc = new_cap <= STROP_REMOTE_MAX_THREADS ? NOMEM : FAILED;
                    break;
                }
                *names = p;
                *cap = new_cap;
            }
            (*names)[*n].ident = ident;
            memcpy((*names)[*n].name, name, strlen(name) + 1);
            (*n)++;
        }
        strop_free(name);
    }
    table_free(&t);
    return rc;
}

int
strop_remote_thread_names(StropRemote *r, StropThreadName **out, size_t *n)
{
    const StropPyOffsets *o = &r->off;
    StropThreadName *names = NULL;
    size_t count = 0, cap = 0;
    uintptr_t interp;
    int rc = FOUND;
    *out = NULL;
    *n = 0;
    if (rd_ptr(r, r->runtime + (uintptr_t)o->runtime_interpreters_head, &interp) < 0)
        return errno == ESRCH ? STROP_REMOTE_ENOPROC : STROP_REMOTE_EREAD;
    for (int ni = 0; interp != 0 && rc >= 0; ni++) {
        if (ni >= MAX_INTERPS || !aligned(interp)) {
            rc = FAILED;
            break;
        }
        rc = interp_names(r, interp, &names, &count, &cap);
        if (rc == ABSENT)
            rc = FOUND;
        if (rc >= 0 && rd_ptr(r, interp + (uintptr_t)o->interp_next, &interp) < 0)
            rc = failed();
    }
    if (rc < 0) {
        strop_free(names);
        if (rc == NOMEM)
            return STROP_REMOTE_ENOMEM;
        return rc == STROP_REMOTE_ENOPROC ? rc : STROP_REMOTE_EREAD;
    }
    *out = names;
    *n = count;
    return STROP_REMOTE_OK;
}

void
strop_remote_thread_names_free(StropThreadName *names)
{
    strop_free(names);
}
