/* test_remote_torn.c: the remote reader on a made-up 3.12 process caught in
 * the states that used to cost samples.
 *
 * The fake process is a buffer laid out with pyoffsets.h's 3.12 row: the
 * runtime, one interpreter, one thread whose _PyCFrame (on its "C stack")
 * points to the innermost of two frames in its data stack, two code objects
 * named "main" and "Box.inner" (co_qualname), and a junk object whose type
 * is not code.  Each case bends one thing and checks what the reader makes of
 * it:
 *   - a read torn once (the current frame read as junk the first time): read
 *     again within the same reading, whole;
 *   - an eval loop being entered (3.11, 3.12: tstate->cframe set before its
 *     current_frame): read from the calling eval loop's frame, marked so;
 *   - the same with no calling eval loop: torn, no frame invented;
 *   - a current frame at the data stack's top as the state was copied
 *     (called after that copy, the pointer being read later): its caller,
 *     the frame that ended at the top, is read;
 *   - a current frame below the frame that ended at the top (its callee
 *     returned after the copy of the top): the callee is read from the
 *     data stack beside it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "remote.h"


#define BASE ((uintptr_t)0x7f0000000000ull)
#define SIZE 0x20000
#define RUNTIME (BASE + 0x100)
#define INTERP (BASE + 0x1000)
#define TSTATE (BASE + 0x2000)
#define CODE_MAIN (BASE + 0x3000)
#define CODE_INNER (BASE + 0x3400)
#define CODE_GONE (BASE + 0x3800) /* the code of a frame that returned */
#define TYPE_CODE (BASE + 0x4000)
#define TYPE_STR (BASE + 0x4100)
#define TYPE_BYTES (BASE + 0x4200)
#define TYPE_JUNK (BASE + 0x4300)
#define STRS (BASE + 0x4800)
#define JUNK (BASE + 0x5800)
#define CFRAME_INNER (BASE + 0x9000)
#define CFRAME_OUTER (BASE + 0x9400)
#define CHUNK (BASE + 0x10000)
#define FRAME_MAIN (CHUNK + 16)
#define FRAME_INNER (CHUNK + 16 + 128)
#define TOP (CHUNK + 16 + 256)
#define FRAME_GONE TOP /* where a returned frame sat */

typedef struct Fake {
    unsigned char mem[SIZE];
    uintptr_t torn_at; /* a word read as JUNK ... */
    int torn_left;     /* ... this many more times */
} Fake;

static int
fake_read(void *ctx, uintptr_t addr, void *buf, size_t len)
{
    Fake *f = ctx;
    if (addr < BASE || addr + len > BASE + SIZE)
        return -1;
    memcpy(buf, f->mem + (addr - BASE), len);
    if (f->torn_left > 0 && f->torn_at >= addr && f->torn_at + 8 <= addr + len) {
        uintptr_t junk = JUNK;
        memcpy((unsigned char *)buf + (f->torn_at - addr), &junk, 8);
        f->torn_left--;
    }
    return 0;
}

static void
put_ptr(Fake *f, uintptr_t at, uintptr_t value)
{
    memcpy(f->mem + (at - BASE), &value, sizeof value);
}

static void
put_i32(Fake *f, uintptr_t at, int32_t value)
{
    memcpy(f->mem + (at - BASE), &value, sizeof value);
}

/* A type object named `name` at `at` (its tp_name just after it). */
static void
put_type(Fake *f, const StropPyOffsets *o, uintptr_t at, const char *name)
{
    put_ptr(f, at + (uintptr_t)o->type_name, at + 0x80);
    memcpy(f->mem + (at + 0x80 - BASE), name, strlen(name) + 1);
}

/* A compact ASCII str at `at`; returns the address after it. */
static uintptr_t
put_str(Fake *f, const StropPyOffsets *o, uintptr_t at, const char *text)
{
    int64_t n = (int64_t)strlen(text);
    put_ptr(f, at + (uintptr_t)o->object_type, TYPE_STR);
    memcpy(f->mem + (at + (uintptr_t)o->unicode_length - BASE), &n, sizeof n);
    f->mem[at + (uintptr_t)o->unicode_state - BASE] = (unsigned char)o->unicode_state_ascii;
    memcpy(f->mem + (at + (uintptr_t)o->unicode_ascii_size - BASE), text, (size_t)n + 1);
    return at + 0x100;
}

