/* waits.c: the endpoint table of a sampled program's waits (see waits.h).
 *
 * Small and linear on purpose: a program waits on a handful of endpoints and
 * runs a handful of threads, and each sample costs one pass over each list.
 */
#include "waits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define MAX_ENDPOINTS 256
#define MAX_THREADS 1024

typedef struct ThreadWait {
    long tid;
    int endpoint;  /* -1: not waiting at the last sample */
    uint64_t run;  /* consecutive samples on it */
    uint64_t runs; /* times put on a CPU, at the last sample */
} ThreadWait;

struct StropWaits {
    StropEndpoint endpoints[MAX_ENDPOINTS];
    size_t n_endpoints;
    ThreadWait threads[MAX_THREADS];
    size_t n_threads;
    const StropEndpoint *sorted[MAX_ENDPOINTS];
};

StropWaits *
strop_waits_new(void)
{
    return strop_calloc(1, sizeof(StropWaits));
}

void
strop_waits_free(StropWaits *w)
{
    strop_free(w);
}

static const struct {
    unsigned port;
    const char *service;
} PORTS[] = {
    {5432, "postgresql"}, {6379, "redis"},     {3306, "mysql"},     {27017, "mongodb"},
    {11211, "memcached"}, {389, "ldap"},       {636, "ldaps"},      {53, "dns"},
    {25, "smtp"},         {587, "smtp"},       {80, "http"},        {443, "https"},
    {8080, "http"},       {9200, "elasticsearch"}, {5672, "amqp"},  {9092, "kafka"},
    {2181, "zookeeper"},  {1433, "sqlserver"}, {1521, "oracle"},    {8086, "influxdb"},
};

static const struct {
    const char *part;
    const char *service;
} PATHS[] = {
    {".s.PGSQL.", "postgresql"}, {"redis", "redis"}, {"mysql", "mysql"},
    {"memcached", "memcached"},  {"docker.sock", "docker"}, {"ldapi", "ldap"},
};

const char *
strop_waits_service(const char *endpoint)
{
    if (strncmp(endpoint, "tcp", 3) == 0 || strncmp(endpoint, "udp", 3) == 0) {
        const char *colon = strrchr(endpoint, ':');
        unsigned port = colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;
        for (size_t i = 0; i < sizeof PORTS / sizeof PORTS[0]; i++)
            if (PORTS[i].port == port)
                return PORTS[i].service;
    }
    else if (strncmp(endpoint, "unix", 4) == 0) {
        for (size_t i = 0; i < sizeof PATHS / sizeof PATHS[0]; i++)
            if (strstr(endpoint, PATHS[i].part) != NULL)
                return PATHS[i].service;
    }
    return NULL;
}

const char *
strop_waits_endpoint_of(const char *label, char *out, size_t len)
{
    const char *on, *end;
    size_t n;
    if (strncmp(label, "<sleeping: ", 11) == 0) {
        snprintf(out, len, "sleep");
        return NULL;
    }
    if (strncmp(label, "<waiting: ", 10) != 0) {
        snprintf(out, len, "%s", label);
        return NULL;
    }
    label += 10;
    end = strrchr(label, '>');
    n = end ? (size_t)(end - label) : strlen(label);
    on = strstr(label, " on ");
    if (on != NULL && (size_t)(on - label) < n) {
        const char *what = on + 4;
        size_t m = n - (size_t)(what - label);
        if (m > 0 && what[0] == '/')
            snprintf(out, len, "file %.*s", (int)m, what);
        else if (strncmp(what, "fd ", 3) == 0 && strstr(what, "pipe:") != NULL)
            snprintf(out, len, "pipe");
        else if (strncmp(what, "unix socket", 11) == 0)
            snprintf(out, len, "unix%.*s", (int)(m - 11), what + 11);
        else
            snprintf(out, len, "%.*s", (int)m, what);
        return strop_waits_service(out);
    }
    {
        const char *fr = strstr(label, " for ");
        if (fr != NULL && (size_t)(fr - label) < n) {
            const char *who = fr + 5;
            if (strncmp(who, "process ", 8) == 0)
                snprintf(out, len, "child pid %.*s", (int)(n - (size_t)(who + 8 - label)),
                         who + 8);
            else
                snprintf(out, len, "a child");
            return NULL;
        }
    }
    if (strncmp(label, "futex", 5) == 0)
        snprintf(out, len, "lock");
    else if (strncmp(label, "select", 6) == 0 || strncmp(label, "pselect", 7) == 0 ||
             strncmp(label, "poll", 4) == 0 || strncmp(label, "ppoll", 5) == 0 ||
             strncmp(label, "epoll", 5) == 0)
        snprintf(out, len, "select/poll/epoll over several fds");
    else
        snprintf(out, len, "%.*s", (int)n, label);
    return NULL;
}

