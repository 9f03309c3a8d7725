/* statistics.h: the statistics of strop's speed tests, in pure C.
 *
 * Summaries of a sample of timings (median, mean, sample standard deviation,
 * quartiles, median absolute deviation, a bootstrap confidence interval of
 * the median), the comparison of two samples (bootstrap interval of the ratio
 * of their medians, Mann-Whitney U with the normal approximation), the
 * geometric mean, and the printing of a duration.  No Python.h: these are
 * unit-tested in plain C (tests/c/test_statistics.c) and wrapped for Python
 * by timing.c.  Every function is reentrant and thread-safe; the ones that
 * allocate do so through mem.h and free before returning.
 *
 * Functions return STROP_STATS_OK or a negative STROP_STATS_E* code; outputs
 * are written only on success.
 */
#ifndef STROP_STATISTICS_H
#define STROP_STATISTICS_H

#include <stddef.h>
#include <stdint.h>

#define STROP_STATS_OK 0
#define STROP_STATS_EEMPTY (-1)  /* too few values for the statistic */
#define STROP_STATS_ENOMEM (-2)  /* an allocation failed */
#define STROP_STATS_EDOMAIN (-3) /* a value outside the statistic's domain (NaN, <= 0 for a log) */

/* A small, seeded pseudo-random generator (splitmix64): the same seed gives
 * the same bootstrap on every machine. */
typedef struct StropRng {
    uint64_t state;
} StropRng;

void strop_rng_seed(StropRng *rng, uint64_t seed);
/* The next 64 random bits. */
uint64_t strop_rng_next(StropRng *rng);
/* A uniform integer in [0, n); n > 0. */
size_t strop_rng_below(StropRng *rng, size_t n);

/* Everything strop prints about one sample of timings. */
typedef struct StropSummary {
    size_t n;
    double best, worst;   /* smallest and largest value */
    double median, mean;
    double stdev;         /* sample standard deviation (n - 1); 0 when n == 1 */
    double q1, q3, iqr;   /* quartiles by linear interpolation ("inclusive"), q3 - q1 */
    double mad;           /* median of |x - median|, unscaled */
    double ci_low, ci_high; /* bootstrap percentile interval of the median */
    double mean_ci_low, mean_ci_high; /* the same of the mean, from the same resamples */
} StropSummary;

/* Arithmetic mean of x[0..n).  EEMPTY when n == 0. */
int strop_stats_mean(const double *x, size_t n, double *out);
/* Sample standard deviation (divisor n - 1).  EEMPTY when n < 2. */
int strop_stats_stdev(const double *x, size_t n, double *out);
/* Median; copies x (ENOMEM possible).  EEMPTY when n == 0. */
int strop_stats_median(const double *x, size_t n, double *out);
/* The p-quantile (0 <= p <= 1) of *sorted* data, linear interpolation between
 * order statistics (Python's statistics.quantiles(method="inclusive")). */
int strop_stats_quantile_sorted(const double *sorted, size_t n, double p, double *out);
/* Geometric mean; EDOMAIN when a value is not > 0. */
int strop_stats_geomean(const double *x, size_t n, double *out);

/* Bootstrap percentile interval of the median at confidence `level` (0.95)
 * from `resamples` resamples drawn with `seed`.  With n == 1 the interval is
 * the value itself. */
int strop_stats_median_ci(const double *x, size_t n, double level, unsigned resamples,
                          uint64_t seed, double *low /* OUT */, double *high /* OUT */);

/* Fills *out for x[0..n): one sort, one bootstrap (as strop_stats_median_ci)
 * giving the intervals of both the median and the mean. */
int strop_stats_summarize(const double *x, size_t n, double level, unsigned resamples,
                          uint64_t seed, StropSummary *out /* OUT */);

/* Bootstrap percentile interval of median(y) / median(x) (new over old):
 * each resample draws both samples again.  EDOMAIN when a resampled median of
 * x is 0. */
int strop_stats_ratio_ci(const double *x, size_t nx, const double *y, size_t ny, double level,
                         unsigned resamples, uint64_t seed, double *ratio /* OUT: of medians */,
                         double *low /* OUT */, double *high /* OUT */);

/* Mann-Whitney U test, two-sided, normal approximation with the tie
 * correction of the variance and a continuity correction (what
 * scipy.stats.mannwhitneyu(x, y, method="asymptotic") computes).  *u is the
 * statistic of x: the number of pairs with x > y, ties counting one half.
 * *p is 1 when every value is tied.  EEMPTY when a sample is empty. */
int strop_stats_mann_whitney(const double *x, size_t nx, const double *y, size_t ny,
                             double *u /* OUT */, double *p /* OUT */);

/* Writes `seconds` with three significant digits and the unit that suits it
 * ("12.3 us" with a micro sign, "1.05 s", "850 ns"), NUL-terminated, into
 * buf[0..size).  Returns the length it needed, as snprintf does. */
int strop_stats_format_seconds(double seconds, char *buf, size_t size);

#endif /* STROP_STATISTICS_H */
