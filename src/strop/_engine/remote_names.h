/* remote_names.h: the names that Python's threading module gives the threads
 * of another process ("MainThread", "worker-1", "ThreadPoolExecutor-0_0").
 *
 * Read the way py-spy reads them: from the interpreter's modules dict,
 * threading._active ({ident: Thread}), and each Thread's `_name`, through the
 * same reader and offset table (pyoffsets.h) as the stacks of remote.h.  Only
 * threads that threading knows have a name: a thread started from C, or any
 * thread of a process that never imported threading, has none, and callers
 * keep their own label for it.
 *
 * Every read may fail or be torn: loops and lengths are bounded, objects are
 * checked against the types learnt from the target (dict, int, str, module),
 * and any failure gives "no names", never a made-up one.  Costs a few hundred
 * reads: meant for when a thread is first seen and at the end, not per
 * sample.  Pure C, no Python.h, not thread-safe (one user of a StropRemote at
 * a time).  Allocation through mem.h.
 */
#ifndef STROP_REMOTE_NAMES_H
#define STROP_REMOTE_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "remote.h"

/* Longest name kept, in bytes of UTF-8: longer names are cut on a
 * character's boundary. */
#define STROP_THREAD_NAME_MAX 64

typedef struct StropThreadName {
    uint64_t ident; /* threading's ident: StropRemoteThread.ident */
    char name[STROP_THREAD_NAME_MAX + 1]; /* UTF-8, NUL-ended, never empty */
} StropThreadName;

/* Reads the name of every thread in threading._active of each interpreter of
 * the target.  Returns 0 with *out a new array of *n pairs (free it with
 * strop_remote_thread_names_free(); *n may be 0, when threading is not
 * imported); or, with *out NULL and *n 0: STROP_REMOTE_EREAD when a read
 * failed or an object is not what it should be (torn: try again later),
 * STROP_REMOTE_ENOPROC when the process is gone, STROP_REMOTE_ENOMEM. */
int strop_remote_thread_names(StropRemote *r, StropThreadName **out, size_t *n);

/* Frees what strop_remote_thread_names() returned.  Safe on NULL. */
void strop_remote_thread_names_free(StropThreadName *names);

#endif /* STROP_REMOTE_NAMES_H */
