// i2_neon: the i2 format (i2_layout.h) with ARMv8.0 NEON, no dot-product extension.
//
// A block (64 bytes) is four 16-byte chunks h; (chunk >> 2s) & 3 are the codes (0..2) of the
// weights [64s + 16h, 64s + 16h + 16), lined up with one 16-byte activation load each.
// vmlal_s8 multiplies 8 code bytes by 8 activations and adds the products into int16 lanes.
//
// Overflow: a product is at most 2 * 128 = 256 in magnitude; within one block a lane of a row's
// int16 accumulator takes one product per (h, s): 16 products, at most 4096, far from 32767.
// After every block vpadalq_s16 widens it into int32 (pairwise add, so an int32 lane gains at
// most 8192 a block: < 2^23 over the 512 blocks of TB_K_MAX).
//
// Tiles of TILE_ROWS rows share each activation load.
#include "i2_layout.h"

#include <arm_neon.h>

#define TILE_ROWS 4
#define INLINE    static inline __attribute__((always_inline))

// acc16 += codes (v >> shift) & 3 times the 16 activations x.
#define MLAL_CODES(acc_lo, acc_hi, v, shift, x)                                                    \
    do {                                                                                           \
        int8x16_t c = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v, shift), three));                  \
        acc_lo = vmlal_s8(acc_lo, vget_low_s8(c), vget_low_s8(x));                                 \
        acc_hi = vmlal_high_s8(acc_hi, c, x);                                                      \
    } while (0)

// dots[r] = dot(codes of row r, x) for the R rows at w, w + stride, ... No software prefetch:
// not measured on ARM hardware yet, so `ahead` is not used.
INLINE void tile(const uint8_t *w, size_t stride, const int8_t *x, int kb, int R, int32_t *dots)
{
    const uint8x16_t three = vdupq_n_u8(3);
    int32x4_t acc[TILE_ROWS];
    int16x8_t lo[TILE_ROWS], hi[TILE_ROWS]; // this block's int16 sums
    for (int r = 0; r < R; r++) acc[r] = vdupq_n_s32(0);
    for (int b = 0; b < kb; b++) {
        for (int r = 0; r < R; r++) lo[r] = hi[r] = vdupq_n_s16(0);
        const int8_t *xb = x + (size_t)b * I2_BLOCK;
        for (int h = 0; h < 4; h++) {
            int8x16_t x0 = vld1q_s8(xb + 16 * h), x1 = vld1q_s8(xb + 64 + 16 * h);
            int8x16_t x2 = vld1q_s8(xb + 128 + 16 * h), x3 = vld1q_s8(xb + 192 + 16 * h);
            for (int r = 0; r < R; r++) {
                uint8x16_t v = vld1q_u8(w + r * stride + (size_t)b * I2_BLOCK_BYTES + 16 * h);
                int8x16_t c0 = vreinterpretq_s8_u8(vandq_u8(v, three));
                lo[r] = vmlal_s8(lo[r], vget_low_s8(c0), vget_low_s8(x0));
                hi[r] = vmlal_high_s8(hi[r], c0, x0);
                MLAL_CODES(lo[r], hi[r], v, 2, x1);
                MLAL_CODES(lo[r], hi[r], v, 4, x2);
                MLAL_CODES(lo[r], hi[r], v, 6, x3);
            }
        }
        for (int r = 0; r < R; r++) acc[r] = vpadalq_s16(vpadalq_s16(acc[r], lo[r]), hi[r]);
    }
    for (int r = 0; r < R; r++) dots[r] = vaddvq_s32(acc[r]);
}

static void tile_full(const uint8_t *w, size_t stride, size_t ahead, const int8_t *x, int kb,
                      int32_t *dots)
{
    (void)ahead;
    tile(w, stride, x, kb, TILE_ROWS, dots);
}

static void tile_one(const uint8_t *w, size_t stride, size_t ahead, const int8_t *x, int kb,
                     int32_t *dots)
{
    (void)ahead;
    tile(w, stride, x, kb, 1, dots);
}

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    i2_gemm_rows(packed, act, m, n, k, row0, row1, y, TILE_ROWS, tile_full, tile_one);
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    gemm(packed, act, 1, n, k, row0, row1, y);
}

const tb_kernel tb_kernel_i2_neon = {
    .name = "i2_neon",
    .description = "2-bit packed, ARMv8.0 NEON vmlal_s8, widened every block, 4-row tiles",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 3,
    I2_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
