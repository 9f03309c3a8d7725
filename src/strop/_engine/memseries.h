/* memseries.h: memory over time, for allocation tracing.
 *
 * The traced total (bytes the hooks saw allocated and not freed), the
 * process's resident set and its private part (anonymous pages: the
 * resident set less file-backed and shared pages, /proc/self/statm) at most
 * every STROP_MEMSERIES_MS milliseconds of a recording.  Points are taken by
 * the allocation hooks themselves (one clock read every STROP_MEMSERIES_EVERY
 * events, or when the total has moved by STROP_MEMSERIES_JUMP bytes since
 * the last read: a program of few, large blocks), so no thread runs beside the program and nothing races the
 * counters; a stretch without any allocation or free has no points (the
 * traced total cannot move then).  Past STROP_MEMSERIES_MAX points every
 * other point is dropped and the spacing doubled: a long run keeps its
 * whole span in bounded memory.
 *
 * Pure C, no Python.h; called with the GIL held, as the hooks are.
 */
#ifndef STROP_MEMSERIES_H
#define STROP_MEMSERIES_H

#include <stdint.h>

#define STROP_MEMSERIES_MS 10
#define STROP_MEMSERIES_EVERY 32
#define STROP_MEMSERIES_MAX 16384
#define STROP_MEMSERIES_JUMP 65536 /* bytes of change that read the clock at once */

typedef struct StropMemPoint {
    uint64_t ns;         /* since the recording began */
    int64_t traced;      /* bytes */
    int64_t rss, anon;   /* bytes; -1 when /proc could not be read */
} StropMemPoint;

typedef struct StropMemSeries {
    StropMemPoint *points;
    uint32_t n, cap;
    uint32_t countdown;   /* hook events until the next clock read */
    uint64_t start, next; /* ticks */
    uint64_t every;       /* ticks between points */
    int64_t last;         /* the traced total at the last clock read */
    int statm;            /* /proc/self/statm, or -1 */
    int failed;           /* out of memory: no more points */
} StropMemSeries;

/* Starts a series now (its clock starts at the first call).  The fields
 * must be zero before the first call. */
void strop_memseries_start(StropMemSeries *s);

/* Frees the points and closes /proc/self/statm. */
void strop_memseries_free(StropMemSeries *s);

/* A point of `traced` bytes now if the spacing has passed (or `force`). */
void strop_memseries_note(StropMemSeries *s, int64_t traced, int force);

/* From a hook: cheap; one clock read every STROP_MEMSERIES_EVERY calls. */
static inline void
strop_memseries_tick(StropMemSeries *s, int64_t traced)
{
    if (s->start != 0 && (--s->countdown == 0 || traced - s->last > STROP_MEMSERIES_JUMP ||
                          s->last - traced > STROP_MEMSERIES_JUMP))
        strop_memseries_note(s, traced, 0);
}

#endif /* STROP_MEMSERIES_H */
