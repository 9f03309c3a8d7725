/* check.h: the one assertion macro of strop's C unit tests.
 *
 * CHECK(cond) counts a passed or failed check and names a failed one on
 * stderr; a test program ends with CHECK_SUMMARY(), which prints the closing
 * line "N passed, N failed" and gives main()'s exit status.
 */
#ifndef STROP_TEST_CHECK_H
#define STROP_TEST_CHECK_H

#include <stdio.h>

static int passed = 0, failed = 0;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (cond) {                                                                    \
            passed++;                                                                  \
        }                                                                              \
        else {                                                                         \
            failed++;                                                                  \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
        }                                                                              \
    } while (0)

#define CHECK_SUMMARY() (printf("%d passed, %d failed\n", passed, failed), failed ? 1 : 0)

#endif /* STROP_TEST_CHECK_H */
