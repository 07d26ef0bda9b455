// The Mann-Whitney U test of measuring/significance.c against values computed by hand: exact
// null distributions counted from the C(m+n, m) arrangements, the normal approximation with its
// tie and continuity corrections.
#include "significance.h"
#include "tb_test.h"

#include <math.h>

// Relative tolerance of a p-value against its hand-computed value (printed to 5 digits).
#define P_TOL 1e-4

static void expect_mw(const double *a, int na, const double *b, int nb, double u, double p,
                      double min_p, tb_mw_method method, const char *what)
{
    tb_mw_result r;
    int rc = tb_mann_whitney(a, na, b, nb, &r);
    EXPECT(rc == 0, "%s: returned %d", what, rc);
    EXPECT(r.u == u, "%s: U = %g, want %g", what, r.u, u);
    EXPECT(fabs(r.p - p) <= P_TOL * p, "%s: p = %.6g, want %.6g", what, r.p, p);
    EXPECT(fabs(r.min_p - min_p) <= P_TOL * min_p, "%s: min p = %.6g, want %.6g", what, r.min_p,
           min_p);
    EXPECT(r.method == method, "%s: method %d, want %d", what, (int)r.method, (int)method);
}

static void test_exact(void)
{
    double lo[] = {1, 2, 3}, hi[] = {4, 5, 6}, odd[] = {1, 3, 5}, even[] = {2, 4, 6};
    // 3 vs 3 separated: 1 of C(6,3) = 20 arrangements in each tail, p = 2/20 = 0.1, which is
    // also the smallest p 3 vs 3 can give: never below alpha 0.05.
    expect_mw(lo, 3, hi, 3, 0, 0.1, 0.1, TB_MW_EXACT, "3v3 below");
    expect_mw(hi, 3, lo, 3, 9, 0.1, 0.1, TB_MW_EXACT, "3v3 above");
    // Interleaved: ranks of a 1, 3, 5, U = 9 - 6 = 3. Counts of U = 0..9 for 3 vs 3: 1 1 2 3 3
    // 3 3 2 1 1, so P(U <= 3) = 7/20 and p = 14/20.
    expect_mw(odd, 3, even, 3, 3, 0.7, 0.1, TB_MW_EXACT, "3v3 interleaved");
    // 2 vs 4 separated: 1 of C(6,2) = 15 each side, p = 2/15.
    expect_mw(lo, 2, hi, 3, 0, 2.0 / 10, 2.0 / 10, TB_MW_EXACT, "2v3 separated");
    double b4[] = {3, 4, 5, 6};
    expect_mw(lo, 2, b4, 4, 0, 2.0 / 15, 2.0 / 15, TB_MW_EXACT, "2v4 separated");
    // 7 vs 7 separated: p = 2 / C(14,7) = 2/3432.
    double a7[] = {7, 1, 6, 2, 5, 3, 4}, b7[] = {8, 14, 9, 13, 10, 12, 11};
    expect_mw(b7, 7, a7, 7, 49, 2.0 / 3432, 2.0 / 3432, TB_MW_EXACT, "7v7 separated");
    // One value against one: U = 0 or 1, each with probability 1/2, p = 1.
    expect_mw(lo, 1, hi, 1, 0, 1, 1, TB_MW_EXACT, "1v1");
}

static void test_normal(void)
{
    // Ties: a = {1, 2, 2}, b = {2, 3, 4}. Ranks 1 | 2 2 2 -> 3 3 3 | 5 6: R(a) = 7, U = 1. Tie
    // term 3^3 - 3 = 24, var = 9/12 (7 - 24/30) = 4.65; z = (|1 - 4.5| - 0.5) / sqrt(4.65) =
    // 1.391217, p = erfc(z / sqrt 2) = 0.164160. Separated: z = (4.5 - 0.5) / sqrt(4.65).
    double a[] = {1, 2, 2}, b[] = {2, 3, 4};
    expect_mw(a, 3, b, 3, 1, 0.164160, erfc(4.0 / sqrt(4.65) / sqrt(2.0)), TB_MW_NORMAL,
              "3v3 ties");
    // All tied: no variance, no evidence: p = 1.
    double same[] = {5, 5};
    expect_mw(same, 2, same, 2, 2, 1, 1, TB_MW_NORMAL, "all tied");
    // 25 vs 25 separated (above TB_MW_EXACT_MAX): mean 312.5, var 625/12 * 51 = 2656.25,
    // z = 312 / 51.5388, p = 1.41566e-9.
    double lo[25], hi[25];
    for (int i = 0; i < 25; i++) lo[i] = i, hi[i] = 100 + i;
    expect_mw(lo, 25, hi, 25, 0, 1.41566e-9, 1.41566e-9, TB_MW_NORMAL, "25v25 separated");
}

static void test_refusals(void)
{
    double a[] = {1};
    tb_mw_result r;
    EXPECT(tb_mann_whitney(a, 0, a, 1, &r) == -1, "empty sample accepted");
    EXPECT(tb_mann_whitney(a, 1, a, 0, &r) == -1, "empty sample accepted");
}

int main(void)
{
    test_exact();
    test_normal();
    test_refusals();
    if (!failures) printf("significance: all checks passed\n");
    return failures != 0;
}
