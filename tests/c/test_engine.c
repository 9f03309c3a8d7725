/* test_engine.c: unit tests of the engine's pure-C parts (no Python.h).
 *
 * Usage: test_engine OUT.prof
 * Checks the calling-context tree, its aggregation into pstats totals (the
 * recursion rules of cProfile), the caps, and survival of every allocation
 * failing in turn; writes a small pstats file to OUT.prof for the Python side
 * of the test to load with the stdlib's marshal and pstats.
 * Prints "N passed, N failed" and exits non-zero on a failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cct.h"
#include "clock.h"
#include "mem.h"
#include "pstats.h"

#include "check.h"

/* A tiny tracer over the tree: a stack of nodes and a fake clock. */
typedef struct {
    StropTree *tree;
    uint32_t stack[64];
    uint64_t start[64], child[64];
    int depth;
    uint64_t now;
} Sim;

static int
sim_call(Sim *s, uintptr_t key)
{
    uint32_t parent = s->depth ? s->stack[s->depth - 1] : STROP_ROOT;
    uint32_t c = strop_tree_child_find(s->tree, parent, key);
    if (c == STROP_NONE) {
        uint32_t f = strop_tree_func_find(s->tree, key);
        if (f == STROP_NONE)
            f = strop_tree_func_add(s->tree, key, STROP_NONE);
        if (f == STROP_NONE)
            return -1;
        c = strop_tree_child_add(s->tree, parent, key, f);
        if (c == STROP_NONE)
            return -1;
    }
    s->stack[s->depth] = c;
    s->start[s->depth] = s->now;
    s->child[s->depth] = 0;
    s->depth++;
    return 0;
}

static void
sim_return(Sim *s)
{
    int d = --s->depth;
    StropNode *n = &s->tree->nodes[s->stack[d]];
    uint64_t elapsed = s->now - s->start[d];
    n->calls++;
    n->total_ticks += elapsed;
    n->self_ticks += elapsed - s->child[d];
    if (d)
        s->child[d - 1] += elapsed;
}

/* main(1) -> fact(2) -> fact(3) -> fact(4); main -> helper(5) twice; each
 * function spends 10 ticks of its own. */
static int
build_program(StropTree *tree)
{
    Sim s = {tree, {0}, {0}, {0}, 0, 0};
    if (sim_call(&s, 1) < 0)
        return -1;
    s.now += 10;
    for (int i = 0; i < 3; i++) {
        if (sim_call(&s, 2) < 0)
            return -1;
        s.now += 10;
    }
    for (int i = 0; i < 3; i++)
        sim_return(&s);
    for (int i = 0; i < 2; i++) {
        if (sim_call(&s, 5) < 0)
            return -1;
        s.now += 10;
        sim_return(&s);
    }
    sim_return(&s);
    return 0;
}

static void
test_aggregate(void)
{
    StropTree tree;
    StropFuncStats funcs[16];
    StropEdgeStats *edges = NULL;
    size_t n_edges = 0;
    uint32_t fmain, ffact, fhelp;

    CHECK(strop_tree_init(&tree, 0, 0) == 0);
    CHECK(build_program(&tree) == 0);
    CHECK(strop_tree_aggregate(&tree, funcs, &edges, &n_edges) == 0);
    fmain = strop_tree_func_find(&tree, 1);
    ffact = strop_tree_func_find(&tree, 2);
    fhelp = strop_tree_func_find(&tree, 5);
    CHECK(funcs[fmain].nc == 1 && funcs[fmain].cc == 1);
    CHECK(funcs[fmain].tt == 10 && funcs[fmain].ct == 60);
    /* Recursion counted once: 3 calls, 1 primitive, cumulative = outermost. */
    CHECK(funcs[ffact].nc == 3 && funcs[ffact].cc == 1);
    CHECK(funcs[ffact].tt == 30 && funcs[ffact].ct == 30);
    CHECK(funcs[fhelp].nc == 2 && funcs[fhelp].cc == 2 && funcs[fhelp].ct == 20);
    CHECK(n_edges == 3);
    for (size_t e = 0; e < n_edges; e++) {
        if (edges[e].caller == ffact && edges[e].callee == ffact) {
            /* fact->fact: 2 calls, of which the outer one is primitive. */
            CHECK(edges[e].nc == 2 && edges[e].cc == 1);
            CHECK(edges[e].tt == 20 && edges[e].ct == 20);
        }
        if (edges[e].caller == fmain && edges[e].callee == ffact)
            CHECK(edges[e].nc == 1 && edges[e].cc == 1 && edges[e].ct == 30);
    }
    strop_free(edges);
    strop_tree_free(&tree);
    strop_tree_free(&tree); /* safe twice */
}

static void
test_caps(void)
{
    StropTree tree;
    Sim s;
    CHECK(strop_tree_init(&tree, 8, 4) == 0);
    s = (Sim){&tree, {0}, {0}, {0}, 0, 0};
    /* 100 distinct functions under one caller: the caps fold the rest. */
    CHECK(sim_call(&s, 1) == 0);
    for (uintptr_t k = 2; k < 102; k++) {
        CHECK(sim_call(&s, k) == 0);
        s.now++;
        sim_return(&s);
    }
    sim_return(&s);
    CHECK(tree.n_nodes <= 8);
    CHECK(tree.n_funcs <= 4);
    CHECK(tree.nodes[STROP_OVERFLOW_NODE].calls + tree.folded > 0);
    strop_tree_free(&tree);
}

