// q4_neon: the q4 format (q4_layout.h) with plain ARMv8.0 NEON. A 16-byte piece v (0..3) of a
// 64-byte vector holds int32 lanes 4v .. 4v+3, the groups 4v .. 4v+3. Per piece, vmlal_s8 and
// vmlal_high_s8 add code * x (codes 0..15 from & 0x0f and >> 4 of the piece of each chunk) into
// two int16x8 accumulators over the 8 vectors of a superblock; vpaddq_s16 then vpaddlq_s16 add
// neighbouring bytes in fours: lane g = dot(c, x) of group g. Minus the prepared offsets o_g
// that is dot_g; then vcvtq_f32_s32 and one vfmaq_f32 with the 4 group scales (vcvt_f32_f16).
//
// Bounds: |code * x| <= 15 * 128 = 1920, an int16 lane adds 8 of them (one per vector): 15360,
// and vpaddq_s16 adds two such lanes: 30720 < 32767. No overflow anywhere; |dot_g| <= 2^15.
//
// GEMV: TILE_ROWS rows as sequential streams (q4_gemv_rows), sharing the activation pieces; no
// software prefetch (not measured on ARM hardware yet). GEMM: each weight row against
// GEMM_ACT_ROWS activation rows at a time, the unpacked codes reused.
#include "q4_layout.h"

#include <arm_neon.h>

#define TILE_ROWS     4
#define GEMM_ACT_ROWS 4
#define INLINE        static inline __attribute__((always_inline))

INLINE float32x4_t load_scales(const uint16_t *p)
{
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}

// dot(c, x) of the 4 groups of piece v, from the 8 unpacked code pieces cv and activations xs.
INLINE int32x4_t piece_dot(const int8x16_t *cv, const int8_t *xs, int v)
{
    int16x8_t lo = vdupq_n_s16(0), hi = lo;
    for (int t = 0; t < 8; t++) {
        const int8x16_t xv = vld1q_s8(xs + 64 * t + 16 * v);
        lo = vmlal_s8(lo, vget_low_s8(cv[t]), vget_low_s8(xv));
        hi = vmlal_high_s8(hi, cv[t], xv);
    }
    return vpaddlq_s16(vpaddq_s16(lo, hi));
}

INLINE void unpack(const uint8_t *c, int v, int8x16_t *cv)
{
    const uint8x16_t nib = vdupq_n_u8(0x0f);
    for (int u = 0; u < 4; u++) {
        const uint8x16_t w = vld1q_u8(c + 64 * u + 16 * v);
        cv[2 * u] = vreinterpretq_s8_u8(vandq_u8(w, nib));
        cv[2 * u + 1] = vreinterpretq_s8_u8(vshrq_n_u8(w, 4));
    }
}

INLINE int32x4_t offsets(const int8_t *xs, int v)
{
    return vld1q_s32((const int32_t *)(xs + Q4_SB) + 4 * v);
}

INLINE void tile(const uint8_t *codes, size_t cstride, const uint16_t *scales, size_t sstride,
                 const int8_t *x, int nsb, int R, float *out)
{
    float32x4_t facc[TILE_ROWS];
    for (int r = 0; r < R; r++) facc[r] = vdupq_n_f32(0);
    for (int s = 0; s < nsb; s++) {
        const int8_t *xs = x + (size_t)s * Q4_ACT_SB;
        for (int v = 0; v < 4; v++) {
            const int32x4_t off = offsets(xs, v);
            for (int r = 0; r < R; r++) {
                int8x16_t cv[8];
                unpack(codes + r * cstride + (size_t)s * Q4_SB_BYTES, v, cv);
                const int32x4_t dot = vsubq_s32(piece_dot(cv, xs, v), off);
                const uint16_t *d = scales + r * sstride + (size_t)s * Q4_SB_GROUPS + 4 * v;
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

INLINE void gemm_row(const uint8_t *codes, const uint16_t *scales, const int8_t *x,
                     size_t row_bytes, int nsb, int I, float *out)
{
    float32x4_t facc[GEMM_ACT_ROWS];
    for (int i = 0; i < I; i++) facc[i] = vdupq_n_f32(0);
    for (int s = 0; s < nsb; s++) {
        for (int v = 0; v < 4; v++) {
            int8x16_t cv[8];
            unpack(codes + (size_t)s * Q4_SB_BYTES, v, cv);
            const float32x4_t d = load_scales(scales + (size_t)s * Q4_SB_GROUPS + 4 * v);
            for (int i = 0; i < I; i++) {
                const int8_t *xs = x + i * row_bytes + (size_t)s * Q4_ACT_SB;
                const int32x4_t dot = vsubq_s32(piece_dot(cv, xs, v), offsets(xs, v));
                facc[i] = vfmaq_f32(facc[i], vcvtq_f32_s32(dot), d);
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

const tb_kernel tb_kernel_q4_neon = {
    .name = "q4_neon",
    .description = "4-bit weights, an f16 scale per 32 (output head), NEON smlal",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 2,
    Q4_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
