// naive: the integer oracle. Weights stay unpacked int8, the dot product is the plain loop
// over w * x with no offset trick and no tiling, so it shares no idea with the fast kernels
// it checks. Packed form: int8 w[n][k], then the float scale at offset align64(n * k).
#include "act_rows.h"

#include <assert.h>
#include <string.h>

static size_t weights_bytes(int n, int k)
{
    return tb_align_up((size_t)n * (size_t)k, TB_ALIGN);
}

static size_t packed_size(int n, int k)
{
    return weights_bytes(n, k) + TB_ALIGN;
}

static void pack(const int8_t *w, float w_scale, int n, int k, void *packed)
{
    memcpy(packed, w, (size_t)n * (size_t)k);
    memcpy((char *)packed + weights_bytes(n, k), &w_scale, sizeof w_scale);
}

static size_t act_size(int m, int k)
{
    return tb_act_rows_size(m, k);
}

static void prepare(const int8_t *x, const float *x_scale, int m, int k, void *act)
{
    tb_act_rows_prepare(x, x_scale, m, k, k, act);
}

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    const int8_t *w = packed;
    float w_scale;
    memcpy(&w_scale, (const char *)packed + weights_bytes(n, k), sizeof w_scale);
    for (int i = 0; i < m; i++) {
        const int8_t *x = tb_act_rows_x(act, m, k, i);
        float x_scale = tb_act_rows_scale(act)[i];
        for (int j = row0; j < row1; j++) {
            const int8_t *wj = w + (size_t)j * (size_t)k;
            int32_t dot = 0;
            for (int t = 0; t < k; t++) dot += (int32_t)wj[t] * (int32_t)x[t];
            y[(size_t)i * (size_t)n + (size_t)j] = tb_scale_dot(dot, w_scale, x_scale);
        }
    }
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    gemm(packed, act, 1, n, k, row0, row1, y);
}

const tb_kernel tb_kernel_naive = {
    .name = "naive",
    .description = "unpacked int8 weights, plain loop: the integer oracle",
    .format = "int8",
    .isa = TB_KERNEL_ISA,
    .k_block = 1,
    .n_tile = 1,
    .exact = 1,
    .rank = 1,
    .packed_size = packed_size,
    .pack = pack,
    .act_size = act_size,
    .prepare = prepare,
    .gemv = gemv,
    .gemm = gemm,
};
