// Packing, activation preparation, the error bound and the GEMV driver of the q4 format
// (layout drawn in q4_layout.h).
#include "q4_layout.h"
#include "float_layout.h" // tb_f32_to_f16

#include <math.h>

size_t q4_packed_size(int n, int k)
{
    const size_t codes = (size_t)n * (size_t)q4_sbs(k) * Q4_SB_BYTES;
    return codes + tb_align_up((size_t)n * (size_t)q4_sbs(k) * Q4_SB_SCALES, TB_ALIGN);
}

float q4_f16_to_f32(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, mant = h & 0x3ff;
    uint32_t bits;
    if (e == 0x1f) {
        bits = sign | 0x7f800000 | (mant << 13); // inf, nan
    } else if (e == 0) {                         // zero or subnormal: mant * 2^-24, exact
        float v = (float)mant * 0x1p-24f;
        return sign ? -v : v;
    } else {
        bits = sign | ((e - 15 + 127) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint16_t *scales_at(void *packed, int n, int k, int j)
{
    return (uint16_t *)q4_scales(packed, n, k, j);
}

// Zeroes the padding at the end of the scales.
static void clear_scale_tail(int n, int k, void *packed)
{
    const size_t used = (size_t)n * (size_t)q4_sbs(k) * Q4_SB_SCALES;
    memset((char *)scales_at(packed, n, k, 0) + used, 0, tb_align_up(used, TB_ALIGN) - used);
}

// Stores q (in [-8, 7]) of weight e of group g (of the whole row) into a row's codes.
static inline void put_code(uint8_t *codes, int g, int e, int q)
{
    const int s = g / Q4_SB_GROUPS, gs = g % Q4_SB_GROUPS, t = e / 4; // t: vector
    const int byte = s * Q4_SB_BYTES + (t / 2) * 64 + 4 * gs + e % 4, shift = (t % 2) * 4;
    assert(q >= -8 && q <= 7);
    codes[byte] |= (uint8_t)((q + 8) << shift);
}

void q4_pack(const int8_t *w, float w_scale, int n, int k, void *packed)
{
    const int groups = q4_sbs(k) * Q4_SB_GROUPS;
    const uint16_t d = tb_f32_to_f16(w_scale);
    for (int j = 0; j < n; j++) {
        const int8_t *wj = w + (size_t)j * (size_t)k;
        uint8_t *codes = (uint8_t *)q4_codes(packed, k, j);
        uint16_t *sc = scales_at(packed, n, k, j);
        memset(codes, 0, (size_t)q4_sbs(k) * Q4_SB_BYTES);
        for (int g = 0; g < groups; g++) {
            for (int e = 0; e < Q4_GROUP; e++) {
                const int t = g * Q4_GROUP + e;
                put_code(codes, g, e, t < k ? wj[t] : 0);
            }
            sc[g] = g * Q4_GROUP < k ? d : 0; // groups wholly past k: scale 0
        }
    }
    clear_scale_tail(n, k, packed);
}

// f16 of v > 0 rounded up (towards +inf): the smallest binary16 >= v, at least the smallest
// subnormal 2^-24, saturated at the largest finite 65504.
static uint16_t f16_round_up(float v)
{
    uint16_t h = tb_f32_to_f16(v);
    // Rounded down: the next binary16 up (a carry into the exponent is correct).
    if (h < 0x7c00 && q4_f16_to_f32(h) < v) h++;
    if (h >= 0x7c00) h = 0x7bff;
    return h ? h : 1;
}

void q4_pack_float(const float *w, int n, int k, void *packed)
{
    const int groups = q4_sbs(k) * Q4_SB_GROUPS;
    for (int j = 0; j < n; j++) {
        const float *wj = w + (size_t)j * (size_t)k;
        uint8_t *codes = (uint8_t *)q4_codes(packed, k, j);
        uint16_t *sc = scales_at(packed, n, k, j);
        memset(codes, 0, (size_t)q4_sbs(k) * Q4_SB_BYTES);
        for (int g = 0; g < groups; g++) {
            const int t0 = g * Q4_GROUP, t1 = t0 + Q4_GROUP < k ? t0 + Q4_GROUP : k;
            float a = 0;
            for (int t = t0; t < t1; t++) a = fabsf(wj[t]) > a ? fabsf(wj[t]) : a;
            const uint16_t h = a > 0 ? f16_round_up(a / 7.0f) : 0;
            const float d = q4_f16_to_f32(h);
            for (int e = 0; e < Q4_GROUP; e++) {
                long q = t0 + e < t1 && h ? lrintf(wj[t0 + e] / d) : 0;
                put_code(codes, g, e, (int)(q < -8 ? -8 : q > 7 ? 7 : q));
            }
            sc[g] = h;
        }
    }
    clear_scale_tail(n, k, packed);
}

size_t q4_act_size(int m, int k)
{
    return tb_align_up(4 * (size_t)m, TB_ALIGN) + (size_t)m * (size_t)q4_sbs(k) * Q4_ACT_SB;
}

void q4_prepare(const int8_t *x, const float *x_scale, int m, int k, void *act)
{
    const int nsb = q4_sbs(k);
    float *scale = act;
    memset(scale, 0, tb_align_up(4 * (size_t)m, TB_ALIGN));
    for (int i = 0; i < m; i++) {
        const int8_t *xi = x + (size_t)i * (size_t)k;
        int8_t *row = (int8_t *)q4_act_row(act, m, k, i);
        scale[i] = x_scale[i];
        for (int s = 0; s < nsb; s++) {
            int8_t *sb = row + (size_t)s * Q4_ACT_SB;
            int32_t off[Q4_SB_GROUPS];
            for (int g = 0; g < Q4_SB_GROUPS; g++) {
                int32_t sum = 0;
                for (int e = 0; e < Q4_GROUP; e++) {
                    const int t = s * Q4_SB + g * Q4_GROUP + e;
                    const int8_t v = t < k ? xi[t] : 0;
                    sb[(e / 4) * 64 + 4 * g + e % 4] = v; // vector e / 4, lane g, byte e % 4
                    sum += v;
                }
                off[g] = 8 * sum;
            }
            memcpy(sb + Q4_SB, off, sizeof off);
        }
    }
}

double q4_error_bound(int k)
{
    const double u = 0x1p-24, uh = 0x1p-11, groups = (double)q4_k_pad(k) / Q4_GROUP;
    const double gamma = groups * u / (1 - groups * u);
    return (1 + uh) * (1 + u) * (1 + gamma) - 1;
}

void q4_gemv_rows(const void *packed, const void *act, int n, int k, int row0, int row1, float *y,
                  int tile_rows, q4_rows_fn tile, q4_rows_fn one)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    assert(((uintptr_t)packed | (uintptr_t)act) % TB_ALIGN == 0);
    assert(tile_rows >= 1 && tile_rows <= Q4_MAX_TILE);
    const int nsb = q4_sbs(k);
    const size_t cb = (size_t)nsb * Q4_SB_BYTES, sb = (size_t)nsb * Q4_SB_GROUPS;
    const size_t ahead = (size_t)tb_prefetch_get();
    const int8_t *x = q4_act_row(act, 1, k, 0);
    const float x_scale = q4_act_scale(act)[0];
    float out[Q4_MAX_TILE];
    const int q = (row1 - row0) / tile_rows; // rows a run
    for (int t = 0; t < q; t++) {
        tile(q4_codes(packed, k, row0 + t), (size_t)q * cb, q4_scales(packed, n, k, row0 + t),
             (size_t)q * sb, ahead, x, nsb, out);
        for (int r = 0; r < tile_rows; r++) y[row0 + r * q + t] = out[r] * x_scale;
    }
    for (int j = row0 + q * tile_rows; j < row1; j++) {
        one(q4_codes(packed, k, j), cb, q4_scales(packed, n, k, j), sb, 0, x, nsb, out);
        y[j] = out[0] * x_scale;
    }
}
