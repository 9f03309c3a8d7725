/* test_writers.c: unit tests of the tree-based writers (writers.h) and their
 * shared text helpers (textbuf.h), in plain C.
 *
 * Usage: test_writers PREFIX
 * Builds a small calling-context tree by hand, checks the escaping helpers,
 * the folded and callgrind text, the pprof gzip, write errors and survival
 * of every allocation failing in turn; writes PREFIX.folded,
 * PREFIX.callgrind, PREFIX.pprof, PREFIX.speedscope and PREFIX.dot (traced)
 * and the same names with "-sampled" before the dot (sampled), for the
 * Python side (tests/test_formats.py) to give to each format's real reader.
 * Prints "N passed, N failed" and exits non-zero on a failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cct.h"
#include "mem.h"
#include "textbuf.h"
#include "writers.h"

#include "check.h"

/* The functions of the test program, by key. */
enum { K_MAIN = 1, K_FACT, K_HELPER, K_WEIRD, K_HIDDEN, K_INIT_A, K_INIT_B, K_DEEP };
#define N_KEYS 9
#define DEEP 3000

/* Adds a node under `parent` for `key` with `calls` and own ticks; the
 * inclusive ticks are summed afterwards.  Returns the node or STROP_NONE. */
static uint32_t
add(StropTree *tree, uint32_t parent, uintptr_t key, uint64_t calls, uint64_t self)
{
    uint32_t f = strop_tree_func_find(tree, key), n;
    if (f == STROP_NONE)
        f = strop_tree_func_add(tree, key, STROP_NONE);
    if (f == STROP_NONE)
        return STROP_NONE;
    n = strop_tree_child_add(tree, parent, key, f);
    if (n == STROP_NONE)
        return STROP_NONE;
    tree->nodes[n].calls = calls;
    tree->nodes[n].self_ticks = self;
    return n;
}

/* main(10) -> fact(10) -> fact(10) -> fact(10); main -> helper(20, 5 calls);
 * main -> weird(5) -> hidden(7, unnamed) -> helper(3); main -> two __init__
 * of one file (4 each); main -> deep(1) -> deep ... 3000 levels (0 own, 1 at
 * the bottom).  Ticks are milliseconds (seconds_per_tick 1e-3). */
static int
build(StropTree *tree)
{
    uint32_t m, a, b, w, h, d;
    if (strop_tree_init(tree, 0, 0) < 0)
        return -1;
    if ((m = add(tree, STROP_ROOT, K_MAIN, 1, 10)) == STROP_NONE ||
        (a = add(tree, m, K_FACT, 1, 10)) == STROP_NONE ||
        (b = add(tree, a, K_FACT, 1, 10)) == STROP_NONE ||
        add(tree, b, K_FACT, 1, 10) == STROP_NONE ||
        add(tree, m, K_HELPER, 5, 20) == STROP_NONE ||
        (w = add(tree, m, K_WEIRD, 1, 5)) == STROP_NONE ||
        (h = add(tree, w, K_HIDDEN, 1, 7)) == STROP_NONE ||
        add(tree, h, K_HELPER, 1, 3) == STROP_NONE ||
        add(tree, m, K_INIT_A, 2, 4) == STROP_NONE ||
        add(tree, m, K_INIT_B, 2, 4) == STROP_NONE ||
        (d = add(tree, m, K_DEEP, 1, 0)) == STROP_NONE)
        return -1;
    for (int i = 1; i < DEEP; i++)
        if ((d = add(tree, d, K_DEEP, 1, i == DEEP - 1)) == STROP_NONE)
            return -1;
    /* Inclusive ticks: children have higher indices than their parents. */
    for (uint32_t n = 0; n < tree->n_nodes; n++)
        tree->nodes[n].total_ticks = tree->nodes[n].self_ticks;
    for (uint32_t n = tree->n_nodes; n-- > 2;)
        tree->nodes[tree->nodes[n].parent].total_ticks += tree->nodes[n].total_ticks;
    return 0;
}

