// The reference quantizers on hand-worked values, and the naive kernel against the float
// reference on several shapes (tb_check_naive_vs_reference, bound TB_REF_REL_TOL).
#include "tb_test.h"
#include "check.h"
#include "tb_reference.h"

#include <math.h>
#include <stdio.h>

static void test_weights(void)
{
    // mean |W| = (0.5 + 2 + 0.01 + 1 + 0.4 + 0.9) / 6 = 0.80166..; W / gamma =
    // 0.62 -> 1, -2.49 -> -1 (clamped), 0.012 -> 0, 1.25 -> 1, -0.499 -> 0, 1.12 -> 1
    const float w[6] = {0.5f, -2.0f, 0.01f, 1.0f, -0.4f, 0.9f};
    const int8_t want[6] = {1, -1, 0, 1, 0, 1};
    int8_t wt[6];
    float gamma = tb_ref_quantize_weights(w, 6, wt);
    EXPECT(fabsf(gamma - 4.81f / 6) < 1e-6f, "gamma %.9g, want %.9g", gamma, 4.81f / 6);
    for (int i = 0; i < 6; i++) EXPECT(wt[i] == want[i], "wt[%d] = %d, want %d", i, wt[i], want[i]);
    // Ties round away from zero: mean |W| = 1, W / gamma = +-0.5 -> +-1, +-1.5 -> +-1 (clamp).
    const float t[4] = {0.5f, -0.5f, 1.5f, -1.5f};
    tb_ref_quantize_weights(t, 4, wt);
    EXPECT(wt[0] == 1 && wt[1] == -1 && wt[2] == 1 && wt[3] == -1, "ties: %d %d %d %d", wt[0],
           wt[1], wt[2], wt[3]);
    // All zero: gamma is the floor, weights 0.
    const float z[3] = {0, 0, 0};
    gamma = tb_ref_quantize_weights(z, 3, wt);
    EXPECT(gamma == TB_ABSMEAN_EPS && wt[0] == 0 && wt[2] == 0, "zeros: gamma %g", gamma);
}

static void test_activations(void)
{
    // max |x| = 2, s = 63.5: 1 * 63.5 = 63.5 -> 64 (tie away from zero), -2 -> -127,
    // 0.5 -> 31.75 -> 32, -0.25 -> -15.875 -> -16.
    const float x[4] = {1.0f, -2.0f, 0.5f, -0.25f};
    const int8_t want[4] = {64, -127, 32, -16};
    int8_t q[4];
    float scale = tb_ref_quantize_row(x, 4, q);
    EXPECT(scale == 1.0f / 63.5f, "scale %.9g", scale);
    for (int i = 0; i < 4; i++) EXPECT(q[i] == want[i], "xq[%d] = %d, want %d", i, q[i], want[i]);
    // A zero row: floor scale, all zeros, no NaN.
    const float z[2] = {0, 0};
    scale = tb_ref_quantize_row(z, 2, q);
    EXPECT(q[0] == 0 && q[1] == 0 && isfinite(scale), "zero row: %d %d scale %g", q[0], q[1],
           scale);
    // Random rows: |xq| <= 127, the largest magnitude maps to +-127, dequantized error <= scale/2.
    tb_rng rng = {7};
    float r[300], d[300];
    int8_t rq[300];
    for (int i = 0; i < 300; i++) r[i] = tb_rng_normal(&rng) * 10;
    scale = tb_ref_quantize_row(r, 300, rq);
    tb_ref_dequantize(rq, 300, scale, d);
    int hit127 = 0;
    for (int i = 0; i < 300; i++) {
        EXPECT(rq[i] >= -127 && rq[i] <= 127, "xq %d out of range", rq[i]);
        hit127 |= rq[i] == 127 || rq[i] == -127;
        EXPECT(fabsf(d[i] - r[i]) <= 0.5f * scale * (1 + 1e-5f), "x[%d]: %g vs %g", i, d[i], r[i]);
    }
    EXPECT(hit127, "largest magnitude did not map to 127");
}

static void test_matmul(void)
{
    const float x[2 * 3] = {1, 2, 3, -1, 0, 0.5f};
    const float w[2 * 3] = {1, 0, -1, 2, 2, 2};
    float y[4];
    tb_ref_matmul(x, w, 2, 2, 3, y);
    EXPECT(y[0] == -2 && y[1] == 12 && y[2] == -1.5f && y[3] == -1, "matmul %g %g %g %g", y[0],
           y[1], y[2], y[3]);
}

static void test_naive_vs_reference(void)
{
    const int shapes[][3] = {{1, 1, 1}, {1, 640, 2560}, {3, 37, 6912}, {8, 33, 257}, {2, 5, 255}};
    for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        tb_check_result res = {0};
        tb_check_naive_vs_reference(shapes[s][0], shapes[s][1], shapes[s][2], 42 + s, &res);
        EXPECT(res.failed == 0, "%s", res.first_failure);
        printf("naive vs reference m=%d n=%d k=%d: worst error %.4f of bound\n", shapes[s][0],
               shapes[s][1], shapes[s][2], res.worst_ratio);
    }
}

int main(void)
{
    test_weights();
    test_activations();
    test_matmul();
    test_naive_vs_reference();
    printf("%s\n", failures ? "FAILED" : "all reference tests passed");
    return failures ? 1 : 0;
}
