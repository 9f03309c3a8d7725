/* remote.c: reading the Python stacks of another process (see remote.h).
 *
 * Layout: the ELF symbol lookup and /proc parsing that find _PyRuntime; the
 * code-object cache (open addressing by remote address, entries allocated one
 * by one so pointers to them stay valid); the checked readers of str and bytes
 * objects; the walk; the line-table decoders of each version.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* process_vm_readv, pread, readlink under -std=c11 */
#endif
#include "remote_int.h"

#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mem.h"

#define MAX_STR 4096          /* longest name or file name we read */
#define MAX_LINETABLE (1 << 20)
#define MAX_INTERPS 64
#define FRAME_READ 128 /* bytes of a frame we read: every field we use is below */
#define CODE_READ 256  /* bytes of a code object we read */
#define FRAME_WINDOW STROP_FRAME_WINDOW
#define TSTATE_READ 512
#define MAX_SPANS (5 + STROP_CFRAMES) /* spans read in one call */
#define CSTACK_UP (STROP_CSTACK_WINDOW - 2048) /* C window above its innermost frame */
/* Whether a code object tells its frames' size on the data stack (3.11+). */
#define FRAME_SIZES(o) ((o)->code_framesize >= 0 || (o)->code_nlocalsplus >= 0)
#define CSTACK_NEAR 4096 /* the C window's bytes around it, read with the frames (3.12+) */

/* This file's short names for remote_int.h's helpers. */
#define rd strop_remote_rd
#define rd_ptr strop_remote_rd_ptr
#define ptr_at strop_remote_ptr_at
#define aligned strop_remote_aligned

/* ---- memory ------------------------------------------------------------- */

static int
read_process(void *ctx, uintptr_t addr, void *buf, size_t len)
{
    pid_t pid = (pid_t)(intptr_t)ctx;
    struct iovec local = {buf, len}, remote = {(void *)addr, len};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n == (ssize_t)len)
        return 0;
    if (n >= 0)
        errno = EFAULT;
    return -1;
}

/* Reads `n` spans at once: remote addr[i], len[i] bytes into buf[i].  From a
 * process, in one process_vm_readv (the kernel copies them one after the
 * other, all of a span or none, and stops at the first that fails).  Returns
 * how many of the first spans were read whole (0 to n).  errno is set when
 * not all were. */
static int
read_many(StropRemote *r, const uintptr_t *addr, void *const *buf, const size_t *len, int n)
{
    struct iovec local[MAX_SPANS] = {{0}}, remote[MAX_SPANS] = {{0}};
    ssize_t got;
    int done = 0;
    if (n > MAX_SPANS)
        n = MAX_SPANS;
    for (int i = 0; i < n; i++) {
        if (addr[i] < 4096 || addr[i] + len[i] < addr[i])
            break;
        local[i].iov_base = buf[i];
        local[i].iov_len = len[i];
        remote[i].iov_base = (void *)addr[i];
        remote[i].iov_len = len[i];
        done = i + 1;
    }
    r->reads++;
    if (r->read != read_process) {
        for (int i = 0; i < done; i++) {
            if (r->read(r->ctx, addr[i], buf[i], len[i]) < 0)
                return i;
        }
        return done;
    }
    got = process_vm_readv(r->pid, local, (unsigned long)done, remote, (unsigned long)done, 0);
    if (got < 0)
        return 0;
    for (int i = 0; i < done; i++) {
        if ((size_t)got < len[i]) {
            errno = EFAULT;
            return i;
        }
        got -= (ssize_t)len[i];
    }
    return done;
}

/* ---- checked objects ---------------------------------------------------- */

int
strop_remote_type_named(StropRemote *r, uintptr_t type, const char *name)
{
    uintptr_t tp_name;
    char buf[16];
    size_t n = strlen(name) + 1;
    if (!aligned(type) || rd_ptr(r, type + (uintptr_t)r->off.type_name, &tp_name) < 0)
        return -1;
    if (tp_name < 4096 || rd(r, tp_name, buf, n) < 0)
        return -1;
    return memcmp(buf, name, n) == 0;
}

/* Checks that the object at `obj` has the type cached in *slot, learning it
 * the first time from its tp_name.  Returns 0 or -1. */
static int
check_type(StropRemote *r, uintptr_t type, uintptr_t *slot, const char *name)
{
    if (*slot != 0)
        return type == *slot ? 0 : -1;
    if (strop_remote_type_named(r, type, name) != 1)
        return -1;
    *slot = type;
    return 0;
}

static void
put_utf8(char **p, uint32_t c)
{
    unsigned char *q = (unsigned char *)*p;
    if (c < 0x80) {
        *q++ = (unsigned char)c;
    }
    else if (c < 0x800) {
        *q++ = (unsigned char)(0xC0 | (c >> 6));
        *q++ = (unsigned char)(0x80 | (c & 0x3F));
    }
    else if (c < 0x10000) {
        *q++ = (unsigned char)(0xE0 | (c >> 12));
        *q++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        *q++ = (unsigned char)(0x80 | (c & 0x3F));
    }
    else {
        if (c > 0x10FFFF)
            c = 0xFFFD;
        *q++ = (unsigned char)(0xF0 | (c >> 18));
        *q++ = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
        *q++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        *q++ = (unsigned char)(0x80 | (c & 0x3F));
    }
    *p = (char *)q;
}

char *
strop_remote_str(StropRemote *r, uintptr_t obj, size_t max_chars, int cut)
{
    unsigned char head[128];
    const StropPyOffsets *o = &r->off;
    int64_t length;
    unsigned state, kind;
    size_t data_off, n;
    unsigned char *raw;
    char *out, *p;

    if (!aligned(obj) || rd(r, obj, head, (size_t)o->unicode_compact_size) < 0)
        return NULL;
    if (check_type(r, ptr_at(head, o->object_type), &r->str_type, "str") < 0)
        return NULL;
    memcpy(&length, head + o->unicode_length, sizeof length);
    state = head[o->unicode_state];
    if (length < 0 || (length > (int64_t)max_chars && !cut))
        return NULL;
    if (length > (int64_t)max_chars)
        length = (int64_t)max_chars;
    /* kind: bits 2-4; compact: bit 5; ascii: bit 6 (the probe test checks). */
    kind = (state >> 2) & 7;
    if (!(state & 0x20) || (kind != 1 && kind != 2 && kind != 4))
        return NULL;
    data_off = (state & 0x40) ? (size_t)o->unicode_ascii_size : (size_t)o->unicode_compact_size;
    if ((state & 0x40) && kind != 1)
        return NULL;
    n = (size_t)length * kind;
    raw = strop_malloc(n + 1);
    out = strop_malloc((size_t)length * 4 + 1);
    if (raw == NULL || out == NULL || (n && rd(r, obj + data_off, raw, n) < 0)) {
        strop_free(raw);
        strop_free(out);
        return NULL;
    }
    p = out;
    for (int64_t i = 0; i < length; i++) {
        uint32_t c;
        if (kind == 1) {
            c = raw[i];
        }
        else if (kind == 2) {
            uint16_t c2;
            memcpy(&c2, raw + 2 * i, 2);
            c = c2;
        }
        else {
            memcpy(&c, raw + 4 * i, 4);
        }
        if (c == 0)
            c = 0xFFFD;
        put_utf8(&p, c);
    }
    *p = '\0';
    strop_free(raw);
    return out;
}

/* Reads the str at `obj` as a new UTF-8 string (strop_free it).  Returns NULL
 * when it does not look like a compact str, is too long, or a read fails. */
static char *
read_str(StropRemote *r, uintptr_t obj)
{
    return strop_remote_str(r, obj, MAX_STR, 0);
}

