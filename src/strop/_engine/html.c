/* html.c: the self-contained HTML report (one file, works offline).
 *
 * The page itself (markup, style, script) is not here: it is the template
 * src/strop/report.html, which the caller reads and passes in
 * StropWriteInfo.html_template.  This file writes the template up to
 * STROP_HTML_MARK, the profile as one JSON object, and the rest of the
 * template.  The mark sits inside <script type="application/json">, so the
 * JSON must never contain `</script` or `<!--`: every `<`, `>` and `&` in a
 * string is written as \u003c, \u003e, \u0026, which JSON.parse reads back.
 *
 * The JSON (version 1), all times in the profile's unit ("ns" when traced,
 * "samples" when sampled):
 *   command, python, time_kind, sampled, unit, period_ns, duration_ns,
 *   date_unix_ms (when recording started, else when written), calls (calls
 *   or samples in all), folded (calls beyond the tree's caps);
 *   funcs: [[name, file, line], ...] for the functions that appear;
 *   stats: [cc, nc, tt, ct, ...] four per function, pstats' numbers
 *     (strop_writers_aggregate: recursion counted once in ct);
 *   tree: {parent, func, self, total, calls}: one entry per node in
 *     depth-first pre-order, entry 0 the root (func -1, total the sum of its
 *     children).  A node of an unnamed function is left out and its children
 *     hang from its parent; parents come before their children, and a
 *     node's children follow it in order, so one forward pass lays them out;
 *   callgraph_svg: the call graph drawn by graphviz, or null;
 *   callgraph_note: why there is none, or null;
 *   map_svg: the map of interactions drawn by graphviz (a sampled run in
 *     wall mode), or null; map_text: the waits table as text, or null;
 *   sampling: {rate, achieved_rate, readings, unreadable} for a profile the
 *     sampler wrote (rates in Hz; readings of a thread's stack, and how many
 *     of them could not be read), or null (traced, or loaded from a file).
 *
 * Pure C, no Python.h.  The page's script builds the views from the JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "mem.h"
#include "textbuf.h"
#include "writers_int.h"

/* Appends a JSON string safe inside <script>: put_json's escapes, plus
 * `<`, `>` and `&` as \u escapes. */
static void
put_str(StropBuf *buf, const char *s, size_t len)
{
    size_t run = 0;
    strop_buf_putc(buf, '"');
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c != '<' && c != '>' && c != '&')
            continue;
        strop_buf_put_json(buf, s + run, i - run);
        strop_buf_puts(buf, c == '<' ? "\\u003c" : c == '>' ? "\\u003e" : "\\u0026");
        run = i + 1;
    }
    strop_buf_put_json(buf, s + run, len - run);
    strop_buf_putc(buf, '"');
}

static void
put_cstr_or_null(StropBuf *buf, const char *s)
{
    if (s == NULL)
        strop_buf_puts(buf, "null");
    else
        put_str(buf, s, strlen(s));
}

/* The first `mark` in `text`, or NULL. */
static const char *
find_mark(const char *text, size_t len, const char *mark)
{
    size_t m = strlen(mark);
    for (size_t i = 0; i + m <= len; i++)
        if (text[i] == mark[0] && memcmp(text + i, mark, m) == 0)
            return text + i;
    return NULL;
}

/* Whether node `n` goes into the page: its function is named, and the
 * catch-all only when something fell into it. */
static int
shown(const StropTree *tree, const StropLabel *labels, uint32_t n)
{
    const StropNode *node = &tree->nodes[n];
    if (!strop_func_named(tree, labels, node->func))
        return 0;
    return n != STROP_OVERFLOW_NODE || node->calls != 0 || node->total_ticks != 0;
}

