/* timeline.h: the tracer's timeline (every call as a span) and its writer,
 * the Chrome trace event format that Perfetto and chrome://tracing open.
 *
 * The tracer appends one event per completed call to a bounded array; the
 * writer turns it into {"traceEvents": [...]} with an "X" (complete) event
 * per call and a "thread_name" metadata event per thread.  Pure C, no
 * Python.h.  Facts: ../shared/FORMATS.md, "Chrome trace events".
 */
#ifndef STROP_TIMELINE_H
#define STROP_TIMELINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pstats.h"

typedef struct StropSpan {
    uint32_t func;   /* function index (labels[func]) */
    uint32_t thread; /* index into the threads array */
    uint64_t start;  /* raw ticks */
    uint64_t end;    /* raw ticks, >= start */
} StropSpan;

typedef struct StropTimelineThread {
    unsigned long ident; /* the thread's id, written as tid */
    const char *name;    /* UTF-8, or NULL: "Thread <ident>" */
} StropTimelineThread;

typedef struct StropTimelineInfo {
    long pid;
    uint64_t origin;     /* ticks at time 0 of the trace */
    double ns_per_tick;
    uint64_t dropped;    /* calls left out because the buffer was full */
    const char *command; /* UTF-8 or NULL, written in "otherData" */
} StropTimelineInfo;

/* Writes the spans (of functions whose label has a file: others are left
 * out) as a Chrome trace.  Spans of one thread must nest, as calls do.
 * Returns 0, or -1 with errno set (ENOMEM, or the stream's error). */
int strop_timeline_write(FILE *out, const StropSpan *spans, size_t n_spans,
                         const StropLabel *labels, uint32_t n_funcs,
                         const StropTimelineThread *threads, uint32_t n_threads,
                         const StropTimelineInfo *info);

#endif /* STROP_TIMELINE_H */