/* Reads the bytes object at `obj` into a new buffer.  Returns 0 or -1. */
static int
read_bytes(StropRemote *r, uintptr_t obj, unsigned char **data, size_t *len)
{
    unsigned char head[64];
    int64_t size;
    const StropPyOffsets *o = &r->off;
    if (!aligned(obj) || rd(r, obj, head, (size_t)o->bytes_data) < 0)
        return -1;
    if (check_type(r, ptr_at(head, o->object_type), &r->bytes_type, "bytes") < 0)
        return -1;
    memcpy(&size, head + o->var_size, sizeof size);
    if (size < 0 || size > MAX_LINETABLE)
        return -1;
    *data = strop_malloc((size_t)size + 1);
    if (*data == NULL)
        return -1;
    if (size && rd(r, obj + (uintptr_t)o->bytes_data, *data, (size_t)size) < 0) {
        strop_free(*data);
        *data = NULL;
        return -1;
    }
    *len = (size_t)size;
    return 0;
}

/* ---- the code-object cache ---------------------------------------------- */

static void
code_free(StropCode *c)
{

    if (c == NULL)
        return;
    strop_free(c->filename);
    strop_free(c->name);
    strop_free(c->qualname);
    strop_free(c->linetable);
    strop_free(c);
}

static size_t
slot_of(uintptr_t addr, size_t mask)
{
    uint64_t h = (uint64_t)addr * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & mask;
}

static int
cache_put(StropRemote *r, StropCode *c)
{
    if ((r->n_codes + 1) * 2 > r->mask + 1) {
        size_t new_mask = r->mask ? r->mask * 2 + 1 : 255;
        StropCode **slots = strop_calloc(new_mask + 1, sizeof *slots);
        if (slots == NULL)
            return -1;
        for (size_t i = 0; r->slots && i <= r->mask; i++) {
            if (r->slots[i] != NULL) {
                size_t j = slot_of(r->slots[i]->addr, new_mask);
                while (slots[j] != NULL)
                    j = (j + 1) & new_mask;
                slots[j] = r->slots[i];
            }
        }
        strop_free(r->slots);
        r->slots = slots;
        r->mask = new_mask;
    }
    size_t j = slot_of(c->addr, r->mask);
    while (r->slots[j] != NULL)
        j = (j + 1) & r->mask;
    r->slots[j] = c;
    r->n_codes++;
    return 0;
}

static StropCode *
cache_get(StropRemote *r, uintptr_t addr)
{
    if (r->slots == NULL)
        return NULL;
    for (size_t j = slot_of(addr, r->mask);; j = (j + 1) & r->mask) {
        StropCode *c = r->slots[j];
        if (c == NULL || c->addr == addr)
            return c;
    }
}

/* The code object at `addr`, from the cache or read now.  NULL when it does
 * not look like a code object (torn read: *why says how) or out of memory
 * (*oom set). */
static const StropCode *
code_at(StropRemote *r, uintptr_t addr, int *oom, int *why)
{
    unsigned char buf[CODE_READ];
    const StropPyOffsets *o = &r->off;
    StropCode *c = cache_get(r, addr), *old = NULL;
    int32_t first;
    if (c != NULL) {
        /* Code objects die (a module's, once run) and their address is
         * reused: compare the names' pointers and the first line, once per
         * reading (a code object cannot die and be replaced within one
         * frame chain that we read as consistent). */
        unsigned char now[CODE_READ];
        if (c->checked == r->epoch)
            return c;
        if (rd(r, addr + (uintptr_t)r->check_lo, now, (size_t)r->check_len) < 0) {
            *why = STROP_TORN_CODE_READ;
            return NULL;
        }
        if (memcmp(now, c->fingerprint, (size_t)r->check_len) == 0) {
            c->checked = r->epoch;
            return c;
        }
        old = c;
    }
    *why = STROP_TORN_CODE_READ;
    if (!aligned(addr) || rd(r, addr, buf, (size_t)o->code_size) < 0)
        return NULL;
    *why = STROP_TORN_CODE_TYPE;
    if (check_type(r, ptr_at(buf, o->object_type), &r->code_type, "code") < 0)
        return NULL;
    *why = STROP_TORN_CODE_FIELDS;
    memcpy(&first, buf + o->code_firstlineno, sizeof first);
    if (first < 0 || first > 100000000)
        return NULL;
    c = strop_calloc(1, sizeof *c);
    if (c == NULL) {
        *oom = 1;
        return NULL;
    }
    c->addr = addr;
    c->firstlineno = first;
    if (FRAME_SIZES(o)) {
        int32_t words, locals, stack;
        if (o->code_framesize >= 0) {
            memcpy(&words, buf + o->code_framesize, sizeof words);
        }
        else {
            memcpy(&locals, buf + o->code_nlocalsplus, sizeof locals);
            memcpy(&stack, buf + o->code_stacksize, sizeof stack);
            words = locals >= 0 && stack >= 0 && locals < (1 << 20) && stack < (1 << 20)
                        ? locals + stack + o->frame_specials
                        : 0;
        }
        c->framesize = words > 0 && words < (1 << 20) ? words : 0;
    }
    c->filename = read_str(r, ptr_at(buf, o->code_filename));
    c->name = read_str(r, ptr_at(buf, o->code_name));
    if (o->code_qualname >= 0)
        c->qualname = read_str(r, ptr_at(buf, o->code_qualname));
    if (o->code_qualname < 0 && c->name != NULL) {
        size_t n = strlen(c->name) + 1;
        c->qualname = strop_malloc(n);
        if (c->qualname != NULL)
            memcpy(c->qualname, c->name, n);
    }
    if (c->filename == NULL || c->name == NULL || c->qualname == NULL ||
        read_bytes(r, ptr_at(buf, o->code_linetable), &c->linetable, &c->linetable_len) < 0) {
        code_free(c);
        return NULL;
    }
    memcpy(c->fingerprint, buf + r->check_lo, (size_t)r->check_len);
    if (old != NULL) {
        /* Keep the old entry: the caller's tree names functions by it. */
        size_t j = slot_of(addr, r->mask);
        while (r->slots[j] != old)
            j = (j + 1) & r->mask;
        r->slots[j] = c;
        old->retired_next = r->retired;
        r->retired = old;
        return c;
    }
    if (cache_put(r, c) < 0) {
        code_free(c);
        *oom = 1;
        return NULL;
    }
    return c;
}

/* ---- line numbers ------------------------------------------------------- */

/* 3.8, 3.9: co_lnotab, pairs (address increment, signed line increment). */
static int
lnotab_line(const StropCode *c, long offset)
{
    int line = c->firstlineno;
    long addr = 0;
    for (size_t i = 0; i + 1 < c->linetable_len; i += 2) {
        addr += c->linetable[i];
        if (addr > offset)
            break;
        line += (signed char)c->linetable[i + 1];
    }
    return line;
}

/* 3.10: co_linetable, pairs (bytes covered, signed line delta; -128: none). */
static int
linetable310_line(const StropCode *c, long offset)
{
    int line = c->firstlineno;
    long end = 0;
    for (size_t i = 0; i + 1 < c->linetable_len; i += 2) {
        long start = end;
        int delta = (signed char)c->linetable[i + 1];
        end += c->linetable[i];
        if (delta != -128)
            line += delta;
        if (offset >= start && offset < end)
            return delta == -128 ? -1 : line;
    }
    return -1;
}

static unsigned
varint(const unsigned char *t, size_t n, size_t *i)
{
    unsigned val = 0, shift = 0;
    while (*i < n) {
        unsigned b = t[(*i)++];
        val |= (b & 63) << shift;
        shift += 6;
        if (!(b & 64) || shift > 28)
            break;
    }
    return val;
}

