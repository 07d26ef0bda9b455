// The reference quantizers on hand-worked values, and the naive kernel against the float
// reference on several shapes (tb_check_naive_vs_reference, bound TB_REF_REL_TOL).
#include "tb_test.h"
#include "check.h"
#include "tb_reference.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static uint32_t float_bits(float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

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

// tb_ref_round_clamp against libm's roundf, clamped, on: every float within 600 ulps of each
// integer and half-integer in [-260, 260] (ties, and the values just inside and outside them),
// an even sweep of all 2^32 bit patterns (every exponent, both signs, infinities, NaNs, denormals),
// and the ranges of both quantizers. Mismatches are counted per range and the first is shown.
static int want_round_clamp(float v, int lo, int hi)
{
    if (isnan(v)) return lo;
    float r = roundf(v);
    return r < (float)lo ? lo : r > (float)hi ? hi : (int)r;
}

static void check_round_at(float v, long *checked)
{
    static const int ranges[][2] = {{-128, 127}, {-1, 1}, {-200, 300}};
    for (unsigned r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        int lo = ranges[r][0], hi = ranges[r][1];
        int got = tb_ref_round_clamp(v, lo, hi), want = want_round_clamp(v, lo, hi);
        if (got != want) {
            EXPECT(got == want, "round_clamp(%.9g (0x%08x), %d, %d) = %d, roundf gives %d", v,
                   (unsigned)float_bits(v), lo, hi, got, want);
            return;
        }
        ++*checked;
    }
}

static void test_round_clamp(void)
{
    long checked = 0;
    int before = failures;
    for (int twice = -520; twice <= 520 && failures - before < 5; twice++) {
        float c = (float)twice / 2;
        float up = c, down = c;
        for (int u = 0; u < 600; u++) {
            check_round_at(up, &checked);
            check_round_at(down, &checked);
            up = nextafterf(up, INFINITY);
            down = nextafterf(down, -INFINITY);
        }
    }
    for (uint64_t bits = 0; bits < (1ull << 32) && failures - before < 5; bits += 65521) {
        uint32_t b = (uint32_t)bits;
        float v;
        memcpy(&v, &b, sizeof v);
        check_round_at(v, &checked);
    }
    const float special[] = {0.0f,       -0.0f,       INFINITY,    -INFINITY,   NAN,
                             -NAN,       FLT_MAX,     -FLT_MAX,    FLT_MIN,     -FLT_MIN,
                             8388607.5f, -8388607.5f, 16777216.0f, 0.49999997f, -0.49999997f,
                             127.49999f, 127.5f,      -128.5f,     -128.49998f};
    for (unsigned i = 0; i < sizeof special / sizeof special[0]; i++)
        check_round_at(special[i], &checked);
    printf("round_clamp: %ld (value, range) pairs agree with clamped roundf\n", checked);
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
    test_round_clamp();
    test_matmul();
    test_naive_vs_reference();
    printf("%s\n", failures ? "FAILED" : "all reference tests passed");
    return failures ? 1 : 0;
}
