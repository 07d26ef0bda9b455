// Formats of the float baselines (FP32 through BLAS, FP16 of our own): the ternary weights are
// dequantized once at pack time (w_scale * w, so a baseline holds exactly the matrix a float
// model would) and the int8 activations at prepare time (x_scale * x). Speedups of the ternary
// kernels are measured against these.
//
//   packed:  rows of k_pad = roundup(k, 32) values (FP32: float, FP16: IEEE binary16), zero
//            padded past k
//   act:     rows of k_pad floats, zero padded past k
//
// Error bounds (relative to S = sum of |w_scale * x_scale * w * x| over the k terms), with
// u = 2^-24 (float) and u_h = 2^-11 (half, normal range), gamma_k = k u / (1 - k u):
//   dequantized x: one rounding (1 + u); w_scale * w is exact in float for w in {-1, 0, 1};
//   FP16 weights: one more rounding (1 + u_h); each product rounds once (1 + u) unless fused;
//   any summation order of k terms: gamma_k.
//   FP32: (1 + u)^2 (1 + gamma_k) - 1          FP16: (1 + u_h)(1 + u)^2 (1 + gamma_k) - 1
#ifndef TB_FLOAT_LAYOUT_H
#define TB_FLOAT_LAYOUT_H

#include "tb_kernel.h"

#include <assert.h>

#define FLOAT_K_ALIGN 32

static inline int float_k_pad(int k)
{
    return (k + FLOAT_K_ALIGN - 1) / FLOAT_K_ALIGN * FLOAT_K_ALIGN;
}

static inline const float *float_act_row(const void *act, int k, int i)
{
    return (const float *)act + (size_t)i * (size_t)float_k_pad(k);
}

size_t f32_packed_size(int n, int k);
void f32_pack(const int8_t *w, float w_scale, int n, int k, void *packed);
size_t f16_packed_size(int n, int k);
void f16_pack(const int8_t *w, float w_scale, int n, int k, void *packed);
size_t float_act_size(int m, int k);
void float_prepare(const int8_t *x, const float *x_scale, int m, int k, void *act);
// float -> IEEE binary16, round to nearest even (portable; used when packing).
uint16_t tb_f32_to_f16(float f);
double f32_error_bound(int k);
// Float-weight entry points for matrices that are not ternary (the engine's output head): pack
// any float weights into the FP16 layout, and prepare float activations (copy, zero pad).
void f16_pack_float(const float *w, int n, int k, void *packed);
void f32_pack_float(const float *w, int n, int k, void *packed);
void float_prepare_float(const float *x, int m, int k, void *act);
double f16_error_bound(int k);

#define F32_KERNEL_COMMON                                                                          \
    .format = "f32", .k_block = 1, .exact = 0, .baseline = TB_FLOAT_FP32,                          \
    .error_bound = f32_error_bound, .packed_size = f32_packed_size, .pack = f32_pack,              \
    .pack_float = f32_pack_float, .act_size = float_act_size, .prepare = float_prepare
#define F16_KERNEL_COMMON                                                                          \
    .format = "f16", .k_block = FLOAT_K_ALIGN, .exact = 0, .baseline = TB_FLOAT_FP16,              \
    .error_bound = f16_error_bound, .packed_size = f16_packed_size, .pack = f16_pack,              \
    .pack_float = f16_pack_float, .act_size = float_act_size, .prepare = float_prepare

#endif
