/* oom_walk.c: every allocation of every reader, made to fail in turn.
 *
 * For each file named on the command line and each reader (pstats, folded,
 * pprof), reads it once with the engine's fault switch (mem.h) failing the
 * 1st allocation, then the 2nd, and so on until a read makes fewer
 * allocations than N; then once more with every allocation from the Nth on
 * failing.  Each read must end in success or the reader's out-of-memory
 * status, never a crash (ASan), a leak (LeakSanitizer, at exit), or a format
 * error (an allocation failure must not be blamed on the file).  Prints one
 * line: how many reads were made to fail.  Exit 1 on a wrong status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static int
read_pstats(const unsigned char *data, size_t len)
{
    StropPstatsFile file = {.code_layout = STROP_PSTATS_CODE_311};
    char error[200];
    int rc = strop_pstats_read(&file, data, len, error, sizeof error);
    strop_pstats_file_free(&file);
    return rc == STROP_PSTATS_NOMEM ? -1 : rc == STROP_PSTATS_OK ? 0 : 1;
}

static int
read_loaded(const unsigned char *data, size_t len, int pprof)
{
    StropLoaded prof;
    int rc;
    if (strop_load_init(&prof) != STROP_LOAD_OK)
        return -1;
    rc = pprof ? strop_load_pprof(&prof, data, len)
               : strop_load_folded(&prof, (const char *)data, len, 0.01);
    if (rc == STROP_LOAD_OK)
        fuzz_use(&prof);
    strop_load_free(&prof);
    return rc == STROP_LOAD_NOMEM ? -1 : rc == STROP_LOAD_OK ? 0 : 1;
}

static int
read_with(int reader, const unsigned char *data, size_t len)
{
    return reader == 0 ? read_pstats(data, len) : read_loaded(data, len, reader == 2);
}

int
main(int argc, char **argv)
{
    static const char *names[] = {"pstats", "folded", "pprof"};
    long walked = 0;
    int bad = 0;
    for (int a = 1; a < argc; a++) {
        FILE *f = fopen(argv[a], "rb");
        unsigned char *data;
        long size;
        if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0) {
            fprintf(stderr, "oom_walk: cannot read %s\n", argv[a]);
            return 1;
        }
        rewind(f);
        data = malloc((size_t)size + 1);
        if (data == NULL || fread(data, 1, (size_t)size, f) != (size_t)size) {
            fprintf(stderr, "oom_walk: cannot read %s\n", argv[a]);
            return 1;
        }
        fclose(f);
        for (int reader = 0; reader < 3; reader++) {
            int clean = read_with(reader, data, (size_t)size); /* 1: a format error */
            for (long n = 1;; n++) {
                strop_mem_fail_after(n, 0);
                int rc = read_with(reader, data, (size_t)size);
                long failed = strop_mem_failures();
                strop_mem_fail_after(0, 0);
                if (failed == 0)
                    break; /* fewer than n allocations: every one has failed once */
                walked++;
                if (rc == 1 && clean != 1) {
                    printf("oom_walk: %s as %s: allocation %ld failing gave a format error\n",
                           argv[a], names[reader], n);
                    bad = 1;
                }
                strop_mem_fail_after(n, 1);
                rc = read_with(reader, data, (size_t)size);
                strop_mem_fail_after(0, 0);
                if (rc == 1 && clean != 1) {
                    printf("oom_walk: %s as %s: allocations from %ld failing gave a format "
                           "error\n", argv[a], names[reader], n);
                    bad = 1;
                }
            }
        }
        free(data);
    }
    printf("%ld reads with an allocation failing, %s\n", walked,
           bad ? "some ended wrongly" : "each ended in success or out-of-memory");
    return bad;
}
