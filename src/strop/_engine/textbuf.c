/* textbuf.c: the growable buffer and shared text pieces (see textbuf.h). */
#include "textbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "mem.h"

#define FLUSH_CHUNK (64u * 1024u)

void
strop_buf_free(StropBuf *buf)
{
    strop_free(buf->data);
    memset(buf, 0, sizeof *buf);
}

/* Makes room for `extra` more bytes.  Returns 0 or -1 (ENOMEM). */
static int
reserve(StropBuf *buf, size_t extra)
{
    size_t cap;
    char *data;
    if (buf->failed) {
        errno = ENOMEM;
        return -1;
    }
    if (buf->len + extra <= buf->cap)
        return 0;
    cap = buf->cap ? buf->cap : 256;
    while (cap < buf->len + extra) {
        if (cap > SIZE_MAX / 2)
            goto fail;
        cap *= 2;
    }
    data = strop_realloc(buf->data, cap);
    if (data == NULL)
        goto fail;
    buf->data = data;
    buf->cap = cap;
    return 0;
fail:
    buf->failed = 1;
    errno = ENOMEM;
    return -1;
}

int
strop_buf_put(StropBuf *buf, const void *data, size_t len)
{
    if (reserve(buf, len) < 0)
        return -1;
    if (len)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    return 0;
}

int
strop_buf_putc(StropBuf *buf, char c)
{
    if (reserve(buf, 1) < 0)
        return -1;
    buf->data[buf->len++] = c;
    return 0;
}

int
strop_buf_puts(StropBuf *buf, const char *s)
{
    return strop_buf_put(buf, s, strlen(s));
}

int
strop_buf_printf(StropBuf *buf, const char *fmt, ...)
{
    va_list ap;
    int n;
    char small[128];
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        buf->failed = 1;
        return -1;
    }
    if ((size_t)n < sizeof small)
        return strop_buf_put(buf, small, (size_t)n);
    if (reserve(buf, (size_t)n + 1) < 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
    return 0;
}

int
strop_buf_put_varint(StropBuf *buf, uint64_t value)
{
    unsigned char b[10];
    size_t n = 0;
    do {
        b[n] = (unsigned char)(value & 0x7f);
        value >>= 7;
        if (value)
            b[n] |= 0x80;
        n++;
    } while (value);
    return strop_buf_put(buf, b, n);
}

/* Length of the well-formed UTF-8 sequence at s[0..len), or 0 when it is
 * ill-formed (overlong forms, surrogates and values past U+10FFFF included). */
static size_t
utf8_seq(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    }
    else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    }
    else
        return 0;
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

static const char REPLACEMENT[] = "\xef\xbf\xbd"; /* U+FFFD */

int
strop_buf_put_utf8(StropBuf *buf, const char *s, size_t len, const char *from, const char *to)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0; /* bytes [run, i) are pending, copied as they are */
    while (i < len) {
        size_t n = utf8_seq(u + i, len - i);
        const char *hit = NULL;
        if (n == 1 && from != NULL && u[i] != 0)
            hit = strchr(from, u[i]);
        if (n != 0 && hit == NULL) {
            i += n;
            continue;
        }
        if (strop_buf_put(buf, s + run, i - run) < 0)
            return -1;
        if (hit != NULL) {
            if (strop_buf_putc(buf, to[hit - from]) < 0)
                return -1;
        }
        else if (strop_buf_put(buf, REPLACEMENT, 3) < 0)
            return -1;
        run = ++i;
    }
    return strop_buf_put(buf, s + run, len - run);
}

int
strop_buf_put_json(StropBuf *buf, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    while (i < len) {
        size_t n = utf8_seq(u + i, len - i);
        if (n > 1 || (n == 1 && u[i] >= 0x20 && u[i] != '"' && u[i] != '\\')) {
            i += n;
            continue;
        }
        if (strop_buf_put(buf, s + run, i - run) < 0)
            return -1;
        if (n == 0) {
            if (strop_buf_put(buf, REPLACEMENT, 3) < 0)
                return -1;
        }
        else {
            int rc;
            switch (u[i]) {
            case '"': rc = strop_buf_puts(buf, "\\\""); break;
            case '\\': rc = strop_buf_puts(buf, "\\\\"); break;
            case '\n': rc = strop_buf_puts(buf, "\\n"); break;
            case '\r': rc = strop_buf_puts(buf, "\\r"); break;
            case '\t': rc = strop_buf_puts(buf, "\\t"); break;
            default: rc = strop_buf_printf(buf, "\\u%04x", u[i]); break;
            }
            if (rc < 0)
                return -1;
        }
        run = ++i;
    }
    return strop_buf_put(buf, s + run, len - run);
}

int
strop_buf_put_dot(StropBuf *buf, const char *s, size_t len)
{
    size_t i = 0, run = 0;
    /* Control characters become spaces first (dot has no escape for them);
     * then quotes and backslashes get their backslash. */
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c != '"' && c != '\\') {
            i++;
            continue;
        }
        if (strop_buf_put_utf8(buf, s + run, i - run, "\n\r\t\v\f", "     ") < 0 ||
            strop_buf_putc(buf, '\\') < 0 || strop_buf_putc(buf, (char)c) < 0)
            return -1;
        run = ++i;
    }
    return strop_buf_put_utf8(buf, s + run, len - run, "\n\r\t\v\f", "     ");
}

int
strop_label_is_builtin(const StropLabel *label)
{
    return label->file_len == 1 && label->file[0] == '~';
}

int
strop_buf_put_frame(StropBuf *buf, const StropLabel *label)
{
    static const char from[] = ";\n\r", to[] = ":  ";
    if (strop_buf_put_utf8(buf, label->name, label->name_len, from, to) < 0)
        return -1;
    if (strop_label_is_builtin(label))
        return 0;
    if (strop_buf_put(buf, " (", 2) < 0 ||
        strop_buf_put_utf8(buf, label->file, label->file_len, from, to) < 0)
        return -1;
    return strop_buf_printf(buf, ":%ld)", label->line);
}

int
strop_buf_flush(StropBuf *buf, FILE *out)
{
    if (buf->failed) {
        errno = ENOMEM;
        return -1;
    }
    errno = 0;
    if (buf->len && fwrite(buf->data, 1, buf->len, out) != buf->len) {
        if (errno == 0)
            errno = EIO;
        return -1;
    }
    buf->len = 0;
    return 0;
}

int
strop_buf_flush_some(StropBuf *buf, FILE *out)
{
    if (buf->len < FLUSH_CHUNK && !buf->failed)
        return 0;
    return strop_buf_flush(buf, out);
}