static void
set_label(StropLabel *label, const char *file, long line, const char *name)
{
    label->file = file;
    label->file_len = file ? strlen(file) : 0;
    label->line = line;
    label->name = name;
    label->name_len = name ? strlen(name) : 0;
}

/* Labels indexed like tree->funcs (`labels` has room for them all). */
static void
make_labels(const StropTree *tree, StropLabel *labels)
{
    memset(labels, 0, (size_t)tree->n_funcs * sizeof *labels);
    set_label(&labels[STROP_OVERFLOW_FUNC], "~", 0, "<strop: functions beyond the cap>");
    set_label(&labels[strop_tree_func_find(tree, K_MAIN)], "prog.py", 10, "main");
    set_label(&labels[strop_tree_func_find(tree, K_FACT)], "prog.py", 20, "fact");
    set_label(&labels[strop_tree_func_find(tree, K_HELPER)], "~", 0, "helper");
    /* Everything a format must escape, and a byte that is not UTF-8. */
    set_label(&labels[strop_tree_func_find(tree, K_WEIRD)], "dir;x/\"q\".py", 30,
              "we;ird \"na\\me\"\n<b>&\xff \xc3\xa9");
    /* K_HIDDEN stays unnamed (file NULL). */
    set_label(&labels[strop_tree_func_find(tree, K_INIT_A)], "prog.py", 40, "__init__");
    set_label(&labels[strop_tree_func_find(tree, K_INIT_B)], "prog.py", 50, "__init__");
    set_label(&labels[strop_tree_func_find(tree, K_DEEP)], "prog.py", 60, "deep");
}

static StropWriteInfo
traced_info(void)
{
    StropWriteInfo info;
    memset(&info, 0, sizeof info);
    info.command = "prog.py --flag \"x\"";
    info.time_kind = "wall";
    info.seconds_per_tick = 1e-3;
    info.start_unix_ns = 1700000000000000000ull;
    info.duration_ns = 100000000;
    info.node_thres = 0.005;
    info.edge_thres = 0.001;
    return info;
}

/* A file's whole text (NUL-terminated, malloc'd), or NULL. */
static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    long size;
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        text = malloc((size_t)size + 1);
        if (text != NULL) {
            *len = fread(text, 1, (size_t)size, f);
            text[*len] = '\0';
        }
    }
    fclose(f);
    return text;
}

static void
test_textbuf(void)
{
    StropBuf buf = {0};
    StropLabel label;
    static const char json_in[] = "a\"b\\c\n\x01\x7f\xc3\xa9\xed\xa0\x80z\xf0\x9f\x98\x80";
    static const char json_out[] =
        "a\\\"b\\\\c\\n\\u0001\x7f\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\xf0\x9f\x98\x80";

    CHECK(strop_buf_put_varint(&buf, 300) == 0);
    CHECK(buf.len == 2 && (unsigned char)buf.data[0] == 0xac && buf.data[1] == 0x02);
    buf.len = 0;
    CHECK(strop_buf_put_varint(&buf, UINT64_MAX) == 0 && buf.len == 10);
    buf.len = 0;
    /* An encoded surrogate (ED A0 80) is three ill-formed bytes. */
    CHECK(strop_buf_put_json(&buf, json_in, sizeof json_in - 1) == 0);
    CHECK(buf.len == sizeof json_out - 1 && memcmp(buf.data, json_out, buf.len) == 0);
    buf.len = 0;
    CHECK(strop_buf_put_dot(&buf, "a\"b\\c\nd<e>", 10) == 0);
    CHECK(buf.len == 12 && memcmp(buf.data, "a\\\"b\\\\c d<e>", 12) == 0);
    buf.len = 0;
    set_label(&label, "a;b.py", 7, "f;g\nh");
    CHECK(strop_buf_put_frame(&buf, &label) == 0);
    CHECK(buf.len == 16 && memcmp(buf.data, "f:g h (a:b.py:7)", 16) == 0);
    buf.len = 0;
    set_label(&label, "~", 0, "<built-in method len>");
    CHECK(strop_buf_put_frame(&buf, &label) == 0);
    CHECK(buf.len == 21 && memcmp(buf.data, "<built-in method len>", 21) == 0);
    buf.len = 0;
    /* A long printf takes the second path. */
    CHECK(strop_buf_printf(&buf, "%0300d", 5) == 0 && buf.len == 300 && buf.data[299] == '5');
    strop_buf_free(&buf);
    strop_buf_free(&buf); /* safe twice */
    /* A failed buffer stays failed. */
    strop_mem_fail_after(1, 0);
    CHECK(strop_buf_puts(&buf, "x") == -1 && errno == ENOMEM);
    CHECK(strop_buf_puts(&buf, "y") == -1 && buf.failed);
    strop_buf_free(&buf);
}

