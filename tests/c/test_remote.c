/* test_remote.c: the remote reader's walker over random memory.
 *
 * A fake process whose every byte is a function of its address (so reads
 * agree with each other), either plain noise or words that point back into a
 * small region (so the walker follows long chains and loops).  The walker must
 * finish, never crash, and never report a frame: nothing there is a code
 * object.  The thread-name reader (remote_names.c) likewise must finish and
 * never report a name.  Also: versions outside the table get no reader.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "remote.h"
#include "remote_names.h"


typedef struct Fake {
    uint64_t seed;
    int pointers; /* 1: aligned words point into [base, base + span) */
    uintptr_t base, span;
} Fake;

static uint64_t
mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static int
fake_read(void *ctx, uintptr_t addr, void *buf, size_t len)
{
    Fake *f = ctx;
    unsigned char *out = buf;
    for (size_t i = 0; i < len; i++) {
        uintptr_t a = addr + i;
        uint64_t word = mix((a & ~(uintptr_t)7) ^ f->seed);
        if (f->pointers && (word & 3) != 0)
            word = f->base + ((word >> 8) % f->span & ~(uint64_t)7);
        else if (f->pointers)
            word = (word >> 8) & 0xff; /* small integers and NULs */
        out[i] = (unsigned char)(word >> (8 * (a & 7)));
    }
    return 0;
}

/* A made-up process of words at given addresses, zero elsewhere. */
typedef struct Words {
    uintptr_t addr[8];
    uint64_t value[8];
    int n;
} Words;

static int
words_read(void *ctx, uintptr_t addr, void *buf, size_t len)
{
    const Words *w = ctx;
    unsigned char *out = buf;
    memset(buf, 0, len);
    for (int i = 0; i < w->n; i++)
        for (int b = 0; b < 8; b++)
            if (w->addr[i] + (uintptr_t)b >= addr && w->addr[i] + (uintptr_t)b < addr + len)
                out[w->addr[i] + (uintptr_t)b - addr] = (unsigned char)(w->value[i] >> (8 * b));
    return 0;
}

/* A thread list that comes back to its second thread (torn, or memory that
 * is no thread list) is refused after a few reads; it was walked 4,096
 * threads deep in every reading (STROP_REMOTE_MAX_THREADS), each thread read
 * up to five times: a libFuzzer input took 0.45 s a reading. */
static void
cyclic_thread_list(int version)
{
    const StropPyOffsets *o = strop_pyoffsets_find(version);
    uintptr_t runtime = 0x100000, interp = 0x200000, t1 = 0x300000, t2 = 0x310000,
              t3 = 0x320000;
    Words w = {{runtime + (uintptr_t)o->runtime_interpreters_head,
                interp + (uintptr_t)o->interp_threads_head, t1 + (uintptr_t)o->tstate_next,
                t2 + (uintptr_t)o->tstate_next, t3 + (uintptr_t)o->tstate_next},
               {interp, t1, t2, t3, t2},
               5};
    StropRemote *r = strop_remote_new(words_read, &w, runtime, version);
    StropRemoteSample s;
    memset(&s, 0, sizeof s);
    CHECK(r != NULL);
    if (r == NULL)
        return;
    CHECK(strop_remote_sample(r, &s) == STROP_REMOTE_EREAD);
    CHECK(strop_remote_reads(r) < 100);
    strop_remote_sample_free(&s);
    strop_remote_free(r);
}

int
main(void)
{
    int versions[] = {0x0308, 0x0309, 0x030A, 0x030B, 0x030C, 0x030D};
    uint64_t threads = 0;
    CHECK(strop_remote_new(fake_read, NULL, 0x10000, 0x0307) == NULL);
    CHECK(strop_remote_new(fake_read, NULL, 0x10000, 0x030E) == NULL);
    for (size_t v = 0; v < sizeof versions / sizeof versions[0]; v++) {
        for (uint64_t seed = 1; seed <= 300; seed++) {
            Fake fake = {seed * 7919, (int)(seed & 1), 0x7f0000000000ull, 1 << 16};
            StropRemote *r = strop_remote_new(fake_read, &fake, fake.base + 4096, versions[v]);
            StropRemoteSample s;
            memset(&s, 0, sizeof s);
            CHECK(r != NULL);
            if (r == NULL)
                continue;
            for (int round = 0; round < 3; round++) {
                int rc = strop_remote_sample(r, &s);
                CHECK(rc == 0 || rc == STROP_REMOTE_EREAD);
                CHECK(s.n_threads <= STROP_REMOTE_MAX_THREADS);
                threads += s.n_threads;
                for (uint32_t t = 0; t < s.n_threads; t++)
                    CHECK(s.threads[t].n_frames == 0); /* no invented frame */
                CHECK(s.n_frames == 0);
            }
            for (int round = 0; round < 2; round++) {
                StropThreadName *names = NULL;
                size_t n = 1;
                int rc = strop_remote_thread_names(r, &names, &n);
                CHECK(rc == 0 || rc == STROP_REMOTE_EREAD);
                CHECK(n == 0); /* no invented name */
                CHECK(rc == 0 || names == NULL);
                strop_remote_thread_names_free(names);
            }
            strop_remote_sample_free(&s);
            strop_remote_free(r);
        }
    }
    for (size_t v = 0; v < sizeof versions / sizeof versions[0]; v++)
        cyclic_thread_list(versions[v]);
    printf("walked %llu random threads\n", (unsigned long long)threads);
    return CHECK_SUMMARY();
}