static int
svarint(const unsigned char *t, size_t n, size_t *i)
{
    unsigned u = varint(t, n, i);
    return (u & 1) ? -(int)(u >> 1) : (int)(u >> 1);
}

/* 3.11+: the location table (Objects/locations.md): entries of 1 to 8 code
 * units, each starting with a byte with bit 7 set. */
static int
locations_line(const StropCode *c, long offset)
{
    const unsigned char *t = c->linetable;
    size_t n = c->linetable_len, i = 0;
    long unit = offset / 2, addr = 0;
    int line = c->firstlineno;
    while (i < n) {
        unsigned first = t[i++];
        unsigned code = (first >> 3) & 15;
        long length = (first & 7) + 1;
        int this_line = line;
        if (!(first & 0x80))
            return -1; /* not an entry start: a torn or foreign table */
        if (code == 15) {
            this_line = -1;
        }
        else if (code == 14) {
            line += svarint(t, n, &i);
            this_line = line;
            varint(t, n, &i);
            varint(t, n, &i);
            varint(t, n, &i);
        }
        else if (code == 13) {
            line += svarint(t, n, &i);
            this_line = line;
        }
        else if (code >= 10) {
            line += (int)code - 10;
            this_line = line;
            i += 2;
        }
        else {
            this_line = line;
            i += 1;
        }
        if (unit >= addr && unit < addr + length)
            return this_line;
        addr += length;
    }
    return -1;
}

int
strop_remote_addr2line(int version, const StropCode *code, long offset)
{
    if (offset < 0)
        return code->firstlineno;
    if (version >= 0x030B)
        return locations_line(code, offset);
    if (version == 0x030A)
        return linetable310_line(code, offset);
    return lnotab_line(code, offset);
}

/* ---- the walk ----------------------------------------------------------- */

static int
grow(void **array, uint32_t *cap, uint32_t need, size_t size)
{
    uint32_t n = *cap ? *cap : 16;
    void *p;
    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    p = strop_realloc(*array, (size_t)n * size);
    if (p == NULL)
        return -1;
    *array = p;
    *cap = n;
    return 0;
}

/* Reads `len` bytes of the frame at `frame` into buf: from the windows of
 * the reading when they hold them, else (3.11+) by reading a new window: in
 * the thread's data stack one that ends with this frame (older frames sit
 * below newer ones), elsewhere (the C stack's entry frames, generators) one
 * that reaches above it (the C stack grows down).  Returns 0 or -1. */
static int
read_frame(StropRemote *r, uintptr_t frame, unsigned char *buf, size_t len)
{
    uintptr_t lo, hi;
    if (frame + len < frame)
        return -1;
    if (r->win_hi != 0 && frame >= r->win_lo && frame + len <= r->win_hi) {
        memcpy(buf, r->window + (frame - r->win_lo), len);
        return 0;
    }
    if (r->cwin_hi != 0 && frame >= r->cwin_lo && frame + len <= r->cwin_hi) {
        memcpy(buf, r->cwindow + (frame - r->cwin_lo), len);
        return 0;
    }
    if (r->off.version < 0x030B || frame < STROP_CSTACK_WINDOW)
        return rd(r, frame, buf, len);
    if (r->cur_top != 0 && frame >= r->cur_chunk && frame < r->cur_limit) {
        hi = frame + len;
        lo = hi - r->cur_chunk > FRAME_WINDOW ? hi - FRAME_WINDOW : r->cur_chunk;
        if (rd(r, lo, r->window, hi - lo) < 0) {
            r->win_hi = 0;
            return rd(r, frame, buf, len);
        }
        r->win_lo = lo;
        r->win_hi = hi;
        memcpy(buf, r->window + (frame - lo), len);
        return 0;
    }
    lo = frame - 1024;
    if (rd(r, lo, r->cwindow, STROP_CSTACK_WINDOW) < 0) {
        /* Past the end of its mapping: this page only. */
        lo = frame & ~(uintptr_t)4095;
        hi = lo + 4096 >= frame + len ? lo + 4096 : frame + len;
        if (hi - lo > STROP_CSTACK_WINDOW || rd(r, lo, r->cwindow, hi - lo) < 0) {
            r->cwin_hi = 0;
            return rd(r, frame, buf, len);
        }
    }
    else {
        hi = lo + STROP_CSTACK_WINDOW;
    }
    r->cwin_lo = lo;
    r->cwin_hi = hi;
    memcpy(buf, r->cwindow + (frame - lo), len);
    return 0;
}

/* The bytes of a frame header the walk reads (every field it uses). */
static inline size_t
frame_read_len(const StropPyOffsets *o)
{
    return (size_t)o->frame_size < FRAME_READ ? (size_t)o->frame_size : FRAME_READ;
}

/* Whether the frame header in buf, at `frame`, is owned by the thread yet
 * off its data stack: no frame any longer, but the entry shim (3.12+) of an
 * eval loop that returned while we read, or a _PyCFrame's stale pointer
 * (3.11), its C stack used again. */
static inline int
off_data_stack(const StropRemote *r, uintptr_t frame, const unsigned char *buf)
{
    return buf[r->off.frame_owner] == 0 && (frame < r->cur_chunk || frame >= r->cur_limit);
}

/* The words of the data-stack frame whose header is in buf (3.11+), or 0
 * when it is no frame of the thread's current chunk with a known code. */
static uintptr_t
frame_words(StropRemote *r, uintptr_t frame, const unsigned char *buf)
{
    const StropPyOffsets *o = &r->off;
    const StropCode *code;
    int oom = 0, why = 0;
    if (buf[o->frame_owner] != 0 || frame < r->cur_chunk || frame >= r->cur_limit)
        return 0;
    code = code_at(r, ptr_at(buf, o->frame_code), &oom, &why);
    return code == NULL ? 0 : (uintptr_t)code->framesize;
}

/* The highest data-stack frame below `below` (ending at or below it) that
 * the current frame of one of the thread's eval loops names (an outer
 * loop's frame stays put while the loops it called through C run), its
 * words in *words; 0 if none. */
static uintptr_t
anchor_below(StropRemote *r, uintptr_t below, uintptr_t *words)
{
    const StropPyOffsets *o = &r->off;
    unsigned char buf[FRAME_READ];
    size_t frame_read = frame_read_len(o);
    uintptr_t best = 0;
    for (int i = 0; i < STROP_CFRAMES; i++) {
        uintptr_t f = r->cf_frame[i], w;
        if (r->cf_at[i] == 0 || f <= best || f < r->cur_chunk || f >= below || !aligned(f) ||
            read_frame(r, f, buf, frame_read) < 0)
            continue;
        w = frame_words(r, f, buf);
        if (w != 0 && f + w * 8 <= below) {
            best = f;
            *words = w;
        }
    }
    return best;
}

/* Walks one thread's frames from `frame`, appending to s->frames.  Returns 0,
 * STROP_REMOTE_ENOMEM, or a StropTorn reason (above 0) when torn. */
