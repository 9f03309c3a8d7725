/* callgrind.c: the callgrind format, read by KCacheGrind, QCacheGrind and
 * callgrind_annotate.
 *
 * One block per function: `fl=`/`fn=` (name compression: the first mention
 * defines "(id) name", later ones say "(id)"), its own cost on the line of its
 * definition, then one `cfl=`/`cfn=`/`calls=` record per callee with the
 * inclusive cost of those calls.  Costs are integers: nanoseconds for a
 * traced profile, samples for a sampled one.  Totals are aggregated per
 * function and per caller->callee pair with cProfile's recursion rules, so a
 * call's inclusive cost counts recursion once; a function's call of itself
 * carries cost 0, else callgrind_annotate would add the recursion on top of
 * the outer call's inclusive cost.  `summary:` is the sum of the own costs
 * written, which callgrind_annotate checks.
 *
 * Functions of one file that share a name (methods named `__init__`, say)
 * would be one function to the readers, which know functions by file and
 * name: those get ":line" after the name.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "textbuf.h"
#include "writers_int.h"

typedef struct Named {
    const StropLabel *label;
    uint32_t func;
} Named;

static int
bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* By file, then name, then line. */
static int
named_cmp(const void *pa, const void *pb)
{
    const StropLabel *a = ((const Named *)pa)->label, *b = ((const Named *)pb)->label;
    int c = bytes_cmp(a->file, a->file_len, b->file, b->file_len);
    if (c == 0)
        c = bytes_cmp(a->name, a->name_len, b->name, b->name_len);
    if (c == 0)
        c = (a->line > b->line) - (a->line < b->line);
    return c;
}

/* What the writer knows of each function. */
typedef struct Ids {
    uint32_t *file_id;    /* per function: id of its file (from 1) */
    unsigned char *flags; /* per function: WRITTEN, ADD_LINE, FN_DEFINED */
    unsigned char *file_defined; /* per file id */
} Ids;

#define WRITTEN 1
#define ADD_LINE 2
#define FN_DEFINED 4

static int
put_file(StropBuf *buf, const char *key, Ids *ids, const StropLabel *labels, uint32_t f)
{
    uint32_t id = ids->file_id[f];
    if (strop_buf_printf(buf, "%s=(%" PRIu32 ")", key, id) < 0)
        return -1;
    if (!ids->file_defined[id]) {
        ids->file_defined[id] = 1;
        if (strop_buf_putc(buf, ' ') < 0 ||
            strop_buf_put_utf8(buf, labels[f].file, labels[f].file_len, "\n\r", "  ") < 0)
            return -1;
    }
    return strop_buf_putc(buf, '\n');
}

static int
put_fn(StropBuf *buf, const char *key, Ids *ids, const StropLabel *labels, uint32_t f)
{
    if (strop_buf_printf(buf, "%s=(%" PRIu32 ")", key, f + 1) < 0)
        return -1;
    if (!(ids->flags[f] & FN_DEFINED)) {
        ids->flags[f] |= FN_DEFINED;
        if (strop_buf_putc(buf, ' ') < 0 ||
            strop_buf_put_utf8(buf, labels[f].name, labels[f].name_len, "\n\r", "  ") < 0)
            return -1;
        if ((ids->flags[f] & ADD_LINE) && strop_buf_printf(buf, ":%ld", labels[f].line) < 0)
            return -1;
    }
    return strop_buf_putc(buf, '\n');
}

static long
line_of(const StropLabel *label)
{
    return label->line > 0 ? label->line : 0;
}

