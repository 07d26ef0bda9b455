// Kernels for the output head (float weights): pack_float of the quantized formats q8 and q4,
// and every kernel of those formats on float-packed weights.
//   (a) every weight quantized within half a step: |w - d q| <= d / 2 + u |w| (u = 2^-24, the
//       rounding of w / d), q in range (q8: [-127, 127]; q4: [-8, 7], the clamp never acting,
//       q8_layout.h and q4_layout.h show why), the scale as documented (q8: fl(a / 127); q4: the
//       smallest binary16 >= fl(a / 7)), padding zero, q8's qsum the sum of the row;
//   (b) each q8/q4 kernel this CPU runs, gemv and gemm, on those weights against a scalar
//       reference of the dequantized matrix times the int8 activations: q8 bit-identical to
//       tb_scale_dot of the exact integer dot; q4 within error_bound(k) of the exact value;
//   (c) f16 pack_float unchanged: binary16 of every weight, zero padded, and the same bytes as
//       before the quantized formats came (a checksum).
// Matrices: random normal and uniform rows, a row of zeros, a row with one huge value,
// negative-only rows, rows so small that q4 scales are binary16 subnormals, k not a multiple of
// 64 or 512; activations random and at the extremes (127, -128).
#include "tb_test.h"
#include "float_layout.h"
#include "q4_layout.h"
#include "q8_layout.h"
#include "tb_reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define U 0x1p-24

static const int shapes[][2] = {{9, 1},     {12, 100}, {7, 511}, {10, 513},
                                {11, 1000}, {6, 2560}, {5, 1537}};

enum { ROW_NORMAL, ROW_UNIFORM, ROW_ZERO, ROW_HUGE, ROW_NEGATIVE, ROW_TINY, ROW_MIXED, ROW_KINDS };

static void fill_row(float *w, int k, int kind, tb_rng *rng)
{
    for (int t = 0; t < k; t++) {
        float v = tb_rng_normal(rng) * 0.02f;
        switch (kind) {
        case ROW_UNIFORM:
            v = 2 * tb_rng_float(rng) - 1;
            break;
        case ROW_ZERO:
            v = 0;
            break;
        case ROW_NEGATIVE:
            v = -fabsf(v) - 1e-3f;
            break;
        case ROW_TINY: // q4 scales ~ 1e-7 / 7: binary16 subnormals
            v *= 5e-6f;
            break;
        case ROW_MIXED: // groups of very different magnitudes
            v *= (t / 32) % 3 == 0 ? 1e3f : (t / 32) % 3 == 1 ? 1.0f : 1e-3f;
            break;
        default:
            break;
        }
        w[t] = v;
    }
    if (kind == ROW_HUGE) w[tb_rng_int(rng, 0, k - 1)] = 3e4f;
}

// ---- decoding the packed formats from their drawings (q8_layout.h, q4_layout.h) ----

static int q4_weight(const void *packed, int k, int j, int t)
{
    const int s = t / Q4_SB, g = (t % Q4_SB) / Q4_GROUP, e = t % Q4_GROUP, vec = e / 4;
    const uint8_t b = q4_codes(packed, k, j)[s * Q4_SB_BYTES + (vec / 2) * 64 + 4 * g + e % 4];
    return (vec % 2 ? b >> 4 : b & 15) - 8;
}

static float q4_scale(const void *packed, int n, int k, int j, int t)
{
    return q4_f16_to_f32(q4_scales(packed, n, k, j)[t / Q4_GROUP]);
}

// (a) for q8.
static void check_q8_pack(const float *w, int n, int k, const void *packed)
{
    const int kp = q8_k_pad(k);
    const float *d = q8_scales(packed, n, k);
    const int32_t *qsum = q8_qsums(packed, n, k);
    for (int j = 0; j < n; j++) {
        const int8_t *q = q8_row(packed, k, j);
        float a = 0;
        int32_t sum = 0;
        for (int t = 0; t < k; t++) a = fmaxf(a, fabsf(w[(size_t)j * k + t]));
        EXPECT(d[j] == a / 127.0f, "q8 row %d: scale %g, want %g", j, d[j], a / 127.0f);
        for (int t = 0; t < kp; t++) {
            sum += q[t];
            if (t >= k) {
                EXPECT(q[t] == 0, "q8 row %d k=%d: padding q[%d] = %d", j, k, t, q[t]);
                continue;
            }
            const double wt = w[(size_t)j * k + t], err = fabs(wt - (double)d[j] * q[t]);
            EXPECT(q[t] >= -127 && q[t] <= 127, "q8 row %d: q[%d] = %d", j, t, q[t]);
            EXPECT(err <= d[j] / 2.0 + U * fabs(wt), "q8 row %d: w[%d] = %.9g, d q = %.9g (d %g)",
                   j, t, wt, (double)d[j] * q[t], d[j]);
        }
        EXPECT(qsum[j] == sum, "q8 row %d: qsum %d, want %d", j, qsum[j], sum);
    }
}