static int
walk_frames(StropRemote *r, uintptr_t frame, StropRemoteSample *s, uint32_t *count)
{
    const StropPyOffsets *o = &r->off;
    unsigned char buf[FRAME_READ];
    size_t frame_read = frame_read_len(o);
    uintptr_t prev = 0, last_data = 0;
    *count = 0;
    for (uint32_t depth = 0; frame != 0; depth++) {
        uintptr_t code_addr;
        const StropCode *code;
        long offset;
        int oom = 0;
        int why = 0;
        if (!aligned(frame))
            return STROP_TORN_FRAME_ADDR;
        if (depth >= STROP_REMOTE_MAX_DEPTH || frame == prev)
            return STROP_TORN_LOOP;
        prev = frame;
        if (read_frame(r, frame, buf, frame_read) < 0)
            return STROP_TORN_FRAME_READ;
        code_addr = ptr_at(buf, o->frame_code);
        if (FRAME_SIZES(o) && last_data != 0 && off_data_stack(r, frame, buf)) {
            /* The caller is the frame that the calling eval loop is at:
             * the highest of theirs below the callee. */
            uintptr_t words;
            frame = anchor_below(r, last_data, &words);
            if (frame == 0)
                return STROP_TORN_CODE_TYPE;
            prev = 0;
            continue;
        }
        if (o->frame_owner >= 0 && buf[o->frame_owner] == 0 && frame >= r->cur_chunk &&
            frame < r->cur_limit)
            last_data = frame;
        /* Owners: 0 a thread's data stack, 1 a generator, 2 a frame object,
         * 3 (3.12+) the C stack.  Anything else is no frame (any longer). */
        if (o->frame_owner >= 0 && buf[o->frame_owner] > (o->version >= 0x030C ? 3 : 2))
            return STROP_TORN_OWNER;
        if (o->frame_owner >= 0 && buf[o->frame_owner] == 3) {
            /* 3.12+: a shim frame of the C stack, holding no Python code. */
            if (r->cur_cstack == 0)
                r->cur_cstack = frame;
            frame = ptr_at(buf, o->frame_back);
            continue;
        }
        /* A frame of the thread's current data-stack chunk starts below its
         * top: one at or above it was returned from (and its memory may hold
         * another frame's locals by now).  (Its end is not checked: a frame
         * without locals or stack is smaller than the struct.)  3.13+ only,
         * where the state holds both the top and the current frame: on 3.11
         * and 3.12 the frame pointers are copied after the top, and a frame
         * at or above it was called since (a fifth of raytrace's readings on
         * 3.12 were refused so, and the retries leaned to the callers). */
        if (o->frame_owner >= 0 && o->cframe_current_frame < 0 && buf[o->frame_owner] == 0 &&
            r->cur_top != 0 &&
            frame >= r->cur_chunk && frame < r->cur_limit && frame >= r->cur_top)
            return STROP_TORN_STALE;
        code = code_at(r, code_addr, &oom, &why);
        if (oom)
            return STROP_REMOTE_ENOMEM;
        if (code == NULL)
            return why;
        if (o->frame_instr >= 0) {
            uintptr_t instr = ptr_at(buf, o->frame_instr);
            uintptr_t first = code_addr + (uintptr_t)o->code_adaptive;
            offset = (long)((intptr_t)instr - (intptr_t)first);
            if (offset < -2 || offset > (1L << 26))
                return STROP_TORN_INSTR;
        }
        else {
            int32_t lasti;
            memcpy(&lasti, buf + o->frame_lasti, sizeof lasti);
            offset = o->version == 0x030A ? (long)lasti * 2 : (long)lasti;
        }
        if (grow((void **)&s->frames, &s->cap_frames, s->n_frames + 1, sizeof *s->frames) < 0)
            return STROP_REMOTE_ENOMEM;
        s->frames[s->n_frames].code = code;
        s->frames[s->n_frames].line = strop_remote_addr2line(o->version, code, offset);
        s->n_frames++;
        (*count)++;
        frame = ptr_at(buf, o->frame_back);
    }
    return 0;
}

/* Whether the frame whose header is in buf returns to `caller`:
 * its link names it, or names an entry shim (an eval loop that C code
 * entered) whose link names it.  A frame that memory left from other calls
 * put there links elsewhere. */
static int
calls_back(StropRemote *r, const unsigned char *buf, uintptr_t caller)
{
    const StropPyOffsets *o = &r->off;
    unsigned char shim[FRAME_READ];
    size_t frame_read = frame_read_len(o);
    uintptr_t back = ptr_at(buf, o->frame_back);
    if (back == caller)
        return 1;
    if (back == 0 || !aligned(back) || (back >= r->cur_chunk && back < r->cur_limit))
        return 0;
    /* Off the data stack: an entry shim on the C stack, whose link names
     * the caller, unless that eval loop returned since the copy of the top
     * and its C stack was used again (the callee then ended below the top
     * all the same: it ran). */
    if (read_frame(r, back, shim, frame_read) < 0)
        return 0;
    return shim[o->frame_owner] != 3 || ptr_at(shim, o->frame_back) == caller;
}

/* 3.11+: the innermost frame when the thread's state was copied.  The
 * state's data-stack top and the frame pointer are copied a moment apart
 * (3.11, 3.12: the pointer from the C stack, after the state), and in a
 * microsecond a program of small methods calls and returns several times:
 * the pointer's frame alone leaned the shares to the callers (raytrace:
 * Scene._lightIsVisible 25-34% where py-spy and perf say 9-12%).  Frames on
 * the data stack are contiguous, a callee's starting where its caller's
 * ends (co_framesize words; 3.11: co_nlocalsplus + co_stacksize + the
 * frame's own), so the frame that ended at the top is found
 * from the pointer's: one ending above the top was called since (its caller
 * is taken); one ending below it had callees then, read beside it as the
 * copy found them (returned since, their memory unchanged until reused).
 * An entry shim met first (an eval loop returning) is passed over.  A frame
 * off the current chunk (a generator's) is taken as it is. */
static uintptr_t
frame_at_top(StropRemote *r, uintptr_t frame)
{
    const StropPyOffsets *o = &r->off;
    unsigned char buf[FRAME_READ];
    size_t frame_read = frame_read_len(o);
    uintptr_t top = r->cur_top, words = 0, start = frame;
    int steps;
    for (steps = 0; steps < 64 && frame != 0; steps++) {
        if (!aligned(frame) || read_frame(r, frame, buf, frame_read) < 0)
            return start;
        if (buf[o->frame_owner] == 3) {
            frame = ptr_at(buf, o->frame_back);
            continue;
        }
        words = frame_words(r, frame, buf);
        if (words == 0 && off_data_stack(r, frame, buf)) {
            frame = anchor_below(r, top, &words);
            if (frame == 0)
                return start;
            break;
        }
        if (words == 0)
            return steps == 0 ? start : frame;
        if (frame < top)
            break;
        frame = ptr_at(buf, o->frame_back); /* called after the copy of the top */
    }
    if (frame == 0 || steps == 64)
        return start;
    for (steps = 0; steps < 64 && frame + words * 8 < top; steps++) {
        uintptr_t next = frame + words * 8, next_words;
        if (read_frame(r, next, buf, frame_read) < 0)
            break;
        next_words = frame_words(r, next, buf);
        if (next_words == 0 || next + next_words * 8 > top || !calls_back(r, buf, frame))
            break;
        frame = next;
        words = next_words;
    }
    return frame;
}

/* The native TID of a 3.8-3.10 thread: glibc keeps it in struct pthread, at
 * the address pthread_t holds (x86-64: offset 0x2d0). */
static long
tid_from_pthread(StropRemote *r, uint64_t ident)
{
    int32_t tid;
    if (ident == 0 || rd(r, (uintptr_t)ident + 0x2d0, &tid, sizeof tid) < 0 || tid <= 0)
        return 0;
    return tid;
}

/* The hint slot of the thread state at `tstate`. */
static StropThreadHint *
hint_of(StropRemote *r, uintptr_t tstate)
{
    uint64_t h = (uint64_t)tstate * 0x9E3779B97F4A7C15ull;
    return &r->hints[(h >> 40) & (STROP_HINTS - 1)];
}

/* Adds to the spans of a snapshot (n of them so far) the current_frame of
 * each _PyCFrame the thread's hint remembers (3.11, 3.12); cf[i] is the
 * span of the i-th.  Returns the new n. */
