/* remote.h: reading the Python stacks of another process.
 *
 * Attaches to a process by PID (no ptrace, no stop: process_vm_readv only),
 * finds CPython's _PyRuntime through the ELF symbol table of the executable
 * or of libpython, picks the offsets of that version (pyoffsets.h; on 3.13+
 * the target's own _Py_DebugOffsets), then on each strop_remote_sample()
 * walks interpreters -> threads -> frames -> code objects.  Code objects are
 * read once and cached by remote address with their names and line table.
 *
 * Reads are not atomic: the target runs while we read it.  On 3.11+ a
 * thread is read as one snapshot where it can be (its state, the C stack of
 * its innermost eval loop and the top of its data stack in one
 * process_vm_readv, at the places its last reading found them), so that its
 * frames agree with each other; a thread found torn is read again at once,
 * up to STROP_REMOTE_RETRIES times.  Every pointer is checked (alignment, a
 * frame's owner, under its data stack's top, a readable object of the
 * expected type), every loop is bounded, and a thread whose walk still fails
 * is reported as torn with the reason (StropTorn), never with an invented
 * frame.  The memory access goes through a StropReadFn so that tests
 * can run the walker over random memory.
 *
 * Thread names (threading's "MainThread", "worker-1") are read by the same
 * reader in remote_names.h; remote_int.h is what the two files share.
 *
 * Pure C, no Python.h.  Not thread-safe: one StropRemote is used by one thread
 * at a time.  Allocation through mem.h.
 */
#ifndef STROP_REMOTE_H
#define STROP_REMOTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pyoffsets.h"

/* Status codes: 0 is success. */
#define STROP_REMOTE_OK 0
#define STROP_REMOTE_ENOPROC -1   /* no such process */
#define STROP_REMOTE_EPERM -2     /* not allowed to read it */
#define STROP_REMOTE_ENOTPY -3    /* no CPython runtime in it */
#define STROP_REMOTE_EVERSION -4  /* a CPython outside 3.8 to 3.13 */
#define STROP_REMOTE_ENOMEM -5    /* out of memory */
#define STROP_REMOTE_EREAD -6     /* a read failed: torn, or the process is going */
#define STROP_REMOTE_NOTREADY -7  /* the runtime is not initialised (yet) */

#define STROP_REMOTE_MAX_DEPTH 2048
#define STROP_CODE_FINGERPRINT 80
#define STROP_REMOTE_MAX_THREADS 4096
#define STROP_REMOTE_RETRIES 4 /* walks of a torn thread read again in one reading */

/* Reads `len` bytes at remote `addr` into `buf`.  Returns 0, or -1 with errno
 * set (EFAULT for an unmapped address, ESRCH when the process is gone, EPERM). */
typedef int (*StropReadFn)(void *ctx, uintptr_t addr, void *buf, size_t len);

/* What the reader knows of one code object.  Strings are UTF-8, NUL-ended,
 * owned by the cache; valid until strop_remote_free(). */
typedef struct StropCode {
    uintptr_t addr;
    char *filename;
    char *name;
    char *qualname; /* co_qualname on 3.11+, else a copy of name */
    int firstlineno;
    int framesize; /* co_framesize: its frames' words on the data stack (3.12+), else 0 */
    unsigned char *linetable; /* co_lnotab / co_linetable bytes */
    size_t linetable_len;
    /* Private to remote.c: the bytes compared on a cache hit, and the list of
     * entries retired because their address was reused. */
    unsigned char fingerprint[STROP_CODE_FINGERPRINT];
    struct StropCode *retired_next;
    uint64_t checked; /* the reading in which the fingerprint was last compared */
} StropCode;

typedef struct StropRemoteFrame {
    const StropCode *code;
    int line; /* the line executing, or -1 when unknown */
} StropRemoteFrame;

/* Why a thread's walk failed (StropRemoteThread.torn), counted by the reader
 * per reason (strop_remote_torn_counts()). */
