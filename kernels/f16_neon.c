// f16_neon: the FP16 baseline (float_layout.h) on ARMv8.0 NEON: binary16 weights widened with
// fcvtl (part of base AArch64, no FP16 arithmetic needed) and multiplied into float
// accumulators with fmla. GEMV tiles of 4 rows share each activation load.
#include "float_layout.h"

#include <arm_neon.h>

#define TILE_ROWS 4

// Eight weights starting at p, as two float vectors.
#define LOAD_HALF8(p, lo, hi)                                                                      \
    do {                                                                                           \
        float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(p));                                       \
        lo = vcvt_f32_f16(vget_low_f16(h));                                                        \
        hi = vcvt_high_f32_f16(h);                                                                 \
    } while (0)

static void dot_rows(const uint16_t *w, size_t kp, const float *x, int R, float *out)
{
    float32x4_t acc[TILE_ROWS][2];
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = vdupq_n_f32(0);
    for (size_t t = 0; t < kp; t += 8) {
        const float32x4_t x0 = vld1q_f32(x + t), x1 = vld1q_f32(x + t + 4);
        for (int r = 0; r < R; r++) {
            float32x4_t lo, hi;
            LOAD_HALF8(w + r * kp + t, lo, hi);
            acc[r][0] = vfmaq_f32(acc[r][0], lo, x0);
            acc[r][1] = vfmaq_f32(acc[r][1], hi, x1);
        }
    }
    for (int r = 0; r < R; r++) out[r] = vaddvq_f32(vaddq_f32(acc[r][0], acc[r][1]));
}

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    const size_t kp = (size_t)float_k_pad(k);
    const uint16_t *w = packed;
    for (int i = 0; i < m; i++) {
        const float *x = float_act_row(act, k, i);
        float *yi = y + (size_t)i * n;
        int j = row0;
        for (; j + TILE_ROWS <= row1; j += TILE_ROWS)
            dot_rows(w + j * kp, kp, x, TILE_ROWS, yi + j);
        for (; j < row1; j++) dot_rows(w + j * kp, kp, x, 1, yi + j);
    }
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    gemm(packed, act, 1, n, k, row0, row1, y);
}

const tb_kernel tb_kernel_f16_neon = {
    .name = "f16_neon",
    .description = "FP16 baseline: fcvtl + fmla, NEON, 4-row GEMV tiles",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 1,
    F16_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