static int
add_cframe_spans(StropRemote *r, const StropThreadHint *h, uintptr_t tstate, uintptr_t *addr,
                 void **bufs, size_t *len, int n, int *cf)
{
    const StropPyOffsets *o = &r->off;
    for (int i = 0; o->cframe_current_frame >= 0 && h->tstate == tstate && i < STROP_CFRAMES &&
                    h->cframes[i] > 4096;
         i++) {
        cf[i] = n;
        addr[n] = h->cframes[i] + (uintptr_t)o->cframe_current_frame;
        bufs[n] = &r->cf_frame[i];
        len[n++] = sizeof r->cf_frame[i];
    }
    return n;
}

/* Reads `want` bytes of the thread state at `tstate` into buf and, in the
 * same call where the thread was read before (hint `h`), the top of its data
 * stack into r->window, the current_frame of its lately seen _PyCFrames
 * (3.11, 3.12) and its innermost C frames into r->cwindow.  The kernel
 * copies the spans in order, a microsecond or more from first to last, in
 * which a program of small methods calls and returns several times.  So the
 * state comes first, and with it the top of the data stack (and, 3.13+, the
 * current frame), then what the walk needs most: the newest frames, the C
 * stack around the innermost _PyCFrame (3.12: the entry shims that link
 * them), the older frames, then the frame pointers (frame_at_top finds the
 * frame that ended at the copied top from any of its callers or callees).
 * Without the frames' sizes (3.8-3.10: no data stack) the pointers come
 * before the frames, so that a frame is never older than the pointer that
 * led to it.  The rest of the C stack comes last (3.12+ the
 * entry frames, which change least; 16 KB that, copied between the state
 * and the frames, left 42% of raytrace's readings on 3.12 torn).  A window
 * that could not be read is left empty (the walk reads what it needs on its
 * own).  Returns 0, or -1 when the state itself could not be read (errno). */
static int
read_snapshot(StropRemote *r, uintptr_t tstate, unsigned char *buf, size_t want,
              StropThreadHint *h)
{
    const StropPyOffsets *o = &r->off;
    uintptr_t addr[MAX_SPANS] = {tstate};
    void *bufs[MAX_SPANS] = {buf};
    size_t len[MAX_SPANS] = {want};
    uintptr_t dlo = 0, dhi = 0, clo = 0, chi = 0;
    int n = 1, got, data = -1, cstack = -1, cnear = -1; /* data: the last data span */
    int cf[STROP_CFRAMES], data_first = FRAME_SIZES(o);
    r->win_hi = r->cwin_hi = 0;
    for (int i = 0; i < STROP_CFRAMES; i++) {
        r->cf_at[i] = 0;
        cf[i] = -1;
    }
    if (h->tstate == tstate && h->cstack > STROP_CSTACK_WINDOW) {
        uint32_t up = h->cstack_up ? h->cstack_up : CSTACK_UP;
        chi = h->cstack + up;
        clo = chi - STROP_CSTACK_WINDOW;
    }
    if (h->tstate == tstate && h->top > h->chunk && h->limit > h->top) {
        dhi = h->top + 1024 < h->limit ? h->top + 1024 : h->limit;
        dlo = dhi - h->chunk > STROP_FRAME_WINDOW ? dhi - STROP_FRAME_WINDOW : h->chunk;
    }
    if (!data_first)
        n = add_cframe_spans(r, h, tstate, addr, bufs, len, n, cf);
    if (dlo != 0) {
        uintptr_t mid = dhi - dlo > 2048 ? dhi - 2048 : dlo;
        data = n;
        addr[n] = mid;
        bufs[n] = r->window + (mid - dlo);
        len[n++] = dhi - mid;
        if (data_first && clo != 0) {
            /* The C stack around the innermost _PyCFrame, where the entry
             * shims of the eval loops that C code entered are: with the
             * frames that link to them, not a microsecond later. */
            cnear = n;
            addr[n] = clo;
            bufs[n] = r->cwindow;
            len[n++] = CSTACK_NEAR;
        }
        if (mid > dlo) {
            data = n;
            addr[n] = dlo;
            bufs[n] = r->window;
            len[n++] = mid - dlo;
        }
    }
    if (data_first)
        n = add_cframe_spans(r, h, tstate, addr, bufs, len, n, cf);
    if (clo != 0) {
        size_t skip = cnear > 0 ? CSTACK_NEAR : 0;
        cstack = n;
        addr[n] = clo + skip;
        bufs[n] = r->cwindow + skip;
        len[n++] = STROP_CSTACK_WINDOW - skip;
    }
    got = read_many(r, addr, bufs, len, n);
    if (got < 1)
        return -1;
    for (int i = 0; i < STROP_CFRAMES; i++)
        if (cf[i] > 0 && got > cf[i])
            r->cf_at[i] = addr[cf[i]];
    if (data > 0 && got > data) {
        r->win_lo = dlo;
        r->win_hi = dhi;
    }
    if (cstack > 0 && got > cstack) {
        r->cwin_lo = clo;
        r->cwin_hi = chi;
    }
    else if (cnear > 0 && got > cnear) {
        r->cwin_lo = clo;
        r->cwin_hi = clo + CSTACK_NEAR;
    }
    if (cstack > 0 && got == cstack) {
        /* Past the top of the thread's stack mapping: look less far up. */
        uint32_t up = h->cstack_up ? h->cstack_up : CSTACK_UP;
        h->cstack_up = up > 512 ? up / 2 : 256;
    }
    return 0;
}

/* Puts the _PyCFrame at `cframe` first in the thread's hint (3.11, 3.12). */
static void
remember_cframe(StropThreadHint *h, uintptr_t tstate, uintptr_t cframe)
{
    int i = 0;
    if (h->tstate != tstate)
        memset(h->cframes, 0, sizeof h->cframes);
    while (i < STROP_CFRAMES - 1 && h->cframes[i] != cframe)
        i++;
    memmove(&h->cframes[1], &h->cframes[0], (size_t)i * sizeof h->cframes[0]);
    h->cframes[0] = cframe;
}

/* One attempt at reading the thread whose state is at `tstate` into th and
 * s->frames (buf: TSTATE_READ bytes of scratch, `want` of them read).  With
 * `outer` set (3.11, 3.12), from the current frame of the eval loop that
 * called the innermost one.
 * Returns 0, a StropTorn reason (above 0, counted in r->torn) when torn,
 * STROP_REMOTE_ENOPROC, STROP_REMOTE_EREAD (the state itself unreadable) or
 * STROP_REMOTE_ENOMEM. */
