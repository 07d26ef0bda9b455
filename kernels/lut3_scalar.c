// lut3_scalar: the lut3 format (lut_layout.h) in portable C: per row, per triple, one table
// lookup of the magnitude index, negated when the sign bit is set. The reference for the SIMD
// lut3 kernels' layout.
#include "lut_layout.h"

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    const lut_format *f = &lut3_format;
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
                const uint8_t *chunk = tile + (size_t)q * 40;
                const uint8_t b = chunk[r];
                const int s0 = (chunk[32 + r / 8] >> (r % 8)) & 1;
                const int s1 = (chunk[36 + r / 8] >> (r % 8)) & 1;
                int32_t e0 = lut_entry(tables + (size_t)(2 * q) * LUT_TABLE_BYTES, b & 15);
                int32_t e1 = lut_entry(tables + (size_t)(2 * q + 1) * LUT_TABLE_BYTES, b >> 4);
                dot += (s0 ? -e0 : e0) + (s1 ? -e1 : e1);
            }
            y[(size_t)i * n + j] = tb_scale_dot(dot, w_scale, x_scale);
        }
    }
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    gemm(packed, act, 1, n, k, row0, row1, y);
}

const tb_kernel tb_kernel_lut3_scalar = {
    .name = "lut3_scalar",
    .description = "LUT of weight triples (14 int16 entries + sign), 1.67 bits/weight, portable C",
    .isa = TB_KERNEL_ISA,
    .rank = 0,
    LUT3_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