static uintptr_t
put_code(Fake *f, const StropPyOffsets *o, uintptr_t at, uintptr_t strs, const char *name,
         const char *qualname, int firstlineno)
{
    int64_t one = 1;
    put_ptr(f, at + (uintptr_t)o->object_type, TYPE_CODE);
    put_i32(f, at + (uintptr_t)o->code_firstlineno, firstlineno);
    put_i32(f, at + (uintptr_t)o->code_framesize, 16); /* 128 bytes: the frames' spacing */
    put_ptr(f, at + (uintptr_t)o->code_filename, strs);
    strs = put_str(f, o, strs, "prog.py");
    put_ptr(f, at + (uintptr_t)o->code_name, strs);
    strs = put_str(f, o, strs, name);
    put_ptr(f, at + (uintptr_t)o->code_qualname, strs);
    strs = put_str(f, o, strs, qualname);
    /* A line table of one entry without a line (code 15, 8 units). */
    put_ptr(f, at + (uintptr_t)o->code_linetable, strs);
    put_ptr(f, strs + (uintptr_t)o->object_type, TYPE_BYTES);
    memcpy(f->mem + (strs + (uintptr_t)o->var_size - BASE), &one, sizeof one);
    f->mem[strs + (uintptr_t)o->bytes_data - BASE] = 0xFF;
    return strs + 0x100;
}

static void
put_frame(Fake *f, const StropPyOffsets *o, uintptr_t at, uintptr_t code, uintptr_t previous)
{
    put_ptr(f, at + (uintptr_t)o->frame_code, code);
    put_ptr(f, at + (uintptr_t)o->frame_back, previous);
    put_ptr(f, at + (uintptr_t)o->frame_instr, code + (uintptr_t)o->code_adaptive + 4);
    f->mem[at + (uintptr_t)o->frame_owner - BASE] = 0; /* the thread's */
}

/* The consistent process: main -> Box.inner running. */
static void
build(Fake *f, const StropPyOffsets *o)
{
    uintptr_t strs = STRS;
    memset(f, 0, sizeof *f);
    put_ptr(f, RUNTIME + (uintptr_t)o->runtime_interpreters_head, INTERP);
    put_ptr(f, INTERP + (uintptr_t)o->interp_threads_head, TSTATE);
    put_ptr(f, TSTATE + (uintptr_t)o->tstate_thread_id, 1234);
    put_ptr(f, TSTATE + (uintptr_t)o->tstate_native_thread_id, 99);
    put_ptr(f, TSTATE + (uintptr_t)o->tstate_frame, CFRAME_INNER);
    put_ptr(f, TSTATE + (uintptr_t)o->tstate_datastack_chunk, CHUNK);
    put_ptr(f, TSTATE + (uintptr_t)o->tstate_datastack_chunk + 8, TOP);
    put_ptr(f, TSTATE + (uintptr_t)o->tstate_datastack_chunk + 16, CHUNK + 0x4000);
    put_ptr(f, CFRAME_INNER + (uintptr_t)o->cframe_current_frame, FRAME_INNER);
    put_ptr(f, CFRAME_INNER + (uintptr_t)o->cframe_previous, CFRAME_OUTER);
    put_ptr(f, CFRAME_OUTER + (uintptr_t)o->cframe_current_frame, FRAME_MAIN);
    put_type(f, o, TYPE_CODE, "code");
    put_type(f, o, TYPE_STR, "str");
    put_type(f, o, TYPE_BYTES, "bytes");
    put_type(f, o, TYPE_JUNK, "float");
    put_ptr(f, JUNK + (uintptr_t)o->object_type, TYPE_JUNK);
    strs = put_code(f, o, CODE_MAIN, strs, "main", "main", 10);
    strs = put_code(f, o, CODE_INNER, strs, "inner", "Box.inner", 20);
    put_code(f, o, CODE_GONE, strs, "gone", "Box.gone", 30);
    put_frame(f, o, FRAME_MAIN, CODE_MAIN, 0);
    put_frame(f, o, FRAME_INNER, CODE_INNER, FRAME_MAIN);
    put_frame(f, o, FRAME_GONE, CODE_GONE, FRAME_INNER);
}