int
strop_html_write(FILE *out, const StropTree *tree, const StropLabel *labels,
                 const StropWriteInfo *info)
{
    StropBuf buf = {0};
    StropFuncStats *stats = NULL;
    StropEdgeStats *edges = NULL;
    size_t n_edges = 0;
    uint32_t *order = NULL;   /* shown nodes in pre-order; order[0] is the root */
    uint32_t *parent = NULL;  /* the page's index of each one's parent */
    uint32_t *func_of = NULL; /* function -> the page's index, or STROP_NONE */
    uint32_t *above = NULL;   /* above[d]: page index of the nearest shown node above depth d */
    uint64_t *samples = NULL; /* sampled: samples in each node's subtree */
    uint64_t root_total = 0, calls = 0, date_ms;
    uint32_t n_shown = 1, n_funcs = 0, max_depth = strop_tree_max_depth(tree);
    const char *mark, *rest;
    int status = -1;

    if (info->html_template == NULL ||
        (mark = find_mark(info->html_template, info->html_template_len, STROP_HTML_MARK)) ==
            NULL) {
        errno = EINVAL;
        return -1;
    }
    rest = mark + strlen(STROP_HTML_MARK);

    order = strop_malloc((size_t)tree->n_nodes * sizeof *order);
    parent = strop_malloc((size_t)tree->n_nodes * sizeof *parent);
    func_of = strop_malloc((size_t)tree->n_funcs * sizeof *func_of);
    above = strop_malloc(((size_t)max_depth + 2) * sizeof *above);
    if (!order || !parent || !func_of || !above)
        goto nomem;
    if (info->sampled) {
        samples = strop_malloc((size_t)tree->n_nodes * sizeof *samples);
        if (samples == NULL)
            goto nomem;
        for (uint32_t n = 0; n < tree->n_nodes; n++)
            samples[n] = tree->nodes[n].calls;
        for (uint32_t n = tree->n_nodes; n-- > 1;)
            samples[tree->nodes[n].parent] += samples[n];
    }
    if (strop_writers_aggregate(tree, info, &stats, &edges, &n_edges) < 0)
        goto nomem;
    memset(func_of, 0xff, (size_t)tree->n_funcs * sizeof *func_of);

    /* The nodes that are shown, their parents among them, and their functions. */
    order[0] = STROP_ROOT;
    parent[0] = STROP_NONE;
    above[1] = 0;
    for (uint32_t n = strop_tree_next(tree, STROP_ROOT); n != STROP_NONE;
         n = strop_tree_next(tree, n)) {
        const StropNode *node = &tree->nodes[n];
        uint32_t up = above[node->depth];
        if (node->depth == 1)
            root_total += info->sampled ? samples[n] : strop_ticks_to_ns(node->total_ticks, info);
        if (shown(tree, labels, n)) {
            order[n_shown] = n;
            parent[n_shown] = up;
            up = n_shown++;
            calls += node->calls;
            if (func_of[node->func] == STROP_NONE)
                func_of[node->func] = n_funcs++;
        }
        above[node->depth + 1] = up;
    }

    /* Part 1 of the page, as it is. */
    errno = 0;
    if (mark > info->html_template &&
        fwrite(info->html_template, 1, (size_t)(mark - info->html_template), out) !=
            (size_t)(mark - info->html_template)) {
        if (errno == 0)
            errno = EIO;
        goto done;
    }

    date_ms = info->start_unix_ns ? info->start_unix_ns / 1000000u
                                  : (uint64_t)time(NULL) * 1000u;
    strop_buf_puts(&buf, "{\"format\":\"strop-report\",\"version\":1,\"command\":");
    put_cstr_or_null(&buf, info->command);
    strop_buf_puts(&buf, ",\"python\":");
    put_cstr_or_null(&buf, info->python_version);
    strop_buf_puts(&buf, ",\"time_kind\":");
    put_cstr_or_null(&buf, info->time_kind);
    strop_buf_printf(&buf,
                     ",\"sampled\":%s,\"unit\":\"%s\",\"period_ns\":%" PRIu64
                     ",\"duration_ns\":%" PRIu64 ",\"date_unix_ms\":%" PRIu64
                     ",\"calls\":%" PRIu64 ",\"folded\":%" PRIu64 ",\"funcs\":[",
                     info->sampled ? "true" : "false",
                     info->unit != NULL ? info->unit : info->sampled ? "samples" : "ns",
                     info->period_ns, info->duration_ns, date_ms, calls, tree->folded);

    /* Functions in the page's order: by first appearance. */
    {
        uint32_t next = 0;
        for (uint32_t i = 1; i < n_shown; i++) {
            uint32_t f = tree->nodes[order[i]].func;
            const StropLabel *label = &labels[f];
            if (func_of[f] != next)
                continue; /* seen before */
            strop_buf_puts(&buf, next ? ",[" : "[");
            put_str(&buf, label->name, label->name_len);
            strop_buf_putc(&buf, ',');
            put_str(&buf, label->file, label->file_len);
            strop_buf_printf(&buf, ",%ld]", label->line > 0 ? label->line : 0);
            next++;
            if (strop_buf_flush_some(&buf, out) < 0)
                goto done;
        }
        strop_buf_puts(&buf, "],\"stats\":[");
        next = 0;
        for (uint32_t i = 1; i < n_shown; i++) {
            uint32_t f = tree->nodes[order[i]].func;
            const StropFuncStats *s = &stats[f];
            if (func_of[f] != next)
                continue;
            strop_buf_printf(&buf, "%s%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64,
                             next ? "," : "", s->cc, s->nc, strop_cost(s->tt, info),
                             strop_cost(s->ct, info));
            next++;
            if (strop_buf_flush_some(&buf, out) < 0)
                goto done;
        }
    }

    /* The tree, one array per field. */
    strop_buf_puts(&buf, "],\"tree\":{\"parent\":[-1");
    for (uint32_t i = 1; i < n_shown; i++) {
        strop_buf_printf(&buf, ",%" PRIu32, parent[i]);
        if (strop_buf_flush_some(&buf, out) < 0)
            goto done;
    }
    strop_buf_puts(&buf, "],\"func\":[-1");
    for (uint32_t i = 1; i < n_shown; i++) {
        strop_buf_printf(&buf, ",%" PRIu32, func_of[tree->nodes[order[i]].func]);
        if (strop_buf_flush_some(&buf, out) < 0)
            goto done;
    }
    strop_buf_puts(&buf, "],\"self\":[0");
    for (uint32_t i = 1; i < n_shown; i++) {
        const StropNode *node = &tree->nodes[order[i]];
        strop_buf_printf(&buf, ",%" PRIu64,
                         info->sampled ? node->calls : strop_ticks_to_ns(node->self_ticks, info));
        if (strop_buf_flush_some(&buf, out) < 0)
            goto done;
    }
    strop_buf_printf(&buf, "],\"total\":[%" PRIu64, root_total);
    for (uint32_t i = 1; i < n_shown; i++) {
        const StropNode *node = &tree->nodes[order[i]];
        strop_buf_printf(&buf, ",%" PRIu64,
                         info->sampled ? samples[order[i]]
                                       : strop_ticks_to_ns(node->total_ticks, info));
        if (strop_buf_flush_some(&buf, out) < 0)
            goto done;
    }
    strop_buf_puts(&buf, "],\"calls\":[0");
    for (uint32_t i = 1; i < n_shown; i++) {
        strop_buf_printf(&buf, ",%" PRIu64, tree->nodes[order[i]].calls);
        if (strop_buf_flush_some(&buf, out) < 0)
            goto done;
    }

    strop_buf_puts(&buf, "]},\"callgraph_svg\":");
    if (info->html_svg == NULL)
        strop_buf_puts(&buf, "null");
    else
        put_str(&buf, info->html_svg, info->html_svg_len);
    strop_buf_puts(&buf, ",\"callgraph_note\":");
    put_cstr_or_null(&buf, info->html_note);
    strop_buf_puts(&buf, ",\"map_svg\":");
    if (info->map_svg == NULL)
        strop_buf_puts(&buf, "null");
    else
        put_str(&buf, info->map_svg, info->map_svg_len);
    strop_buf_puts(&buf, ",\"map_text\":");
    put_cstr_or_null(&buf, info->map_text);
    strop_buf_puts(&buf, ",\"machine\":");
    put_cstr_or_null(&buf, info->machine);
    if (info->sampled && info->rate_asked > 0)
        strop_buf_printf(&buf,
                         ",\"sampling\":{\"rate\":%.6g,\"achieved_rate\":%.6g,\"readings\":%" PRIu64
                         ",\"unreadable\":%" PRIu64 "}",
                         info->rate_asked, info->rate_achieved, info->readings, info->unreadable);
    else
        strop_buf_puts(&buf, ",\"sampling\":null");
    strop_buf_putc(&buf, '}');
    if (strop_buf_flush(&buf, out) < 0)
        goto done;

    /* Part 2 of the page. */
    {
        size_t tail = info->html_template_len - (size_t)(rest - info->html_template);
        errno = 0;
        if (tail && fwrite(rest, 1, tail, out) != tail) {
            if (errno == 0)
                errno = EIO;
            goto done;
        }
    }
    if (fflush(out) != 0)
        goto done;
    status = 0;
    goto done;
nomem:
    errno = ENOMEM;
done:
    strop_buf_free(&buf);
    strop_free(stats);
    strop_free(edges);
    strop_free(order);
    strop_free(parent);
    strop_free(func_of);
    strop_free(above);
    strop_free(samples);
    return status;
}
