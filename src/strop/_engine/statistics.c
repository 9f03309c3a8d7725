/* statistics.c: summaries and comparisons of timing samples (see statistics.h).
 *
 * Pure C.  The bootstrap draws its resamples from a seeded splitmix64 so that
 * a report is reproducible; medians of resamples use a selection (expected
 * linear time), not a sort.
 */
#include "statistics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

void
strop_rng_seed(StropRng *rng, uint64_t seed)
{
    rng->state = seed;
}

uint64_t
strop_rng_next(StropRng *rng)
{
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

size_t
strop_rng_below(StropRng *rng, size_t n)
{
    /* Rejection removes the bias of the modulo. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % (uint64_t)n;
    uint64_t r;
    do {
        r = strop_rng_next(rng);
    } while (r >= limit);
    return (size_t)(r % (uint64_t)n);
}

static int
compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int
has_nan(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isnan(x[i]))
            return 1;
    return 0;
}

int
strop_stats_mean(const double *x, size_t n, double *out)
{
    double sum = 0.0, c = 0.0;
    if (n == 0)
        return STROP_STATS_EEMPTY;
    /* Kahan summation: timings of very different sizes lose no digits. */
    for (size_t i = 0; i < n; i++) {
        double y = x[i] - c, t = sum + y;
        c = (t - sum) - y;
        sum = t;
    }
    *out = sum / (double)n;
    return STROP_STATS_OK;
}

int
strop_stats_stdev(const double *x, size_t n, double *out)
{
    double mean, ss = 0.0;
    if (n < 2)
        return STROP_STATS_EEMPTY;
    strop_stats_mean(x, n, &mean);
    /* Two passes: the textbook one-pass formula cancels badly. */
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - mean) * (x[i] - mean);
    *out = sqrt(ss / (double)(n - 1));
    return STROP_STATS_OK;
}

int
strop_stats_quantile_sorted(const double *sorted, size_t n, double p, double *out)
{
    double pos, frac;
    size_t lo;
    if (n == 0)
        return STROP_STATS_EEMPTY;
    if (!(p >= 0.0 && p <= 1.0))
        return STROP_STATS_EDOMAIN;
    pos = p * (double)(n - 1);
    lo = (size_t)pos;
    if (lo >= n - 1) {
        *out = sorted[n - 1];
        return STROP_STATS_OK;
    }
    frac = pos - (double)lo;
    *out = sorted[lo] + (sorted[lo + 1] - sorted[lo]) * frac;
    return STROP_STATS_OK;
}

/* Rearranges a[0..n) so that a[k] is the k-th smallest, smaller ones before
 * it (Hoare's selection with a median-of-three pivot). */