int
strop_callgrind_write(FILE *out, const StropTree *tree, const StropLabel *labels,
                      const StropWriteInfo *info)
{
    StropFuncStats *funcs = NULL;
    StropEdgeStats *edges = NULL;
    size_t n_edges = 0, n_named = 0, *first = NULL, *order = NULL;
    Named *named = NULL;
    Ids ids = {0};
    StropBuf buf = {0};
    uint32_t n_funcs = tree->n_funcs;
    uint64_t summary = 0;
    int status = -1;

    if (strop_writers_aggregate(tree, info, &funcs, &edges, &n_edges) < 0)
        return -1;
    named = strop_malloc((size_t)n_funcs * sizeof *named);
    ids.file_id = strop_calloc(n_funcs, sizeof *ids.file_id);
    ids.flags = strop_calloc(n_funcs, sizeof *ids.flags);
    ids.file_defined = strop_calloc((size_t)n_funcs + 1, 1);
    first = strop_calloc((size_t)n_funcs + 1, sizeof *first);
    order = strop_malloc((n_edges ? n_edges : 1) * sizeof *order);
    if (!named || !ids.file_id || !ids.flags || !ids.file_defined || !first || !order) {
        errno = ENOMEM;
        goto done;
    }

    /* Which functions are written; their file ids; the names to tell apart. */
    for (uint32_t f = 0; f < n_funcs; f++) {
        const StropFuncStats *fs = &funcs[f];
        if (strop_func_named(tree, labels, f) && (fs->nc || fs->tt || fs->ct)) {
            ids.flags[f] = WRITTEN;
            named[n_named].label = &labels[f];
            named[n_named++].func = f;
            summary += strop_cost(fs->tt, info);
        }
    }
    qsort(named, n_named, sizeof *named, named_cmp);
    for (size_t i = 0, file = 0; i < n_named; i++) {
        const StropLabel *a = named[i].label, *prev = i ? named[i - 1].label : NULL;
        if (prev == NULL || bytes_cmp(a->file, a->file_len, prev->file, prev->file_len))
            file++;
        else if (bytes_cmp(a->name, a->name_len, prev->name, prev->name_len) == 0) {
            ids.flags[named[i].func] |= ADD_LINE;
            ids.flags[named[i - 1].func] |= ADD_LINE;
        }
        ids.file_id[named[i].func] = (uint32_t)file;
    }

    /* Edges grouped by caller: first[f] .. first[f+1] in `order`. */
    for (size_t e = 0; e < n_edges; e++)
        first[edges[e].caller]++;
    for (uint32_t f = 1; f < n_funcs; f++)
        first[f] += first[f - 1];
    first[n_funcs] = n_edges;
    for (size_t e = n_edges; e-- > 0;)
        order[--first[edges[e].caller]] = e;

    strop_buf_puts(&buf, "# callgrind format\nversion: 1\ncreator: strop\ncmd: ");
    if (info->command != NULL)
        strop_buf_put_utf8(&buf, info->command, strlen(info->command), "\n\r", "  ");
    strop_buf_printf(&buf, "\npositions: line\nevents: %s\nsummary: %" PRIu64 "\n",
                     info->sampled ? "samples" : "ns", summary);
    for (uint32_t f = 0; f < n_funcs; f++) {
        if (!(ids.flags[f] & WRITTEN))
            continue;
        strop_buf_putc(&buf, '\n');
        put_file(&buf, "fl", &ids, labels, f);
        put_fn(&buf, "fn", &ids, labels, f);
        strop_buf_printf(&buf, "%ld %" PRIu64 "\n", line_of(&labels[f]),
                         strop_cost(funcs[f].tt, info));
        for (size_t i = first[f]; i < first[f + 1]; i++) {
            const StropEdgeStats *edge = &edges[order[i]];
            uint32_t g = edge->callee;
            if (!(ids.flags[g] & WRITTEN) || edge->nc == 0)
                continue;
            put_file(&buf, "cfl", &ids, labels, g);
            put_fn(&buf, "cfn", &ids, labels, g);
            strop_buf_printf(&buf, "calls=%" PRIu64 " %ld\n%ld %" PRIu64 "\n", edge->nc,
                             line_of(&labels[g]), line_of(&labels[f]),
                             g == f ? 0 : strop_cost(edge->ct, info));
        }
        if (strop_buf_flush_some(&buf, out) < 0)
            goto done;
    }
    if (strop_buf_flush(&buf, out) < 0 || fflush(out) != 0)
        goto done;
    status = 0;
done:
    strop_buf_free(&buf);
    strop_free(funcs);
    strop_free(edges);
    strop_free(named);
    strop_free(ids.file_id);
    strop_free(ids.flags);
    strop_free(ids.file_defined);
    strop_free(first);
    strop_free(order);
    return status;
}
