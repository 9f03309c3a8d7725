/* pstats.h: the pstats file writer (what cProfile's dump_stats writes) and
 * its bounded reader.
 *
 * The file is marshal data of one dict:
 *   (file, line, name) -> (cc, nc, tt, ct, {caller (file, line, name): (nc, cc, tt, ct)})
 * written with marshal's opcodes and references (format version 3, which
 * every Python 3.4+ reads).  The reader accepts only that shape (plus the
 * pure-Python profile module's bare call counts as caller values), checks
 * every length and count against the bytes that remain before it allocates,
 * and never nests deeper than the shape does (4 levels), except inside the
 * code object that `python -m profile` puts in one key, which it skips at
 * most 64 levels deep, keeping its name, file and line.  It builds no Python
 * objects: it gives flat arrays that a caller with the GIL turns into the
 * dict (loaded.c).  Pure C, no Python.h; see
 * ../shared/FORMATS.md for the format's facts.
 */
#ifndef STROP_PSTATS_H
#define STROP_PSTATS_H

#include <stdint.h>
#include <stdio.h>

#include "cct.h"

/* marshal's flag on a type byte: the object is remembered for references
 * (Python/marshal.c, FLAG_REF). */
#define STROP_MARSHAL_FLAG_REF 0x80

/* How a function is named in the file.  Strings are UTF-8, not owned. */
typedef struct StropLabel {
    const char *file;
    size_t file_len;
    long line;
    const char *name;
    size_t name_len;
} StropLabel;

/* Writes the pstats dict for `n_funcs` functions (labels and totals indexed
 * alike) and their caller edges.  Functions with no completed call and a NULL
 * label file are left out.  Ticks become seconds through `seconds_per_tick`.
 * Returns 0, or -1 on a write error or when out of memory (errno tells). */
int strop_pstats_write(FILE *out, const StropLabel *labels, const StropFuncStats *funcs,
                       uint32_t n_funcs, const StropEdgeStats *edges, size_t n_edges,
                       double seconds_per_tick);

/* ---- reading ------------------------------------------------------------- */

#define STROP_PSTATS_OK 0
#define STROP_PSTATS_NOMEM (-1)
#define STROP_PSTATS_FORMAT (-2) /* `error` says "byte N: what was there" */

/* Code object layouts: none accepted; 3.8 to 3.10 (6 ints, 8 objects, the
 * first line, 1 object); 3.11 on (5 ints, 8 objects, the first line, 2). */
#define STROP_PSTATS_CODE_NONE 0
#define STROP_PSTATS_CODE_38 1
#define STROP_PSTATS_CODE_311 2

/* A number as the file has it: an int (int64 range) or a float.  Which one
 * is in a `floats` bit mask beside it. */
typedef union StropPstatsNum {
    int64_t i;
    double f;
} StropPstatsNum;

/* A string of the file: bytes at data[offset .. offset+len), UTF-8 (marshal's
 * 'u' and 't', which may hold surrogates) or Latin-1 (the ASCII types). */
typedef struct StropPstatsString {
    size_t offset;
    uint32_t len;
    uint8_t latin1;
} StropPstatsString;

/* A (file, line, name) key: indices into `strings`.  A key the file shares
 * through a marshal reference is one key here. */
typedef struct StropPstatsKey {
    uint32_t file, name; /* name UINT32_MAX: the name is code object `code` */
    int64_t line;
    uint32_t code;
} StropPstatsKey;

/* A code object in a key (python -m profile): its co_name, co_filename
 * (string indices) and co_firstlineno, all that is kept of it; the reader
 * builds no code object. */
typedef struct StropPstatsCode {
    uint32_t name, file;
    int64_t line;
} StropPstatsCode;

/* One function: its key, (cc, nc, tt, ct) and its callers
 * callers[first_caller .. first_caller + n_callers). */
typedef struct StropPstatsEntry {
    uint32_t key;
    uint8_t floats; /* bit k: num[k] is a float */
    StropPstatsNum num[4];
    size_t first_caller, n_callers;
} StropPstatsEntry;

/* One caller of an entry: its key and (nc, cc, tt, ct), or one bare call
 * count (`bare`, in num[0]) as the pure-Python profile module writes. */
typedef struct StropPstatsCaller {
    uint32_t key;
    uint8_t floats;
    uint8_t bare;
    StropPstatsNum num[4];
} StropPstatsCaller;

typedef struct StropPstatsRef StropPstatsRef; /* the reader's own */

/* Everything read from one file.  Arrays owned (mem.h); strings point into
 * the caller's data, which must outlive this. */
typedef struct StropPstatsFile {
    /* In: how a marshal code object is laid out (STROP_PSTATS_CODE_*), for
     * the one place a pstats file may hold one: `python -m profile` names
     * the script's entry by its code object. */
    int code_layout;
    StropPstatsString *strings;
    uint32_t n_strings, cap_strings;
    StropPstatsKey *keys;
    uint32_t n_keys, cap_keys;
    StropPstatsEntry *entries;
    size_t n_entries, cap_entries;
    StropPstatsCaller *callers;
    size_t n_callers, cap_callers;
    StropPstatsRef *refs;
    uint32_t n_refs, cap_refs;
    StropPstatsCode *codes;
    uint32_t n_codes, cap_codes;
    /* Keys by their string indices and line (open addressing, seeded hash):
     * cProfile writes a new tuple for every caller, of the same strings. */
    uint32_t *key_slots;
    uint32_t key_mask;
    uint64_t key_seed;
} StropPstatsFile;

/* Reads a pstats file from data[0 .. len) (out->code_layout set by the
 * caller; the rest of *out is reset here).  Every array grows only as bytes
 * are consumed, so memory stays within a small multiple of `len`, and the
 * work is linear in it.  Bytes after the dict are ignored, as marshal does.
 * Returns STROP_PSTATS_OK, STROP_PSTATS_NOMEM, or STROP_PSTATS_FORMAT with a
 * one-line reason in `error` ("byte 27097: a tuple of 2,147,483,647 items in
 * a file of 98,851 bytes").  On any return `out` holds memory to free with
 * strop_pstats_file_free().  Pure C; needs no lock, touches no global. */
int strop_pstats_read(StropPstatsFile *out, const unsigned char *data, size_t len, char *error,
                      size_t error_size);

/* Frees what strop_pstats_read allocated.  Safe on a zeroed or freed file. */
void strop_pstats_file_free(StropPstatsFile *file);

/* `value` with thousands separators ("2,147,483,647") into buf.  Returns buf. */
char *strop_format_count(char *buf, size_t size, unsigned long long value);

/* A random seed for a hash table built from a file, so that no file can be
 * made of keys that all fall in one slot (which would make reading it
 * quadratic): getentropy(), else the clock. */
uint64_t strop_random_seed(void);

#endif /* STROP_PSTATS_H */