typedef enum StropTorn {
    STROP_TORN_NONE = 0,
    STROP_TORN_CFRAME,      /* tstate's cframe could not be read (3.11, 3.12) */
    STROP_TORN_FRAME_ADDR,  /* a frame link that is no object's address */
    STROP_TORN_FRAME_READ,  /* a frame's memory could not be read */
    STROP_TORN_LOOP,        /* a frame linking to itself, or too deep a chain */
    STROP_TORN_OWNER,       /* a frame whose owner is none of CPython's (3.11+) */
    STROP_TORN_CODE_READ,   /* a frame's code object could not be read */
    STROP_TORN_CODE_TYPE,   /* a frame's code is no code object (not yet set, or reused) */
    STROP_TORN_CODE_FIELDS, /* a code object's names or line table unreadable */
    STROP_TORN_INSTR,       /* a frame's instruction pointer outside its code */
    STROP_TORN_STALE,       /* a frame above its data stack's top: returned from */
    STROP_TORN_N
} StropTorn;

/* A short name of reason `why` ("code type"), for reports. */
const char *strop_remote_torn_name(int why);

typedef struct StropRemoteThread {
    uint64_t ident;    /* threading's ident (pthread_t) */
    long native_id;    /* the kernel's TID, or 0 when unknown */
    uint32_t first;    /* index of its innermost frame in the sample's frames */
    uint32_t n_frames; /* 0: no Python frame (skipped by users) */
    int torn;          /* a StropTorn: the walk failed; frames are not to be used */
    int at_caller;     /* 1: read from the eval loop that called the innermost one,
                        * which was being entered or left (3.11, 3.12) */
} StropRemoteThread;

/* One reading of every thread.  Arrays owned by the sample, reused from call
 * to call; strop_remote_sample_free() releases them. */
typedef struct StropRemoteSample {
    StropRemoteThread *threads;
    uint32_t n_threads, cap_threads;
    StropRemoteFrame *frames; /* per thread, innermost first */
    uint32_t n_frames, cap_frames;
} StropRemoteSample;

typedef struct StropRemote StropRemote;

/* Attaches to `pid`.  On success *out is the reader (free with
 * strop_remote_free()).  On failure returns a status code and writes one line
 * saying why (and the fix, for permissions) into err. */
int strop_remote_attach(pid_t pid, StropRemote **out, char *err, size_t err_len);

/* A reader over memory read by `read` (tests): `runtime` is the address of
 * _PyRuntime, `version` 0xMMmm.  Returns NULL when out of memory or the
 * version is unknown. */
StropRemote *strop_remote_new(StropReadFn read, void *ctx, uintptr_t runtime, int version);

void strop_remote_free(StropRemote *r);

/* 0xMMmm of the target, and its version as text ("3.11"). */
int strop_remote_version(const StropRemote *r);
pid_t strop_remote_pid(const StropRemote *r);

/* Reads every thread's stack into `s`.  Returns 0 (threads may be torn one by
 * one, after their retries; a 3.11/3.12 thread caught entering an eval loop
 * is read from the calling one's frame and marked at_caller), STROP_REMOTE_EREAD when the thread list itself could not be read,
 * STROP_REMOTE_ENOPROC when the process is gone, STROP_REMOTE_ENOMEM.  Never
 * allocates when the arrays are large enough already. */
int strop_remote_sample(StropRemote *r, StropRemoteSample *s);

void strop_remote_sample_free(StropRemoteSample *s);

/* The line executing at instruction offset `offset` (bytes from the first
 * instruction) of `code`, by the line-table format of `version`; -1 when the
 * instruction has no line.  Exposed for tests. */
int strop_remote_addr2line(int version, const StropCode *code, long offset);

/* Where the GIL of the target's first interpreter is: *lo and *hi bound
 * its struct, where a thread waiting for the GIL sleeps (a futex address).
 * Returns 0, or -1 when it cannot be read (yet). */
int strop_remote_gil(StropRemote *r, uintptr_t *lo, uintptr_t *hi);

/* Code objects read so far (the cache's size), and how many reads were made. */
size_t strop_remote_cached_codes(const StropRemote *r);
uint64_t strop_remote_reads(const StropRemote *r);

/* Failed walks of a thread's frames so far, per StropTorn reason (index 0:
 * threads read again within the same reading and then read whole).  `out`
 * has STROP_TORN_N entries. */
void strop_remote_torn_counts(const StropRemote *r, uint64_t *out);

#endif /* STROP_REMOTE_H */
