// Is a difference between two sets of repeated measurements more than noise? The two-sided
// Mann-Whitney U test (Wilcoxon rank-sum): it assumes nothing about the shape of the timing
// distribution (benchmark times are skewed and heavy-tailed, so a t-test would not do), only
// that repetitions are independent. Used by `tritbench compare`.
#ifndef TB_SIGNIFICANCE_H
#define TB_SIGNIFICANCE_H

// Largest sample size for which the exact null distribution is counted (C(40, 20) = 1.4e11
// arrangements, still exact in a double); larger samples use the normal approximation, which is
// good there.
#define TB_MW_EXACT_MAX 20

typedef enum { TB_MW_EXACT, TB_MW_NORMAL } tb_mw_method;

typedef struct {
    double u;            // U of sample a: pairs (a_i, b_j) with a_i > b_j, plus half the ties
    double p;            // two-sided p-value, in (0, 1]
    double min_p;        // smallest p these sample sizes (and ties) can ever give: the p of
                         // completely separated samples; if >= alpha, no difference can be
                         // significant
    tb_mw_method method; // exact (no ties, both samples <= TB_MW_EXACT_MAX) or normal
                         // approximation with tie and continuity correction
} tb_mw_result;

// The test on a[0..na) against b[0..nb) (na, nb >= 1; the arrays are not modified). Returns 0,
// or -1 when a sample is empty or out of memory.
int tb_mann_whitney(const double *a, int na, const double *b, int nb, tb_mw_result *r);

#endif
