// q4_scalar: the q4 format (q4_layout.h) in portable C, with no offset trick: codes - 8 are the
// signed weights, multiplied by the permuted activations; per group an exact int32 dot, then
// the float sum of d_g dot_g over the groups, in group order, times x_scale. The reference for
// the SIMD q4 kernels' unpacking, and what runs where none does.
#include "q4_layout.h"

// Sum over the groups of one row of d_g dot_g; x is the prepared row (q4_layout.h).
static float dot_row(const uint8_t *codes, const uint16_t *scales, const int8_t *x, int nsb)
{
    float acc = 0;
    for (int s = 0; s < nsb; s++, codes += Q4_SB_BYTES, x += Q4_ACT_SB) {
        // part[p]: the products at byte p of the 8 vectors (written so that compilers vectorize
        // it: |part| <= 8 * 8 * 128); byte p belongs to group p / 4.
        int32_t part[64] = {0};
        for (int u = 0; u < 4; u++) {
            const uint8_t *c = codes + 64 * u;
            const int8_t *lo = x + 64 * (2 * u), *hi = x + 64 * (2 * u + 1);
            for (int p = 0; p < 64; p++)
                part[p] += ((c[p] & 15) - 8) * lo[p] + ((c[p] >> 4) - 8) * hi[p];
        }
        for (int g = 0; g < Q4_SB_GROUPS; g++) {
            const int32_t dot = part[4 * g] + part[4 * g + 1] + part[4 * g + 2] + part[4 * g + 3];
            acc += q4_f16_to_f32(scales[s * Q4_SB_GROUPS + g]) * (float)dot;
        }
    }
    return acc;
}

static void row_one(const uint8_t *codes, size_t cstride, const uint16_t *scales, size_t sstride,
                    size_t ahead, const int8_t *x, int nsb, float *out)
{
    (void)cstride, (void)sstride, (void)ahead;
    out[0] = dot_row(codes, scales, x, nsb);
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    q4_gemv_rows(packed, act, n, k, row0, row1, y, 1, row_one, row_one);
}

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    const int nsb = q4_sbs(k);
    for (int i = 0; i < m; i++) {
        const int8_t *x = q4_act_row(act, m, k, i);
        const float x_scale = q4_act_scale(act)[i];
        for (int j = row0; j < row1; j++)
            y[(size_t)i * n + j] =
                dot_row(q4_codes(packed, k, j), q4_scales(packed, n, k, j), x, nsb) * x_scale;
    }
}

const tb_kernel tb_kernel_q4_scalar = {
    .name = "q4_scalar",
    .description = "4-bit weights, an f16 scale per 32 (output head), portable C",
    .isa = TB_KERNEL_ISA,
    .n_tile = 1,
    .rank = 1,
    Q4_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
