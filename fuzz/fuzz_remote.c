/* fuzz_remote.c: libFuzzer harness of the remote reader (remote.h,
 * remote_names.h and remote_heap.h): the stack walker, the code-object cache,
 * the line tables, the thread-name lookup and the census of the collector's
 * lists, over a target's memory made of the input.
 *
 * The input's first byte picks the CPython version (3.8 to 3.13, by the
 * offset tables); the rest is the target's memory, at BASE.  Every address
 * at or above BASE is folded into it (wrapping), so that any aligned pointer
 * the walker follows lands on bytes the fuzzer controls; below BASE nothing
 * is mapped.  Each input is read twice, as a sampler does: the second reading
 * meets the code cache and the threads' remembered stack places.  Pure C. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"
#include "remote_heap.h"
#include "remote_names.h"

#define BASE ((uintptr_t)0x10000000)

/* The input's memory, tiled to at least TILE bytes past its length, so that
 * a read (the walker reads up to 16 KiB at once) is one memcpy. */
#define TILE 32768
typedef struct Image {
    const uint8_t *data;
    size_t len;
} Image;

static int
read_image(void *ctx, uintptr_t addr, void *buf, size_t len)
{
    const Image *im = ctx;
    unsigned char *out = buf;
    size_t at;
    if (im->len == 0 || addr < BASE) {
        errno = EFAULT;
        return -1;
    }
    at = (size_t)((addr - BASE) % im->len);
    while (len > 0) {
        size_t n = len < TILE ? len : TILE;
        memcpy(out, im->data + at, n);
        out += n;
        len -= n;
        at = (at + n) % im->len;
    }
    return 0;
}

/* Touches what a sample hands its users, so that a wrong pointer or length
 * in it is an ASan report here. */
static void
use(int version, const StropRemoteSample *s)
{
    for (uint32_t t = 0; t < s->n_threads; t++) {
        const StropRemoteThread *th = &s->threads[t];
        if (th->torn)
            continue;
        if (th->first + th->n_frames > s->n_frames)
            abort();
        for (uint32_t i = 0; i < th->n_frames; i++) {
            const StropCode *code = s->frames[th->first + i].code;
            if (code == NULL || strlen(code->filename) + strlen(code->name) +
                                        strlen(code->qualname) > (size_t)1 << 20)
                abort();
            for (long offset = 0; offset < 64; offset += 2)
                (void)strop_remote_addr2line(version, code, offset);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int versions[] = {0x308, 0x309, 0x30a, 0x30b, 0x30c, 0x30d};
    static uint8_t *tiled;
    static size_t tiled_cap;
    Image im;
    StropRemote *r;
    StropRemoteSample s;
    int version;
    if (size < 1)
        return 0;
    version = versions[data[0] % (sizeof versions / sizeof versions[0])];
    im.len = size - 1;
    if (im.len > 0) {
        size_t need = im.len + TILE + im.len, filled = 0;
        if (need > tiled_cap) {
            free(tiled);
            tiled = malloc(need);
            tiled_cap = tiled != NULL ? need : 0;
            if (tiled == NULL)
                return 0;
        }
        while (filled < need) {
            size_t n = need - filled < im.len ? need - filled : im.len;
            memcpy(tiled + filled, data + 1, n);
            filled += n;
        }
    }
    im.data = tiled;
    r = strop_remote_new(read_image, &im, BASE, version);
    if (r == NULL)
        return 0;
    memset(&s, 0, sizeof s);
    for (int reading = 0; reading < 2; reading++) {
        StropThreadName *names = NULL;
        size_t n = 0;
        if (strop_remote_sample(r, &s) == 0)
            use(version, &s);
        if (strop_remote_thread_names(r, &names, &n) == 0) {
            for (size_t i = 0; i < n; i++)
                if (names[i].name[0] == '\0')
                    abort();
            strop_remote_thread_names_free(names);
        }
    }
    {
        /* The census: every object counted is in a row, and no more per
         * list than the bound. */
        StropHeapCensus c;
        uint64_t counted = 0;
        memset(&c, 0, sizeof c);
        if (strop_heap_remote_census(r, &c, 4096) == 0) {
            for (size_t i = 0; c.types && i <= c.mask; i++) {
                if (c.types[i].addr != 0 && strlen(c.types[i].name) > STROP_HEAP_TYPE_NAME)
                    abort();
                counted += c.types[i].count;
            }
            if (counted != c.objects || c.objects > 4 * 4096 || c.lists + c.lists_torn != 4)
                abort();
        }
        strop_heap_remote_census_free(&c);
    }
    strop_remote_sample_free(&s);
    strop_remote_free(r);
    return 0;
}
