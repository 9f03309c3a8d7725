/* fuzz_common.h: what every reader's libFuzzer harness does after a read.
 *
 * A profile that loaded is folded into per-function totals (what every
 * writer does first), so a tree the reader built wrong shows up here and not
 * only in a writer.  Pure C, like the readers.
 */
#ifndef STROP_FUZZ_COMMON_H
#define STROP_FUZZ_COMMON_H

#include <stdlib.h>

#include "mem.h"
#include "readers.h"

static void
fuzz_use(StropLoaded *prof)
{
    StropFuncStats *funcs = strop_malloc((size_t)(prof->tree.n_funcs + 1) * sizeof *funcs);
    StropEdgeStats *edges = NULL;
    size_t n_edges = 0;
    if (funcs != NULL && strop_tree_aggregate(&prof->tree, funcs, &edges, &n_edges) == 0) {
        for (size_t e = 0; e < n_edges; e++)
            if (edges[e].caller >= prof->tree.n_funcs || edges[e].callee >= prof->tree.n_funcs)
                abort();
        strop_free(edges);
    }
    strop_free(funcs);
}

#endif /* STROP_FUZZ_COMMON_H */