static int
write_to(const char *path, StropFormat format, const StropTree *tree, const StropLabel *labels,
         const StropWriteInfo *info)
{
    FILE *out = fopen(path, "wb");
    int rc;
    if (out == NULL)
        return -1;
    rc = strop_write_format(out, format, tree, labels, info);
    if (fclose(out) != 0)
        rc = -1;
    return rc;
}

static const struct {
    StropFormat format;
    const char *ext;
} formats[] = {
    {STROP_FORMAT_FOLDED, "folded"}, {STROP_FORMAT_CALLGRIND, "callgrind"},
    {STROP_FORMAT_PPROF, "pprof"},   {STROP_FORMAT_SPEEDSCOPE, "speedscope"},
    {STROP_FORMAT_DOT, "dot"},
};
#define N_FORMATS (sizeof formats / sizeof formats[0])

static void
test_write_all(const char *prefix)
{
    StropTree tree;
    StropLabel labels[N_KEYS];
    StropWriteInfo info = traced_info();
    char path[4096];
    char *text;
    size_t len;

    CHECK(build(&tree) == 0);
    make_labels(&tree, labels);
    for (size_t i = 0; i < N_FORMATS; i++) {
        snprintf(path, sizeof path, "%s.%s", prefix, formats[i].ext);
        CHECK(write_to(path, formats[i].format, &tree, labels, &info) == 0);
    }

    snprintf(path, sizeof path, "%s.folded", prefix);
    text = slurp(path, &len);
    CHECK(text != NULL);
    if (text != NULL) {
        CHECK(strstr(text, "main (prog.py:10) 10000\n") == text ||
              strstr(text, "\nmain (prog.py:10) 10000\n") != NULL);
        CHECK(strstr(text, "\nmain (prog.py:10);fact (prog.py:20);fact (prog.py:20) 10000\n"));
        CHECK(strstr(text, "\nmain (prog.py:10);helper 20000\n"));
        /* The unnamed function is left out of the path, and its own time. */
        CHECK(strstr(text, "\nmain (prog.py:10);we:ird \"na\\me\" <b>&\xef\xbf\xbd \xc3\xa9 "
                           "(dir:x/\"q\".py:30);helper 3000\n"));
        CHECK(strstr(text, "7000\n") == NULL);
        /* 1 ms at the bottom of 3000 levels: one line with 3000 frames. */
        CHECK(strstr(text, ";deep (prog.py:60) 1000\n") != NULL);
        CHECK(strstr(text, ";deep (prog.py:60) 0\n") == NULL);
        free(text);
    }

    snprintf(path, sizeof path, "%s.callgrind", prefix);
    text = slurp(path, &len);
    CHECK(text != NULL);
    if (text != NULL) {
        /* 10 + 30 + 23 + 5 + 8 + 1 ms = 77 ms; the unnamed 7 ms is not in. */
        CHECK(strncmp(text, "# callgrind format\nversion: 1\ncreator: strop\n", 45) == 0);
        CHECK(strstr(text, "\ncmd: prog.py --flag \"x\"\n") != NULL);
        CHECK(strstr(text, "\nevents: ns\nsummary: 77000000\n") != NULL);
        CHECK(strstr(text, "__init__:40\n") != NULL && strstr(text, "__init__:50\n") != NULL);
        /* fact -> fact: 2 calls, cost 0 (recursion counted once). */
        CHECK(strstr(text, "calls=2 20\n20 0\n") != NULL);
        /* main -> fact: 1 call, 30 ms inclusive. */
        CHECK(strstr(text, "calls=1 20\n10 30000000\n") != NULL);
        free(text);
    }

    snprintf(path, sizeof path, "%s.pprof", prefix);
    text = slurp(path, &len);
    CHECK(text != NULL && len > 20 && (unsigned char)text[0] == 0x1f &&
          (unsigned char)text[1] == 0x8b);
    free(text);

    snprintf(path, sizeof path, "%s.speedscope", prefix);
    text = slurp(path, &len);
    CHECK(text != NULL);
    if (text != NULL) {
        CHECK(strstr(text, "\"endValue\":77000000}") != NULL);
        CHECK(strstr(text, "\"name\":\"we;ird \\\"na\\\\me\\\"\\n<b>&\xef\xbf\xbd \xc3\xa9\"") !=
              NULL);
        free(text);
    }

    snprintf(path, sizeof path, "%s.dot", prefix);
    text = slurp(path, &len);
    CHECK(text != NULL);
    if (text != NULL) {
        CHECK(strncmp(text, "digraph {", 9) == 0 && strstr(text, "\n}\n") != NULL);
        CHECK(strstr(text, "label=\"prog.py:10\\nmain\\n100.00%\\n(11.90%)\\n1\xc3\x97\"") !=
              NULL);
        CHECK(strstr(text, "\\\"q\\\".py:30\\nwe;ird \\\"na\\\\me\\\" <b>&") != NULL);
        /* The total is every function's own time, the unnamed one's too (84 ms):
         * deep is 1.19% of it, kept. */
        CHECK(strstr(text, "deep\\n1.19%") != NULL);
        free(text);
    }

    /* pstats is not a tree writer. */
    errno = 0;
    CHECK(strop_write_format(stdout, STROP_FORMAT_PSTATS, &tree, labels, &info) == -1 &&
          errno == EINVAL);
    strop_tree_free(&tree);
}

