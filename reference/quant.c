// Reference quantizers of BitNet b1.58 (absmean ternary weights, absmax int8 activations).
#include "tb_reference.h"

#include <math.h>
#include <string.h>

float tb_ref_quantize_weights(const float *w, size_t count, int8_t *wt)
{
    double sum = 0;
    for (size_t i = 0; i < count; i++) sum += fabs((double)w[i]);
    float gamma = count ? (float)(sum / (double)count) : 0.0f;
    if (!(gamma > TB_ABSMEAN_EPS)) gamma = TB_ABSMEAN_EPS;
    for (size_t i = 0; i < count; i++) wt[i] = (int8_t)tb_ref_round_clamp(w[i] / gamma, -1, 1);
    return gamma;
}

// The bit pattern of |v|, or 0 for a NaN.
static inline int32_t abs_bits(float v)
{
    int32_t b;
    memcpy(&b, &v, sizeof b);
    b &= 0x7fffffff;
    return b > 0x7f800000 ? 0 : b;
}

TB_VEC_CLONES
float tb_ref_quantize_row(const float *x, int k, int8_t *xq)
{
    // max |x| as an integer max over bit patterns: the patterns of non-negative floats, read as
    // int32, order like the values, so this is exact, and it vectorizes where a float max (with
    // its NaN rules) does not. NaN patterns (above infinity's) are skipped, as fmaxf skips NaNs.
    int32_t lane[8] = {0};
    int i = 0;
    for (; i + 8 <= k; i += 8)
        for (int j = 0; j < 8; j++) {
            int32_t b = abs_bits(x[i + j]);
            lane[j] = b > lane[j] ? b : lane[j];
        }
    for (; i < k; i++) lane[0] = abs_bits(x[i]) > lane[0] ? abs_bits(x[i]) : lane[0];
    int32_t top = 0;
    for (int j = 0; j < 8; j++) top = lane[j] > top ? lane[j] : top;
    float amax;
    memcpy(&amax, &top, sizeof amax);
    if (!(amax > TB_ABSMAX_EPS)) amax = TB_ABSMAX_EPS;
    float s = 127.0f / amax;
    for (i = 0; i < k; i++) xq[i] = (int8_t)tb_ref_round_clamp(x[i] * s, -128, 127);
    return 1.0f / s;
}

void tb_ref_quantize_rows(const float *x, int m, int k, int8_t *xq, float *x_scale)
{
    for (int i = 0; i < m; i++)
        x_scale[i] = tb_ref_quantize_row(x + (size_t)i * k, k, xq + (size_t)i * k);
}

void tb_ref_dequantize(const int8_t *q, size_t count, float scale, float *out)
{
    for (size_t i = 0; i < count; i++) out[i] = (float)q[i] * scale;
}
