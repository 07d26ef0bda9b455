// Packing and activation preparation for the i2 format (layout drawn in i2_layout.h).
#include "i2_layout.h"

size_t i2_packed_size(int n, int k)
{
    return (size_t)n * i2_row_bytes(k) + TB_ALIGN;
}

void i2_pack(const int8_t *w, float w_scale, int n, int k, void *packed)
{
    int kb = i2_blocks(k);
    uint8_t *out = packed;
    for (int j = 0; j < n; j++) {
        const int8_t *wj = w + (size_t)j * (size_t)k;
        for (int b = 0; b < kb; b++) {
            uint8_t *blk = out + ((size_t)j * (size_t)kb + (size_t)b) * I2_BLOCK_BYTES;
            for (int byte = 0; byte < I2_BLOCK_BYTES; byte++) {
                uint8_t v = 0;
                for (int s = 0; s < 4; s++) {
                    int t = b * I2_BLOCK + s * I2_BLOCK_BYTES + byte;
                    int code = t < k ? wj[t] + 1 : 1; // pad with weight 0
                    assert(code >= 0 && code <= 2);
                    v |= (uint8_t)(code << (2 * s));
                }
                blk[byte] = v;
            }
        }
    }
    float *scale_at = (float *)(out + (size_t)n * i2_row_bytes(k));
    memset(scale_at, 0, TB_ALIGN);
    memcpy(scale_at, &w_scale, sizeof w_scale);
}

size_t i2_act_size(int m, int k)
{
    return tb_act_rows_size(m, i2_k_pad(k));
}

void i2_prepare(const int8_t *x, const float *x_scale, int m, int k, void *act)
{
    tb_act_rows_prepare(x, x_scale, m, k, i2_k_pad(k), act);
}

void i2_gemm_rows(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                  float *y, int tile_rows, i2_rows_fn tile, i2_rows_fn one)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    assert(((uintptr_t)packed | (uintptr_t)act) % TB_ALIGN == 0);
    assert(tile_rows >= 1 && tile_rows <= I2_MAX_TILE);
    const int kb = i2_blocks(k), k_pad = i2_k_pad(k);
    const size_t row_bytes = i2_row_bytes(k);
    const float w_scale = i2_scale(packed, n, k);
    const size_t ahead = (size_t)tb_prefetch_get();
    int32_t dots[I2_MAX_TILE];
    for (int i = 0; i < m; i++) {
        const int8_t *x = tb_act_rows_x(act, m, k_pad, i);
        const int32_t sum = tb_act_rows_sum(act, m)[i];
        const float x_scale = tb_act_rows_scale(act)[i];
        float *yi = y + (size_t)i * n;
        const int q = (row1 - row0) / tile_rows; // rows a run
        for (int t = 0; t < q; t++) {
            tile(i2_row(packed, k, row0 + t), (size_t)q * row_bytes, ahead, x, kb, dots);
            for (int r = 0; r < tile_rows; r++)
                yi[row0 + r * q + t] = tb_scale_dot(dots[r] - sum, w_scale, x_scale);
        }
        for (int j = row0 + q * tile_rows; j < row1; j++) {
            one(i2_row(packed, k, j), row_bytes, 0, x, kb, dots);
            yi[j] = tb_scale_dot(dots[0] - sum, w_scale, x_scale);
        }
    }
}
