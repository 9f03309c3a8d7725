/* remote_heap.h: the census of another process's gc-tracked objects, by type.
 *
 * Reads the garbage collector's lists of the target's main interpreter (each
 * generation's and the permanent generation's) with the reader of remote.h:
 * process_vm_readv only, no ptrace, no stop, nothing run in the target.  Each
 * object is counted once under its type, at the size sys.getsizeof gives it
 * where that size follows from the type and the object's header (see
 * StropHeapType.approx), so the table can be printed as strop.heap()'s.
 *
 * The target runs while we read: a list is walked by its _gc_next links and
 * every step checks that the next node's _gc_prev points back, that the node
 * is aligned and that the object's type is a type whose flags say it is
 * collected.  A list that fails a check is walked again from its head, up to
 * STROP_HEAP_RETRIES times, then counted as torn and left out: a torn list
 * adds nothing, never an object made up from stale memory.  This is what
 * objects the census only covers: those the collector lists (containers),
 * not str, int, float or untracked tuples and dicts.
 *
 * Pure C, no Python.h.  Not thread-safe: one census uses its StropRemote
 * alone.  Allocation through mem.h.
 */
#ifndef STROP_REMOTE_HEAP_H
#define STROP_REMOTE_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "remote.h"

#define STROP_HEAP_RETRIES 8 /* walks of one list before it is counted as torn */
#define STROP_HEAP_TYPE_NAME 128 /* longest tp_name kept, in bytes */

/* One type met in the lists, and its objects' totals. */
typedef struct StropHeapType {
    uintptr_t addr;   /* the type object's remote address; 0: an empty slot */
    /* "module.qualname" of a class, as strop.heap() names it (tp_name when
     * its __module__ or __qualname__ cannot be read), tp_name of a static
     * type ("collections.deque"); NUL-ended. */
    char name[STROP_HEAP_TYPE_NAME + 1];
    long basicsize, itemsize; /* itemsize 0 also where there is no ob_size to read */
    unsigned long flags;
    /* 1 when its objects' sys.getsizeof may be more than what is counted:
     * the type (or its base) has a __sizeof__ that adds tables of its own
     * (dict, set, type, code, deque...), counted here at their basic size. */
    int approx;
    uint64_t count, bytes;     /* in lists read whole */
    uint64_t pending_count, pending_bytes; /* in the list being walked */
} StropHeapType;

typedef struct StropHeapCensus {
    StropHeapType *types; /* open addressing by address: mask + 1 slots */
    size_t mask, n_types;
    uint64_t objects;     /* objects counted (in lists read whole) */
    uint64_t permanent;   /* of which in the permanent generation (gc.freeze()) */
    uint64_t lists;       /* lists read whole */
    uint64_t lists_torn;  /* lists left out after STROP_HEAP_RETRIES walks */
    uint64_t rewalks;     /* walks started again because a check failed */
    uint64_t read_errors; /* reads that failed (unmapped or changing memory) */
    uint64_t collecting;  /* 1 ms waits for a running collection to end (2,000 at most) */
    uint64_t reads;       /* reads made */
    uintptr_t hint_module; /* private: where the key "__module__" was last found */
} StropHeapCensus;

/* Counts the objects of every list of the collector of the target's main
 * interpreter into `c` (zeroed by the caller, or left by an earlier call:
 * counts add up).  At most `max_objects` per list (a longer one is torn).
 * Returns 0 (some lists may be torn: see c->lists_torn),
 * STROP_REMOTE_ENOPROC when the process is gone, STROP_REMOTE_EREAD when the
 * interpreter or its collector's state cannot be read at all,
 * STROP_REMOTE_ENOMEM.  No GIL needed (no Python here). */
int strop_heap_remote_census(StropRemote *r, StropHeapCensus *c, uint64_t max_objects);

/* Frees what the census allocated and zeroes it.  Safe on a zeroed one. */
void strop_heap_remote_census_free(StropHeapCensus *c);

#endif /* STROP_REMOTE_HEAP_H */
