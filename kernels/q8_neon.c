// q8_neon: the q8 format (q8_layout.h) with plain ARMv8.0 NEON. Per 16 weights: vmull_s8 and
// vmlal_high_s8 put the sum of two products q x in each int16 lane (|q x| <= 127 * 128, so at
// most 32512: no overflow), and vpadalq_s16 adds neighbouring lanes into int32 accumulators,
// which hold exact partial dots (|dot| < 2^31, q8_layout.h).
//
// GEMV: TILE_ROWS rows as sequential streams (q8_gemv_rows) sharing each activation load; no
// software prefetch (not measured on ARM hardware yet). GEMM: each weight vector is loaded once
// for GEMM_ACT_ROWS activation rows.
#include "q8_layout.h"

#include <arm_neon.h>

#define TILE_ROWS     4
#define GEMM_ACT_ROWS 4
#define INLINE        static inline __attribute__((always_inline))

INLINE int32x4_t mac(int32x4_t acc, int8x16_t wv, int8x16_t xv)
{
    int16x8_t p = vmull_s8(vget_low_s8(wv), vget_low_s8(xv));
    p = vmlal_high_s8(p, wv, xv);
    return vpadalq_s16(acc, p);
}

INLINE void tile(const int8_t *w, size_t stride, const int8_t *x, int kp, int R, int32_t *dots)
{
    int32x4_t acc[TILE_ROWS];
    for (int r = 0; r < R; r++) acc[r] = vdupq_n_s32(0);
    for (int t = 0; t < kp; t += 16) {
        const int8x16_t xv = vld1q_s8(x + t);
        for (int r = 0; r < R; r++) acc[r] = mac(acc[r], vld1q_s8(w + r * stride + t), xv);
    }
    for (int r = 0; r < R; r++) dots[r] = vaddvq_s32(acc[r]);
}

static void tile_full(const int8_t *w, size_t stride, size_t ahead, const int8_t *x, int kp,
                      int32_t *dots)
{
    (void)ahead;
    tile(w, stride, x, kp, TILE_ROWS, dots);
}

static void tile_one(const int8_t *w, size_t stride, size_t ahead, const int8_t *x, int kp,
                     int32_t *dots)
{
    (void)ahead;
    tile(w, stride, x, kp, 1, dots);
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    q8_gemv_rows(packed, act, n, k, row0, row1, y, TILE_ROWS, 0, tile_full, tile_one);
}

INLINE void gemm_row(const int8_t *w, const int8_t *x, int kp, int I, int32_t *dots)
{
    int32x4_t acc[GEMM_ACT_ROWS];
    for (int i = 0; i < I; i++) acc[i] = vdupq_n_s32(0);
    for (int t = 0; t < kp; t += 16) {
        const int8x16_t wv = vld1q_s8(w + t);
        for (int i = 0; i < I; i++) acc[i] = mac(acc[i], wv, vld1q_s8(x + (size_t)i * kp + t));
    }
    for (int i = 0; i < I; i++) dots[i] = vaddvq_s32(acc[i]);
}

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    const int kp = q8_k_pad(k);
    const float *d = q8_scales(packed, n, k), *x_scale = tb_act_rows_scale(act);
    int32_t dots[GEMM_ACT_ROWS];
    for (int j = row0; j < row1; j++) {
        const int8_t *w = q8_row(packed, k, j);
        for (int i0 = 0; i0 < m; i0 += GEMM_ACT_ROWS) {
            const int I = m - i0 < GEMM_ACT_ROWS ? m - i0 : GEMM_ACT_ROWS;
            const int8_t *x = tb_act_rows_x(act, m, kp, i0);
            switch (I) {
            case 4:
                gemm_row(w, x, kp, 4, dots);
                break;
            case 3:
                gemm_row(w, x, kp, 3, dots);
                break;
            case 2:
                gemm_row(w, x, kp, 2, dots);
                break;
            default:
                gemm_row(w, x, kp, 1, dots);
                break;
            }
            for (int i = 0; i < I; i++)
                y[(size_t)(i0 + i) * n + j] = tb_scale_dot(dots[i], d[j], x_scale[i0 + i]);
        }
    }
}

const tb_kernel tb_kernel_q8_neon = {
    .name = "q8_neon",
    .description = "int8 weights, a float scale per row (output head), NEON smull/smlal",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 2,
    Q8_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