static void
test_many_nodes(void)
{
    StropTree tree;
    Sim s;
    CHECK(strop_tree_init(&tree, 0, 0) == 0);
    s = (Sim){&tree, {0}, {0}, {0}, 0, 0};
    /* Enough nodes and functions to make both tables grow several times. */
    for (uintptr_t a = 1; a <= 300; a++) {
        CHECK(sim_call(&s, a) == 0);
        for (uintptr_t b = 1000; b < 1040; b++) {
            if (sim_call(&s, b) < 0) {
                CHECK(0);
                break;
            }
            sim_return(&s);
        }
        sim_return(&s);
    }
    CHECK(tree.n_nodes == 2 + 300 + 300 * 40);
    CHECK(tree.n_funcs == 1 + 300 + 40);
    /* Every lookup still finds its node. */
    CHECK(strop_tree_child_find(&tree, strop_tree_child_find(&tree, STROP_ROOT, 77), 1033) !=
          STROP_NONE);
    strop_tree_free(&tree);
}

/* Every allocation failing in turn: each call reports the failure, none
 * crashes or leaks (ASan and LeakSanitizer watch), and once the failure
 * comes late enough everything succeeds. */
static void
test_out_of_memory(void)
{
    int reported = 0, succeeded_at = 0;
    for (long n = 1; n < 60 && !succeeded_at; n++) {
        StropTree tree;
        StropFuncStats funcs[16];
        StropEdgeStats *edges = NULL;
        size_t n_edges = 0;
        int ok = 0;
        strop_mem_fail_after(n, 0);
        if (strop_tree_init(&tree, 0, 0) == 0) {
            if (build_program(&tree) == 0 &&
                strop_tree_aggregate(&tree, funcs, &edges, &n_edges) == 0) {
                strop_free(edges);
                ok = 1;
            }
            strop_tree_free(&tree);
        }
        strop_mem_fail_after(0, 0);
        if (ok)
            succeeded_at = (int)n;
        else
            reported++;
    }
    CHECK(reported >= 4); /* the init's four allocations each failed visibly */
    CHECK(succeeded_at > 0);
}

static void
test_clock(void)
{
    uint64_t a, b, ns0, ns1;
    CHECK(strop_clock_init() == 0);
    CHECK(strop_clock_ns_per_tick > 0);
    ns0 = strop_clock_mono_ns();
    a = strop_clock_ticks();
    while (strop_clock_mono_ns() - ns0 < 2000000u) {
    }
    b = strop_clock_ticks();
    ns1 = strop_clock_mono_ns();
    /* Ticks converted to ns agree with CLOCK_MONOTONIC within 5%. */
    {
        double ticks_ns = (double)(b - a) * strop_clock_ns_per_tick;
        double mono_ns = (double)(ns1 - ns0);
        CHECK(ticks_ns > 0.95 * mono_ns && ticks_ns < 1.05 * mono_ns);
    }
}

static void
test_pstats_write(const char *path)
{
    StropTree tree;
    StropFuncStats funcs[16];
    StropEdgeStats *edges = NULL;
    size_t n_edges = 0;
    StropLabel labels[16];
    FILE *out;
    CHECK(strop_tree_init(&tree, 0, 0) == 0);
    CHECK(build_program(&tree) == 0);
    CHECK(strop_tree_aggregate(&tree, funcs, &edges, &n_edges) == 0);
    memset(labels, 0, sizeof labels);
    {
        static const char *names[] = {"main", "fact", "helper"};
        static const uintptr_t keys[] = {1, 2, 5};
        for (int i = 0; i < 3; i++) {
            uint32_t f = strop_tree_func_find(&tree, keys[i]);
            labels[f].file = i == 2 ? "~" : "prog.py";
            labels[f].file_len = strlen(labels[f].file);
            labels[f].line = i == 2 ? 0 : 10 * (i + 1);
            labels[f].name = names[i];
            labels[f].name_len = strlen(names[i]);
        }
    }
    /* A count past 32 bits, to exercise marshal's long form. */
    funcs[strop_tree_func_find(&tree, 5)].nc = 5000000000ull;
    out = fopen(path, "wb");
    CHECK(out != NULL);
    if (out != NULL) {
        /* 1 tick = 1 ms, so main's ct is 0.06 s. */
        CHECK(strop_pstats_write(out, labels, funcs, tree.n_funcs, edges, n_edges, 1e-3) == 0);
        fclose(out);
    }
    strop_free(edges);
    strop_tree_free(&tree);
}

int
main(int argc, char **argv)
{
    test_aggregate();
    test_caps();
    test_many_nodes();
    test_out_of_memory();
    test_clock();
    if (argc > 1)
        test_pstats_write(argv[1]);
    return CHECK_SUMMARY();
}