static int
read_thread(StropRemote *r, uintptr_t tstate, unsigned char *buf, size_t want,
            StropRemoteSample *s, StropRemoteThread *th, int outer)
{
    const StropPyOffsets *o = &r->off;
    StropThreadHint *h = hint_of(r, tstate);
    uintptr_t frame;
    uint32_t count = 0;
    int rc;
    if (read_snapshot(r, tstate, buf, want, h) < 0)
        return errno == ESRCH ? STROP_REMOTE_ENOPROC : STROP_REMOTE_EREAD;
    memcpy(&th->ident, buf + o->tstate_thread_id, sizeof th->ident);
    if (o->tstate_native_thread_id >= 0) {
        unsigned long tid;
        memcpy(&tid, buf + o->tstate_native_thread_id, sizeof tid);
        th->native_id = (long)tid;
    }
    else if (th->native_id == 0) {
        th->native_id = tid_from_pthread(r, th->ident);
    }
    r->cur_chunk = r->cur_top = r->cur_limit = r->cur_cstack = 0;
    if (o->tstate_datastack_chunk >= 0) {
        r->cur_chunk = ptr_at(buf, o->tstate_datastack_chunk);
        r->cur_top = ptr_at(buf, o->tstate_datastack_chunk + 8);
        r->cur_limit = ptr_at(buf, o->tstate_datastack_chunk + 16);
        if (!(r->cur_chunk < r->cur_top && r->cur_top <= r->cur_limit))
            r->cur_chunk = r->cur_top = r->cur_limit = 0;
    }
    frame = ptr_at(buf, o->tstate_frame);
    rc = 0;
    if (o->cframe_current_frame >= 0 && frame != 0) {
        /* 3.11, 3.12: tstate->cframe->current_frame */
        uintptr_t at = frame + (uintptr_t)o->cframe_current_frame;
        r->cur_cstack = frame;
        if (!aligned(frame))
            rc = STROP_TORN_CFRAME;
        else if (outer) {
            /* No caller, or none readable: not the state we took it for. */
            if (rd_ptr(r, frame + (uintptr_t)o->cframe_previous, &frame) < 0 || !aligned(frame) ||
                rd_ptr(r, frame + (uintptr_t)o->cframe_current_frame, &frame) < 0 || frame == 0)
                rc = STROP_TORN_CFRAME;
        }
        else {
            int i = 0;
            while (i < STROP_CFRAMES && r->cf_at[i] != at)
                i++;
            if (i < STROP_CFRAMES)
                frame = r->cf_frame[i];
            else if (r->cwin_hi != 0 && at >= r->cwin_lo && at + 8 <= r->cwin_hi)
                frame = ptr_at(r->cwindow, (int)(at - r->cwin_lo));
            else if (rd_ptr(r, at, &frame) < 0)
                rc = STROP_TORN_CFRAME;
            remember_cframe(h, tstate, r->cur_cstack);
        }
    }
    if (rc == 0 && FRAME_SIZES(o) && o->frame_owner >= 0 && r->cur_top != 0 && !outer) {
        if (frame == 0 && o->cframe_current_frame >= 0) {
            /* 3.11, 3.12: the loop's current_frame read as NULL: it returned
             * while we read (or is being entered), its _PyCFrame's memory
             * since used again; the frames on the data stack are there. */
            uintptr_t words;
            frame = anchor_below(r, r->cur_top, &words);
        }
        if (frame != 0)
            frame = frame_at_top(r, frame);
    }
    if (rc == 0 && frame != 0)
        rc = walk_frames(r, frame, s, &count);
    if (o->tstate_datastack_chunk >= 0) {
        /* Where to look next time, torn or not. */
        h->tstate = tstate;
        h->chunk = r->cur_chunk;
        h->top = r->cur_top;
        h->limit = r->cur_limit;
        if (r->cur_cstack != 0 && r->cur_cstack != h->cstack) {
            h->cstack = r->cur_cstack;
            h->cstack_up = 0;
        }
    }
    if (rc == STROP_REMOTE_ENOMEM)
        return rc;
    if (rc > 0) {
        r->torn[rc]++;
        return rc;
    }
    th->n_frames = count;
    return 0;
}

int
strop_remote_sample(StropRemote *r, StropRemoteSample *s)
{
    const StropPyOffsets *o = &r->off;
    uintptr_t interp;
    s->n_threads = 0;
    s->n_frames = 0;
    r->epoch++;
    r->win_hi = 0;
    if (rd_ptr(r, r->runtime + (uintptr_t)o->runtime_interpreters_head, &interp) < 0)
        return errno == ESRCH ? STROP_REMOTE_ENOPROC : STROP_REMOTE_EREAD;
    for (int ni = 0; interp != 0; ni++) {
        uintptr_t tstate;
        if (ni >= MAX_INTERPS || !aligned(interp))
            return STROP_REMOTE_EREAD;
        /* Brent's cycle check: a list that comes back to a thread met before
         * (torn, or not a thread list) is refused at once, not walked
         * STROP_REMOTE_MAX_THREADS times over. */
        uintptr_t mark;
        int lap = 0, power = 1;
        if (rd_ptr(r, interp + (uintptr_t)o->interp_threads_head, &tstate) < 0)
            return errno == ESRCH ? STROP_REMOTE_ENOPROC : STROP_REMOTE_EREAD;
        mark = tstate;
        for (int nt = 0; tstate != 0; nt++) {
            unsigned char buf[TSTATE_READ];
            size_t want = (size_t)o->tstate_thread_id + 8;
            StropRemoteThread *th;
            int rc, attempt;
            if (o->tstate_native_thread_id + 8 > (int)want)
                want = (size_t)o->tstate_native_thread_id + 8;
            if (o->tstate_frame + 8 > (int)want)
                want = (size_t)o->tstate_frame + 8;
            if (o->tstate_datastack_chunk + 24 > (int)want)
                want = (size_t)o->tstate_datastack_chunk + 24;
            if (nt >= STROP_REMOTE_MAX_THREADS || !aligned(tstate) || want > sizeof buf)
                return STROP_REMOTE_EREAD;
            if (grow((void **)&s->threads, &s->cap_threads, s->n_threads + 1,
                     sizeof *s->threads) < 0)
                return STROP_REMOTE_ENOMEM;
            th = &s->threads[s->n_threads++];
            memset(th, 0, sizeof *th);
            th->first = s->n_frames;
            /* A walk races the thread: a call that returns while we read
             * leaves us a frame (or, 3.11 and 3.12, a cframe on the C stack)
             * that is gone.  Read the thread again from its state, at once:
             * a few microseconds later it is somewhere else, most often
             * somewhere readable. */
            for (attempt = 0;; attempt++) {
                rc = read_thread(r, tstate, buf, want, s, th, 0);
                if (rc < 0)
                    return rc;
                if (rc == 0 || attempt == STROP_REMOTE_RETRIES)
                    break;
                s->n_frames = th->first;
            }
            if (rc > 0 && o->cframe_previous >= 0) {
                /* Still torn: a thread that does not move (it waits for
                 * the CPU) caught entering or leaving an eval loop, whose
                 * _PyCFrame is in tstate->cframe before its current_frame
                 * is set.  What runs is C code of the calling eval loop's
                 * frame: read the thread from there. */
                int outer_rc;
                s->n_frames = th->first;
                outer_rc = read_thread(r, tstate, buf, want, s, th, 1);
                if (outer_rc < 0)
                    return outer_rc;
                th->at_caller = outer_rc == 0;
                if (outer_rc == 0)
                    rc = 0;
            }
            if (rc > 0) {
                th->torn = rc;
                th->n_frames = 0;
                s->n_frames = th->first;
            }
            else if (attempt > 0) {
                r->torn[0]++;
            }
            tstate = ptr_at(buf, o->tstate_next);
            if (tstate == mark)
                return STROP_REMOTE_EREAD;
            if (++lap == power) {
                mark = tstate;
                power *= 2;
                lap = 0;
            }
        }
        if (rd_ptr(r, interp + (uintptr_t)o->interp_next, &interp) < 0)
            return errno == ESRCH ? STROP_REMOTE_ENOPROC : STROP_REMOTE_EREAD;
    }
    return 0;
}

int
strop_remote_gil(StropRemote *r, uintptr_t *lo, uintptr_t *hi)
{
    const StropPyOffsets *o = &r->off;
    if (r->gil == 0) {
        uintptr_t interp, gil = 0;
        if (o->runtime_gil >= 0) {
            gil = r->runtime + (uintptr_t)o->runtime_gil;
        }
        else if (o->interp_gil >= 0) {
            /* Set once the interpreter is initialised, then kept. */
            if (rd_ptr(r, r->runtime + (uintptr_t)o->runtime_interpreters_head, &interp) < 0 ||
                !aligned(interp) ||
                rd_ptr(r, interp + (uintptr_t)o->interp_gil, &gil) < 0 || !aligned(gil))
                return -1;
        }
        r->gil = gil;
    }
    if (r->gil == 0)
        return -1;
    *lo = r->gil;
    *hi = r->gil + (uintptr_t)o->gil_size;
    return 0;
}

