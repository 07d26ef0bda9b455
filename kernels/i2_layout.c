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

// Prefetches blocks [b0, b1) (clipped to the row) of rows [j, j1): the slice unpacked next,
// fetched while this one is unpacked and used. The hardware prefetchers do not catch these
// short runs (one block of each of nr rows), and unpacking straight from L3 took as long as
// the compute of 12 activation rows (measured in i2_avx512vnni.c).
static void prefetch_slice(const void *packed, int k, int j, int j1, int b0, int b1)
{
    const int kb = i2_blocks(k);
    if (b1 > kb) b1 = kb;
    for (; j < j1; j++) {
        const char *row = (const char *)i2_row(packed, k, j);
        for (int b = b0; b < b1; b++) __builtin_prefetch(row + (size_t)b * I2_BLOCK_BYTES, 0, 3);
    }
}

// y[i][j0 .. j0 + nr) for the mc activation rows from i0: the panel's sums less sum(x), scaled.
static void finish_panel(const int32_t *scratch, int stride, const void *act, int m, int n, int i0,
                         int mc, int j0, int nr, float w_scale, float *y)
{
    const int32_t *sum = tb_act_rows_sum(act, m);
    const float *x_scale = tb_act_rows_scale(act);
    for (int i = 0; i < mc; i++) {
        const int32_t *s = scratch + (size_t)i * stride;
        float *yi = y + (size_t)(i0 + i) * n + j0;
        for (int r = 0; r < nr; r++)
            yi[r] = tb_scale_dot(s[r] - sum[i0 + i], w_scale, x_scale[i0 + i]);
    }
}

void i2_gemm_panels(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                    float *y, const i2_panel_kernel *pk)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    assert(((uintptr_t)packed | (uintptr_t)act) % TB_ALIGN == 0);
    assert(pk->nr >= 1 && pk->nr <= I2_PANEL_MAX_NR && pk->mr >= 1);
    const int NR = pk->nr, kb = i2_blocks(k), k_pad = i2_k_pad(k);
    const size_t row_bytes = i2_row_bytes(k);
    const float w_scale = i2_scale(packed, n, k);
    _Alignas(TB_ALIGN) uint8_t panel[I2_PANEL_KC * I2_PANEL_MAX_NR];
    _Alignas(TB_ALIGN) int32_t scratch[I2_PANEL_MC * I2_PANEL_MAX_NR];
    // Chunks of at most I2_PANEL_MC activation rows, as even as possible.
    const int chunks = (m + I2_PANEL_MC - 1) / I2_PANEL_MC, per = (m + chunks - 1) / chunks;
    for (int i0 = 0; i0 < m; i0 += per) {
        const int mc = m - i0 < per ? m - i0 : per;
        for (int j0 = row0; j0 < row1; j0 += NR) {
            const int nr = row1 - j0 < NR ? row1 - j0 : NR;
            memset(scratch, 0, sizeof(int32_t) * (size_t)NR * (size_t)mc);
            for (int b0 = 0; b0 < kb; b0 += I2_PANEL_KC_BLOCKS) {
                const int nb = kb - b0 < I2_PANEL_KC_BLOCKS ? kb - b0 : I2_PANEL_KC_BLOCKS;
                if (b0 + nb < kb) // the next slice of this panel, or the first of the next one
                    prefetch_slice(packed, k, j0, j0 + nr, b0 + nb, b0 + nb + I2_PANEL_KC_BLOCKS);
                else if (j0 + NR < row1)
                    prefetch_slice(packed, k, j0 + NR, row1 < j0 + 2 * NR ? row1 : j0 + 2 * NR, 0,
                                   I2_PANEL_KC_BLOCKS);
                pk->unpack(i2_row(packed, k, j0) + (size_t)b0 * I2_BLOCK_BYTES, row_bytes, nr, nb,
                           panel);
                for (int i = 0; i < mc; i += pk->mr)
                    pk->micro(panel, tb_act_rows_x(act, m, k_pad, i0 + i) + (size_t)b0 * I2_BLOCK,
                              (size_t)k_pad, nb * I2_BLOCK / 4, mc - i < pk->mr ? mc - i : pk->mr,
                              nr, scratch + (size_t)i * NR);
            }
            finish_panel(scratch, NR, act, m, n, i0, mc, j0, nr, w_scale, y);
        }
    }
}