static void
select_kth(double *a, size_t n, size_t k)
{
    size_t left = 0, right = n - 1;
    while (right > left) {
        size_t mid = left + (right - left) / 2, i = left, j = right;
        double pivot, t;
        if (a[mid] < a[left]) { t = a[mid]; a[mid] = a[left]; a[left] = t; }
        if (a[right] < a[left]) { t = a[right]; a[right] = a[left]; a[left] = t; }
        if (a[right] < a[mid]) { t = a[right]; a[right] = a[mid]; a[mid] = t; }
        pivot = a[mid];
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                t = a[i]; a[i] = a[j]; a[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            right = j;
        else if (k >= i)
            left = i;
        else
            return;
    }
}

/* Median of a[0..n), n > 0, reordering a. */
static double
median_inplace(double *a, size_t n)
{
    size_t k = n / 2;
    double upper, lower;
    select_kth(a, n, k);
    upper = a[k];
    if (n % 2)
        return upper;
    lower = a[0];
    for (size_t i = 1; i < k; i++)
        if (a[i] > lower)
            lower = a[i];
    return (lower + upper) / 2.0;
}

int
strop_stats_median(const double *x, size_t n, double *out)
{
    double *copy;
    if (n == 0)
        return STROP_STATS_EEMPTY;
    if (has_nan(x, n))
        return STROP_STATS_EDOMAIN;
    copy = strop_malloc(n * sizeof *copy);
    if (copy == NULL)
        return STROP_STATS_ENOMEM;
    memcpy(copy, x, n * sizeof *copy);
    *out = median_inplace(copy, n);
    strop_free(copy);
    return STROP_STATS_OK;
}

int
strop_stats_geomean(const double *x, size_t n, double *out)
{
    double sum = 0.0;
    if (n == 0)
        return STROP_STATS_EEMPTY;
    for (size_t i = 0; i < n; i++) {
        if (!(x[i] > 0.0) || isinf(x[i]))
            return STROP_STATS_EDOMAIN;
        sum += log(x[i]);
    }
    *out = exp(sum / (double)n);
    return STROP_STATS_OK;
}

/* The percentile interval from sorted bootstrap statistics. */
static void
percentile_interval(double *stats, size_t count, double level, double *low, double *high)
{
    double alpha = (1.0 - level) / 2.0;
    qsort(stats, count, sizeof *stats, compare_doubles);
    strop_stats_quantile_sorted(stats, count, alpha, low);
    strop_stats_quantile_sorted(stats, count, 1.0 - alpha, high);
}

/* The bootstrap behind strop_stats_median_ci(): the intervals of the median
 * and (when mean_low is not NULL) of the mean, from the same resamples. */
static int
bootstrap(const double *x, size_t n, double level, unsigned resamples, uint64_t seed,
          double *low, double *high, double *mean_low, double *mean_high)
{
    double *sample = NULL, *medians = NULL, *means = NULL;
    StropRng rng;
    int status = STROP_STATS_OK;
    if (n == 0 || resamples == 0)
        return STROP_STATS_EEMPTY;
    if (!(level > 0.0 && level < 1.0) || has_nan(x, n))
        return STROP_STATS_EDOMAIN;
    if (n == 1) {
        *low = *high = x[0];
        if (mean_low != NULL)
            *mean_low = *mean_high = x[0];
        return STROP_STATS_OK;
    }
    sample = strop_malloc(n * sizeof *sample);
    medians = strop_malloc(resamples * sizeof *medians);
    means = strop_malloc(resamples * sizeof *means);
    if (sample == NULL || medians == NULL || means == NULL) {
        status = STROP_STATS_ENOMEM;
        goto done;
    }
    strop_rng_seed(&rng, seed);
    for (unsigned r = 0; r < resamples; r++) {
        double sum = 0.0;
        for (size_t i = 0; i < n; i++) {
            sample[i] = x[strop_rng_below(&rng, n)];
            sum += sample[i];
        }
        means[r] = sum / (double)n;
        medians[r] = median_inplace(sample, n);
    }
    percentile_interval(medians, resamples, level, low, high);
    if (mean_low != NULL)
        percentile_interval(means, resamples, level, mean_low, mean_high);
done:
    strop_free(sample);
    strop_free(medians);
    strop_free(means);
    return status;
}

int
strop_stats_median_ci(const double *x, size_t n, double level, unsigned resamples, uint64_t seed,
                      double *low, double *high)
{
    return bootstrap(x, n, level, resamples, seed, low, high, NULL, NULL);
}

int
strop_stats_summarize(const double *x, size_t n, double level, unsigned resamples, uint64_t seed,
                      StropSummary *out)
{
    double *sorted = NULL;
    StropSummary s;
    int status;
    if (n == 0)
        return STROP_STATS_EEMPTY;
    if (has_nan(x, n))
        return STROP_STATS_EDOMAIN;
    sorted = strop_malloc(n * sizeof *sorted);
    if (sorted == NULL)
        return STROP_STATS_ENOMEM;
    memcpy(sorted, x, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, compare_doubles);
    memset(&s, 0, sizeof s);
    s.n = n;
    s.best = sorted[0];
    s.worst = sorted[n - 1];
    strop_stats_quantile_sorted(sorted, n, 0.5, &s.median);
    strop_stats_quantile_sorted(sorted, n, 0.25, &s.q1);
    strop_stats_quantile_sorted(sorted, n, 0.75, &s.q3);
    s.iqr = s.q3 - s.q1;
    strop_stats_mean(x, n, &s.mean);
    if (n > 1)
        strop_stats_stdev(x, n, &s.stdev);
    for (size_t i = 0; i < n; i++)
        sorted[i] = fabs(x[i] - s.median);
    s.mad = median_inplace(sorted, n);
    status = bootstrap(x, n, level, resamples, seed, &s.ci_low, &s.ci_high, &s.mean_ci_low,
                       &s.mean_ci_high);
    strop_free(sorted);
    if (status == STROP_STATS_OK)
        *out = s;
    return status;
}

int
strop_stats_ratio_ci(const double *x, size_t nx, const double *y, size_t ny, double level,
                     unsigned resamples, uint64_t seed, double *ratio, double *low, double *high)
{
    double *sx = NULL, *sy = NULL, *ratios = NULL, mx, my;
    StropRng rng;
    int status = STROP_STATS_OK;
    if (nx == 0 || ny == 0 || resamples == 0)
        return STROP_STATS_EEMPTY;
    if (!(level > 0.0 && level < 1.0) || has_nan(x, nx) || has_nan(y, ny))
        return STROP_STATS_EDOMAIN;
    sx = strop_malloc(nx * sizeof *sx);
    sy = strop_malloc(ny * sizeof *sy);
    ratios = strop_malloc(resamples * sizeof *ratios);
    if (sx == NULL || sy == NULL || ratios == NULL) {
        status = STROP_STATS_ENOMEM;
        goto done;
    }
    memcpy(sx, x, nx * sizeof *sx);
    memcpy(sy, y, ny * sizeof *sy);
    mx = median_inplace(sx, nx);
    my = median_inplace(sy, ny);
    if (mx == 0.0) {
        status = STROP_STATS_EDOMAIN;
        goto done;
    }
    strop_rng_seed(&rng, seed);
    for (unsigned r = 0; r < resamples; r++) {
        double rx, ry;
        for (size_t i = 0; i < nx; i++)
            sx[i] = x[strop_rng_below(&rng, nx)];
        for (size_t i = 0; i < ny; i++)
            sy[i] = y[strop_rng_below(&rng, ny)];
        rx = median_inplace(sx, nx);
        ry = median_inplace(sy, ny);
        if (rx == 0.0) {
            status = STROP_STATS_EDOMAIN;
            goto done;
        }
        ratios[r] = ry / rx;
    }
    percentile_interval(ratios, resamples, level, low, high);
    *ratio = my / mx;
done:
    strop_free(sx);
    strop_free(sy);
    strop_free(ratios);
    return status;
}

typedef struct {
    double value;
    int from_x;
} Tagged;

static int
compare_tagged(const void *a, const void *b)
{
    return compare_doubles(&((const Tagged *)a)->value, &((const Tagged *)b)->value);
}

int
strop_stats_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, double *u,
                         double *p)
{
    size_t n = nx + ny;
    Tagged *all;
    double rank_sum_x = 0.0, tie_term = 0.0, u1, u_max, mu, var, z;
    if (nx == 0 || ny == 0)
        return STROP_STATS_EEMPTY;
    if (has_nan(x, nx) || has_nan(y, ny))
        return STROP_STATS_EDOMAIN;
    all = strop_malloc(n * sizeof *all);
    if (all == NULL)
        return STROP_STATS_ENOMEM;
    for (size_t i = 0; i < nx; i++)
        all[i] = (Tagged){x[i], 1};
    for (size_t i = 0; i < ny; i++)
        all[nx + i] = (Tagged){y[i], 0};
    qsort(all, n, sizeof *all, compare_tagged);
    /* Ranks from 1; a run of ties gets their average rank. */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double rank, t;
        while (j + 1 < n && all[j + 1].value == all[i].value)
            j++;
        rank = ((double)(i + 1) + (double)(j + 1)) / 2.0;
        for (size_t k = i; k <= j; k++)
            if (all[k].from_x)
                rank_sum_x += rank;
        t = (double)(j - i + 1);
        tie_term += t * t * t - t;
        i = j + 1;
    }
    strop_free(all);
    u1 = rank_sum_x - (double)nx * ((double)nx + 1.0) / 2.0;
    u_max = fmax(u1, (double)nx * (double)ny - u1);
    mu = (double)nx * (double)ny / 2.0;
    var = (double)nx * (double)ny / 12.0 *
          (((double)n + 1.0) - tie_term / ((double)n * ((double)n - 1.0)));
    *u = u1;
    if (!(var > 0.0)) {
        *p = 1.0;
        return STROP_STATS_OK;
    }
    z = (u_max - mu - 0.5) / sqrt(var);
    /* Two-sided: 2 * P(Z > z) = erfc(z / sqrt 2). */
    *p = fmin(1.0, erfc(z / sqrt(2.0)));
    return STROP_STATS_OK;
}

int
strop_stats_format_seconds(double seconds, char *buf, size_t size)
{
    static const struct {
        double scale;
        const char *unit;
    } units[] = {{1.0, "s"}, {1e-3, "ms"}, {1e-6, "\xc2\xb5s"}, {1e-9, "ns"}};
    double magnitude = fabs(seconds);
    size_t u = 0;
    double value;
    if (isnan(seconds))
        return snprintf(buf, size, "nan");
    if (magnitude == 0.0)
        return snprintf(buf, size, "0 ns");
    while (u + 1 < sizeof units / sizeof units[0] && magnitude < units[u].scale * 0.9995)
        u++;
    value = seconds / units[u].scale;
    magnitude = fabs(value);
    if (magnitude >= 99.95)
        return snprintf(buf, size, "%.0f %s", value, units[u].unit);
    if (magnitude >= 9.995)
        return snprintf(buf, size, "%.1f %s", value, units[u].unit);
    return snprintf(buf, size, "%.2f %s", value, units[u].unit);
}
