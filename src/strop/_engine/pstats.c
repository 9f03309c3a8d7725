/* pstats.c: marshal encoding of a pstats dict (see pstats.h); its bounded
 * reader is pstats_read.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* getentropy, clock_gettime under -std=c11 */
#endif
#include "pstats.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"

uint64_t
strop_random_seed(void)
{
    uint64_t seed = 0;
    if (getentropy(&seed, sizeof seed) != 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&ts;
    }
    return seed;
}

static void
put_int32(FILE *out, int32_t value)
{
    uint32_t v = (uint32_t)value;
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    fwrite(b, 1, 4, out);
}

/* An int: 'i' when it fits in 32 bits, else 'l' with base-2**15 digits. */
static void
put_uint(FILE *out, uint64_t value)
{
    if (value <= INT32_MAX) {
        fputc('i', out);
        put_int32(out, (int32_t)value);
        return;
    }
    {
        unsigned char digits[2 * 5];
        int n = 0;
        while (value) {
            uint16_t d = (uint16_t)(value & 0x7fff);
            digits[2 * n] = (unsigned char)d;
            digits[2 * n + 1] = (unsigned char)(d >> 8);
            value >>= 15;
            n++;
        }
        fputc('l', out);
        put_int32(out, n);
        fwrite(digits, 1, (size_t)(2 * n), out);
    }
}

static void
put_float(FILE *out, double value)
{
    unsigned char b[8];
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(bits >> (8 * i));
    fputc('g', out);
    fwrite(b, 1, 8, out);
}

static void
put_str(FILE *out, const char *s, size_t len)
{
    fputc('u', out);
    put_int32(out, (int32_t)len);
    fwrite(s, 1, len, out);
}

/* marshal's references (a flag on an object's type byte, then 'r' + index)
 * let a key tuple and a file name be written once and read as one object:
 * smaller files, and half the objects for the reader to build.  Indices are
 * given in the order flagged objects start, as marshal's reader counts them. */

typedef struct Refs {
    int32_t next;          /* index of the next flagged object */
    int32_t *key_ref;      /* per function: its key tuple's index, or -1 */
    const char **file_ptr; /* open addressing: file name pointer -> index */
    int32_t *file_ref;
    size_t file_mask;
} Refs;

static void
put_ref(FILE *out, int32_t index)
{
    fputc('r', out);
    put_int32(out, index);
}

/* A file name: the same pointer is the same string (the labels' UTF-8 is
 * cached per str object), so one compare finds a repeat. */
static void
put_file(FILE *out, Refs *refs, const char *s, size_t len)
{
    size_t i = ((uintptr_t)s >> 4) * 0x9e3779b97f4a7c15ull & refs->file_mask;
    while (refs->file_ptr[i] != NULL && refs->file_ptr[i] != s)
        i = (i + 1) & refs->file_mask;
    if (refs->file_ptr[i] == s) {
        put_ref(out, refs->file_ref[i]);
        return;
    }
    refs->file_ptr[i] = s;
    refs->file_ref[i] = refs->next++;
    fputc('u' | STROP_MARSHAL_FLAG_REF, out);
    put_int32(out, (int32_t)len);
    fwrite(s, 1, len, out);
}

static void
put_key(FILE *out, Refs *refs, const StropLabel *labels, uint32_t f)
{
    const StropLabel *label = &labels[f];
    if (refs->key_ref[f] >= 0) {
        put_ref(out, refs->key_ref[f]);
        return;
    }
    refs->key_ref[f] = refs->next++;
    fputc('(' | STROP_MARSHAL_FLAG_REF, out);
    put_int32(out, 3);
    put_file(out, refs, label->file, label->file_len);
    put_uint(out, label->line > 0 ? (uint64_t)label->line : 0);
    put_str(out, label->name, label->name_len);
}

static int
is_written(const StropLabel *labels, const StropFuncStats *funcs, uint32_t f)
{
    return labels[f].file != NULL && funcs[f].nc > 0;
}

int
strop_pstats_write(FILE *out, const StropLabel *labels, const StropFuncStats *funcs,
                   uint32_t n_funcs, const StropEdgeStats *edges, size_t n_edges,
                   double seconds_per_tick)
{
    /* Edges grouped by callee: first[f] .. first[f+1] in `order`. */
    size_t *first = strop_calloc((size_t)n_funcs + 1, sizeof *first);
    size_t *order = strop_malloc((n_edges ? n_edges : 1) * sizeof *order);
    Refs refs = {0};
    size_t slots = 64;
    int status = -1;
    while (slots < 2 * (size_t)n_funcs)
        slots *= 2;
    refs.key_ref = strop_malloc(((size_t)n_funcs + 1) * sizeof *refs.key_ref);
    refs.file_ptr = strop_calloc(slots, sizeof *refs.file_ptr);
    refs.file_ref = strop_malloc(slots * sizeof *refs.file_ref);
    refs.file_mask = slots - 1;
    if (first == NULL || order == NULL || !refs.key_ref || !refs.file_ptr || !refs.file_ref) {
        errno = ENOMEM; /* the caller reports errno */
        goto done;
    }
    for (uint32_t f = 0; f < n_funcs; f++)
        refs.key_ref[f] = -1;
    for (size_t e = 0; e < n_edges; e++)
        first[edges[e].callee + 1]++;
    for (uint32_t f = 0; f < n_funcs; f++)
        first[f + 1] += first[f];
    {
        size_t *fill = strop_malloc(((size_t)n_funcs + 1) * sizeof *fill);
        if (fill == NULL) {
            errno = ENOMEM;
            goto done;
        }
        memcpy(fill, first, ((size_t)n_funcs + 1) * sizeof *fill);
        for (size_t e = 0; e < n_edges; e++)
            order[fill[edges[e].callee]++] = e;
        strop_free(fill);
    }

    fputc('{', out);
    for (uint32_t f = 0; f < n_funcs; f++) {
        if (!is_written(labels, funcs, f))
            continue;
        put_key(out, &refs, labels, f);
        fputc('(', out);
        put_int32(out, 5);
        put_uint(out, funcs[f].cc);
        put_uint(out, funcs[f].nc);
        put_float(out, (double)funcs[f].tt * seconds_per_tick);
        put_float(out, (double)funcs[f].ct * seconds_per_tick);
        fputc('{', out);
        for (size_t i = first[f]; i < first[f + 1]; i++) {
            const StropEdgeStats *edge = &edges[order[i]];
            if (!is_written(labels, funcs, edge->caller) || edge->nc == 0)
                continue;
            put_key(out, &refs, labels, edge->caller);
            fputc('(', out);
            put_int32(out, 4);
            put_uint(out, edge->nc);
            put_uint(out, edge->cc);
            put_float(out, (double)edge->tt * seconds_per_tick);
            put_float(out, (double)edge->ct * seconds_per_tick);
        }
        fputc('0', out);
    }
    fputc('0', out);
    status = (ferror(out) || fflush(out) != 0) ? -1 : 0;
done:
    strop_free(first);
    strop_free(order);
    strop_free(refs.key_ref);
    strop_free((void *)refs.file_ptr);
    strop_free(refs.file_ref);
    return status;
}
