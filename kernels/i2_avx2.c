// i2_avx2: the i2 format (i2_layout.h) with AVX2 vpmaddubsw (u8 x s8 -> saturating s16 pairs).
//
// A block is two 32-byte halves h; (half >> 2s) & 3 are the codes (0..2) of weights
// [64s + 32h, 64s + 32h + 32), lined up with one 32-byte activation load each.
//
// Overflow: vpmaddubsw adds two products c * x with c <= 2 and |x| <= 128, so a 16-bit lane
// gets at most 512 in magnitude from one instruction. One block adds 8 of them into the same
// int16 lane (4 shifts x 2 halves): at most 4096, far from saturation at 32767. After every
// block the int16 sums are widened with vpmaddwd into int32 accumulators. A lane then gains at
// most 8192 per block, < 2^23 over 512 blocks (TB_K_MAX), so int32 never overflows either.
#include "i2_layout.h"

#include <immintrin.h>

#define TILE_ROWS 4
#define INLINE    static inline __attribute__((always_inline))

// Sum over one block of (code * x) as 16 int16 pairs widened to 8 int32 lanes.
INLINE __m256i block_dot(const uint8_t *wb, const __m256i *xs)
{
    const __m256i m = _mm256_set1_epi8(3), ones = _mm256_set1_epi16(1);
    __m256i s16 = _mm256_setzero_si256();
    for (int h = 0; h < 2; h++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(wb + 32 * h));
        for (int s = 0; s < 4; s++) {
            __m256i c = _mm256_and_si256(_mm256_srli_epi16(v, 2 * s), m);
            s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(c, xs[2 * s + h]));
        }
    }
    return _mm256_madd_epi16(s16, ones);
}

INLINE int32_t hsum(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

// dots[r] = dot(codes of row r, x) for the R rows at w, w + stride, ...
INLINE void tile(const uint8_t *w, size_t stride, size_t ahead, const int8_t *x, int kb, int R,
                 int32_t *dots)
{
    __m256i acc[TILE_ROWS];
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_si256();
    for (int b = 0; b < kb; b++) {
        __m256i xs[8]; // xs[2s + h] = activations [64s + 32h, +32) of the block
        for (int q = 0; q < 8; q++)
            xs[q] = _mm256_load_si256((const __m256i *)(x + (size_t)b * I2_BLOCK + 32 * q));
        for (int r = 0; r < R; r++) {
            const uint8_t *wb = w + r * stride + (size_t)b * I2_BLOCK_BYTES;
            // Further along this row's stream (i2_layout.h): without a prefetch this kernel
            // read DRAM at 43 % of the streaming bandwidth.
            if (ahead) _mm_prefetch((const char *)(wb + ahead), _MM_HINT_T0);
            acc[r] = _mm256_add_epi32(acc[r], block_dot(wb, xs));
        }
    }
    for (int r = 0; r < R; r++) dots[r] = hsum(acc[r]);
}

I2_TILED_GEMM_GEMV(TILE_ROWS, tile)

const tb_kernel tb_kernel_i2_avx2 = {
    .name = "i2_avx2",
    .description = "2-bit packed, AVX2 vpmaddubsw, widened every block, 4-row tiles",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 3,
    I2_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
