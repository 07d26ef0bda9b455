// Packing and table building for the lut2 and lut3 formats (layout drawn in lut_layout.h).
#include "lut_layout.h"

const lut_format lut2_format = {.group = 2, .chunk_bytes = 32};
const lut_format lut3_format = {.group = 3, .chunk_bytes = 40};

size_t lut_packed_size(const lut_format *f, int n, int k)
{
    return tb_align_up((size_t)lut_tiles(n) * lut_tile_bytes(f, k), TB_ALIGN) + TB_ALIGN;
}

// Index (and sign) of group g of row j; weights past n or k are 0.
static int group_index(const lut_format *f, const int8_t *w, int n, int k, int j, int g, int *sign)
{
    int v[3] = {0, 0, 0};
    for (int e = 0; e < f->group; e++) {
        int t = g * f->group + e;
        if (j < n && t < k) v[e] = w[(size_t)j * (size_t)k + (size_t)t];
    }
    *sign = 0;
    if (f->group == 2) return 3 * (v[0] + 1) + (v[1] + 1);
    int s = 9 * v[0] + 3 * v[1] + v[2];
    *sign = s < 0;
    return s < 0 ? -s : s;
}

void lut_pack(const lut_format *f, const int8_t *w, float w_scale, int n, int k, void *packed)
{
    uint8_t *out = packed;
    const int tiles = lut_tiles(n), chunks = lut_chunks(f, k);
    for (int t = 0; t < tiles; t++) {
        for (int q = 0; q < chunks; q++) {
            uint8_t *chunk = out + (size_t)t * lut_tile_bytes(f, k) + (size_t)q * f->chunk_bytes;
            uint32_t signs[2] = {0, 0};
            for (int r = 0; r < LUT_TILE; r++) {
                int j = t * LUT_TILE + r, s0, s1;
                int i0 = group_index(f, w, n, k, j, 2 * q, &s0);
                int i1 = group_index(f, w, n, k, j, 2 * q + 1, &s1);
                assert(i0 < 16 && i1 < 16);
                chunk[r] = (uint8_t)(i0 | (i1 << 4));
                signs[0] |= (uint32_t)s0 << r;
                signs[1] |= (uint32_t)s1 << r;
            }
            if (f->chunk_bytes == 40) {
                for (int b = 0; b < 4; b++) {
                    chunk[32 + b] = (uint8_t)(signs[0] >> (8 * b));
                    chunk[36 + b] = (uint8_t)(signs[1] >> (8 * b));
                }
            }
        }
    }
    size_t at = tb_align_up((size_t)tiles * lut_tile_bytes(f, k), TB_ALIGN);
    memset(out + at, 0, TB_ALIGN);
    memcpy(out + at, &w_scale, sizeof w_scale);
}

size_t lut_act_size(const lut_format *f, int m, int k)
{
    return tb_align_up(sizeof(float) * (size_t)m, TB_ALIGN) +
           (size_t)m * (size_t)lut_groups(f, k) * LUT_TABLE_BYTES;
}

// Table of one group: entry[index] = w . x over the weight patterns the format encodes.
static void build_table(const lut_format *f, const int *x, uint8_t *table)
{
    int16_t entry[16] = {0};
    if (f->group == 2) {
        for (int i = 0; i < 9; i++) entry[i] = (int16_t)((i / 3 - 1) * x[0] + (i % 3 - 1) * x[1]);
    } else {
        // Every triple with 9 w0 + 3 w1 + w2 = m >= 0 fills entry m (balanced ternary: one each).
        for (int w0 = -1; w0 <= 1; w0++)
            for (int w1 = -1; w1 <= 1; w1++)
                for (int w2 = -1; w2 <= 1; w2++) {
                    int v = 9 * w0 + 3 * w1 + w2;
                    if (v >= 0) entry[v] = (int16_t)(w0 * x[0] + w1 * x[1] + w2 * x[2]);
                }
    }
    for (int e = 0; e < 16; e++) {
        table[e] = (uint8_t)((uint16_t)entry[e] & 0xff);
        table[16 + e] = (uint8_t)((uint16_t)entry[e] >> 8);
    }
}

void lut_prepare(const lut_format *f, const int8_t *x, const float *x_scale, int m, int k,
                 void *act)
{
    float *scale = act;
    const int groups = lut_groups(f, k);
    for (int i = 0; i < m; i++) {
        scale[i] = x_scale[i];
        uint8_t *tables = (uint8_t *)lut_act_tables(f, act, m, k, i);
        for (int g = 0; g < groups; g++) {
            int xv[3] = {0, 0, 0};
            for (int e = 0; e < f->group; e++) {
                int t = g * f->group + e;
                if (t < k) xv[e] = x[(size_t)i * (size_t)k + (size_t)t];
            }
            build_table(f, xv, tables + (size_t)g * LUT_TABLE_BYTES);
        }
    }
}

size_t lut2_packed_size(int n, int k)
{
    return lut_packed_size(&lut2_format, n, k);
}
void lut2_pack(const int8_t *w, float w_scale, int n, int k, void *packed)
{
    lut_pack(&lut2_format, w, w_scale, n, k, packed);
}
size_t lut2_act_size(int m, int k)
{
    return lut_act_size(&lut2_format, m, k);
}
void lut2_prepare(const int8_t *x, const float *x_scale, int m, int k, void *act)
{
    lut_prepare(&lut2_format, x, x_scale, m, k, act);
}
size_t lut3_packed_size(int n, int k)
{
    return lut_packed_size(&lut3_format, n, k);
}
void lut3_pack(const int8_t *w, float w_scale, int n, int k, void *packed)
{
    lut_pack(&lut3_format, w, w_scale, n, k, packed);
}
size_t lut3_act_size(int m, int k)
{
    return lut_act_size(&lut3_format, m, k);
}
void lut3_prepare(const int8_t *x, const float *x_scale, int m, int k, void *act)
{
    lut_prepare(&lut3_format, x, x_scale, m, k, act);
}

void lut_gemm_tiles(const lut_format *f, const void *packed, const void *act, int m, int n, int k,
                    int row0, int row1, float *y, int pair, lut_tiles_fn fn)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    const int chunks = lut_chunks(f, k), tiles = lut_tiles(n);
    const float w_scale = lut_scale(f, packed, n, k);
    int32_t dots[2 * LUT_TILE];
    for (int i = 0; i < m; i++) {
        const uint8_t *tables = lut_act_tables(f, act, m, k, i);
        const float x_scale = lut_act_scale(act)[i];
        float *yi = y + (size_t)i * n;
        for (int t = row0 / LUT_TILE; t * LUT_TILE < row1; t += pair ? 2 : 1) {
            const int two = pair && t + 1 < tiles && (t + 1) * LUT_TILE < row1;
            fn(lut_tile(f, packed, k, t), two ? lut_tile(f, packed, k, t + 1) : NULL, tables,
               chunks, dots);
            lut_store_tile(dots, t, row0, row1, w_scale, x_scale, yi);
            if (two) lut_store_tile(dots + LUT_TILE, t + 1, row0, row1, w_scale, x_scale, yi);
        }
    }
}
