// The float reference: the oracle every kernel and the engine are judged against.
// Kept obviously correct rather than fast: plain loops, double accumulation.
//
// Rounding everywhere is round-half-away-from-zero (C roundf), computed in float.
#ifndef TB_REFERENCE_H
#define TB_REFERENCE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

// Loops marked TB_VEC_CLONES are compiled for the CPU's best vector ISA too, picked when the
// program loads (GCC/clang function multi-versioning, x86-64 ELF only): the library is
// otherwise built for baseline x86-64 (SSE2). Only for loops whose every operation is exact or
// in an order fixed by the source, so that every version computes the same values. Not with
// clang: Debian 12's clang 14 names the dispatcher "NAME.ifunc", so calls from other files do
// not link; clang builds (the fuzz targets) get the baseline loop.
#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__) && !defined(__clang__)
#define TB_VEC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TB_VEC_CLONES
#endif

// Floors that keep an all-zero tensor or row from dividing by zero (BitNet b1.58).
#define TB_ABSMEAN_EPS 1e-5f
#define TB_ABSMAX_EPS  1e-5f

// clamp(roundf(v), lo, hi) (ties away from zero), a NaN giving lo, for integers lo <= 0 < hi
// below 2^23: the rounding of both quantizers. Written without libm because roundf and fmaxf are
// calls at baseline x86-64 and kept the activation quantizer, which runs between the matrix
// products of every decode step, from vectorizing; and in integer selects on the bit pattern,
// because gcc turns float compares in this loop into branches at -mavx2. Exact:
//   |v| is clamped to the limit of its sign (-lo or hi) by comparing bit patterns (for
//   non-negative floats, and infinity and NaN above them, they order like the values), which
//   gives the same result as clamping after rounding, the limits being integers;
//   then t = trunc(|v|) and f = |v| - t are exact for |v| < 2^23, and f >= 0.5 (compared as
//   bits) rounds the magnitude up; the sign goes back on last; a NaN is replaced by lo.
static inline int tb_ref_round_clamp(float v, int lo, int hi)
{
    int32_t bits, fbits;
    memcpy(&bits, &v, sizeof bits);
    int32_t neg = bits >> 31; // -1 or 0 (arithmetic shift, as every target here does)
    int32_t mag = bits & 0x7fffffff;
    float limit = (float)(neg ? -lo : hi);
    int32_t limit_bits;
    memcpy(&limit_bits, &limit, sizeof limit_bits);
    int32_t clamped = mag > limit_bits ? limit_bits : mag;
    float a;
    memcpy(&a, &clamped, sizeof a);
    int32_t t = (int32_t)a;
    float f = a - (float)t;
    memcpy(&fbits, &f, sizeof fbits);
    t += fbits >= 0x3f000000; // 0.5f
    t = (t ^ neg) - neg;
    int32_t nan = -(int32_t)(mag > 0x7f800000); // all ones for a NaN: a mask, not a branch
    return (t & ~nan) | (lo & nan);
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