// (a) for q4.
static void check_q4_pack(const float *w, int n, int k, const void *packed)
{
    const int kp = q4_k_pad(k);
    for (int j = 0; j < n; j++) {
        for (int g0 = 0; g0 < kp; g0 += Q4_GROUP) {
            const uint16_t h = q4_scales(packed, n, k, j)[g0 / Q4_GROUP];
            const float d = q4_scale(packed, n, k, j, g0);
            float a = 0;
            for (int t = g0; t < g0 + Q4_GROUP && t < k; t++)
                a = fmaxf(a, fabsf(w[(size_t)j * k + t]));
            if (a == 0) {
                EXPECT(h == 0, "q4 row %d group %d: all zero (or padding) but scale %#x", j,
                       g0 / Q4_GROUP, h);
            } else { // the smallest binary16 >= fl(a / 7)
                const float want = a / 7.0f;
                EXPECT(h > 0 && h < 0x7c00 && d >= want && (h == 1 || q4_f16_to_f32(h - 1) < want),
                       "q4 row %d group %d: scale %#x = %g for a / 7 = %g", j, g0 / Q4_GROUP, h, d,
                       want);
            }
            for (int t = g0; t < g0 + Q4_GROUP; t++) {
                const int q = q4_weight(packed, k, j, t);
                if (t >= k) {
                    EXPECT(q == 0, "q4 row %d k=%d: padding weight %d = %d", j, k, t, q);
                    continue;
                }
                const double wt = w[(size_t)j * k + t], err = fabs(wt - (double)d * q);
                // |w| / d <= 7 / (1 - u) after rounding d up: |q| <= 7, -8 never needed.
                EXPECT(q >= -7 && q <= 7, "q4 row %d: q[%d] = %d", j, t, q);
                EXPECT(err <= d / 2.0 + U * fabs(wt), "q4 row %d: w[%d] = %.9g, d q = %.9g (d %g)",
                       j, t, wt, (double)d * q, d);
            }
        }
    }
}

// (b): every kernel of format fmt on the float-packed weights, m activation rows of pattern xp,
// rows [row0, row1).
static void check_kernels(tb_float_format fmt, const float *wf, int n, int k, const int8_t *x,
                          const float *xs, int m, int row0, int row1)
{
    for (int ki = 0; ki < tb_kernel_count(); ki++) {
        const tb_kernel *kn = tb_kernel_at(ki);
        if (kn->baseline != fmt || !tb_kernel_supported(kn, NULL, 0)) continue;
        char err[200];
        void *packed = tb_alloc(kn->packed_size(n, k)), *act = tb_alloc(kn->act_size(m, k));
        EXPECT(tb_pack_float(kn, wf, n, k, packed, err, sizeof err) == 0, "%s: %s", kn->name, err);
        kn->prepare(x, xs, m, k, act);
        float *y = malloc(sizeof(float) * m * n);
        for (int pass = 0; pass < (m == 1 ? 2 : 1); pass++) { // m = 1: tb_run (gemv) and gemm
            for (int i = 0; i < m * n; i++) y[i] = NAN;
            if (pass)
                kn->gemm(packed, act, m, n, k, row0, row1, y);
            else
                tb_run(kn, packed, act, m, n, k, row0, row1, y);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    const float got = y[(size_t)i * n + j];
                    if (j < row0 || j >= row1) {
                        EXPECT(isnan(got), "%s m=%d k=%d: wrote y[%d][%d] outside [%d, %d)",
                               kn->name, m, k, i, j, row0, row1);
                        continue;
                    }
                    const int8_t *xi = x + (size_t)i * k;
                    if (fmt == TB_FLOAT_Q8) { // exact dot, then the contract's one rounding order
                        int64_t dot = 0;
                        for (int t = 0; t < k; t++) dot += (int64_t)q8_row(packed, k, j)[t] * xi[t];
                        const float want =
                            tb_scale_dot((int32_t)dot, q8_scales(packed, n, k)[j], xs[i]);
                        EXPECT(memcmp(&got, &want, sizeof got) == 0,
                               "%s %s m=%d n=%d k=%d: y[%d][%d] = %.9g, exact %.9g", kn->name,
                               pass ? "gemm" : "run", m, n, k, i, j, got, want);
                    } else { // the dequantized matrix d_g q times x, exactly (long double)
                        long double exact = 0, s = 0;
                        for (int t = 0; t < k; t++) {
                            const long double p = (long double)q4_scale(packed, n, k, j, t) *
                                                  q4_weight(packed, k, j, t) * xi[t];
                            exact += p, s += fabsl(p);
                        }
                        exact *= xs[i], s *= xs[i];
                        // double-rounding slack of the reference itself: k 2^-63 S at most
                        const double allowed = kn->error_bound(k) * (double)s + 0x1p-50 * (double)s;
                        EXPECT(fabs((double)got - (double)exact) <= allowed,
                               "%s %s m=%d n=%d k=%d: y[%d][%d] = %.9g, exact %.9Lg (|diff| %.3g "
                               "> %.3g)",
                               kn->name, pass ? "gemm" : "run", m, n, k, i, j, got, exact,
                               fabs((double)got - (double)exact), allowed);
                    }
                }
            }
        }
        free(y);
        tb_free(packed), tb_free(act);
    }
}

