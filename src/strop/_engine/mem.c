/* mem.c: the allocation wrapper and its fault switch (see mem.h). */
#include "mem.h"

#include <stdlib.h>

static long fail_countdown = 0; /* 0: off */
static int fail_sticky = 0;
static long failures = 0;

static int
should_fail(void)
{
    if (fail_countdown <= 0)
        return 0;
    if (fail_countdown == 1) {
        if (!fail_sticky)
            fail_countdown = 0;
        failures++;
        return 1;
    }
    fail_countdown--;
    return 0;
}

void *
strop_malloc(size_t size)
{
    return should_fail() ? NULL : malloc(size ? size : 1);
}

void *
strop_calloc(size_t count, size_t size)
{
    return should_fail() ? NULL : calloc(count ? count : 1, size ? size : 1);
}

void *
strop_realloc(void *ptr, size_t size)
{
    return should_fail() ? NULL : realloc(ptr, size ? size : 1);
}

void
strop_free(void *ptr)
{
    free(ptr);
}

void
strop_mem_fail_after(long n, int sticky)
{
    fail_countdown = n > 0 ? n : 0;
    fail_sticky = sticky;
    failures = 0;
}

long
strop_mem_failures(void)
{
    return failures;
}
