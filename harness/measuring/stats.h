// Order statistics of repeated measurements: benchmarks report medians, minima and
// interquartile ranges, never a single sample.
#ifndef TB_STATS_H
#define TB_STATS_H

// Quantile q in [0, 1] of v[0..n) (n >= 1; v is not modified), linear interpolation between
// order statistics: q = 0.5 is the median, 0 the minimum, 1 the maximum.
double tb_quantile(const double *v, int n, double q);

#endif
