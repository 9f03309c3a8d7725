/* folded.c: collapsed ("folded") stacks, the input of flamegraph.pl,
 * speedscope, inferno and gprof2dot's collapse reader.
 *
 * One line per root-to-node path whose node has an own value: the frames
 * ("func (file.py:line)", a built-in by its name alone) joined by ';', a
 * space, and an integer: own time in microseconds for a traced profile
 * (lines that round to 0 are left out), samples for a sampled one.  Frames of
 * unnamed functions are left out of the path, and their own time with them,
 * as the pstats writer leaves them out.  Written straight from the tree in
 * one pre-order walk, the path kept in a buffer cut back at each depth.
 */
#include <errno.h>
#include <inttypes.h>

#include "mem.h"
#include "textbuf.h"
#include "writers_int.h"

int
strop_folded_write(FILE *out, const StropTree *tree, const StropLabel *labels,
                   const StropWriteInfo *info)
{
    StropBuf path = {0}, text = {0};
    size_t *cut; /* cut[d]: length of the path above a node at depth d */
    uint32_t max_depth = strop_tree_max_depth(tree);
    int status = -1;

    cut = strop_malloc(((size_t)max_depth + 2) * sizeof *cut);
    if (cut == NULL) {
        errno = ENOMEM;
        return -1;
    }
    cut[1] = 0;
    for (uint32_t n = strop_tree_next(tree, STROP_ROOT); n != STROP_NONE;
         n = strop_tree_next(tree, n)) {
        const StropNode *node = &tree->nodes[n];
        uint64_t value;
        path.len = cut[node->depth];
        if (strop_func_named(tree, labels, node->func)) {
            if (path.len && strop_buf_putc(&path, ';') < 0)
                goto done;
            if (strop_buf_put_frame(&path, &labels[node->func]) < 0)
                goto done;
            if (info->sampled) {
                value = node->calls;
            }
            else {
                /* From the same whole ns as every other writer's, so that
                 * all round a node alike. */
                value = (strop_ticks_to_ns(node->self_ticks, info) + 500) / 1000;
            }
            if (value) {
                if (strop_buf_put(&text, path.data, path.len) < 0 ||
                    strop_buf_printf(&text, " %" PRIu64 "\n", value) < 0 ||
                    strop_buf_flush_some(&text, out) < 0)
                    goto done;
            }
        }
        cut[node->depth + 1] = path.len;
    }
    if (strop_buf_flush(&text, out) < 0 || fflush(out) != 0)
        goto done;
    status = 0;
done:
    strop_free(cut);
    strop_buf_free(&path);
    strop_buf_free(&text);
    return status;
}
