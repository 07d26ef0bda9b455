// Reference quantizers of BitNet b1.58 (absmean ternary weights, absmax int8 activations).
#include "tb_reference.h"

#include <math.h>

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

float tb_ref_quantize_weights(const float *w, size_t count, int8_t *wt)
{
    double sum = 0;
    for (size_t i = 0; i < count; i++) sum += fabs((double)w[i]);
    float gamma = count ? (float)(sum / (double)count) : 0.0f;
    if (!(gamma > TB_ABSMEAN_EPS)) gamma = TB_ABSMEAN_EPS;
    for (size_t i = 0; i < count; i++) wt[i] = (int8_t)clampf(roundf(w[i] / gamma), -1.0f, 1.0f);
    return gamma;
}

float tb_ref_quantize_row(const float *x, int k, int8_t *xq)
{
    float amax = 0;
    for (int i = 0; i < k; i++) amax = fmaxf(amax, fabsf(x[i]));
    if (!(amax > TB_ABSMAX_EPS)) amax = TB_ABSMAX_EPS;
    float s = 127.0f / amax;
    for (int i = 0; i < k; i++) xq[i] = (int8_t)clampf(roundf(x[i] * s), -128.0f, 127.0f);
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
