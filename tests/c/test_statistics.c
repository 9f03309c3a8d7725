/* test_statistics.c: unit tests of statistics.c (no Python.h).
 *
 * Known answers computed by hand or by Python's statistics module and scipy
 * (quoted beside each check), the seeded bootstrap's reproducibility and
 * coverage, and survival of every allocation failing in turn.
 * Prints "N passed, N failed" and exits non-zero on a failure.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "statistics.h"

#include "check.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void
test_basic(void)
{
    /* statistics.mean/stdev/median of [2, 4, 4, 4, 5, 5, 7, 9]: 5, 2.138089935299395, 4.5 */
    double x[] = {9, 2, 4, 5, 4, 7, 4, 5};
    double out = 0, sorted[] = {2, 4, 4, 4, 5, 5, 7, 9};
    CHECK(strop_stats_mean(x, N_OF(x), &out) == STROP_STATS_OK && NEAR(out, 5.0, 1e-12));
    CHECK(strop_stats_stdev(x, N_OF(x), &out) == STROP_STATS_OK &&
          NEAR(out, 2.138089935299395, 1e-12));
    CHECK(strop_stats_median(x, N_OF(x), &out) == STROP_STATS_OK && NEAR(out, 4.5, 1e-12));
    CHECK(strop_stats_median(x, 7, &out) == STROP_STATS_OK && NEAR(out, 4.0, 1e-12));
    /* statistics.quantiles(sorted, n=4, method="inclusive"): [4.0, 4.5, 5.5] */
    CHECK(strop_stats_quantile_sorted(sorted, 8, 0.25, &out) == 0 && NEAR(out, 4.0, 1e-12));
    CHECK(strop_stats_quantile_sorted(sorted, 8, 0.75, &out) == 0 && NEAR(out, 5.5, 1e-12));
    CHECK(strop_stats_quantile_sorted(sorted, 8, 1.0, &out) == 0 && NEAR(out, 9.0, 1e-12));
    CHECK(strop_stats_quantile_sorted(sorted, 8, 1.5, &out) == STROP_STATS_EDOMAIN);
    /* statistics.geometric_mean([1, 2, 4, 8]) = 2.8284271247461903 */
    {
        double g[] = {1, 2, 4, 8}, bad[] = {1, 0};
        CHECK(strop_stats_geomean(g, 4, &out) == 0 && NEAR(out, 2.8284271247461903, 1e-12));
        CHECK(strop_stats_geomean(bad, 2, &out) == STROP_STATS_EDOMAIN);
    }
    CHECK(strop_stats_mean(x, 0, &out) == STROP_STATS_EEMPTY);
    CHECK(strop_stats_stdev(x, 1, &out) == STROP_STATS_EEMPTY);
    CHECK(strop_stats_median(x, 0, &out) == STROP_STATS_EEMPTY);
    {
        double nan_in[] = {1, NAN, 3};
        CHECK(strop_stats_median(nan_in, 3, &out) == STROP_STATS_EDOMAIN);
    }
}

static void
test_median_many(void)
{
    /* Selection against sorting, on many sizes and shapes (ties included). */
    double x[101], sorted[101], a, b;
    StropRng rng;
    strop_rng_seed(&rng, 42);
    for (size_t n = 1; n <= 101; n++) {
        for (size_t i = 0; i < n; i++)
            x[i] = (double)(strop_rng_next(&rng) % 7);
        memcpy(sorted, x, n * sizeof *x);
        for (size_t i = 1; i < n; i++) /* insertion sort, obviously right */
            for (size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
                double t = sorted[j];
                sorted[j] = sorted[j - 1];
                sorted[j - 1] = t;
            }
        a = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        CHECK(strop_stats_median(x, n, &b) == 0 && a == b);
    }
}

static void
test_summary(void)
{
    double x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 100};
    StropSummary s, again;
    CHECK(strop_stats_summarize(x, N_OF(x), 0.95, 2000, 7, &s) == 0);
    CHECK(s.n == 10 && s.best == 1 && s.worst == 100);
    CHECK(NEAR(s.median, 5.5, 1e-12) && NEAR(s.mean, 14.5, 1e-12));
    /* statistics.quantiles(x, n=4, method="inclusive") = [3.25, 5.5, 7.75] */
    CHECK(NEAR(s.q1, 3.25, 1e-12) && NEAR(s.q3, 7.75, 1e-12) && NEAR(s.iqr, 4.5, 1e-12));
    /* |x - 5.5| = 4.5 3.5 2.5 1.5 .5 .5 1.5 2.5 3.5 94.5: median 2.5 */
    CHECK(NEAR(s.mad, 2.5, 1e-12));
    CHECK(s.ci_low <= s.median && s.median <= s.ci_high);
    CHECK(s.ci_low >= 1 && s.ci_high <= 100);
    CHECK(s.mean_ci_low <= s.mean && s.mean <= s.mean_ci_high);
    CHECK(s.mean_ci_low >= 1 && s.mean_ci_high <= 100 && s.mean_ci_high > s.ci_high);
    /* Same seed, same interval. */
    CHECK(strop_stats_summarize(x, N_OF(x), 0.95, 2000, 7, &again) == 0);
    CHECK(again.ci_low == s.ci_low && again.ci_high == s.ci_high);
    {
        double one[] = {3.5};
        CHECK(strop_stats_summarize(one, 1, 0.95, 100, 1, &s) == 0);
        CHECK(s.stdev == 0 && s.ci_low == 3.5 && s.ci_high == 3.5);
    }
}

/* The 95% interval of the median of 41 normal draws covers the true median
 * in roughly 95% of 400 samples (binomial: 88% to 99% is generous). */
