// q4_neon_sdot: the q4 format (q4_layout.h) with the ARMv8.2 dot-product extension. A 16-byte
// piece v (0..3) of a 64-byte vector holds int32 lanes 4v .. 4v+3, the groups 4v .. 4v+3: per
// piece of a chunk u, & 0x0f and >> 4 give the codes (0..15, valid as s8) of vectors 2u and
// 2u+1, and vdotq_s32 with the prepared activations of those vectors adds group dots into the
// piece's lanes. Starting from -o_g (prepared offsets) the lanes end at dot_g = dot(q, x) after
// a superblock; then vcvtq_f32_s32 and one vfmaq_f32 with the 4 group scales (vcvt_f32_f16)
// into the row's float accumulator.
//
// Bounds: a code is at most 15 and |x| <= 128: one sdot adds at most 4 * 15 * 128 = 7680 to a
// lane, 8 a superblock plus |o_g| <= 2^15: far inside int32; |dot_g| <= 2^15 is exact in float.
//
// GEMV: TILE_ROWS rows as sequential streams (q4_gemv_rows); the 8 activation pieces of a
// superblock piece are loaded once for the tile. No software prefetch (not measured on ARM
// hardware yet). GEMM: each unpacked piece serves GEMM_ACT_ROWS activation rows.
#include "q4_layout.h"

#include <arm_neon.h>

#define TILE_ROWS     4
#define GEMM_ACT_ROWS 4
#define INLINE        static inline __attribute__((always_inline))

INLINE float32x4_t load_scales(const uint16_t *p)
{
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}

// acc (starting at -o) + dots of piece v of a superblock: c its codes, xs its activations.
INLINE int32x4_t piece(int32x4_t acc, const uint8_t *c, const int8_t *xs, int v)
{
    const uint8x16_t nib = vdupq_n_u8(0x0f);
    for (int u = 0; u < 4; u++) {
        const uint8x16_t w = vld1q_u8(c + 64 * u + 16 * v);
        acc = vdotq_s32(acc, vreinterpretq_s8_u8(vandq_u8(w, nib)),
                        vld1q_s8(xs + 64 * (2 * u) + 16 * v));
        acc = vdotq_s32(acc, vreinterpretq_s8_u8(vshrq_n_u8(w, 4)),
                        vld1q_s8(xs + 64 * (2 * u + 1) + 16 * v));
    }
    return acc;
}

INLINE int32x4_t neg_offsets(const int8_t *xs, int v)
{
    return vnegq_s32(vld1q_s32((const int32_t *)(xs + Q4_SB) + 4 * v));
}

INLINE void tile(const uint8_t *codes, size_t cstride, const uint16_t *scales, size_t sstride,
                 const int8_t *x, int nsb, int R, float *out)
{
    float32x4_t facc[TILE_ROWS];
    for (int r = 0; r < R; r++) facc[r] = vdupq_n_f32(0);
    for (int s = 0; s < nsb; s++) {
        const int8_t *xs = x + (size_t)s * Q4_ACT_SB;
        for (int v = 0; v < 4; v++) {
            const int32x4_t start = neg_offsets(xs, v);
            for (int r = 0; r < R; r++) {
                const uint8_t *c = codes + r * cstride + (size_t)s * Q4_SB_BYTES;
                const uint16_t *d = scales + r * sstride + (size_t)s * Q4_SB_GROUPS + 4 * v;
                const int32x4_t dot = piece(start, c, xs, v);
                facc[r] = vfmaq_f32(facc[r], vcvtq_f32_s32(dot), load_scales(d));
            }
        }
    }
    for (int r = 0; r < R; r++) out[r] = vaddvq_f32(facc[r]);
}

static void tile_full(const uint8_t *codes, size_t cstride, const uint16_t *scales, size_t sstride,
                      size_t ahead, const int8_t *x, int nsb, float *out)
{
    (void)ahead;
    tile(codes, cstride, scales, sstride, x, nsb, TILE_ROWS, out);
}

static void tile_one(const uint8_t *codes, size_t cstride, const uint16_t *scales, size_t sstride,
                     size_t ahead, const int8_t *x, int nsb, float *out)
{
    (void)ahead;
    tile(codes, cstride, scales, sstride, x, nsb, 1, out);
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    q4_gemv_rows(packed, act, n, k, row0, row1, y, TILE_ROWS, tile_full, tile_one);
}

// out[i] = sum_g d_g dot_g of one weight row and the I prepared rows at x (row_bytes apart).
INLINE void gemm_row(const uint8_t *codes, const uint16_t *scales, const int8_t *x,
                     size_t row_bytes, int nsb, int I, float *out)
{
    const uint8x16_t nib = vdupq_n_u8(0x0f);
    float32x4_t facc[GEMM_ACT_ROWS];
    for (int i = 0; i < I; i++) facc[i] = vdupq_n_f32(0);
    for (int s = 0; s < nsb; s++) {
        const uint8_t *c = codes + (size_t)s * Q4_SB_BYTES;
        for (int v = 0; v < 4; v++) {
            int8x16_t cv[8];
            for (int u = 0; u < 4; u++) {
                const uint8x16_t w = vld1q_u8(c + 64 * u + 16 * v);
                cv[2 * u] = vreinterpretq_s8_u8(vandq_u8(w, nib));
                cv[2 * u + 1] = vreinterpretq_s8_u8(vshrq_n_u8(w, 4));
            }
            const float32x4_t d = load_scales(scales + (size_t)s * Q4_SB_GROUPS + 4 * v);
            for (int i = 0; i < I; i++) {
                const int8_t *xs = x + i * row_bytes + (size_t)s * Q4_ACT_SB;
                int32x4_t acc = neg_offsets(xs, v);
                for (int t = 0; t < 8; t++)
                    acc = vdotq_s32(acc, cv[t], vld1q_s8(xs + 64 * t + 16 * v));
                facc[i] = vfmaq_f32(facc[i], vcvtq_f32_s32(acc), d);
            }
        }
    }
    for (int i = 0; i < I; i++) out[i] = vaddvq_f32(facc[i]);
}

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    const int nsb = q4_sbs(k);
    const size_t row_bytes = (size_t)nsb * Q4_ACT_SB;
    const float *x_scale = q4_act_scale(act);
    float out[GEMM_ACT_ROWS];
    for (int j = row0; j < row1; j++) {
        const uint8_t *codes = q4_codes(packed, k, j);
        const uint16_t *scales = q4_scales(packed, n, k, j);
        for (int i0 = 0; i0 < m; i0 += GEMM_ACT_ROWS) {
            const int I = m - i0 < GEMM_ACT_ROWS ? m - i0 : GEMM_ACT_ROWS;
            const int8_t *x = q4_act_row(act, m, k, i0);
            switch (I) {
            case 4:
                gemm_row(codes, scales, x, row_bytes, nsb, 4, out);
                break;
            case 3:
                gemm_row(codes, scales, x, row_bytes, nsb, 3, out);
                break;
            case 2:
                gemm_row(codes, scales, x, row_bytes, nsb, 2, out);
                break;
            default:
                gemm_row(codes, scales, x, row_bytes, nsb, 1, out);
                break;
            }
            for (int i = 0; i < I; i++) y[(size_t)(i0 + i) * n + j] = out[i] * x_scale[i0 + i];
        }
    }
}

const tb_kernel tb_kernel_q4_neon_sdot = {
    .name = "q4_neon_sdot",
    .description = "4-bit weights, an f16 scale per 32 (output head), ARMv8.2 dotprod",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 3,
    Q4_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
