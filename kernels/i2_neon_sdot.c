// i2_neon_sdot: the i2 format (i2_layout.h) with the ARMv8.2 dot-product extension: vdotq_s32
// adds groups of four int8 x int8 products into int32 lanes. Compiled with
// -march=armv8.2-a+dotprod for this file only; dispatch calls it only when HWCAP_ASIMDDP is set.
//
// A block is four 16-byte chunks h. For a chunk v (signed dot, so every byte must stay <= 127):
//   v & 0x03         = c  of weights [ 64*0 + 16h, +16)    v4 = v >> 4
//   v & 0x0c         = 4c of weights [ 64*1 + 16h, +16)
//   v4 & 0x03        = c  of weights [ 64*2 + 16h, +16)
//   v4 & 0x0c        = 4c of weights [ 64*3 + 16h, +16)
// The 1x products go to accumulator lo, the 4x ones to hi; lo + (hi >> 2) is exact because hi
// holds exactly four times its true sums. Bytes are at most 8, so an int32 lane gains at most
// 4 * 8 * 128 per sdot, 8 sdots a block: 2^15, and 2^24 over the 512 blocks of TB_K_MAX.
//
// Tiles of TILE_ROWS rows share each activation load.
#include "i2_layout.h"

#include <arm_neon.h>

#define TILE_ROWS 4
#define INLINE    static inline __attribute__((always_inline))

// dots[r] = dot(codes of row r, x) for the R rows at w, w + stride, ... No software prefetch:
// not measured on ARM hardware yet, so `ahead` is not used.
INLINE void tile(const uint8_t *w, size_t stride, const int8_t *x, int kb, int R, int32_t *dots)
{
    const uint8x16_t m0 = vdupq_n_u8(0x03), m1 = vdupq_n_u8(0x0c);
    int32x4_t lo[TILE_ROWS], hi[TILE_ROWS];
    for (int r = 0; r < R; r++) lo[r] = hi[r] = vdupq_n_s32(0);
    for (int b = 0; b < kb; b++) {
        const int8_t *xb = x + (size_t)b * I2_BLOCK;
        for (int h = 0; h < 4; h++) {
            int8x16_t x0 = vld1q_s8(xb + 16 * h), x1 = vld1q_s8(xb + 64 + 16 * h);
            int8x16_t x2 = vld1q_s8(xb + 128 + 16 * h), x3 = vld1q_s8(xb + 192 + 16 * h);
            for (int r = 0; r < R; r++) {
                uint8x16_t v = vld1q_u8(w + r * stride + (size_t)b * I2_BLOCK_BYTES + 16 * h);
                uint8x16_t v4 = vshrq_n_u8(v, 4);
                lo[r] = vdotq_s32(lo[r], vreinterpretq_s8_u8(vandq_u8(v, m0)), x0);
                hi[r] = vdotq_s32(hi[r], vreinterpretq_s8_u8(vandq_u8(v, m1)), x1);
                lo[r] = vdotq_s32(lo[r], vreinterpretq_s8_u8(vandq_u8(v4, m0)), x2);
                hi[r] = vdotq_s32(hi[r], vreinterpretq_s8_u8(vandq_u8(v4, m1)), x3);
            }
        }
    }
    for (int r = 0; r < R; r++) dots[r] = vaddvq_s32(vaddq_s32(lo[r], vshrq_n_s32(hi[r], 2)));
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

const tb_kernel tb_kernel_i2_neon_sdot = {
    .name = "i2_neon_sdot",
    .description = "2-bit packed, ARMv8.2 dotprod vdotq_s32, 4-row tiles",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 4,
    I2_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
