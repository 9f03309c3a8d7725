/* remote_int.h: what remote.c shares with remote_names.c and remote_heap.c, and nothing else.
 *
 * The reader's state (struct StropRemote) and its checked memory access, so
 * that other files can follow other objects of the target (the thread names
 * of remote_names.h, the collector's lists of remote_heap.h) with the same
 * reads, counters and type checks.
 * Not for the rest of strop: it includes remote.h only.  Pure C, no Python.h.
 */
#ifndef STROP_REMOTE_INT_H
#define STROP_REMOTE_INT_H

#include <stdint.h>
#include <string.h>

#include "remote.h"

#define STROP_FRAME_WINDOW 8192 /* bytes of a 3.11+ data stack read at once */
#define STROP_CSTACK_WINDOW 16384 /* bytes of a thread's C stack read at once (3.11+) */
#define STROP_HINTS 64           /* threads whose stacks' places are remembered */
#define STROP_CFRAMES 4          /* _PyCFrames remembered per thread (3.11, 3.12) */

/* Where a thread's stacks were at its last reading (3.11+), so that the next
 * one reads its state, the top of its data stack and the innermost C frame
 * of the interpreter in a single process_vm_readv: one snapshot, taken in a
 * microsecond, instead of a walk of reads that the thread outruns. */
typedef struct StropThreadHint {
    uintptr_t tstate;            /* 0: an empty slot */
    uintptr_t chunk, top, limit; /* its data stack's chunk, top and limit */
    uintptr_t cstack;            /* the innermost _PyCFrame or C-stack frame met */
    uint32_t cstack_up;          /* bytes of the C window above it that last read */
    /* 3.11, 3.12: the _PyCFrames tstate->cframe pointed to lately, newest
     * first: an eval loop that C code entered (a class's __init__ through
     * type.__call__) has its own, deeper on the C stack, and the thread
     * goes in and out of it many times a millisecond. */
    uintptr_t cframes[STROP_CFRAMES];
} StropThreadHint;

struct StropRemote {
    pid_t pid;
    StropReadFn read;
    void *ctx;
    uintptr_t runtime;
    StropPyOffsets off; /* the version's row, or 3.13+'s from the target */
    uintptr_t code_type, str_type, bytes_type; /* learnt from tp_name, then compared */
    StropCode **slots; /* cache: open addressing by address */
    size_t mask, n_codes;
    StropCode *retired; /* entries replaced because their address was reused */
    int check_lo, check_len; /* the span of a code object compared on a cache hit */
    uint64_t reads;
    uint64_t torn[STROP_TORN_N]; /* failed walks per StropTorn reason */
    /* One reading's state: its number (a code object's fingerprint is
     * compared once per reading), and a window of the target's memory read
     * in one call, from which the next frames of a 3.11+ data stack (older
     * frames sit just below newer ones) are taken without another read. */
    uint64_t epoch;
    uintptr_t win_lo, win_hi; /* win_hi == 0: empty */
    unsigned char window[STROP_FRAME_WINDOW];
    /* The same for the thread's C stack (3.11+: the _PyCFrame; 3.12+ the
     * entry frames of the interpreter), read in the same call as its state. */
    uintptr_t cwin_lo, cwin_hi;
    unsigned char cwindow[STROP_CSTACK_WINDOW];
    /* 3.11, 3.12: the innermost frame's pointer (_PyCFrame.current_frame at
     * cf_at[i]) of each _PyCFrame of the hint, copied just after the state
     * and before the data stack, the C window last; cf_at[i] == 0: not read. */
    uintptr_t cf_at[STROP_CFRAMES], cf_frame[STROP_CFRAMES];
    StropThreadHint hints[STROP_HINTS];
    /* The thread being read: its data stack as its state says (0 when not
     * known), and the innermost C-stack address met. */
    uintptr_t cur_chunk, cur_top, cur_limit, cur_cstack;
    /* remote_names.c: types learnt once, and the addresses of the key strs
     * "threading", "_active" and "_name" where they were last found, compared
     * first so that a lookup rarely reads the other keys' text. */
    uintptr_t dict_type, int_type, module_type;
    uintptr_t hint_threading, hint_active, hint_name;
    uintptr_t gil; /* the GIL's address once found (strop_remote_gil), else 0 */
};

/* Reads `len` bytes at remote `addr`.  Returns 0, or -1 (errno set by the
 * read function; an address below 4096 or wrapping fails without a read). */
static inline int
strop_remote_rd(StropRemote *r, uintptr_t addr, void *buf, size_t len)
{
    r->reads++;
    if (addr < 4096 || addr + len < addr)
        return -1;
    return r->read(r->ctx, addr, buf, len);
}

static inline int
strop_remote_rd_ptr(StropRemote *r, uintptr_t addr, uintptr_t *out)
{
    return strop_remote_rd(r, addr, out, sizeof *out);
}

/* The pointer stored at `off` in a buffer read from the target. */
static inline uintptr_t
strop_remote_ptr_at(const unsigned char *buf, int off)
{
    uintptr_t v;
    memcpy(&v, buf + off, sizeof v);
    return v;
}

/* 1 when `p` may be an object's address: 8-aligned, in user space. */
static inline int
strop_remote_aligned(uintptr_t p)
{
    return p >= 4096 && (p & 7) == 0 && p < ((uintptr_t)1 << 56);
}

/* 1 when the type at `type` is named `name` (at most 15 bytes), 0 when not,
 * -1 on a failed read. */
int strop_remote_type_named(StropRemote *r, uintptr_t type, const char *name);

/* Reads the compact str at `obj` as a new UTF-8 string (strop_free it), of
 * at most `max_chars` characters: a longer str is cut there when `cut` is 1,
 * refused when 0.  NUL characters become U+FFFD.  NULL when it is not a
 * compact str (type checked against the learnt str type), a read fails, or
 * out of memory. */
char *strop_remote_str(StropRemote *r, uintptr_t obj, size_t max_chars, int cut);

/* Looks up the str key `key` in the dict at `dict` (checked to be a dict,
 * of any version's layout; remote_names.c).  *hint is the address of the key
 * where it was last found, compared first, then updated.  Returns 1 with
 * *value set, 0 when the key is not there, STROP_REMOTE_EREAD (a failed read
 * or not a dict), STROP_REMOTE_ENOPROC, STROP_REMOTE_ENOMEM. */
int strop_remote_dict_find(StropRemote *r, uintptr_t dict, const char *key, uintptr_t *hint,
                           uintptr_t *value);

#endif /* STROP_REMOTE_INT_H */
