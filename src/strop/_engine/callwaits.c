/* callwaits.c: the exact table of blocking calls by endpoint (see
 * callwaits.h).  Linear on purpose, as waits.c: a program talks to a handful
 * of endpoints.  The table is one block allocated at its start, so adding a
 * call allocates nothing (it runs inside the tracer's hook).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* strnlen under -std=c11, as the other engine files */
#endif
#include "callwaits.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mem.h"
#include "waits.h"

#define MAX_ENDPOINTS 256

struct StropCallWaits {
    StropCallEndpoint endpoints[MAX_ENDPOINTS];
    size_t n;
    const StropCallEndpoint *sorted[MAX_ENDPOINTS];
};

StropCallWaits *
strop_callwaits_new(void)
{
    return strop_calloc(1, sizeof(StropCallWaits));
}

void
strop_callwaits_free(StropCallWaits *w)
{
    strop_free(w);
}

int
strop_callwaits_add(StropCallWaits *w, const char *endpoint, uint64_t ns, uint32_t caller)
{
    StropCallEndpoint *e = NULL;
    int k, low = 0;
    for (size_t i = 0; i < w->n; i++) {
        if (strcmp(w->endpoints[i].name, endpoint) == 0) {
            e = &w->endpoints[i];
            break;
        }
    }
    if (e == NULL) {
        if (w->n == MAX_ENDPOINTS)
            return -1;
        e = &w->endpoints[w->n++];
        memset(e, 0, sizeof *e);
        snprintf(e->name, sizeof e->name, "%s", endpoint);
        e->service = strop_waits_service(e->name);
        for (k = 0; k < STROP_CALLWAITS_CALLERS; k++)
            e->callers[k] = UINT32_MAX;
    }
    e->calls++;
    e->total_ns += ns;
    if (ns > e->longest_ns)
        e->longest_ns = ns;
    if (caller == UINT32_MAX)
        return 0;
    for (k = 0; k < STROP_CALLWAITS_CALLERS; k++) {
        if (e->callers[k] == caller || e->callers[k] == UINT32_MAX)
            break;
        if (e->caller_calls[k] < e->caller_calls[low])
            low = k;
    }
    if (k == STROP_CALLWAITS_CALLERS) { /* full: the rarest caller gives way */
        k = low;
        e->caller_calls[k] = 0;
    }
    e->callers[k] = caller;
    e->caller_calls[k]++;
    return 0;
}

uint32_t
strop_callwaits_top_caller(const StropCallEndpoint *e)
{
    int top = 0;
    for (int k = 1; k < STROP_CALLWAITS_CALLERS; k++)
        if (e->callers[k] != UINT32_MAX && e->caller_calls[k] > e->caller_calls[top])
            top = k;
    return e->callers[top];
}

static int
by_time(const void *a, const void *b)
{
    const StropCallEndpoint *x = *(const StropCallEndpoint *const *)a;
    const StropCallEndpoint *y = *(const StropCallEndpoint *const *)b;
    if (x->total_ns != y->total_ns)
        return x->total_ns < y->total_ns ? 1 : -1;
    return strcmp(x->name, y->name);
}

const StropCallEndpoint *const *
strop_callwaits_endpoints(StropCallWaits *w, size_t *n)
{
    for (size_t i = 0; i < w->n; i++)
        w->sorted[i] = &w->endpoints[i];
    qsort(w->sorted, w->n, sizeof w->sorted[0], by_time);
    *n = w->n;
    return w->sorted;
}

/* "1.2.3.4:80" or "[::1]:80" of an internet address; 0, or -1 for another family. */
static int
format_inet(const struct sockaddr_storage *a, char *out, size_t len)
{
    char text[INET6_ADDRSTRLEN] = "?";
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)a;
        inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        snprintf(out, len, "%s:%u", text, (unsigned)ntohs(in->sin_port));
        return 0;
    }
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;
        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        snprintf(out, len, "[%s]:%u", text, (unsigned)ntohs(in6->sin6_port));
        return 0;
    }
    return -1;
}

void
strop_callwaits_file_endpoint(int fd, char *out, size_t len)
{
    char link[32], target[160];
    ssize_t n;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = fd < 0 ? -1 : readlink(link, target, sizeof target - 1);
    if (n <= 0) {
        snprintf(out, len, fd < 0 ? "file (closed)" : "file descriptor %d", fd);
        return;
    }
    target[n] = '\0';
    if (strncmp(target, "pipe:", 5) == 0)
        snprintf(out, len, "pipe");
    else if (strncmp(target, "socket:", 7) == 0)
        snprintf(out, len, "socket");
    else if (strncmp(target, "/dev/pts/", 9) == 0 || strncmp(target, "/dev/tty", 8) == 0)
        snprintf(out, len, "terminal %s", target);
    else
        snprintf(out, len, "file %s", target);
}

void
strop_callwaits_socket_endpoint(int fd, char *out, size_t len)
{
    struct sockaddr_storage addr;
    socklen_t alen = sizeof addr;
    int type = 0;
    socklen_t tlen = sizeof type;
    char where[160];
    const char *proto;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0) {
        snprintf(out, len, "socket");
        return;
    }
    proto = type == SOCK_DGRAM ? "udp" : "tcp";
    memset(&addr, 0, sizeof addr);
    if (getpeername(fd, (struct sockaddr *)&addr, &alen) == 0) {
        if (addr.ss_family == AF_UNIX) {
            const struct sockaddr_un *un = (const struct sockaddr_un *)&addr;
            size_t n = alen > offsetof(struct sockaddr_un, sun_path)
                           ? alen - offsetof(struct sockaddr_un, sun_path) : 0;
            if (n > 0 && un->sun_path[0] != '\0')
                snprintf(out, len, "unix %.*s", (int)strnlen(un->sun_path, n), un->sun_path);
            else
                snprintf(out, len, "unix socket");
            return;
        }
        if (format_inet(&addr, where, sizeof where) == 0) {
            snprintf(out, len, "%s %s", proto, where);
            return;
        }
    }
    alen = sizeof addr;
    memset(&addr, 0, sizeof addr);
    if (getsockname(fd, (struct sockaddr *)&addr, &alen) == 0 &&
        format_inet(&addr, where, sizeof where) == 0) {
        int listening = 0;
        tlen = sizeof listening;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &tlen) < 0)
            listening = 0;
        snprintf(out, len, "%s %s %s", proto, listening ? "listening" : "unconnected", where);
        return;
    }
    snprintf(out, len, "socket");
}