// (c): f16 pack_float is binary16 of every weight, zero padded, bytes as before.
static void check_f16(void)
{
    tb_rng rng = {99};
    const int n = 5, k = 77, kp = float_k_pad(k);
    float *w = malloc(sizeof(float) * n * k);
    for (int i = 0; i < n * k; i++) w[i] = tb_rng_normal(&rng) * (i % 7 == 0 ? 1e-6f : 0.05f);
    w[3] = 7e4f, w[4] = -7e4f; // beyond binary16: inf
    uint16_t *p = tb_alloc(f16_packed_size(n, k));
    f16_pack_float(w, n, k, p);
    uint64_t h = 1469598103934665603ull; // FNV-1a
    for (int j = 0; j < n; j++)
        for (int t = 0; t < kp; t++) {
            const uint16_t want = t < k ? tb_f32_to_f16(w[(size_t)j * k + t]) : 0;
            EXPECT(p[j * kp + t] == want, "f16 pack_float [%d][%d] = %#x, want %#x", j, t,
                   p[j * kp + t], want);
            for (int b = 0; b < 2; b++)
                h = (h ^ ((p[j * kp + t] >> (8 * b)) & 0xff)) * 1099511628211ull;
        }
    EXPECT(h == 0x47ad5a3e31136997ull, "f16 pack_float bytes changed: checksum %#llx",
           (unsigned long long)h);
    const tb_kernel *f16 = tb_kernel_best_baseline(TB_FLOAT_FP16);
    if (f16)
        EXPECT(f16->pack_float == f16_pack_float, "%s: pack_float is not f16_pack_float",
               f16->name);
    tb_free(p), free(w);
}

// tb_pack_float refuses what it cannot pack.
static void check_refusals(void)
{
    float w[6] = {1, 2, 3, 4, 5, 6};
    char err[200] = "";
    const tb_kernel *q8 = tb_kernel_find("q8_scalar"), *i2 = tb_kernel_find("i2_scalar");
    void *p = tb_alloc(q8->packed_size(2, 3));
    w[4] = NAN;
    EXPECT(tb_pack_float(q8, w, 2, 3, p, err, sizeof err) == -1 && strstr(err, "W[1][1]"),
           "NaN packed: '%s'", err);
    w[4] = INFINITY;
    EXPECT(tb_pack_float(q8, w, 2, 3, p, err, sizeof err) == -1, "inf packed");
    w[4] = 5;
    EXPECT(tb_pack_float(i2, w, 2, 3, p, err, sizeof err) == -1 && strstr(err, "ternary"),
           "i2 packed floats: '%s'", err);
    EXPECT(tb_pack_float(q8, w, 0, 3, p, err, sizeof err) == -1, "n = 0 packed");
    EXPECT(tb_pack_float(q8, w, 2, 3, p, err, sizeof err) == 0, "refused: %s", err);
    tb_free(p);
}

int main(void)
{
    check_refusals();
    check_f16();
    tb_rng rng = {2025};
    int cases = 0;
    for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int n = shapes[s][0], k = shapes[s][1];
        float *w = malloc(sizeof(float) * n * k);
        for (int j = 0; j < n; j++) fill_row(w + (size_t)j * k, k, j % ROW_KINDS, &rng);
        // (a) on the bytes of the portable kernels (test_format: every kernel packs the same).
        const tb_kernel *q8 = tb_kernel_find("q8_scalar"), *q4 = tb_kernel_find("q4_scalar");
        void *p8 = tb_alloc(q8->packed_size(n, k)), *p4 = tb_alloc(q4->packed_size(n, k));
        q8->pack_float(w, n, k, p8);
        q4->pack_float(w, n, k, p4);
        check_q8_pack(w, n, k, p8);
        check_q4_pack(w, n, k, p4);
        tb_free(p8), tb_free(p4);
        // (b) activations random, then at the extremes (all 127, all -128, alternating).
        for (int xp = 0; xp < 4; xp++) {
            const int m = xp == 0 ? 1 : xp == 1 ? 3 : xp == 2 ? 2 : 5;
            int8_t *x = malloc((size_t)m * k);
            float xs[5];
            for (int i = 0; i < m * k; i++)
                x[i] = xp == 0   ? (int8_t)tb_rng_int(&rng, -128, 127)
                       : xp == 1 ? 127
                       : xp == 2 ? -128
                                 : (i % 2 ? -128 : 127);
            for (int i = 0; i < m; i++) xs[i] = (0.5f + tb_rng_float(&rng)) / 127.0f;
            const int row0 = xp == 3 && n > 2 ? 1 : 0, row1 = xp == 3 && n > 2 ? n - 1 : n;
            check_kernels(TB_FLOAT_Q8, w, n, k, x, xs, m, row0, row1);
            check_kernels(TB_FLOAT_Q4, w, n, k, x, xs, m, row0, row1);
            cases++;
            free(x);
        }
        free(w);
    }
    printf("%d cases of float-packed q8/q4 weights checked\n", cases);
    if (failures) {
        printf("%d failures\n", failures);
        return 1;
    }
    printf("head tests passed\n");
    return 0;
}
