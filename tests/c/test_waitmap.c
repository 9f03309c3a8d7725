/* test_waitmap.c: unit tests of the map of interactions (waitmap.h) over the
 * waits table (waits.h), in plain C.
 *
 * Usage: test_waitmap OUT.dot
 * Feeds the waits table the leaves a sampler would name (a PostgreSQL peer
 * reached by two connections, a file whose name holds a quote, a backslash,
 * a line break and a byte that is not UTF-8, a lock, sleep), writes the map to
 * OUT.dot for the Python side (tests/test_culprits.py) to give to graphviz,
 * and survives every allocation failing in turn.
 * Prints "N passed, N failed" and exits non-zero on a failure.
 */
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "waitmap.h"
#include "waits.h"

#include "check.h"

#define WEIRD "<waiting: read on /tmp/we\"ird\\na\nme\xff.db>"

/* Samples: thread 1 waits on PostgreSQL for 3 samples, wakes, 2 more (two
 * waits); thread 2 on the weird file 4 samples; thread 1 sleeps 1; thread 2
 * on a lock 2.  Returns 0 or -1. */
static int
feed(StropWaits *w)
{
    static const char *pg = "<waiting: recvfrom on tcp 127.0.0.1:5432>";
    int rc = 0;
    for (int i = 0; i < 3; i++)
        rc |= strop_waits_sample(w, 1, pg, NULL, 7);
    for (int i = 0; i < 2; i++)
        rc |= strop_waits_sample(w, 1, pg, NULL, 8);
    for (int i = 0; i < 4; i++)
        rc |= strop_waits_sample(w, 2, WEIRD, NULL, UINT64_MAX);
    rc |= strop_waits_sample(w, 1, "<sleeping: clock_nanosleep>", NULL, 9);
    rc |= strop_waits_sample(w, 2, "<waiting: futex>", NULL, UINT64_MAX);
    rc |= strop_waits_sample(w, 2, "<waiting: futex>", NULL, UINT64_MAX);
    return rc;
}

static int
write_map(StropWaits *w, StropBuf *out)
{
    static StropHealthTcp tcp[3];
    static const char *callers[8];
    StropMapInput in = {0};
    memset(tcp, 0, sizeof tcp);
    snprintf(tcp[0].peer, sizeof tcp[0].peer, "127.0.0.1:5432");
    tcp[0].sent = 1000;
    tcp[0].received = 3000;
    tcp[0].rtt_us = 100;
    tcp[0].rttvar_us = 50;
    snprintf(tcp[1].peer, sizeof tcp[1].peer, "127.0.0.1:5432");
    tcp[1].sent = 24;
    tcp[1].received = 72;
    tcp[1].rtt_us = 300;
    tcp[1].rttvar_us = 150;
    snprintf(tcp[2].peer, sizeof tcp[2].peer, "127.0.0.1:6379"); /* no wait on it: not drawn */
    tcp[2].sent = 5;
    in.process = "process 42\nprog \"x\".py";
    in.ends = strop_waits_endpoints(w, &in.n);
    for (size_t i = 0; i < in.n && i < 8; i++)
        callers[i] = strcmp(in.ends[i]->name, "sleep") == 0 ? "nap (prog.py:3)" : NULL;
    in.callers = callers;
    in.samples = 20;
    in.period = 0.01;
    in.tcp = tcp;
    in.n_tcp = 3;
    return strop_map_dot(out, &in);
}

static void
test_map(const char *path)
{
    StropWaits *w = strop_waits_new();
    StropBuf out = {0};
    FILE *f;
    CHECK(w != NULL);
    if (w == NULL)
        return;
    CHECK(feed(w) == 0);
    CHECK(write_map(w, &out) == 0);
    CHECK(out.len > 0 && !out.failed);
    if (out.len > 0) {
        char *text = strop_malloc(out.len + 1);
        CHECK(text != NULL);
        if (text != NULL) {
            memcpy(text, out.data, out.len);
            text[out.len] = '\0';
            /* Quotes and backslashes escaped, line breaks as dot's \n. */
            CHECK(strstr(text, "label=\"file /tmp/we\\\"ird\\\\na\\nme\xef\xbf\xbd.db\"") !=
                  NULL);
            CHECK(strstr(text, "label=\"process 42\\nprog \\\"x\\\".py\"") != NULL);
            /* PostgreSQL: 5 of 20 samples, 2 waits, longest 3 samples of 10 ms,
             * its two connections added up; Redis had no wait: no node. */
            CHECK(strstr(text, "label=\"tcp 127.0.0.1:5432\\n(postgresql)\"") != NULL);
            CHECK(strstr(text, "25.0% of wall time\\n2 waits, longest 0.030 s\\nsent 1.00 KiB, "
                               "received 3.00 KiB\\nrtt 0.200 ms \xc2\xb1 0.100\\n"
                               "2 connections\"") != NULL);
            CHECK(strstr(text, "6379") == NULL);
            CHECK(strstr(text, "5.0% of wall time\\n1 wait, longest 0.010 s\\nin nap (prog.py:3)\"")
                  != NULL);
            CHECK(strstr(text, "shape=octagon") != NULL && strstr(text, "shape=note") != NULL);
            strop_free(text);
        }
    }
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        CHECK(strop_buf_flush(&out, f) == 0);
        CHECK(fclose(f) == 0);
    }
    strop_buf_free(&out);
    strop_waits_free(w);
}

/* Every allocation of the map failing in turn: -1, never a crash or a leak
 * (ASan's leak check runs at exit). */
static void
test_out_of_memory(void)
{
    StropWaits *w = strop_waits_new();
    int failures = 0;
    CHECK(w != NULL);
    if (w == NULL)
        return;
    CHECK(feed(w) == 0);
    for (long n = 1; n < 200; n++) {
        StropBuf out = {0};
        int rc;
        strop_mem_fail_after(n, 0);
        rc = write_map(w, &out);
        if (strop_mem_failures() == 0) {
            strop_mem_fail_after(0, 0);
            CHECK(rc == 0);
            strop_buf_free(&out);
            break;
        }
        strop_mem_fail_after(0, 0);
        failures++;
        CHECK(rc == -1);
        strop_buf_free(&out);
    }
    CHECK(failures > 0);
    strop_waits_free(w);
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_waitmap OUT.dot\n");
        return 2;
    }
    test_map(argv[1]);
    test_out_of_memory();
    return CHECK_SUMMARY();
}
