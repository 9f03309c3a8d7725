/* textbuf.h: a growable byte buffer and the text pieces every writer shares.
 *
 * The tree-based writers (folded, callgrind, pprof, speedscope, dot) build
 * their output in a StropBuf and flush it to the stream in large pieces.  This
 * file also holds what must be done one way for all of them: how a frame is
 * named ("func (file:line)", a built-in by its name alone), how a string is
 * escaped for JSON and for Graphviz, how bytes that are not UTF-8 are
 * replaced.  It is not a formatter of any one format.
 *
 * Pure C, no Python.h, no global state.  A buffer remembers its first
 * failure: after one, every call is a no-op returning -1, so a writer may
 * append many pieces and check once.
 */
#ifndef STROP_TEXTBUF_H
#define STROP_TEXTBUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pstats.h"

typedef struct StropBuf {
    char *data; /* owned, strop_malloc'd; NULL until the first append */
    size_t len, cap;
    int failed; /* 1 after an allocation failed: errno was ENOMEM */
} StropBuf;

/* Frees the buffer's memory and empties it.  Safe on a zeroed buffer. */
void strop_buf_free(StropBuf *buf);

/* Append bytes, one byte, or printf-formatted text.  Each returns 0, or -1
 * with errno = ENOMEM (then and ever after: buf->failed is set). */
int strop_buf_put(StropBuf *buf, const void *data, size_t len);
int strop_buf_putc(StropBuf *buf, char c);
int strop_buf_puts(StropBuf *buf, const char *s);
int strop_buf_printf(StropBuf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends an unsigned varint (protobuf's encoding: 7 bits a byte, low first). */
int strop_buf_put_varint(StropBuf *buf, uint64_t value);

/* Appends `s` with every ill-formed UTF-8 sequence replaced by U+FFFD, and
 * with the bytes of `from` (a NUL-terminated set) replaced by the byte at the
 * same place in `to`.  `from`/`to` may be NULL (no replacement). */
int strop_buf_put_utf8(StropBuf *buf, const char *s, size_t len, const char *from,
                       const char *to);

/* Appends the inside of a JSON string: `"`, `\` and control characters
 * escaped, valid UTF-8 as is, ill-formed bytes as U+FFFD. */
int strop_buf_put_json(StropBuf *buf, const char *s, size_t len);

/* Appends the inside of a Graphviz "..." string: `"` and `\` escaped, line
 * breaks as spaces, ill-formed bytes as U+FFFD. */
int strop_buf_put_dot(StropBuf *buf, const char *s, size_t len);

/* Appends the name of a frame in stacks: "name (file:line)", or the name
 * alone for a built-in (file "~"); `;` becomes `:` and line breaks spaces, so
 * that the frame is one field of a folded-stacks line. */
int strop_buf_put_frame(StropBuf *buf, const StropLabel *label);

/* 1 when `label` is a built-in or C function (file "~"). */
int strop_label_is_builtin(const StropLabel *label);

/* Writes the buffer's bytes to `out` and empties it (keeping its memory).
 * Returns 0, or -1 with errno set (ENOMEM if the buffer had failed, the
 * stream's error otherwise). */
int strop_buf_flush(StropBuf *buf, FILE *out);

/* Flushes when the buffer holds more than a chunk; else does nothing. */
int strop_buf_flush_some(StropBuf *buf, FILE *out);

#endif /* STROP_TEXTBUF_H */