static ThreadWait *
thread_of(StropWaits *w, long tid)
{
    for (size_t i = 0; i < w->n_threads; i++)
        if (w->threads[i].tid == tid)
            return &w->threads[i];
    if (w->n_threads == MAX_THREADS)
        return NULL;
    w->threads[w->n_threads].tid = tid;
    w->threads[w->n_threads].endpoint = -1;
    w->threads[w->n_threads].run = 0;
    w->threads[w->n_threads].runs = UINT64_MAX;
    return &w->threads[w->n_threads++];
}

int
strop_waits_sample(StropWaits *w, long tid, const char *label, const void *caller,
                   uint64_t runs)
{
    ThreadWait *th = thread_of(w, tid);
    char name[sizeof w->endpoints[0].name];
    const char *service;
    StropEndpoint *e;
    size_t i;
    int woke;
    if (th == NULL)
        return -1;
    woke = runs != UINT64_MAX && th->runs != UINT64_MAX && runs != th->runs;
    th->runs = runs;
    if (label == NULL) {
        th->endpoint = -1;
        th->run = 0;
        return 0;
    }
    service = strop_waits_endpoint_of(label, name, sizeof name);
    for (i = 0; i < w->n_endpoints; i++)
        if (strcmp(w->endpoints[i].name, name) == 0)
            break;
    if (i == w->n_endpoints) {
        if (w->n_endpoints == MAX_ENDPOINTS)
            return -1;
        e = &w->endpoints[w->n_endpoints++];
        memset(e, 0, sizeof *e);
        memcpy(e->name, name, sizeof name);
        e->service = service;
    }
    e = &w->endpoints[i];
    e->samples++;
    if (th->endpoint == (int)i && !woke) {
        th->run++;
    }
    else {
        th->endpoint = (int)i;
        th->run = 1;
        e->waits++;
    }
    if (th->run > e->longest)
        e->longest = th->run;
    if (caller != NULL) {
        int k, low = 0;
        for (k = 0; k < STROP_WAITS_CALLERS; k++) {
            if (e->callers[k] == caller || e->callers[k] == NULL)
                break;
            if (e->caller_samples[k] < e->caller_samples[low])
                low = k;
        }
        if (k == STROP_WAITS_CALLERS) { /* full: the rarest caller gives way */
            k = low;
            e->caller_samples[k] = 0;
        }
        e->callers[k] = caller;
        e->caller_samples[k]++;
    }
    return 0;
}

static int
by_samples(const void *a, const void *b)
{
    const StropEndpoint *x = *(const StropEndpoint *const *)a;
    const StropEndpoint *y = *(const StropEndpoint *const *)b;
    return x->samples < y->samples ? 1 : x->samples > y->samples ? -1 : strcmp(x->name, y->name);
}

const StropEndpoint *const *
strop_waits_endpoints(StropWaits *w, size_t *n)
{
    for (size_t i = 0; i < w->n_endpoints; i++)
        w->sorted[i] = &w->endpoints[i];
    qsort(w->sorted, w->n_endpoints, sizeof w->sorted[0], by_samples);
    *n = w->n_endpoints;
    return w->sorted;
}
