// The q4 packed format: float weights quantized to 4 bits, one f16 scale per group of 32
// consecutive weights (a kernel for float matrices such as the output head: tb_kernel.baseline =
// TB_FLOAT_Q4). One layout on every ISA.
//
// Weights q in [-8, 7] are stored as 4-bit codes c = q + 8 (0..15); padding past k is code 8
// (weight 0). A row is cut into superblocks of Q4_SB = 512 weights (16 groups g of 32; k_pad =
// roundup(k, 512)). Within a superblock, weight e (0..31) of group g is k index 512 s + 32 g + e.
//
// Codes of one superblock: 256 bytes, 4 chunks u of 64 bytes. Think of 8 vectors t (0..7) of
// 64 bytes, in which int32 lane g (bytes 4g .. 4g+3) holds the codes of weights 4t .. 4t+3 of
// group g:
//
//   vector t:  byte 4g + b = code of weight e = 4t + b of group g      (g = 0..15, b = 0..3)
//
//   lane:      |  0  |  1  |  2  | ... | 15  |        (4 bytes each)
//   vector 0:  | g0 e0..3 | g1 e0..3 | ... | g15 e0..3 |
//   vector 1:  | g0 e4..7 | g1 e4..7 | ... | g15 e4..7 |
//   ...
//   vector 7:  | g0 e28..31 | ...             | g15 e28..31 |
//
// Vectors 2u and 2u+1 share chunk u, as its low and high nibbles:
//
//   chunk u, byte p:   bit 7..4 = byte p of vector 2u+1  |  bit 3..0 = byte p of vector 2u
//
// So one 64-byte load, & 0x0f and (>> 4) & 0x0f give two vectors whose int32 lanes line up with
// the groups; vpdpbusd (AVX-512, 16 lanes) or sdot (NEON, 4 lanes per 16 bytes: bytes 16v..16v+15
// of a vector are groups 4v..4v+3) over the 8 vectors of a superblock leave lane g = the dot of
// group g: one int -> float conversion and one FMA with the 16 group scales per 512 weights.
// AVX2 (8 lanes per 32 bytes: groups 8h..8h+7) does the same with vpmaddubsw + vpmaddwd.
//
// Packed buffer: all codes, then all scales (the codes stay 64-byte aligned, nothing is padded
// but the end):
//
//   offset 0                   row 0: superblock 0 codes (256 B) | superblock 1 | ... (nsb of them)
//          nsb * 256           row 1: ...
//          ...
//          n nsb 256           f16 scales: row 0: d[group 0 .. 16 nsb) | row 1: ... | row n-1
//          n nsb 256 + align64(32 n nsb)   (end)
//
// Group g of superblock s of row j has scale d[j][16 s + g] (IEEE binary16). Groups wholly past k
// have scale 0.
//
//   pack (ternary weights, the tritbench contract): q = w; every group scale = f16(w_scale),
//       rounded to nearest. Relative error of that rounding <= u_h = 2^-11 for w_scale in the
//       normal range of f16, [2^-14, 65504]; error_bound assumes it (BitNet weight scales, about
//       1e-2 .. 1e1, are far inside). Outside it the kernels still run but error_bound does not
//       hold: a subnormal scale keeps only an absolute accuracy of 2^-25, a larger one is inf.
//   pack_float (any finite float weights): per group a = max |w| over the group's weights below
//       k; a == 0: d = 0 and every q = 0; else d = fl(a / 7) rounded UP to f16 (at least the
//       smallest subnormal 2^-24, at most 65504), q = nearest integer of w / d in float (ties to
//       even, lrintf), clamped to [-8, 7]. Rounding d up keeps |w| / d <= 7 / (1 - u) (u = 2^-24),
//       whose rounding is < 7.5, so the clamp never acts unless d saturated at 65504 (a >
//       7 * 65504 = 458528); and |w - d q| <= d / 2 + u |w| (half a step, plus the rounding of
//       w / d), subnormal scales included (d is what is stored, the step actually used).
//
// Prepared activations (q4_prepare): the int8 rows permuted into the same superblock order,
// each superblock followed by its 16 group offsets o_g = 8 * sum(x over group g) (int32), which
// turn the dot with unsigned codes into the dot with q: dot(c, x) = dot(q, x) + o_g.
//
//   offset 0                   float  x_scale[m], zero padded to 64 bytes
//          align64(4m)         row 0: superblock 0: x (512 B, vector order) | o[16] (64 B)
//                                     superblock 1: ...                      (576 B each)
//          + nsb * 576         row 1: ...
//
//   x of a superblock, vector t, lane g, byte b = x[512 s + 32 g + 4 t + b] (zero past k)
//
// Arithmetic of every q4 kernel (error_bound derives from it): per group the exact integer
// dot_g = dot(q, x) (|dot_g| <= 32 * 8 * 128 = 2^15, so (float)dot_g is exact), multiplied by
// its scale d_g (exact in float) and summed over the N = k_pad / 32 groups in any order, each
// product rounded once or fused into an FMA; the sum is multiplied by x_scale once:
//   y = fl( fl(sum_g d_g dot_g) * x_scale ).
// Against the exact w_scale x_scale dot(w, x) of ternary weights, with S = sum of |w_scale *
// x_scale * w * x| over the k terms (the contract's S), u = 2^-24, gamma_N = N u / (1 - N u):
//   every group scale is f16(w_scale) = w_scale (1 + e), |e| <= u_h = 2^-11: the exact
//     sum_g d_g dot_g x_scale is the exact result times (1 + e) (one factor for all groups);
//   the sum of N products, each rounded once, in any order: relative gamma_N of sum |d_g dot_g|
//     <= (1 + u_h) S / x_scale;
//   the product with x_scale: one rounding (1 + u).
//   |y - exact| <= ((1 + u_h)(1 + u)(1 + gamma_N) - 1) S            (q4_error_bound(k))
// On float-packed weights the same holds against the dequantized matrix d_g q (no scale
// rounding there: u_h drops out, so the bound holds with room).
#ifndef TB_Q4_LAYOUT_H
#define TB_Q4_LAYOUT_H

