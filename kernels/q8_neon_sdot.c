// q8_neon_sdot: the q8 format (q8_layout.h) with the ARMv8.2 dot-product extension: vdotq_s32
// multiplies signed q by signed x directly, four products into each int32 lane, so no offset
// trick. Lanes hold exact partial dots (|dot| < 2^31, q8_layout.h).
//
// GEMV: TILE_ROWS rows as sequential streams (q8_gemv_rows) sharing each activation load. No
// software prefetch: not measured on ARM hardware yet, so `ahead` is not used.
// GEMM: each weight vector is loaded once for GEMM_ACT_ROWS activation rows.
#include "q8_layout.h"

#include <arm_neon.h>

#define TILE_ROWS     8
#define GEMM_ACT_ROWS 4
#define INLINE        static inline __attribute__((always_inline))

INLINE void tile(const int8_t *w, size_t stride, const int8_t *x, int kp, int R, int32_t *dots)
{
    int32x4_t acc[TILE_ROWS];
    for (int r = 0; r < R; r++) acc[r] = vdupq_n_s32(0);
    for (int t = 0; t < kp; t += 16) {
        const int8x16_t xv = vld1q_s8(x + t);
        for (int r = 0; r < R; r++) acc[r] = vdotq_s32(acc[r], vld1q_s8(w + r * stride + t), xv);
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

// dots[i] = dot(q, x_i) for the weight row w and I activation rows at x (k_pad apart).
INLINE void gemm_row(const int8_t *w, const int8_t *x, int kp, int I, int32_t *dots)
{
    int32x4_t acc[GEMM_ACT_ROWS];
    for (int i = 0; i < I; i++) acc[i] = vdupq_n_s32(0);
    for (int t = 0; t < kp; t += 16) {
        const int8x16_t wv = vld1q_s8(w + t);
        for (int i = 0; i < I; i++)
            acc[i] = vdotq_s32(acc[i], wv, vld1q_s8(x + (size_t)i * kp + t));
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

const tb_kernel tb_kernel_q8_neon_sdot = {
    .name = "q8_neon_sdot",
    .description = "int8 weights, a float scale per row (output head), ARMv8.2 dotprod",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 3,
    Q8_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