/* A sampled profile: node calls are samples, 1 ms apart. */
static void
test_write_sampled(const char *prefix)
{
    StropTree tree;
    StropLabel labels[N_KEYS];
    StropWriteInfo info = traced_info();
    char path[4096];
    char *text;
    size_t len;

    info.sampled = 1;
    info.period_ns = 1000000;
    info.time_kind = "cpu";
    CHECK(build(&tree) == 0);
    make_labels(&tree, labels);
    /* One sample at the bottom of the deep chain, none on the way down. */
    for (uint32_t n = 2; n < tree.n_nodes; n++)
        if (tree.nodes[n].key == K_DEEP && tree.nodes[n].first_child != STROP_NONE)
            tree.nodes[n].calls = 0;
    for (size_t i = 0; i < N_FORMATS; i++) {
        snprintf(path, sizeof path, "%s-sampled.%s", prefix, formats[i].ext);
        CHECK(write_to(path, formats[i].format, &tree, labels, &info) == 0);
    }
    snprintf(path, sizeof path, "%s-sampled.callgrind", prefix);
    text = slurp(path, &len);
    CHECK(text != NULL);
    if (text != NULL) {
        /* Samples: every named node's calls (main 1, fact 3, helper 6, weird 1,
         * __init__ 2 + 2, deep 1). */
        CHECK(strstr(text, "\nevents: samples\nsummary: 16\n") != NULL);
        free(text);
    }
    snprintf(path, sizeof path, "%s-sampled.folded", prefix);
    text = slurp(path, &len);
    CHECK(text != NULL);
    if (text != NULL) {
        CHECK(strstr(text, "\nmain (prog.py:10);helper 5\n") != NULL);
        free(text);
    }
    strop_tree_free(&tree);
}

