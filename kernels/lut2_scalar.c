// lut2_scalar: the lut2 format (lut_layout.h) in portable C: per row, per group, one table
// lookup and one add; no multiplication. The reference for the SIMD lut2 kernels' layout.
#include "lut_layout.h"

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    const lut_format *f = &lut2_format;
    const int chunks = lut_chunks(f, k);
    const float w_scale = lut_scale(f, packed, n, k);
    for (int i = 0; i < m; i++) {
        const uint8_t *tables = lut_act_tables(f, act, m, k, i);
        const float x_scale = lut_act_scale(act)[i];
        for (int j = row0; j < row1; j++) {
            const uint8_t *tile = lut_tile(f, packed, k, j / LUT_TILE);
            const int r = j % LUT_TILE;
            int32_t dot = 0;
            for (int q = 0; q < chunks; q++) {
                const uint8_t b = tile[(size_t)q * 32 + r];
                dot += lut_entry(tables + (size_t)(2 * q) * LUT_TABLE_BYTES, b & 15);
                dot += lut_entry(tables + (size_t)(2 * q + 1) * LUT_TABLE_BYTES, b >> 4);
            }
            y[(size_t)i * n + j] = tb_scale_dot(dot, w_scale, x_scale);
        }
    }
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    gemm(packed, act, 1, n, k, row0, row1, y);
}

const tb_kernel tb_kernel_lut2_scalar = {
    .name = "lut2_scalar",
    .description = "LUT of weight pairs (9 int16 entries), 2 bits/weight, portable C",
    .isa = TB_KERNEL_ISA,
    .rank = 0,
    LUT2_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