/* Reads the fake process once.  Returns the thread (NULL on failure). */
static const StropRemoteThread *
read_once(Fake *f, StropRemoteSample *s, uint64_t *retried)
{
    uint64_t counts[STROP_TORN_N];
    StropRemote *r = strop_remote_new(fake_read, f, RUNTIME, 0x030C);
    const StropRemoteThread *th = NULL;
    CHECK(r != NULL);
    if (r == NULL)
        return NULL;
    if (strop_remote_sample(r, s) == 0 && s->n_threads == 1)
        th = &s->threads[0];
    strop_remote_torn_counts(r, counts);
    *retried = counts[0];
    /* The sample's codes belong to the reader: check names before freeing. */
    if (th != NULL && th->n_frames == 2) {
        CHECK(strcmp(s->frames[th->first].code->qualname, "Box.inner") == 0);
        CHECK(strcmp(s->frames[th->first].code->name, "inner") == 0);
        CHECK(strcmp(s->frames[th->first + 1].code->qualname, "main") == 0);
    }
    strop_remote_free(r);
    return th;
}

int
main(void)
{
    static Fake fake;
    const StropPyOffsets *o = strop_pyoffsets_find(0x030C);
    StropRemoteSample s;
    const StropRemoteThread *th;
    uint64_t retried;
    memset(&s, 0, sizeof s);

    /* As built: two frames, nothing retried. */
    build(&fake, o);
    th = read_once(&fake, &s, &retried);
    CHECK(th != NULL && !th->torn && th->n_frames == 2 && !th->at_caller);
    CHECK(retried == 0);

    /* The current frame read as junk once: read again, whole. */
    build(&fake, o);
    fake.torn_at = CFRAME_INNER + (uintptr_t)o->cframe_current_frame;
    fake.torn_left = 1;
    th = read_once(&fake, &s, &retried);
    CHECK(th != NULL && !th->torn && th->n_frames == 2 && !th->at_caller);
    CHECK(retried == 1);

    /* An eval loop being entered: its _PyCFrame's current frame is junk
     * for good; the calling loop's frame is running (C code of the call). */
    build(&fake, o);
    put_ptr(&fake, CFRAME_INNER + (uintptr_t)o->cframe_current_frame, JUNK);
    put_ptr(&fake, CFRAME_OUTER + (uintptr_t)o->cframe_current_frame, FRAME_INNER);
    th = read_once(&fake, &s, &retried);
    CHECK(th != NULL && !th->torn && th->n_frames == 2 && th->at_caller);

    /* The same without a calling eval loop: torn, and no frame made up. */
    build(&fake, o);
    put_ptr(&fake, CFRAME_INNER + (uintptr_t)o->cframe_current_frame, JUNK);
    put_ptr(&fake, CFRAME_INNER + (uintptr_t)o->cframe_previous, 0);
    th = read_once(&fake, &s, &retried);
    CHECK(th != NULL && th->torn != 0 && th->n_frames == 0);
    CHECK(s.n_frames == 0);

    /* A current frame at the top copied with the state: called after that
     * copy.  The reading is of the moment of the copy: its caller ran
     * (read_once checks the two frames' names). */
    build(&fake, o);
    put_ptr(&fake, CFRAME_INNER + (uintptr_t)o->cframe_current_frame, FRAME_GONE);
    put_ptr(&fake, CFRAME_INNER + (uintptr_t)o->cframe_previous, 0);
    th = read_once(&fake, &s, &retried);
    CHECK(th != NULL && !th->torn && th->n_frames == 2);

    /* The pointer names the outer frame (the inner one returned after the
     * copy of the top): the inner one, which ended at the top, is read
     * (read_once checks the names). */
    build(&fake, o);
    put_ptr(&fake, CFRAME_INNER + (uintptr_t)o->cframe_current_frame, FRAME_MAIN);
    th = read_once(&fake, &s, &retried);
    CHECK(th != NULL && !th->torn && th->n_frames == 2);

    strop_remote_sample_free(&s);
    return CHECK_SUMMARY();
}
