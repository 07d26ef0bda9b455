// Packing and preparation for the float baselines (float_layout.h).
#include "float_layout.h"

#include <string.h>

size_t f32_packed_size(int n, int k)
{
    return sizeof(float) * (size_t)n * (size_t)float_k_pad(k);
}

void f32_pack(const int8_t *w, float w_scale, int n, int k, void *packed)
{
    const int kp = float_k_pad(k);
    float *out = packed;
    for (int j = 0; j < n; j++)
        for (int t = 0; t < kp; t++)
            out[(size_t)j * kp + t] = t < k ? w_scale * (float)w[(size_t)j * k + t] : 0.0f;
}

size_t f16_packed_size(int n, int k)
{
    return sizeof(uint16_t) * (size_t)n * (size_t)float_k_pad(k);
}

uint16_t tb_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000, mant = x & 0x7fffff;
    int biased = (int)((x >> 23) & 0xff);
    if (biased == 0xff) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0)); // inf, nan
    int e = biased - 127 + 15;                                                 // half exponent
    if (e >= 31) return (uint16_t)(sign | 0x7c00);                             // overflow: inf
    uint32_t h, rem, half;
    if (e <= 0) { // half subnormal: value = (mant | implicit 1) >> (14 - e) units of 2^-24
        if (e < -10) return (uint16_t)sign;
        uint32_t full = mant | 0x800000;
        int shift = 14 - e;
        h = full >> shift;
        rem = full & ((1u << shift) - 1);
        half = 1u << (shift - 1);
    } else {
        h = ((uint32_t)e << 10) | (mant >> 13);
        rem = mant & 0x1fff;
        half = 0x1000;
    }
    if (rem > half || (rem == half && (h & 1))) h++; // a carry into the exponent is correct
    return (uint16_t)(sign | h);
}

void f16_pack(const int8_t *w, float w_scale, int n, int k, void *packed)
{
    const int kp = float_k_pad(k);
    uint16_t *out = packed;
    for (int j = 0; j < n; j++)
        for (int t = 0; t < kp; t++)
            out[(size_t)j * kp + t] =
                tb_f32_to_f16(t < k ? w_scale * (float)w[(size_t)j * k + t] : 0.0f);
}

void f16_pack_float(const float *w, int n, int k, void *packed)
{
    const int kp = float_k_pad(k);
    uint16_t *out = packed;
    for (int j = 0; j < n; j++)
        for (int t = 0; t < kp; t++)
            out[(size_t)j * kp + t] = tb_f32_to_f16(t < k ? w[(size_t)j * k + t] : 0.0f);
}

void f32_pack_float(const float *w, int n, int k, void *packed)
{
    const int kp = float_k_pad(k);
    float *out = packed;
    for (int j = 0; j < n; j++)
        for (int t = 0; t < kp; t++) out[(size_t)j * kp + t] = t < k ? w[(size_t)j * k + t] : 0.0f;
}

void float_prepare_float(const float *x, int m, int k, void *act)
{
    const int kp = float_k_pad(k);
    float *out = act;
    for (int i = 0; i < m; i++)
        for (int t = 0; t < kp; t++) out[(size_t)i * kp + t] = t < k ? x[(size_t)i * k + t] : 0.0f;
}

size_t float_act_size(int m, int k)
{
    return sizeof(float) * (size_t)m * (size_t)float_k_pad(k);
}

void float_prepare(const int8_t *x, const float *x_scale, int m, int k, void *act)
{
    const int kp = float_k_pad(k);
    float *out = act;
    for (int i = 0; i < m; i++)
        for (int t = 0; t < kp; t++)
            out[(size_t)i * kp + t] = t < k ? x_scale[i] * (float)x[(size_t)i * k + t] : 0.0f;
}

static double gamma_k(int k)
{
    const double u = 0x1p-24;
    return k * u / (1 - k * u);
}

double f32_error_bound(int k)
{
    const double u = 0x1p-24;
    return (1 + u) * (1 + u) * (1 + gamma_k(k)) - 1;
}

double f16_error_bound(int k)
{
    const double u = 0x1p-24, uh = 0x1p-11;
    return (1 + uh) * (1 + u) * (1 + u) * (1 + gamma_k(k)) - 1;
}
