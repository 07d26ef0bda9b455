// The q8 packed format: float weights quantized to int8, one float scale per row (a kernel for
// float matrices such as the output head: tb_kernel.baseline = TB_FLOAT_Q8). One layout on every
// ISA.
//
// A row of k weights is stored as k_pad = roundup(k, 64) int8 values q, zero padded past k;
// rows are consecutive (row j at j * k_pad, so every row starts on a 64-byte boundary). After
// the rows, each row's scale d and the sum of its q (for the offset trick below), each array
// zero padded to a multiple of 64 bytes:
//
//   offset 0                          int8   q[0][0 .. k_pad)      row 0
//          k_pad                      int8   q[1][0 .. k_pad)      row 1
//          ...
//          n k_pad                    float  d[n]                  row scales
//          n k_pad + align64(4n)      int32  qsum[n]               qsum[j] = sum of row j's q
//          n k_pad + 2 align64(4n)    (end)
//
// Every q is in [-127, 127]: -128 never appears (both packs below ensure it). Kernels rely on it:
// |q| <= 127 lets AVX2 use vpmaddubsw(|x|, sign(q, x)) without saturation.
//
//   pack (ternary weights, the tritbench contract):  q = w, d[j] = w_scale for every row.
//       The integer dot is exact and y = tb_scale_dot(dot, d[j], x_scale[i]) is the naive
//       kernel's expression, so q8 kernels are exact (bit-identical to naive).
//   pack_float (any finite float weights): per row a = max |w|; d = a / 127 in float (if that
//       is 0 - a == 0, or a below 127 * 2^-150 - d = 0 and every q = 0); q = nearest integer of w /
//       d in float (ties to even, lrintf), clamped to [-127, 127]. The clamp never acts when d is a
//       normal float (a >= 127 * 2^-126): d >= (a / 127)(1 - u) with u = 2^-24, so |w / d| <= 127 /
//       (1 - u) and its rounding to float stays below 127 (1 + u) / (1 - u) < 127.5. Then |w - d q|
//       <= d / 2 + u |w| (half a step, plus the rounding of w / d).
//
// Activations: the act_rows form (act_rows.h) with k_pad = roundup(k, 64).
//   y[i][j] = tb_scale_dot(dot(q_j, x_i), d[j], x_scale[i])
// with the dot exact in int32: |dot| <= 127 * 128 * k <= 127 * 2^24 < 2^31 for k <= TB_K_MAX.
// (With float-packed weights the dot can exceed 2^24 and its conversion to float rounds, once,
// the same way in every kernel: the outputs are still bit-identical across q8 kernels.)
//
// Offset trick of vpdpbusd (u8 x s8): x + 128 = x ^ 0x80 is unsigned, so
//   dot(q, x) = dot(q, x + 128) - 128 qsum[j]    (gemv: x shifted once, shared by a tile's rows)
//   dot(q, x) = dot(q + 128, x) - 128 sum(x)     (gemm: each weight vector shifted once, shared
//                                                 by several activation rows; sum(x) of act_rows)
#ifndef TB_Q8_LAYOUT_H
#define TB_Q8_LAYOUT_H

#include "act_rows.h"

#include <assert.h>
#include <string.h>

#define Q8_K_ALIGN 64

static inline int q8_k_pad(int k)
{
    return (k + Q8_K_ALIGN - 1) / Q8_K_ALIGN * Q8_K_ALIGN;
}

static inline const int8_t *q8_row(const void *packed, int k, int j)
{
    return (const int8_t *)packed + (size_t)j * (size_t)q8_k_pad(k);
}

static inline const float *q8_scales(const void *packed, int n, int k)
{
    return (const float *)((const char *)packed + (size_t)n * (size_t)q8_k_pad(k));
}

static inline const int32_t *q8_qsums(const void *packed, int n, int k)
{
    return (const int32_t *)((const char *)packed + (size_t)n * (size_t)q8_k_pad(k) +
                             tb_align_up(4 * (size_t)n, TB_ALIGN));
}

// The entries every q8 kernel shares (q8_layout.c).
size_t q8_packed_size(int n, int k);
void q8_pack(const int8_t *w, float w_scale, int n, int k, void *packed);
void q8_pack_float(const float *w, int n, int k, void *packed);
size_t q8_act_size(int m, int k);
void q8_prepare(const int8_t *x, const float *x_scale, int m, int k, void *act);

// A kernel's GEMV routine: dots[r] = the raw dot of the row at w + r * stride with x (r < rows
// of the routine), over kp = k_pad values; the driver subtracts x_bias * qsum of the row. A
// routine that prefetches fetches `ahead` bytes past each 64 bytes it reads.
typedef void (*q8_rows_fn)(const int8_t *w, size_t stride, size_t ahead, const int8_t *x, int kp,
                           int32_t *dots);
#define Q8_MAX_TILE 16

// The shared GEMV driver (one activation row): rows [row0, row1) through `tile` (tile_rows at
// once, the rows Q = (row1 - row0) / tile_rows apart, as the i2 driver takes them: tile_rows
// sequential streams read in lockstep, i2_layout.h), the rest through `one`; then
//   y[j] = tb_scale_dot(dot - x_bias * qsum[j], d[j], x_scale)
// computed modulo 2^32 (a raw dot with x + 128 may leave int32; the true dot does not).
void q8_gemv_rows(const void *packed, const void *act, int n, int k, int row0, int row1, float *y,
                  int tile_rows, int x_bias, q8_rows_fn tile, q8_rows_fn one);

// y of one output from its raw dot: (dot - bias * sum) modulo 2^32, then scaled.
static inline float q8_output(int32_t raw, int32_t bias, int32_t sum, float d, float x_scale)
{
    uint32_t dot = (uint32_t)raw - (uint32_t)bias * (uint32_t)sum;
    int32_t exact;
    memcpy(&exact, &dot, sizeof exact);
    return tb_scale_dot(exact, d, x_scale);
}

#define Q8_KERNEL_COMMON                                                                           \
    .format = "q8", .k_block = Q8_K_ALIGN, .exact = 1, .baseline = TB_FLOAT_Q8,                    \
    .packed_size = q8_packed_size, .pack = q8_pack, .pack_float = q8_pack_float,                   \
    .act_size = q8_act_size, .prepare = q8_prepare

#endif