#include "tb_kernel.h"

#include <assert.h>
#include <string.h>

#define Q4_GROUP     32  // weights a scale
#define Q4_SB        512 // weights a superblock (16 groups)
#define Q4_SB_GROUPS (Q4_SB / Q4_GROUP)
#define Q4_SB_BYTES  (Q4_SB / 2)                // code bytes a superblock
#define Q4_SB_SCALES (Q4_SB_GROUPS * 2)         // scale bytes a superblock
#define Q4_ACT_SB    (Q4_SB + 4 * Q4_SB_GROUPS) // prepared bytes a superblock: x, offsets
#define Q4_MAX_TILE  16

_Static_assert(Q4_SB_BYTES % TB_ALIGN == 0 && Q4_ACT_SB % TB_ALIGN == 0, "64-byte alignment");

static inline int q4_sbs(int k)
{
    return (k + Q4_SB - 1) / Q4_SB;
}
static inline int q4_k_pad(int k)
{
    return q4_sbs(k) * Q4_SB;
}

static inline const uint8_t *q4_codes(const void *packed, int k, int j)
{
    return (const uint8_t *)packed + (size_t)j * (size_t)q4_sbs(k) * Q4_SB_BYTES;
}

static inline const uint16_t *q4_scales(const void *packed, int n, int k, int j)
{
    const size_t nsb = (size_t)q4_sbs(k);
    return (const uint16_t *)((const char *)packed + (size_t)n * nsb * Q4_SB_BYTES) +
           (size_t)j * nsb * Q4_SB_GROUPS;
}

static inline const float *q4_act_scale(const void *act)
{
    return (const float *)act;
}

// Prepared row i: nsb superblocks of Q4_ACT_SB bytes (x in vector order, then 16 int32 offsets).
static inline const int8_t *q4_act_row(const void *act, int m, int k, int i)
{
    return (const int8_t *)act + tb_align_up(4 * (size_t)m, TB_ALIGN) +
           (size_t)i * (size_t)q4_sbs(k) * Q4_ACT_SB;
}

// The entries every q4 kernel shares (q4_layout.c).
size_t q4_packed_size(int n, int k);
void q4_pack(const int8_t *w, float w_scale, int n, int k, void *packed);
void q4_pack_float(const float *w, int n, int k, void *packed);
size_t q4_act_size(int m, int k);
void q4_prepare(const int8_t *x, const float *x_scale, int m, int k, void *act);
double q4_error_bound(int k);
// IEEE binary16 -> float, exact (subnormals included).
float q4_f16_to_f32(uint16_t h);

// A kernel's GEMV routine: out[r] = sum over groups of d_g dot_g (before x_scale) for the rows
// at codes + r * cstride, scales + r * sstride (r < rows of the routine), over nsb superblocks
// of the prepared row x. A routine that prefetches fetches `ahead` bytes past each 64 bytes of
// codes it reads (and ahead / 8 past its scales, which stream 8 times slower).
typedef void (*q4_rows_fn)(const uint8_t *codes, size_t cstride, const uint16_t *scales,
                           size_t sstride, size_t ahead, const int8_t *x, int nsb, float *out);

// The shared GEMV driver (one activation row): rows [row0, row1) through `tile` (tile_rows at
// once, Q = (row1 - row0) / tile_rows apart: tile_rows sequential streams of codes and as many
// of scales, read in lockstep, as the i2 driver takes them, i2_layout.h), the rest through
// `one`; y[j] = out * x_scale.
void q4_gemv_rows(const void *packed, const void *act, int n, int k, int row0, int row1, float *y,
                  int tile_rows, q4_rows_fn tile, q4_rows_fn one);

#define Q4_KERNEL_COMMON                                                                           \
    .format = "q4", .k_block = Q4_SB, .exact = 0, .baseline = TB_FLOAT_Q4,                         \
    .error_bound = q4_error_bound, .packed_size = q4_packed_size, .pack = q4_pack,                 \
    .pack_float = q4_pack_float, .act_size = q4_act_size, .prepare = q4_prepare

#endif
