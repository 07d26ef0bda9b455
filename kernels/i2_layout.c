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
