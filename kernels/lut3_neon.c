// lut3_neon: the lut3 format (lut_layout.h) with NEON tbl lookups (ARMv8.0).
//
// A 32-byte chunk is two 16-byte halves (rows 0..15, rows 16..31). vqtbl1q_u8 looks up one
// group's low-byte or high-byte table for 16 rows; zipping low with high bytes rebuilds the
// int16 entries: zip1 -> rows 0..7 of the half, zip2 -> rows 8..15.
// Signs: the half's 16 sign bits of a group become a byte mask (vtst against 1, 2, 4, ..., 128),
// zipped with itself like the entries into 16-bit masks m; (v ^ m) - m negates the entries of
// negative triples.
// int16 sums are widened to int32 every LUT_BATCH_GROUPS groups (64 * 384 < 32767).
#include "lut_layout.h"

#include <arm_neon.h>

// acc[2h], acc[2h + 1] += entries of table t at the 16 indices idx (half h).
// Byte r of the result is 0xff if bit r of the 16 bits at p (little-endian) is set.
static inline uint8x16_t sign_mask(const uint8_t *p, uint8x16_t bits)
{
    return vtstq_u8(vcombine_u8(vdup_n_u8(p[0]), vdup_n_u8(p[1])), bits);
}

static inline int16x8_t negate_where(int16x8_t v, int16x8_t m)
{
    return vsubq_s16(veorq_s16(v, m), m);
}

#define LOOKUP_ADD(t, idx, h, mask)                                                                \
    do {                                                                                           \
        uint8x16_t lo = vqtbl1q_u8(vld1q_u8(t), idx), hi = vqtbl1q_u8(vld1q_u8((t) + 16), idx);    \
        int16x8_t m1 = vreinterpretq_s16_u8(vzip1q_u8(mask, mask));                                \
        int16x8_t m2 = vreinterpretq_s16_u8(vzip2q_u8(mask, mask));                                \
        acc[2 * (h)] =                                                                             \
            vaddq_s16(acc[2 * (h)], negate_where(vreinterpretq_s16_u8(vzip1q_u8(lo, hi)), m1));    \
        acc[2 * (h) + 1] = vaddq_s16(acc[2 * (h) + 1],                                             \
                                     negate_where(vreinterpretq_s16_u8(vzip2q_u8(lo, hi)), m2));   \
    } while (0)

// dots[0..31] of one tile of 32 rows.
static void tile32(const uint8_t *tile, const uint8_t *unused, const uint8_t *tables, int chunks,
                   int32_t *dots)
{
    (void)unused;
    const uint8x16_t low4 = vdupq_n_u8(0x0f);
    const uint8x16_t bits = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    int32x4_t sum[8]; // rows 4s .. 4s + 3
    for (int s = 0; s < 8; s++) sum[s] = vdupq_n_s32(0);
    for (int q0 = 0; q0 < chunks; q0 += LUT_BATCH_GROUPS / 2) {
        const int q1 = q0 + LUT_BATCH_GROUPS / 2 < chunks ? q0 + LUT_BATCH_GROUPS / 2 : chunks;
        int16x8_t acc[4]; // rows 8a .. 8a + 7
        for (int a = 0; a < 4; a++) acc[a] = vdupq_n_s16(0);
        for (int q = q0; q < q1; q++) {
            const uint8_t *t = tables + (size_t)(2 * q) * LUT_TABLE_BYTES;
            for (int h = 0; h < 2; h++) {
                const uint8_t *chunk = tile + (size_t)q * 40;
                uint8x16_t v = vld1q_u8(chunk + 16 * h);
                LOOKUP_ADD(t, vandq_u8(v, low4), h, sign_mask(chunk + 32 + 2 * h, bits));
                LOOKUP_ADD(t + LUT_TABLE_BYTES, vshrq_n_u8(v, 4), h,
                           sign_mask(chunk + 36 + 2 * h, bits));
            }
        }
        for (int a = 0; a < 4; a++) {
            sum[2 * a] = vaddw_s16(sum[2 * a], vget_low_s16(acc[a]));
            sum[2 * a + 1] = vaddw_high_s16(sum[2 * a + 1], acc[a]);
        }
    }
    for (int s = 0; s < 8; s++) vst1q_s32(dots + 4 * s, sum[s]);
}

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    lut_gemm_tiles(&lut3_format, packed, act, m, n, k, row0, row1, y, 0, tile32);
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    gemm(packed, act, 1, n, k, row0, row1, y);
}

const tb_kernel tb_kernel_lut3_neon = {
    .name = "lut3_neon",
    .description = "LUT of weight triples + sign, 1.67 bits/weight, NEON tbl over 32-row tiles",
    .isa = TB_KERNEL_ISA,
    .rank = 0,
    LUT3_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
