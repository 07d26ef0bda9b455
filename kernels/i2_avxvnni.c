// i2_avxvnni: the i2 format (i2_layout.h) with 256-bit AVX-VNNI vpdpbusd (u8 x s8 -> s32), the
// VEX encoding on cores that have VNNI without AVX-512 (Alder Lake, Raptor Lake: the i7-13700H
// of the bitnet.cpp paper).
//
// A block is two 32-byte halves h; with v one half and v4 = v >> 4 (16-bit shift; the masks drop
// the bits that cross bytes):
//   v & 0x03  = c of weights  [      32h,       32h + 32)
//   v & 0x0c  = 4c of weights [ 64 + 32h,  64 + 32h + 32)
//   v4 & 0x03 = c of weights  [128 + 32h, 128 + 32h + 32)
//   v4 & 0x0c = 4c of weights [192 + 32h, 192 + 32h + 32)
// each lined up with one 32-byte activation load. As in i2_avx512vnni, a row has two
// accumulators, lo for the 1x products and hi for the 4x ones, and lo + (hi >> 2) is exact since
// hi holds exactly four times its true sums: 1 shift + 4 ands + 4 vpdpbusd per half, no
// widening step (vpdpbusd sums into int32 directly).
//
// Bounds: the unsigned operand is at most 8 (code 2 under mask 0x0c) and an activation at least
// -128, so one vpdpbusd adds at most 4 * 8 * 128 = 2^12 to a lane; an accumulator takes four of
// them per block: 2^14. Over 512 blocks (TB_K_MAX) that is 2^23, far below 2^31. (The
// non-saturating vpdpbusd is used; vpdpbusds would saturate.)
//
// Without AVX-512 there are 16 ymm registers: a tile of 4 rows keeps 8 accumulators and 2 masks
// in them, and reads the activations straight from memory (vpdpbusd takes a memory operand).
#include "i2_layout.h"

#include <immintrin.h>

#define TILE_ROWS 4
#define INLINE    static inline __attribute__((always_inline))

INLINE __m256i load_x(const int8_t *x, int q)
{
    return _mm256_load_si256((const __m256i *)(x + 32 * q));
}

INLINE int32_t row_total(__m256i lo, __m256i hi)
{
    __m256i v = _mm256_add_epi32(lo, _mm256_srai_epi32(hi, 2));
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

// dots[r] = dot(codes of row r, x) for the R rows at w, w + stride, ...
INLINE void tile(const uint8_t *w, size_t stride, size_t ahead, const int8_t *x, int kb, int R,
                 int32_t *dots)
{
    const __m256i m0 = _mm256_set1_epi8(0x03), m1 = _mm256_set1_epi8(0x0c);
    __m256i lo[TILE_ROWS], hi[TILE_ROWS];
    for (int r = 0; r < R; r++) lo[r] = hi[r] = _mm256_setzero_si256();
    for (int b = 0; b < kb; b++) {
        const int8_t *xb = x + (size_t)b * I2_BLOCK; // 8 loads: activations [32q, 32q + 32)
        for (int r = 0; r < R; r++) {
            const uint8_t *wb = w + r * stride + (size_t)b * I2_BLOCK_BYTES;
            // Further along this row's stream (i2_layout.h).
            if (ahead) _mm_prefetch((const char *)(wb + ahead), _MM_HINT_T0);
            for (int h = 0; h < 2; h++) {
                __m256i v = _mm256_loadu_si256((const __m256i *)(wb + 32 * h));
                __m256i v4 = _mm256_srli_epi16(v, 4);
                lo[r] = _mm256_dpbusd_avx_epi32(lo[r], _mm256_and_si256(v, m0), load_x(xb, h));
                hi[r] = _mm256_dpbusd_avx_epi32(hi[r], _mm256_and_si256(v, m1), load_x(xb, 2 + h));
                lo[r] = _mm256_dpbusd_avx_epi32(lo[r], _mm256_and_si256(v4, m0), load_x(xb, 4 + h));
                hi[r] = _mm256_dpbusd_avx_epi32(hi[r], _mm256_and_si256(v4, m1), load_x(xb, 6 + h));
            }
        }
    }
    for (int r = 0; r < R; r++) dots[r] = row_total(lo[r], hi[r]);
}

I2_TILED_GEMM_GEMV(TILE_ROWS, tile)

const tb_kernel tb_kernel_i2_avxvnni = {
    .name = "i2_avxvnni",
    .description = "2-bit packed, 256-bit AVX-VNNI vpdpbusd, 4-row tiles",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 4,
    I2_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