/* Every allocation failing in turn: each writer reports ENOMEM, nothing
 * crashes or leaks (ASan and LeakSanitizer watch), and once the failure
 * comes late enough it succeeds.  Then a stream that cannot be written. */
static void
test_failures(void)
{
    StropTree tree;
    StropLabel labels[N_KEYS];
    StropWriteInfo info = traced_info();
    FILE *full;

    CHECK(build(&tree) == 0);
    make_labels(&tree, labels);
    for (int sampled = 0; sampled < 2; sampled++) {
        info.sampled = sampled;
        info.period_ns = sampled ? 1000 : 0;
        for (size_t i = 0; i < N_FORMATS; i++) {
            int reported = 0, succeeded = 0;
            for (long n = 1; n < 400 && !succeeded; n++) {
                FILE *out = tmpfile();
                int rc;
                if (out == NULL) {
                    CHECK(0);
                    break;
                }
                strop_mem_fail_after(n, 0);
                errno = 0;
                rc = strop_write_format(out, formats[i].format, &tree, labels, &info);
                strop_mem_fail_after(0, 0);
                if (rc == 0)
                    succeeded = 1;
                else if (errno == ENOMEM)
                    reported++;
                else {
                    fprintf(stderr, "%s: allocation %ld: rc %d errno %d\n", formats[i].ext, n,
                            rc, errno);
                    CHECK(0);
                }
                fclose(out);
            }
            if (!reported || !succeeded)
                fprintf(stderr, "%s: %d failures reported, succeeded %d\n", formats[i].ext,
                        reported, succeeded);
            CHECK(reported >= 1);
            CHECK(succeeded);
            /* Every allocation failing from the first on. */
            {
                FILE *out = tmpfile();
                strop_mem_fail_after(1, 1);
                errno = 0;
                CHECK(out != NULL &&
                      strop_write_format(out, formats[i].format, &tree, labels, &info) == -1 &&
                      errno == ENOMEM);
                strop_mem_fail_after(0, 0);
                if (out != NULL)
                    fclose(out);
            }
        }
    }
    /* /dev/full: every write fails with ENOSPC, which the writers pass on. */
    full = fopen("/dev/full", "wb");
    if (full != NULL) {
        info.sampled = 0;
        for (size_t i = 0; i < N_FORMATS; i++) {
            clearerr(full);
            errno = 0;
            CHECK(strop_write_format(full, formats[i].format, &tree, labels, &info) == -1);
            CHECK(errno == ENOSPC);
        }
        fclose(full);
    }
    strop_tree_free(&tree);
}

/* A tree with only the root and the catch-all: every writer writes a valid,
 * empty profile. */
static void
test_empty(void)
{
    StropTree tree;
    StropLabel labels[1];
    StropWriteInfo info = traced_info();
    CHECK(strop_tree_init(&tree, 0, 0) == 0);
    set_label(&labels[0], "~", 0, "<strop: functions beyond the cap>");
    for (size_t i = 0; i < N_FORMATS; i++) {
        FILE *out = tmpfile();
        CHECK(out != NULL && strop_write_format(out, formats[i].format, &tree, labels, &info) == 0);
        if (out != NULL)
            fclose(out);
    }
    strop_tree_free(&tree);
}

int
main(int argc, char **argv)
{
    test_textbuf();
    test_empty();
    test_failures();
    if (argc > 1) {
        test_write_all(argv[1]);
        test_write_sampled(argv[1]);
    }
    return CHECK_SUMMARY();
}
