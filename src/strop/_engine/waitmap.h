/* waitmap.h: the map of a sampled program's interactions, as Graphviz dot
 * (no Python).
 *
 * What the issue calls "a diagram of all interactions and the nature of each
 * link", drawn from what really happened: the process in the middle, one node
 * per endpoint of the waits table (waits.h: a TCP peer and its service, a
 * unix socket, a file, a child process, a lock, the GIL, sleep, ...), one
 * link per endpoint labelled with its share of the sampled threads' wall
 * time, its waits, its longest wait and the function that waited most, and
 * for a TCP peer the bytes each way and the round-trip time the kernel
 * reported for the process's connections to it (health.h, matched by peer
 * address).  Links are coloured by share as the call graph's nodes are
 * (dot.c), and their pen grows with it.  It is not a call graph and knows
 * nothing of stacks.
 */
#ifndef STROP_WAITMAP_H
#define STROP_WAITMAP_H

#include <stddef.h>
#include <stdint.h>

#include "health.h"
#include "textbuf.h"
#include "waits.h"

typedef struct StropMapInput {
    const char *process;             /* the middle node: "process 123\nscript.py", or NULL */
    const StropEndpoint *const *ends; /* the endpoints (strop_waits_endpoints) */
    const char *const *callers;      /* per endpoint: "fn (file.py:12)" or NULL; may be NULL */
    size_t n;
    double samples;                  /* the share's denominator: all samples of all threads */
    double period;                   /* seconds one sample stands for */
    const StropHealthTcp *tcp;       /* the process's TCP connections, or NULL */
    size_t n_tcp;
} StropMapInput;

/* Appends the map as a complete dot graph to `out`.  Returns 0, or -1 when
 * out of memory (out->failed).  Labels are escaped for dot's "..." strings. */
int strop_map_dot(StropBuf *out, const StropMapInput *in);

#endif /* STROP_WAITMAP_H */
