/* speedscope.c: speedscope's JSON file format (www.speedscope.app).
 *
 * One "sampled" profile in nanoseconds: `shared.frames` holds one frame
 * {name, file, line} per named function that appears (a built-in has no file
 * or line), `samples` one stack per node with an own value (frame indices,
 * root first), `weights` that value: own ns for a traced profile, samples *
 * period for a sampled one.  startValue is 0 and endValue the sum of the
 * weights.  Unnamed functions are left out of the stacks, and their nodes
 * are not samples.  The tree does not know threads: one profile for all.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "mem.h"
#include "textbuf.h"
#include "writers_int.h"

static uint64_t
weight_of(const StropNode *node, const StropWriteInfo *info)
{
    return info->sampled ? node->calls * info->period_ns
                         : strop_ticks_to_ns(node->self_ticks, info);
}

static void
put_json_str(StropBuf *buf, const char *s, size_t len)
{
    strop_buf_putc(buf, '"');
    strop_buf_put_json(buf, s, len);
    strop_buf_putc(buf, '"');
}

int
strop_speedscope_write(FILE *out, const StropTree *tree, const StropLabel *labels,
                       const StropWriteInfo *info)
{
    StropBuf buf = {0};
    uint32_t *frame_of = NULL, *path = NULL, *height = NULL, n_frames = 0;
    uint32_t max_depth = strop_tree_max_depth(tree);
    const char *name = info->command ? info->command : "strop profile";
    uint64_t end = 0;
    int status = -1, first;

    frame_of = strop_malloc((size_t)tree->n_funcs * sizeof *frame_of);
    path = strop_malloc(((size_t)max_depth + 1) * sizeof *path);
    height = strop_malloc(((size_t)max_depth + 2) * sizeof *height);
    if (!frame_of || !path || !height) {
        errno = ENOMEM;
        goto done;
    }
    memset(frame_of, 0xff, (size_t)tree->n_funcs * sizeof *frame_of);

    strop_buf_puts(&buf, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
                         "\"exporter\":\"strop\",\"name\":");
    put_json_str(&buf, name, strlen(name));
    strop_buf_puts(&buf, ",\"activeProfileIndex\":0,\"shared\":{\"frames\":[");
    for (uint32_t n = STROP_OVERFLOW_NODE; n < tree->n_nodes; n++) {
        uint32_t f = tree->nodes[n].func;
        const StropLabel *label = &labels[f];
        if (!strop_func_named(tree, labels, f) || frame_of[f] != STROP_NONE ||
            (n == STROP_OVERFLOW_NODE && !weight_of(&tree->nodes[n], info)))
            continue;
        frame_of[f] = n_frames++;
        strop_buf_puts(&buf, n_frames > 1 ? ",{\"name\":" : "{\"name\":");
        put_json_str(&buf, label->name, label->name_len);
        if (!strop_label_is_builtin(label)) {
            strop_buf_puts(&buf, ",\"file\":");
            put_json_str(&buf, label->file, label->file_len);
            strop_buf_printf(&buf, ",\"line\":%ld", label->line > 0 ? label->line : 0);
        }
        strop_buf_putc(&buf, '}');
        if (strop_buf_flush_some(&buf, out) < 0)
            goto done;
    }
    strop_buf_puts(&buf, "]},\"profiles\":[{\"type\":\"sampled\",\"name\":");
    put_json_str(&buf, name, strlen(name));
    strop_buf_puts(&buf, ",\"unit\":\"nanoseconds\",\"samples\":[");

    /* Pass 1: the stacks; path[0 .. height[d]) are the frames above depth d. */
    first = 1;
    height[1] = 0;
    for (uint32_t n = strop_tree_next(tree, STROP_ROOT); n != STROP_NONE;
         n = strop_tree_next(tree, n)) {
        const StropNode *node = &tree->nodes[n];
        uint32_t h = height[node->depth];
        if (strop_func_named(tree, labels, node->func)) {
            path[h++] = frame_of[node->func];
            if (weight_of(node, info)) {
                strop_buf_puts(&buf, first ? "[" : ",[");
                first = 0;
                for (uint32_t i = 0; i < h; i++)
                    strop_buf_printf(&buf, i ? ",%" PRIu32 : "%" PRIu32, path[i]);
                strop_buf_putc(&buf, ']');
                if (strop_buf_flush_some(&buf, out) < 0)
                    goto done;
            }
        }
        height[node->depth + 1] = h;
    }
    strop_buf_puts(&buf, "],\"weights\":[");

    /* Pass 2: the weights, in the same order. */
    first = 1;
    for (uint32_t n = strop_tree_next(tree, STROP_ROOT); n != STROP_NONE;
         n = strop_tree_next(tree, n)) {
        const StropNode *node = &tree->nodes[n];
        uint64_t w = weight_of(node, info);
        if (!strop_func_named(tree, labels, node->func) || w == 0)
            continue;
        strop_buf_printf(&buf, first ? "%" PRIu64 : ",%" PRIu64, w);
        first = 0;
        end += w;
        if (strop_buf_flush_some(&buf, out) < 0)
            goto done;
    }
    strop_buf_printf(&buf, "],\"startValue\":0,\"endValue\":%" PRIu64 "}]}\n", end);
    if (strop_buf_flush(&buf, out) < 0 || fflush(out) != 0)
        goto done;
    status = 0;
done:
    strop_buf_free(&buf);
    strop_free(frame_of);
    strop_free(path);
    strop_free(height);
    return status;
}
