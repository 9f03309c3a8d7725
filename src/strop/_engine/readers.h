/* readers.h: profile file readers, the other way round from writers.h.
 *
 * Every reader is bounded by its input: lengths, counts and indices are
 * checked against the bytes that remain before anything is allocated, no
 * work is quadratic (the intern table's hash is seeded per profile; pprof
 * frames are budgeted per byte), stacks are at most 100,000 frames deep, and
 * gzip data is inflated at most to max_inflated (1 GiB by default).
 *
 * Each reader builds a calling-context tree (cct.h) and one label per
 * function (pstats.h's StropLabel, indexed like tree.funcs) from a file's
 * bytes: folded stacks (strop's, py-spy's and Austin's frame forms), gzipped
 * pprof, or per-function pstats totals (whose call tree is not in the file:
 * an approximate one is rebuilt).  Once loaded, the profile is written by any
 * writer.  Pure C, no Python.h, no global state; all memory from mem.h.
 */
#ifndef STROP_READERS_H
#define STROP_READERS_H

#include <stddef.h>
#include <stdint.h>

#include "cct.h"
#include "pstats.h"

/* Status codes of the readers. */
#define STROP_LOAD_OK 0
#define STROP_LOAD_NOMEM (-1)  /* out of memory */
#define STROP_LOAD_FORMAT (-2) /* not a file of that kind: see `found` */

/* The most a gzipped pprof may inflate to unless max_inflated says. */
#define STROP_LOAD_MAX_INFLATED ((size_t)1 << 30)

typedef struct StropLoaded {
    StropTree tree;
    StropLabel *labels;  /* tree.n_funcs entries; strings owned (strop_malloc'd) */
    uint32_t cap_labels;
    uint32_t *intern;    /* open addressing: (name, file, line) -> function */
    uint32_t intern_mask;
    int sampled;             /* 1: node->calls counts samples; 0: calls and ns */
    double seconds_per_tick; /* ticks (or samples) -> seconds */
    uint64_t period_ns;      /* one sample's time when sampled */
    const char *time_kind;   /* "wall" or "cpu" (static) */
    uint64_t start_unix_ns, duration_ns;
    const char *kind;  /* "folded", "pprof" or "pstats" (static) */
    uint64_t hash_seed; /* of the intern table: random per profile */
    size_t max_inflated; /* pprof: refuse gzip data inflating beyond this (0: 1 GiB) */
    char found[160];   /* after STROP_LOAD_FORMAT: what the data is, in words */
} StropLoaded;

/* Sets up an empty profile.  Returns 0 or STROP_LOAD_NOMEM (then safe to
 * free). */
int strop_load_init(StropLoaded *prof);

/* Frees everything the profile owns.  Safe on a zeroed or freed profile. */
void strop_load_free(StropLoaded *prof);

/* Reads folded stacks (`root;...;leaf COUNT` lines) from `data`.  Frames are
 * `name (file:line)` (strop, py-spy), `file:name:line` (Austin; its leading
 * `P<pid>` and `T<tid>` frames are dropped) or a bare name (a built-in, file
 * "~").  Counts are samples of `period_s` seconds each.  Returns 0,
 * STROP_LOAD_NOMEM, or STROP_LOAD_FORMAT with prof->found set. */
int strop_load_folded(StropLoaded *prof, const char *data, size_t len, double period_s);

/* Reads a gzipped (or plain) pprof Profile from `data` (set
 * prof->max_inflated before the call to change the gzip cap).  The value used is the
 * last sample type's; nanoseconds make a traced-like profile (calls from a
 * count type when there is one), a count type with a period a sampled one.
 * Same returns as strop_load_folded. */
int strop_load_pprof(StropLoaded *prof, const unsigned char *data, size_t len);

/* One function of a pstats file, and one caller -> callee pair. */
typedef struct StropPstatsFunc {
    StropLabel label; /* strings borrowed during the call: they are copied */
    uint64_t nc;
    double tt, ct; /* seconds */
} StropPstatsFunc;

typedef struct StropPstatsEdge {
    uint32_t caller, callee; /* indices into the function array */
    uint64_t nc;
    double ct; /* seconds */
} StropPstatsEdge;

/* Rebuilds an approximate call tree from pstats totals, as flameprof does:
 * from the functions nobody calls, each function's time in a context is split
 * between its own time and its callees in proportion to their cumulative time
 * from it.  Recursion is cut; afterwards each function's own time over all its
 * nodes is scaled to its tt, so totals match the file.  Returns 0 or
 * STROP_LOAD_NOMEM. */
int strop_load_pstats(StropLoaded *prof, const StropPstatsFunc *funcs, uint32_t n_funcs,
                      const StropPstatsEdge *edges, size_t n_edges);

#endif /* STROP_READERS_H */
