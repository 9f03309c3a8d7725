/* waits.h: what a sampled program waited on, added up by endpoint (no Python).
 *
 * The wall-mode sampler names what a blocked thread waits on with a leaf
 * frame ("<waiting: recvfrom on tcp 127.0.0.1:5432>", "<sleeping: ...>").
 * This table groups those leaves by endpoint (a peer, a unix socket, a file,
 * a child process, a lock, sleep), and counts for each: the samples spent
 * there, the waits (runs of consecutive samples of one thread on it), the
 * longest wait, the well-known service behind a port or socket path, and the
 * Python function that made the call most often.
 */
#ifndef STROP_WAITS_H
#define STROP_WAITS_H

#include <stddef.h>
#include <stdint.h>

#include "textbuf.h"

#define STROP_WAITS_CALLERS 4

typedef struct StropEndpoint {
    char name[168];      /* "tcp 127.0.0.1:5432", "sleep", "lock", "file /var/x.db" */
    const char *service; /* "postgresql", "redis", ...; NULL: none known */
    uint64_t samples, waits, longest; /* longest: in samples */
    const void *callers[STROP_WAITS_CALLERS]; /* opaque: the sampler's code of the caller */
    uint64_t caller_samples[STROP_WAITS_CALLERS];
} StropEndpoint;

typedef struct StropWaits StropWaits;

/* A new, empty table; NULL when out of memory. */
StropWaits *strop_waits_new(void);
void strop_waits_free(StropWaits *w);

/* One sample of thread `tid`: waiting on what `label` names (a wait leaf's
 * label), called from `caller` (any pointer naming the innermost Python
 * function, or NULL); `runs` is how often the thread has been put on a CPU
 * (UINT64_MAX: unknown): when it moved since the thread's last sample, the
 * thread woke up in between and this is a new wait, even on the same
 * endpoint.  Returns 0, or -1 when the table is full (the sample is not
 * counted).  `label` NULL means the thread was not waiting: its wait, if
 * any, ends. */
int strop_waits_sample(StropWaits *w, long tid, const char *label, const void *caller,
                       uint64_t runs);

/* The endpoints so far, most samples first (*n of them).  Valid until the
 * next call on `w`. */
const StropEndpoint *const *strop_waits_endpoints(StropWaits *w, size_t *n);

/* The endpoint of a wait leaf's label, written to `out` ("tcp 1.2.3.4:80"),
 * and its service (or NULL).  Exposed for the tests. */
const char *strop_waits_endpoint_of(const char *label, char *out, size_t len);

/* The well-known service of an endpoint ("tcp 1.2.3.4:5432" -> "postgresql",
 * "unix /run/redis/redis.sock" -> "redis"), or NULL. */
const char *strop_waits_service(const char *endpoint);

#endif /* STROP_WAITS_H */
