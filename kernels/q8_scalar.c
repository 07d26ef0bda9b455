// q8_scalar: the q8 format (q8_layout.h) in portable C: the plain int32 dot of int8 q and x, no
// offset trick. The reference for the SIMD q8 kernels, and what runs where none does.
#include "q8_layout.h"

// Exact: |q x| <= 127 * 128 and |dot| < 2^31 (q8_layout.h).
static int32_t dot_row(const int8_t *q, const int8_t *x, int kp)
{
    int32_t acc = 0;
    for (int t = 0; t < kp; t++) acc += (int32_t)q[t] * (int32_t)x[t];
    return acc;
}

static void row_one(const int8_t *w, size_t stride, size_t ahead, const int8_t *x, int kp,
                    int32_t *dots)
{
    (void)stride, (void)ahead;
    dots[0] = dot_row(w, x, kp);
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    q8_gemv_rows(packed, act, n, k, row0, row1, y, 1, 0, row_one, row_one);
}

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    const int kp = q8_k_pad(k);
    const float *d = q8_scales(packed, n, k), *x_scale = tb_act_rows_scale(act);
    for (int i = 0; i < m; i++) {
        const int8_t *x = tb_act_rows_x(act, m, kp, i);
        for (int j = row0; j < row1; j++)
            y[(size_t)i * n + j] =
                tb_scale_dot(dot_row(q8_row(packed, k, j), x, kp), d[j], x_scale[i]);
    }
}

const tb_kernel tb_kernel_q8_scalar = {
    .name = "q8_scalar",
    .description = "int8 weights, a float scale per row (output head), portable C",
    .isa = TB_KERNEL_ISA,
    .n_tile = 1,
    .rank = 1,
    Q8_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
