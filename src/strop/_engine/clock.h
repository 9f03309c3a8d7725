/* clock.h: the engine's clocks.
 *
 * A cheap monotonic tick counter for the hot path (the TSC where the processor
 * says it is constant and non-stop, else CLOCK_MONOTONIC through the vDSO),
 * its calibration against nanoseconds, and the thread CPU clock.  Pure C, no
 * Python.h: unit-tested on its own.
 */
#ifndef STROP_CLOCK_H
#define STROP_CLOCK_H

#include <stdint.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define STROP_CLOCK_HAVE_TSC 1
#else
#define STROP_CLOCK_HAVE_TSC 0
#endif

/* Nonzero when strop_clock_ticks() reads the TSC.  Set once by
 * strop_clock_init(); read-only afterwards. */
extern int strop_clock_use_tsc;
/* Nanoseconds per tick, set by strop_clock_init(). */
extern double strop_clock_ns_per_tick;

/* Picks and calibrates the tick source (about 5 ms, once; later calls return
 * at once).  The environment variable STROP_CLOCK=monotonic forbids the TSC.
 * Not thread-safe: call it before any hook runs.  Returns 0. */
int strop_clock_init(void);

/* Nanoseconds of CLOCK_MONOTONIC. Async-signal-safe. */
static inline uint64_t
strop_clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The cheap tick counter. Async-signal-safe, never fails. */
static inline uint64_t
strop_clock_ticks(void)
{
#if STROP_CLOCK_HAVE_TSC
    if (strop_clock_use_tsc)
        return (uint64_t)__rdtsc();
#endif
    return strop_clock_mono_ns();
}

/* CPU time of the calling thread in nanoseconds: a real system call on many
 * machines (about 0.5 us), so never read it on every event. */
static inline uint64_t
strop_clock_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Average cost of one strop_clock_ticks() read, in ticks (measured). */
double strop_clock_read_cost(void);

#endif /* STROP_CLOCK_H */
