/* writers.h: the profile file writers other than pstats, straight from the
 * calling-context tree.
 *
 * Every writer takes the tree, one label per function (pstats.h's
 * StropLabel, indexed like tree->funcs; a NULL file means "not named": skip),
 * and a StropWriteInfo saying what the numbers mean.  Pure C, no Python.h.
 * Each returns 0, or -1 with errno set (ENOMEM when out of memory, the
 * stream's errno on a write error).  The facts of each format are in
 * ../shared/FORMATS.md.
 */
#ifndef STROP_WRITERS_H
#define STROP_WRITERS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cct.h"
#include "pstats.h"

typedef enum StropFormat {
    STROP_FORMAT_PSTATS = 0,
    STROP_FORMAT_FOLDED,     /* .folded / .collapsed */
    STROP_FORMAT_CALLGRIND,  /* callgrind.out.* / .callgrind */
    STROP_FORMAT_PPROF,      /* .pb.gz / .pprof */
    STROP_FORMAT_SPEEDSCOPE, /* .speedscope.json */
    STROP_FORMAT_DOT,        /* .dot */
    STROP_FORMAT_HTML,       /* .html: the report page (needs html_template) */
} StropFormat;

/* Where the profile's JSON goes in the HTML report's template. */
#define STROP_HTML_MARK "/*STROP_PROFILE_JSON*/"


typedef struct StropWriteInfo {
    const char *command;     /* the profiled command line (UTF-8), or NULL */
    const char *time_kind;   /* "wall" or "cpu" */
    double seconds_per_tick; /* ticks -> seconds */
    int sampled;             /* 1: node->calls counts samples, not calls */
    uint64_t period_ns;      /* sampling period (pprof period), 0 when traced */
    uint64_t start_unix_ns;  /* when recording started (pprof time_nanos), or 0 */
    uint64_t duration_ns;    /* how long it recorded, or 0 */
    double node_thres;       /* dot: prune nodes below this share of total (0.005) */
    double edge_thres;       /* dot: prune edges below this share of total (0.001) */
    /* html: the page (UTF-8) with STROP_HTML_MARK where the profile goes;
     * without it the html writer fails with EINVAL. */
    const char *html_template;
    size_t html_template_len;
    const char *html_svg; /* html: the call graph drawn by graphviz (SVG), or NULL */
    size_t html_svg_len;
    const char *html_note;      /* html: one line on why there is no call graph, or NULL */
    const char *python_version; /* html: the Python that ran the program, or NULL */
    const char *machine; /* html: the machine during the run (health.h's text: a section,
                          * then one warning a line after a line "warnings:"), or NULL */
    /* html, sampled in wall mode: the map of interactions (waitmap.h) drawn
     * by graphviz (SVG), or NULL; and the waits table as text, shown when
     * there is no drawing, or NULL. */
    const char *map_svg;
    size_t map_svg_len;
    const char *map_text;
    /* html, sampled: the rate asked and the rate achieved (readings a second),
     * and how many thread readings there were and how many of them could not
     * be read; all 0 when unknown (a profile loaded from a file). */
    double rate_asked, rate_achieved;
    uint64_t readings, unreadable;
    /* Per function (tree->n_funcs entries): the thread id of a `<thread NAME>`
     * root frame, 0 when unknown; or NULL, and then a sampler's
     * `<thread TID ...>` gives its TID.  See writers_int.h's strop_thread_frame(). */
    const uint64_t *thread_ids;
    /* A memory profile (memview.h): `sampled` is 1 with period_ns 1 and each
     * node's calls are bytes; `unit` is "bytes" (else NULL), and pprof
     * writes heap profiles from `heap_values`, 4 per node: alloc_objects,
     * alloc_space, inuse_objects, inuse_space. */
    const char *unit;
    const uint64_t *heap_values;
} StropWriteInfo;

/* Writes `tree` in `format` (not STROP_FORMAT_PSTATS: see pstats.h). */
int strop_write_format(FILE *out, StropFormat format, const StropTree *tree,
                       const StropLabel *labels, const StropWriteInfo *info);

#endif /* STROP_WRITERS_H */
