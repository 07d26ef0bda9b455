// The float reference: the oracle every kernel and the engine are judged against.
// Kept obviously correct rather than fast: plain loops, double accumulation.
//
// Rounding everywhere is round-half-away-from-zero (C roundf), computed in float.
#ifndef TB_REFERENCE_H
#define TB_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

// Floors that keep an all-zero tensor or row from dividing by zero (BitNet b1.58).
#define TB_ABSMEAN_EPS 1e-5f
#define TB_ABSMAX_EPS  1e-5f

// clamp(roundf(v), lo, hi) (ties away from zero) for integers |lo|, |hi| < 2^23, a NaN giving lo:
// the rounding of both quantizers. Written without libm because roundf and fmaxf are calls at
// baseline x86-64 and kept the activation quantizer, which runs between the matrix products of
// every decode step, from vectorizing. Exact: clamping to [lo, hi] before rounding gives the same
// result as after (the bounds are integers); then t = trunc(v) and v - t are exact for
// |v| < 2^23, and |v - t| >= 0.5 rounds away from zero. Straight-line selects, no branches, so
// the loops around it vectorize.
static inline int tb_ref_round_clamp(float v, int lo, int hi)
{
    v = v > (float)hi ? (float)hi : v;
    v = v >= (float)lo ? v : (float)lo; // a NaN fails the compare and becomes lo
    int t = (int)v;
    float frac = v - (float)t;
    return t + (frac >= 0.5f) - (frac <= -0.5f);
}

// Absmean ternary weights: gamma = max(mean|W|, eps) (mean in double, then rounded to float),
// wt = clamp(roundf(W / gamma), -1, +1). Returns gamma, the dequantization scale: W ~ gamma*wt.
float tb_ref_quantize_weights(const float *w, size_t count, int8_t *wt);

// Absmax int8 activations for one row: s = 127 / max(max|x|, eps),
// xq = clamp(roundf(x * s), -128, 127). Returns the dequantization scale 1 / s, so x ~ xq * scale.
float tb_ref_quantize_row(const float *x, int k, int8_t *xq);
// All m rows; x_scale[i] receives row i's dequantization scale.
void tb_ref_quantize_rows(const float *x, int m, int k, int8_t *xq, float *x_scale);

// out[i] = q[i] * scale.
void tb_ref_dequantize(const int8_t *q, size_t count, float scale, float *out);

// Y[m x n] = X[m x k] * W[n x k]^T in float inputs, double accumulation, float output.
void tb_ref_matmul(const float *x, const float *w, int m, int n, int k, float *y);

// ---- seeded RNG (splitmix64): every random input in tritbench comes from here ----
typedef struct {
    uint64_t state;
} tb_rng;

static inline uint64_t tb_rng_next(tb_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// Uniform integer in [lo, hi].
static inline int tb_rng_int(tb_rng *r, int lo, int hi)
{
    return lo + (int)(tb_rng_next(r) % (uint64_t)(hi - lo + 1));
}

// Uniform float in [0, 1).
static inline float tb_rng_float(tb_rng *r)
{
    return (float)(tb_rng_next(r) >> 40) * 0x1p-24f;
}

// Approximately standard normal (sum of four uniforms, rescaled): enough for test data.
static inline float tb_rng_normal(tb_rng *r)
{
    float s = 0;
    for (int i = 0; i < 4; i++) s += tb_rng_float(r);
    return (s - 2.0f) * 1.7320508f;
}

#endif
