#include "significance.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    double v;
    int from_a;
} tagged;

static int cmp_tagged(const void *x, const void *y)
{
    double a = ((const tagged *)x)->v, b = ((const tagged *)y)->v;
    return (a > b) - (a < b);
}

// Sorts a and b together and returns U of a from the rank sum of a (tied values share their
// average rank); *ties gets sum(t^3 - t) over groups of t tied values, for the variance.
static double u_statistic(tagged *all, int na, int n, double *ties)
{
    qsort(all, (size_t)n, sizeof *all, cmp_tagged);
    double rank_sum = 0;
    *ties = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && all[j].v == all[i].v) j++;
        double t = j - i, rank = (i + 1 + j) / 2.0; // average of ranks i+1 .. j
        for (int k = i; k < j; k++)
            if (all[k].from_a) rank_sum += rank;
        *ties += t * t * t - t;
        i = j;
    }
    return rank_sum - na * (na + 1) / 2.0;
}

// Frequencies of U under the null hypothesis for sample sizes m and n, in c[0 .. m*n]: the
// coefficients of the Gaussian binomial [m+n choose m](q) = prod_{i=1..m} (1 - q^(n+i)) /
// (1 - q^i). Every partial product is itself a Gaussian binomial, so the counts stay integers
// below C(m+n, m) and are exact in doubles for m, n <= TB_MW_EXACT_MAX.
static void null_counts(int m, int n, double *c)
{
    int top = m * n;
    for (int k = 0; k <= top; k++) c[k] = k == 0;
    for (int i = 1; i <= m; i++) {
        for (int k = top; k >= n + i; k--) c[k] -= c[k - (n + i)];
        for (int k = i; k <= top; k++) c[k] += c[k - i];
    }
}

// Exact two-sided p: twice the smaller tail at u, at most 1.
static int exact_p(int na, int nb, double u, tb_mw_result *r)
{
    int top = na * nb;
    double *c = malloc(sizeof(double) * (size_t)(top + 1));
    if (!c) return -1;
    null_counts(na, nb, c);
    double total = 0, low = 0, high = 0;
    for (int k = 0; k <= top; k++) {
        total += c[k];
        if (k <= u) low += c[k];
        if (k >= u) high += c[k];
    }
    r->p = fmin(1.0, 2.0 * fmin(low, high) / total);
    r->min_p = fmin(1.0, 2.0 * c[0] / total);
    r->method = TB_MW_EXACT;
    free(c);
    return 0;
}

// Two-sided p from the normal approximation with the tie correction of the variance and a
// continuity correction of 1/2.
static double normal_p(double distance, double sd)
{
    if (sd <= 0) return 1.0; // every value tied: no evidence of any difference
    double z = fmax(0.0, distance - 0.5) / sd;
    return fmin(1.0, erfc(z / sqrt(2.0)));
}

int tb_mann_whitney(const double *a, int na, const double *b, int nb, tb_mw_result *r)
{
    if (na < 1 || nb < 1) return -1;
    int n = na + nb;
    tagged *all = malloc(sizeof *all * (size_t)n);
    if (!all) return -1;
    for (int i = 0; i < na; i++) all[i] = (tagged){a[i], 1};
    for (int j = 0; j < nb; j++) all[na + j] = (tagged){b[j], 0};
    double ties;
    r->u = u_statistic(all, na, n, &ties);
    free(all);
    if (ties == 0 && na <= TB_MW_EXACT_MAX && nb <= TB_MW_EXACT_MAX)
        return exact_p(na, nb, r->u, r);
    double mean = na * (double)nb / 2.0;
    double var = na * (double)nb / 12.0 * ((n + 1) - ties / ((double)n * (n - 1)));
    double sd = var > 0 ? sqrt(var) : 0;
    r->p = normal_p(fabs(r->u - mean), sd);
    r->min_p = normal_p(mean, sd); // |U - mean| is largest (= mean) for separated samples
    r->method = TB_MW_NORMAL;
    return 0;
}
