/* memseries.c: memory over time, for allocation tracing (see memseries.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pread, clock_gettime under -std=c11 */
#endif
#include "memseries.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "mem.h"

void
strop_memseries_start(StropMemSeries *s)
{
    if (s->start != 0)
        return;
    strop_clock_init();
    s->start = strop_clock_ticks();
    s->next = s->start;
    s->every = (uint64_t)(STROP_MEMSERIES_MS * 1e6 / strop_clock_ns_per_tick);
    if (s->every == 0)
        s->every = 1;
    s->countdown = 1;
    s->statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
}

void
strop_memseries_free(StropMemSeries *s)
{
    strop_free(s->points);
    if (s->statm >= 0 && s->start != 0)
        close(s->statm);
    memset(s, 0, sizeof *s);
    s->statm = -1;
}

/* The resident set and its anonymous part, in bytes (-1: unknown). */
static void
read_statm(int fd, int64_t *rss, int64_t *anon)
{
    char buf[128];
    long long size, resident, shared;
    ssize_t got;
    long page = sysconf(_SC_PAGESIZE);
    *rss = *anon = -1;
    if (fd < 0 || (got = pread(fd, buf, sizeof buf - 1, 0)) <= 0)
        return;
    buf[got] = '\0';
    if (sscanf(buf, "%lld %lld %lld", &size, &resident, &shared) != 3)
        return;
    *rss = resident * page;
    *anon = (resident - shared) * page;
}

void
strop_memseries_note(StropMemSeries *s, int64_t traced, int force)
{
    uint64_t now;
    StropMemPoint *p;
    s->countdown = STROP_MEMSERIES_EVERY;
    if (s->start == 0 || s->failed)
        return;
    now = strop_clock_ticks();
    s->last = traced; /* the next jump is measured from here */
    if (now < s->next && !force)
        return;
    if (s->n == STROP_MEMSERIES_MAX) {
        /* Thin out: every other point, and twice the spacing from now on. */
        for (uint32_t i = 0; i < s->n / 2; i++)
            s->points[i] = s->points[2 * i + 1];
        s->n /= 2;
        s->every *= 2;
    }
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 256;
        StropMemPoint *grown = strop_realloc(s->points, (size_t)cap * sizeof *grown);
        if (grown == NULL) {
            s->failed = 1;
            return;
        }
        s->points = grown;
        s->cap = cap;
    }
    p = &s->points[s->n++];
    p->ns = (uint64_t)((double)(now - s->start) * strop_clock_ns_per_tick);
    p->traced = traced;
    read_statm(s->statm, &p->rss, &p->anon);
    s->next = now + s->every;
}
