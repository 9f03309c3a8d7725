/* speedscope.c: speedscope's JSON file format (www.speedscope.app).
 *
 * One "sampled" profile in nanoseconds: `shared.frames` holds one frame
 * {name, file, line} per named function that appears (a built-in has no file
 * or line), `samples` one stack per node with an own value (frame indices,
 * root first), `weights` that value: own ns for a traced profile, samples *
 * period for a sampled one.  startValue is 0 and endValue the sum of the
 * weights.  Unnamed functions are left out of the stacks, and their nodes
 * are not samples.  A memory profile (info->unit "bytes") is in bytes.  One profile for all, or, when the root's children are
 * threads' root frames (writers_int.h's strop_thread_frame()), one profile
 * per thread named after it, the thread frame left out of its stacks; other
 * children of the root then go into one more profile named after the command.
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

/* What a profile holds: the subtree of the root child `only`, or (only =
 * STROP_NONE) those of every root child that is not a thread's frame. */
static int
in_profile(const StropTree *tree, const StropLabel *labels, const StropWriteInfo *info,
           uint32_t child, uint32_t only)
{
    StropThreadFrame tf;
    if (only != STROP_NONE)
        return child == only;
    return !strop_node_thread(tree, labels, info, child, &tf);
}

/* Writes one "sampled" profile named `name`.  Returns 1 when written, 0 when
 * it had nothing to write and `skip_empty`, or -1 with errno set. */
static int
put_profile(StropBuf *buf, FILE *out, const StropTree *tree, const StropLabel *labels,
            const StropWriteInfo *info, const uint32_t *frame_of, uint32_t *path,
            uint32_t *height, uint32_t only, const char *name, size_t name_len,
            int comma, int skip_empty)
{
    uint64_t end = 0;
    int first, pass;
    uint32_t c;
    if (skip_empty) {
        for (c = tree->nodes[STROP_ROOT].first_child; c != STROP_NONE;
             c = tree->nodes[c].next_sibling) {
            if (!in_profile(tree, labels, info, c, only))
                continue;
            for (uint32_t n = c; n != STROP_NONE && (n == c || tree->nodes[n].depth > 1);
                 n = strop_tree_next(tree, n))
                if (strop_func_named(tree, labels, tree->nodes[n].func) &&
                    weight_of(&tree->nodes[n], info))
                    goto write;
        }
        return 0;
    }
write:
    strop_buf_puts(buf, comma ? ",{\"type\":\"sampled\",\"name\":" : "{\"type\":\"sampled\",\"name\":");
    put_json_str(buf, name, name_len);
    strop_buf_puts(buf, info->unit != NULL && strcmp(info->unit, "bytes") == 0
                            ? ",\"unit\":\"bytes\",\"samples\":["
                            : ",\"unit\":\"nanoseconds\",\"samples\":[");
    /* Pass 0: the stacks, path[0 .. height[d]) the frames above depth d;
     * pass 1: the weights, in the same order. */
    for (pass = 0; pass < 2; pass++) {
        first = 1;
        height[1] = 0;
        for (c = tree->nodes[STROP_ROOT].first_child; c != STROP_NONE;
             c = tree->nodes[c].next_sibling) {
            if (!in_profile(tree, labels, info, c, only))
                continue;
            for (uint32_t n = c; n != STROP_NONE && (n == c || tree->nodes[n].depth > 1);
                 n = strop_tree_next(tree, n)) {
                const StropNode *node = &tree->nodes[n];
                uint32_t h = height[node->depth];
                uint64_t w = weight_of(node, info);
                if (n != only && strop_func_named(tree, labels, node->func)) {
                    path[h++] = frame_of[node->func];
                    if (w && pass == 0) {
                        strop_buf_puts(buf, first ? "[" : ",[");
                        first = 0;
                        for (uint32_t i = 0; i < h; i++)
                            strop_buf_printf(buf, i ? ",%" PRIu32 : "%" PRIu32, path[i]);
                        strop_buf_putc(buf, ']');
                    }
                    else if (w) {
                        strop_buf_printf(buf, first ? "%" PRIu64 : ",%" PRIu64, w);
                        first = 0;
                        end += w;
                    }
                    if (strop_buf_flush_some(buf, out) < 0)
                        return -1;
                }
                height[node->depth + 1] = h;
            }
        }
        if (pass == 0)
            strop_buf_puts(buf, "],\"weights\":[");
    }
    strop_buf_printf(buf, "],\"startValue\":0,\"endValue\":%" PRIu64 "}", end);
    return 1;
}

int
strop_speedscope_write(FILE *out, const StropTree *tree, const StropLabel *labels,
                       const StropWriteInfo *info)
{
    StropBuf buf = {0};
    StropThreadFrame tf;
    uint32_t *frame_of = NULL, *path = NULL, *height = NULL, n_frames = 0;
    uint32_t max_depth = strop_tree_max_depth(tree);
    const char *name = info->command ? info->command : "strop profile";
    int status = -1, threads = strop_tree_has_threads(tree, labels, info), rc;

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
            (n == STROP_OVERFLOW_NODE && !weight_of(&tree->nodes[n], info)) ||
            (threads && strop_node_thread(tree, labels, info, n, &tf)))
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
    strop_buf_puts(&buf, "]},\"profiles\":[");
    if (!threads) {
        if (put_profile(&buf, out, tree, labels, info, frame_of, path, height, STROP_NONE, name,
                        strlen(name), 0, 0) < 0)
            goto done;
    }
    else {
        int comma = 0;
        for (uint32_t c = tree->nodes[STROP_ROOT].first_child; c != STROP_NONE;
             c = tree->nodes[c].next_sibling) {
            if (!strop_node_thread(tree, labels, info, c, &tf))
                continue;
            rc = put_profile(&buf, out, tree, labels, info, frame_of, path, height, c, tf.name,
                             tf.name_len, comma, 1);
            if (rc < 0)
                goto done;
            comma |= rc;
        }
        rc = put_profile(&buf, out, tree, labels, info, frame_of, path, height, STROP_NONE,
                         name, strlen(name), comma, comma);
        if (rc < 0)
            goto done;
    }
    strop_buf_puts(&buf, "]}\n");
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
