/* dot.c: the call graph as Graphviz dot, drawn the way gprof2dot draws it.
 *
 * Nodes are functions, labelled "file:line\nname\ntotal%\n(self%)\ncalls×"
 * (a built-in without the first line; a sampled profile without calls);
 * edges go caller -> callee, labelled "total%\ncalls×".  A function's total
 * is its cumulative time with recursion counted once (cProfile's ct, so a
 * recursion cycle is not counted again around the loop), an edge's total the
 * cumulative time of the calls along it; both are shares of the profile's
 * total, the sum of every function's own time (unnamed ones too, whose time
 * is in their callers' cumulative time).  Nodes below
 * info->node_thres and edges below info->edge_thres (shares) are pruned.
 * Colour runs from dark blue (cold) to red (hot) by total share, the text
 * white or black for contrast; an edge's pen grows with its share.  Labels
 * are escaped for dot's "..." strings.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "mem.h"
#include "textbuf.h"
#include "writers_int.h"

#define TIMES "\xc3\x97" /* U+00D7 MULTIPLICATION SIGN */

/* Square root of x in [0, 1], by Newton's method: enough for colours, and no
 * libm to link. */
static double
root(double x)
{
    double r = 1.0;
    if (x <= 0)
        return 0;
    for (int i = 0; i < 30; i++)
        r = 0.5 * (r + x / r);
    return r;
}

static double
absolute(double x)
{
    return x < 0 ? -x : x;
}

/* The colour of `share` (0 to 1) as "#rrggbb" in `hex`, and 1 when the text
 * on it should be black.  Hue runs from blue (240°) to red (0°); a square
 * root spreads the small shares that most functions have; cold colours are
 * darker, as a cold node should not catch the eye. */
int
strop_dot_colour(double share, char hex[8])
{
    double t = share <= 0 ? 0 : share >= 1 ? 1 : root(share);
    double h = (1.0 - t) * 240.0, s = 1.0, l = 0.30 + 0.15 * t;
    double c = (1.0 - absolute(2.0 * l - 1.0)) * s;
    double hp = h / 60.0, m = l - c / 2.0;
    double x = c * (1.0 - absolute((hp >= 2.0 ? hp - 2.0 : hp) - 1.0));
    double r = 0, g = 0, b = 0, lum;
    if (hp < 1) {
        r = c;
        g = x;
    }
    else if (hp < 2) {
        r = x;
        g = c;
    }
    else if (hp < 3) {
        g = c;
        b = x;
    }
    else {
        g = x;
        b = c;
    }
    r += m;
    g += m;
    b += m;
    snprintf(hex, 8, "#%02x%02x%02x", (unsigned)(r * 255 + 0.5) & 0xff,
             (unsigned)(g * 255 + 0.5) & 0xff, (unsigned)(b * 255 + 0.5) & 0xff);
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    return lum > 0.45;
}

/* The last part of a path: the module's file name without its folders. */
static const char *
base_name(const char *file, size_t len, size_t *base_len)
{
    size_t i = len;
    while (i > 0 && file[i - 1] != '/' && file[i - 1] != '\\')
        i--;
    *base_len = len - i;
    return file + i;
}

int
strop_dot_write(FILE *out, const StropTree *tree, const StropLabel *labels,
                const StropWriteInfo *info)
{
    StropFuncStats *funcs = NULL;
    StropEdgeStats *edges = NULL;
    size_t n_edges = 0;
    unsigned char *keep = NULL;
    StropBuf buf = {0};
    uint64_t total = 0;
    double scale;
    char hex[8];
    int status = -1;

    if (strop_writers_aggregate(tree, info, &funcs, &edges, &n_edges) < 0)
        return -1;
    keep = strop_calloc(tree->n_funcs, 1);
    if (keep == NULL) {
        errno = ENOMEM;
        goto done;
    }
    /* The unnamed functions' own time is in the total, as it is in their
     * callers' cumulative time. */
    for (uint32_t f = 0; f < tree->n_funcs; f++)
        total += funcs[f].tt;
    scale = total ? 1.0 / (double)total : 0.0;

    strop_buf_puts(&buf, "digraph {\n"
                         "\tgraph [nodesep=0.125, ranksep=0.25];\n"
                         "\tnode [height=0, shape=box, style=filled, width=0, fontsize=10];\n"
                         "\tedge [fontsize=10];\n");
    for (uint32_t f = 0; f < tree->n_funcs; f++) {
        const StropFuncStats *fs = &funcs[f];
        const StropLabel *label = &labels[f];
        double share = (double)fs->ct * scale;
        int dark_text;
        if (!strop_func_named(tree, labels, f) || (fs->nc == 0 && fs->ct == 0) || total == 0 ||
            share < info->node_thres)
            continue;
        keep[f] = 1;
        dark_text = strop_dot_colour(share, hex);
        strop_buf_printf(&buf, "\tf%" PRIu32 " [color=\"%s\", fontcolor=\"%s\", label=\"", f, hex,
                         dark_text ? "#000000" : "#ffffff");
        if (!strop_label_is_builtin(label)) {
            size_t base_len;
            const char *base = base_name(label->file, label->file_len, &base_len);
            strop_buf_put_dot(&buf, base, base_len);
            strop_buf_printf(&buf, ":%ld\\n", label->line);
        }
        strop_buf_put_dot(&buf, label->name, label->name_len);
        strop_buf_printf(&buf, "\\n%.2f%%\\n(%.2f%%)", 100.0 * share,
                         100.0 * (double)fs->tt * scale);
        if (!info->sampled)
            strop_buf_printf(&buf, "\\n%" PRIu64 TIMES, fs->nc);
        strop_buf_puts(&buf, "\"];\n");
        if (strop_buf_flush_some(&buf, out) < 0)
            goto done;
    }
    for (size_t e = 0; e < n_edges; e++) {
        const StropEdgeStats *edge = &edges[e];
        double share = (double)edge->ct * scale, pen;
        if (!keep[edge->caller] || !keep[edge->callee] || edge->nc == 0 ||
            share < info->edge_thres)
            continue;
        strop_dot_colour(share, hex);
        pen = 0.5 + 3.5 * (share > 1 ? 1 : share);
        strop_buf_printf(&buf,
                         "\tf%" PRIu32 " -> f%" PRIu32 " [color=\"%s\", fontcolor=\"%s\", "
                         "penwidth=%.2f, arrowsize=%.2f, label=\"%.2f%%",
                         edge->caller, edge->callee, hex, hex, pen,
                         root(pen / 4.0) /* 0.5 * sqrt(pen) */, 100.0 * share);
        if (!info->sampled)
            strop_buf_printf(&buf, "\\n%" PRIu64 TIMES, edge->nc);
        strop_buf_puts(&buf, "\"];\n");
        if (strop_buf_flush_some(&buf, out) < 0)
            goto done;
    }
    strop_buf_puts(&buf, "}\n");
    if (strop_buf_flush(&buf, out) < 0 || fflush(out) != 0)
        goto done;
    status = 0;
done:
    strop_buf_free(&buf);
    strop_free(funcs);
    strop_free(edges);
    strop_free(keep);
    return status;
}