static void
test_bootstrap_coverage(void)
{
    StropRng rng;
    int covered = 0;
    strop_rng_seed(&rng, 2024);
    for (int trial = 0; trial < 400; trial++) {
        double x[41], low, high;
        for (int i = 0; i < 41; i++) {
            double u1 = ((double)(strop_rng_next(&rng) >> 11) + 0.5) / 9007199254740992.0;
            double u2 = ((double)(strop_rng_next(&rng) >> 11) + 0.5) / 9007199254740992.0;
            x[i] = 10.0 + sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
        }
        CHECK(strop_stats_median_ci(x, 41, 0.95, 500, (uint64_t)trial, &low, &high) == 0);
        covered += low <= 10.0 && 10.0 <= high;
    }
    fprintf(stderr, "bootstrap coverage: %d/400\n", covered);
    CHECK(covered >= 352 && covered <= 396);
}

static void
test_ratio(void)
{
    double old[] = {10, 11, 9, 10, 10.5, 9.5, 10}, slow[] = {20, 22, 18, 20, 21, 19, 20};
    double ratio = 0, low = 0, high = 0, zero[] = {0, 0};
    CHECK(strop_stats_ratio_ci(old, 7, slow, 7, 0.95, 2000, 1, &ratio, &low, &high) == 0);
    CHECK(NEAR(ratio, 2.0, 1e-12) && low <= 2.0 && 2.0 <= high && low > 1.6 && high < 2.4);
    CHECK(strop_stats_ratio_ci(zero, 2, slow, 7, 0.95, 10, 1, &ratio, &low, &high) ==
          STROP_STATS_EDOMAIN);
}

static void
test_mann_whitney(void)
{
    double u = -1, p = -1;
    /* scipy.stats.mannwhitneyu([1,2,3], [4,5,6], method="asymptotic"): U=0,
     * p=0.08085559837005224 */
    {
        double x[] = {1, 2, 3}, y[] = {4, 5, 6};
        CHECK(strop_stats_mann_whitney(x, 3, y, 3, &u, &p) == 0);
        CHECK(u == 0 && NEAR(p, 0.08085559837005224, 1e-12));
    }
    /* With ties: scipy gives U=5.5, p=0.09337724360511554 for
     * x=[1,2,2,3,4], y=[2,3,4,4,5,6]. */
    {
        double x[] = {1, 2, 2, 3, 4}, y[] = {2, 3, 4, 4, 5, 6};
        CHECK(strop_stats_mann_whitney(x, 5, y, 6, &u, &p) == 0);
        CHECK(u == 5.5 && NEAR(p, 0.09337724360511554, 1e-12));
        /* Swapping the samples: U becomes nx*ny - U, p the same. */
        CHECK(strop_stats_mann_whitney(y, 6, x, 5, &u, &p) == 0);
        CHECK(u == 24.5 && NEAR(p, 0.09337724360511554, 1e-12));
    }
    /* Every value tied: no evidence at all. */
    {
        double x[] = {1, 1, 1}, y[] = {1, 1};
        CHECK(strop_stats_mann_whitney(x, 3, y, 2, &u, &p) == 0 && u == 3 && p == 1.0);
    }
    CHECK(strop_stats_mann_whitney(&u, 0, &p, 1, &u, &p) == STROP_STATS_EEMPTY);
}

static void
test_format(void)
{
    char buf[32];
    strop_stats_format_seconds(12.34e-6, buf, sizeof buf);
    CHECK(strcmp(buf, "12.3 \xc2\xb5s") == 0);
    strop_stats_format_seconds(1.05, buf, sizeof buf);
    CHECK(strcmp(buf, "1.05 s") == 0);
    strop_stats_format_seconds(850e-9, buf, sizeof buf);
    CHECK(strcmp(buf, "850 ns") == 0);
    strop_stats_format_seconds(0.9999, buf, sizeof buf);
    CHECK(strcmp(buf, "1.00 s") == 0);
    strop_stats_format_seconds(-3e-9, buf, sizeof buf);
    CHECK(strcmp(buf, "-3.00 ns") == 0);
    strop_stats_format_seconds(0, buf, sizeof buf);
    CHECK(strcmp(buf, "0 ns") == 0);
}

/* Every allocation failing in turn: an error code, never a crash or a leak
 * (ASan checks the leaks). */
static void
test_out_of_memory(void)
{
    double x[] = {1, 2, 3, 4}, y[] = {2, 3, 4, 5}, a, b, c;
    StropSummary s;
    for (long n = 1; n <= 4; n++) {
        strop_mem_fail_after(n, 0);
        int r1 = strop_stats_summarize(x, 4, 0.95, 50, 1, &s);
        strop_mem_fail_after(n, 0);
        int r2 = strop_stats_ratio_ci(x, 4, y, 4, 0.95, 50, 1, &a, &b, &c);
        strop_mem_fail_after(n, 0);
        int r3 = strop_stats_mann_whitney(x, 4, y, 4, &a, &b);
        strop_mem_fail_after(0, 0);
        CHECK(r1 == STROP_STATS_OK || r1 == STROP_STATS_ENOMEM);
        CHECK(r2 == STROP_STATS_OK || r2 == STROP_STATS_ENOMEM);
        CHECK(r3 == STROP_STATS_OK || r3 == STROP_STATS_ENOMEM);
        if (n == 1)
            CHECK(r1 == STROP_STATS_ENOMEM && r2 == STROP_STATS_ENOMEM &&
                  r3 == STROP_STATS_ENOMEM);
    }
}

int
main(void)
{
    test_basic();
    test_median_many();
    test_summary();
    test_bootstrap_coverage();
    test_ratio();
    test_mann_whitney();
    test_format();
    test_out_of_memory();
    return CHECK_SUMMARY();
}
