/* clock.c: choice and calibration of the tick source (see clock.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* clock_gettime and its clocks under -std=c11 */
#endif
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int strop_clock_use_tsc = 0;
double strop_clock_ns_per_tick = 1.0;
static int initialized = 0;

/* Whether /proc/cpuinfo lists both constant_tsc and nonstop_tsc: only then do
 * ticks mean the same time on every core and at every frequency. */
static int
tsc_is_reliable(void)
{
#if STROP_CLOCK_HAVE_TSC
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096];
    int constant = 0, nonstop = 0;
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        constant = strstr(line, " constant_tsc") != NULL;
        nonstop = strstr(line, " nonstop_tsc") != NULL;
        break;
    }
    fclose(f);
    return constant && nonstop;
#else
    return 0;
#endif
}

int
strop_clock_init(void)
{
    const char *env;
    if (initialized)
        return 0;
    initialized = 1;
    env = getenv("STROP_CLOCK");
    if (env != NULL && strcmp(env, "monotonic") == 0)
        return 0;
    if (!tsc_is_reliable())
        return 0;
#if STROP_CLOCK_HAVE_TSC
    {
        uint64_t ns0 = strop_clock_mono_ns(), t0 = __rdtsc(), ns1, t1;
        do {
            ns1 = strop_clock_mono_ns();
        } while (ns1 - ns0 < 5000000u);
        t1 = __rdtsc();
        if (t1 > t0) {
            strop_clock_ns_per_tick = (double)(ns1 - ns0) / (double)(t1 - t0);
            strop_clock_use_tsc = 1;
        }
    }
#endif
    return 0;
}

double
strop_clock_read_cost(void)
{
    enum { N = 2000 };
    double best = 1e300;
    for (int round = 0; round < 5; round++) {
        uint64_t start = strop_clock_ticks(), last = start;
        for (int i = 0; i < N; i++)
            last = strop_clock_ticks();
        double per = (double)(last - start) / N;
        if (per < best)
            best = per;
    }
    return best;
}