void
strop_remote_sample_free(StropRemoteSample *s)
{
    strop_free(s->threads);
    strop_free(s->frames);
    memset(s, 0, sizeof *s);
}

/* ---- finding the runtime ------------------------------------------------ */

typedef struct ElfFile {
    unsigned char *map;
    size_t size;
} ElfFile;

static int
elf_open(const char *path, ElfFile *f)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    f->map = NULL;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
        close(fd);
        return -1;
    }
    f->size = (size_t)st.st_size;
    f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (f->map == MAP_FAILED) {
        f->map = NULL;
        return -1;
    }
    if (memcmp(f->map, ELFMAG, SELFMAG) != 0 || f->map[EI_CLASS] != ELFCLASS64) {
        munmap(f->map, f->size);
        f->map = NULL;
        return -1;
    }
    return 0;
}

static void
elf_close(ElfFile *f)
{
    if (f->map != NULL)
        munmap(f->map, f->size);
    f->map = NULL;
}

/* The value of symbol `name` in the file (its link-time address), or 0. */
static uint64_t
elf_symbol(const ElfFile *f, const char *name)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f->map;
    if (eh->e_shoff == 0 || eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > f->size)
        return 0;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(f->map + eh->e_shoff);
    for (int pass = 0; pass < 2; pass++) {
        uint32_t want = pass == 0 ? SHT_DYNSYM : SHT_SYMTAB;
        for (unsigned i = 0; i < eh->e_shnum; i++) {
            if (sh[i].sh_type != want || sh[i].sh_link >= eh->e_shnum)
                continue;
            const Elf64_Shdr *strs = &sh[sh[i].sh_link];
            if (sh[i].sh_offset + sh[i].sh_size > f->size ||
                strs->sh_offset + strs->sh_size > f->size)
                continue;
            const Elf64_Sym *syms = (const Elf64_Sym *)(f->map + sh[i].sh_offset);
            size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
            const char *names = (const char *)(f->map + strs->sh_offset);
            for (size_t k = 0; k < n; k++) {
                if (syms[k].st_name >= strs->sh_size || syms[k].st_value == 0 ||
                    syms[k].st_shndx == SHN_UNDEF)
                    continue;
                if (strncmp(names + syms[k].st_name, name,
                            strs->sh_size - syms[k].st_name) == 0)
                    return syms[k].st_value;
            }
        }
    }
    return 0;
}

/* The lowest PT_LOAD address, page-aligned: what the file's offset-0 mapping
 * corresponds to. */
static uint64_t
elf_first_load(const ElfFile *f)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f->map;
    uint64_t low = UINT64_MAX;
    if (eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > f->size)
        return 0;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(f->map + eh->e_phoff);
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < low)
            low = ph[i].p_vaddr;
    }
    return low == UINT64_MAX ? 0 : low & ~(uint64_t)0xFFF;
}

/* 0xMMmm from a file name like libpython3.9.so.1.0 or python3.10, or 0. */
static int
version_from_name(const char *path)
{
    const char *base = strrchr(path, '/');
    const char *p;
    int major, minor;
    base = base ? base + 1 : path;
    p = strstr(base, "python");
    if (p == NULL || sscanf(p + 6, "%d.%d", &major, &minor) != 2)
        return 0;
    return major << 8 | minor;
}

typedef struct Candidate {
    char path[4096];
    uint64_t base; /* start of its offset-0 mapping */
} Candidate;

/* Reads /proc/PID/maps: the executable's and libpython's offset-0 mappings.
 * Returns how many were found (at most 2), or -1 with errno set. */
static int
find_candidates(pid_t pid, Candidate *c)
{
    char maps[64], exe[4096], line[4600];
    ssize_t n;
    int found = 0, have_lib = 0;
    FILE *f;
    snprintf(maps, sizeof maps, "/proc/%d/exe", (int)pid);
    n = readlink(maps, exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    snprintf(maps, sizeof maps, "/proc/%d/maps", (int)pid);
    f = fopen(maps, "re");
    if (f == NULL)
        return -1;
    c[0].path[0] = c[1].path[0] = '\0';
    c[0].base = c[1].base = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long start, end, offset;
        char perms[8], path[4096];
        path[0] = '\0';
        if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %4095[^\n]", &start, &end, perms, &offset,
                   path) < 4 ||
            offset != 0 || path[0] != '/')
            continue;
        if (exe[0] && strcmp(path, exe) == 0 && c[0].path[0] == '\0') {
            snprintf(c[0].path, sizeof c[0].path, "%s", path);
            c[0].base = start;
        }
        else if (!have_lib && strstr(strrchr(path, '/'), "libpython3") != NULL) {
            snprintf(c[1].path, sizeof c[1].path, "%s", path);
            c[1].base = start;
            have_lib = 1;
        }
    }
    fclose(f);
    found = (c[0].path[0] != '\0') + have_lib;
    return found;
}

/* Looks for _PyRuntime in `cand`; sets *runtime and *version.  Returns 0 or -1. */
static int
runtime_in(pid_t pid, const Candidate *cand, uintptr_t *runtime, uintptr_t *py_version)
{
    char path[8320];
    ElfFile f;
    uint64_t sym, bias;
    if (cand->path[0] == '\0')
        return -1;
    /* Through the target's root, in case it lives in another mount namespace. */
    snprintf(path, sizeof path, "/proc/%d/root%s", (int)pid, cand->path);
    if (elf_open(path, &f) < 0 && elf_open(cand->path, &f) < 0)
        return -1;
    sym = elf_symbol(&f, "_PyRuntime");
    bias = cand->base - elf_first_load(&f);
    *py_version = 0;
    if (sym != 0) {
        uint64_t v = elf_symbol(&f, "Py_Version");
        *runtime = (uintptr_t)(sym + bias);
        if (v != 0)
            *py_version = (uintptr_t)(v + bias);
    }
    elf_close(&f);
    return sym ? 0 : -1;
}

static void
set_err(char *err, size_t len, const char *fmt, int pid, const char *extra)
{
    if (err != NULL && len > 0)
        snprintf(err, len, fmt, pid, extra);
}

