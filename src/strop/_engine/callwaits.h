/* callwaits.h: the blocking calls a traced program made, added up by
 * endpoint, exactly (no Python).
 *
 * `strop run --waits` is the deterministic profiler's counterpart of the
 * sampler's waits table (waits.h): the tracer knows each call of a C function
 * that may block (a socket's recv/send/connect/accept, time.sleep,
 * select/poll, a lock's acquire), when it started and when it returned.  This
 * table adds those calls up by endpoint: the peer of the socket's file
 * descriptor, read from the kernel (getpeername, never from Python), or
 * "sleep", "lock", "select/poll/epoll over several fds".  Per endpoint: the
 * calls, their total and longest time, the service named as waits.h names
 * it, and the function that made the most calls.
 */
#ifndef STROP_CALLWAITS_H
#define STROP_CALLWAITS_H

#include <stddef.h>
#include <stdint.h>

#define STROP_CALLWAITS_CALLERS 4

typedef struct StropCallEndpoint {
    char name[168];      /* "tcp 127.0.0.1:5432", "unix /run/x.sock", "sleep", "lock" */
    const char *service; /* waits.h's strop_waits_service(), or NULL */
    uint64_t calls;
    uint64_t total_ns, longest_ns;
    uint32_t callers[STROP_CALLWAITS_CALLERS]; /* the tracer's function ids; UINT32_MAX: none */
    uint64_t caller_calls[STROP_CALLWAITS_CALLERS];
} StropCallEndpoint;

typedef struct StropCallWaits StropCallWaits;

/* A new, empty table; NULL when out of memory. */
StropCallWaits *strop_callwaits_new(void);
void strop_callwaits_free(StropCallWaits *w);

/* One call that waited on `endpoint` for `ns` nanoseconds, made by function
 * `caller` (UINT32_MAX: unknown).  Returns 0, or -1 when the table is full
 * (the call is not counted).  Allocates nothing. */
int strop_callwaits_add(StropCallWaits *w, const char *endpoint, uint64_t ns, uint32_t caller);

/* The endpoints so far, most time first (*n of them).  Valid until the next
 * call on `w`. */
const StropCallEndpoint *const *strop_callwaits_endpoints(StropCallWaits *w, size_t *n);

/* The function that made the most calls to `e`, or UINT32_MAX. */
uint32_t strop_callwaits_top_caller(const StropCallEndpoint *e);

/* What socket descriptor `fd` of this process is connected to, read from the
 * kernel without touching Python: "tcp 1.2.3.4:5432", "udp ...", "[v6]:port"
 * forms, "unix /path" (or "unix socket" when unnamed), "tcp listening
 * 0.0.0.0:80" for a socket that is not connected but bound; "socket" when
 * nothing can be read.  Async-signal-safe, allocates nothing. */
void strop_callwaits_socket_endpoint(int fd, char *out, size_t len);

/* What descriptor `fd` of this process names, for a file object's call:
 * "file /path", "pipe", "terminal /dev/pts/3", "socket", or "file
 * descriptor N" when /proc says nothing.  Allocates nothing. */
void strop_callwaits_file_endpoint(int fd, char *out, size_t len);

#endif /* STROP_CALLWAITS_H */