/* Fills r->off from the target's _Py_DebugOffsets (3.13+).  Returns 0 or -1. */
static int
read_debug_offsets(StropRemote *r)
{
    const StropDebugLayout *d = &strop_debug_layout_313;
    unsigned char buf[1024];
    StropPyOffsets *o = &r->off;
    if ((size_t)d->struct_size > sizeof buf || rd(r, r->runtime, buf, (size_t)d->struct_size) < 0)
        return -1;
    if (memcmp(buf + d->cookie, STROP_DEBUG_COOKIE, 8) != 0)
        return -1;
    {
        uint64_t hex;
        memcpy(&hex, buf + d->version, sizeof hex);
        if ((int)((hex >> 16) & 0xFFFF) != o->version)
            return -1;
    }
#define TAKE(field, at)                                                                            \
    do {                                                                                           \
        uint64_t v_;                                                                               \
        memcpy(&v_, buf + d->at, sizeof v_);                                                       \
        if (v_ > (1u << 20))                                                                       \
            return -1;                                                                             \
        o->field = (int)v_;                                                                        \
    } while (0)
    TAKE(runtime_interpreters_head, runtime_interpreters_head);
    TAKE(interp_next, interp_next);
    TAKE(interp_threads_head, interp_threads_head);
    TAKE(tstate_next, tstate_next);
    TAKE(tstate_frame, tstate_current_frame);
    TAKE(tstate_thread_id, tstate_thread_id);
    TAKE(tstate_native_thread_id, tstate_native_thread_id);
    TAKE(frame_size, frame_size);
    TAKE(frame_back, frame_previous);
    TAKE(frame_code, frame_executable);
    TAKE(frame_instr, frame_instr_ptr);
    TAKE(frame_owner, frame_owner);
    TAKE(code_size, code_size);
    TAKE(code_filename, code_filename);
    TAKE(code_name, code_name);
    TAKE(code_qualname, code_qualname);
    TAKE(code_linetable, code_linetable);
    TAKE(code_firstlineno, code_firstlineno);
    TAKE(code_adaptive, code_adaptive);
    TAKE(object_type, object_type);
    TAKE(type_name, type_name);
    TAKE(var_size, bytes_size);
    TAKE(bytes_data, bytes_data);
    TAKE(unicode_state, unicode_state);
    TAKE(unicode_length, unicode_length);
    TAKE(unicode_ascii_size, unicode_ascii_size);
    TAKE(interp_modules, interp_modules);
    TAKE(tstate_datastack_chunk, tstate_datastack_chunk);
    TAKE(interp_gc, interp_gc);
    TAKE(gc_collecting, gc_collecting);
#undef TAKE
    /* What we read of objects must fit our buffers. */
    if (o->code_size > CODE_READ || o->frame_back + 8 > FRAME_READ ||
        o->frame_code + 8 > FRAME_READ || o->frame_instr + 8 > FRAME_READ ||
        o->frame_owner >= FRAME_READ || o->tstate_frame + 8 > TSTATE_READ ||
        o->tstate_thread_id + 8 > TSTATE_READ || o->tstate_native_thread_id + 8 > TSTATE_READ ||
        o->tstate_datastack_chunk + 24 > TSTATE_READ ||
        o->unicode_compact_size > 128 || o->bytes_data > 64)
        return -1;
    return 0;
}

/* The span of a code object compared on a cache hit: from co_firstlineno to
 * the end of the name pointers. */
static void
set_check_span(StropRemote *r)
{
    const StropPyOffsets *o = &r->off;
    int lo = o->code_firstlineno, hi = o->code_firstlineno + 4;
    int fields[] = {o->code_filename, o->code_name, o->code_qualname, o->code_linetable};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (fields[i] < 0)
            continue;
        if (fields[i] < lo)
            lo = fields[i];
        if (fields[i] + 8 > hi)
            hi = fields[i] + 8;
    }
    r->check_lo = lo;
    r->check_len = hi - lo > STROP_CODE_FINGERPRINT ? STROP_CODE_FINGERPRINT : hi - lo;
}

StropRemote *
strop_remote_new(StropReadFn read, void *ctx, uintptr_t runtime, int version)
{
    const StropPyOffsets *row = strop_pyoffsets_find(version);
    StropRemote *r;
    if (row == NULL)
        return NULL;
    r = strop_calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->read = read;
    r->ctx = ctx;
    r->runtime = runtime;
    r->off = *row;
    set_check_span(r);
    return r;
}

int
strop_remote_attach(pid_t pid, StropRemote **out, char *err, size_t err_len)
{
    Candidate cand[2];
    uintptr_t runtime = 0, py_version = 0;
    int version = 0, which = -1;
    StropRemote *r;
    unsigned char probe;

    *out = NULL;
    if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH)) {
        set_err(err, err_len, "no process with PID %d", (int)pid, "");
        return STROP_REMOTE_ENOPROC;
    }
    if (find_candidates(pid, cand) < 0) {
        if (errno == ENOENT || errno == ESRCH) {
            set_err(err, err_len, "no process with PID %d", (int)pid, "");
            return STROP_REMOTE_ENOPROC;
        }
        set_err(err, err_len,
                "cannot read process %d: permission denied; run strop as the same user as "
                "the target or as root%s",
                (int)pid, " (in a container: --cap-add SYS_PTRACE)");
        return STROP_REMOTE_EPERM;
    }
    for (int i = 0; i < 2 && which < 0; i++) {
        if (runtime_in(pid, &cand[i], &runtime, &py_version) == 0)
            which = i;
    }
    if (which < 0) {
        set_err(err, err_len, "process %d is not a Python process (no _PyRuntime in %s)",
                (int)pid, cand[0].path[0] ? cand[0].path : "its executable");
        return STROP_REMOTE_ENOTPY;
    }
    /* Can we read it at all? */
    if (read_process((void *)(intptr_t)pid, runtime, &probe, 1) < 0) {
        if (errno == EPERM || errno == EACCES) {
            set_err(err, err_len,
                    "cannot read process %d: permission denied; run strop as the same user as "
                    "the target or as root, set /proc/sys/kernel/yama/ptrace_scope to 0, or "
                    "grant CAP_SYS_PTRACE%s",
                    (int)pid, " (docker run --cap-add SYS_PTRACE)");
            return STROP_REMOTE_EPERM;
        }
        set_err(err, err_len, "no process with PID %d (it exited)", (int)pid, "");
        return STROP_REMOTE_ENOPROC;
    }
    if (py_version != 0) {
        uint64_t hex = 0;
        if (read_process((void *)(intptr_t)pid, py_version, &hex, 4) == 0)
            version = (int)((hex >> 16) & 0xFFFF);
    }
    if (version == 0)
        version = version_from_name(cand[which].path);
    if (version == 0 && which == 0)
        version = version_from_name(cand[1].path);
    if (strop_pyoffsets_find(version) == NULL) {
        char v[32];
        if (version)
            snprintf(v, sizeof v, "%d.%d", version >> 8, version & 0xFF);
        else
            snprintf(v, sizeof v, "an unknown version");
        set_err(err, err_len,
                "process %d runs Python %s; strop reads Python 3.8 to 3.13", (int)pid, v);
        return STROP_REMOTE_EVERSION;
    }
    r = strop_remote_new(read_process, (void *)(intptr_t)pid, runtime, version);
    if (r == NULL) {
        set_err(err, err_len, "out of memory attaching to process %d", (int)pid, "");
        return STROP_REMOTE_ENOMEM;
    }
    r->pid = pid;
    if (version >= 0x030D && read_debug_offsets(r) < 0) {
        strop_remote_free(r);
        set_err(err, err_len,
                "process %d: its _Py_DebugOffsets cannot be read or are not 3.13's%s", (int)pid,
                "");
        return STROP_REMOTE_EVERSION;
    }
    set_check_span(r);
    *out = r;
    return STROP_REMOTE_OK;
}

void
strop_remote_free(StropRemote *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; r->slots && i <= r->mask; i++)
        code_free(r->slots[i]);
    while (r->retired != NULL) {
        StropCode *next = r->retired->retired_next;
        code_free(r->retired);
        r->retired = next;
    }
    strop_free(r->slots);
    strop_free(r);
}

int
strop_remote_version(const StropRemote *r)
{
    return r->off.version;
}

pid_t
strop_remote_pid(const StropRemote *r)
{
    return r->pid;
}

size_t
strop_remote_cached_codes(const StropRemote *r)
{
    return r->n_codes;
}

void
strop_remote_torn_counts(const StropRemote *r, uint64_t *out)
{
    memcpy(out, r->torn, sizeof r->torn);
}

const char *
strop_remote_torn_name(int why)
{
    static const char *const names[STROP_TORN_N] = {
        "retried",      "cframe",    "frame address", "frame read",    "frame loop",
        "frame owner",  "code read", "code type",     "code fields",   "instruction",
        "frame returned",
    };
    return why >= 0 && why < STROP_TORN_N ? names[why] : "?";
}

uint64_t
strop_remote_reads(const StropRemote *r)
{
    return r->reads;
}
