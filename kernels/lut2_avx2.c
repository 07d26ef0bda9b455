// lut2_avx2: the lut2 format (lut_layout.h) with AVX2 vpshufb lookups.
//
// One 32-byte chunk holds the indices of 32 rows for two groups (low / high nibbles). The
// group's 16-byte low-byte and high-byte tables are broadcast to both 128-bit lanes, so one
// vpshufb looks up 32 rows at once; unpacking low with high bytes rebuilds the int16 entries:
//   unpacklo -> rows 0..7 | 16..23,   unpackhi -> rows 8..15 | 24..31   (per 128-bit lane)
// int16 sums are widened to int32 every LUT_BATCH_GROUPS groups (64 * 256 < 32767).
#include "lut_layout.h"

#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))

INLINE __m256i bcast16(const uint8_t *p)
{
    return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p));
}

// Adds group table t looked up at indices idx (32 rows) into the int16 sums a, b.
#define LOOKUP_ADD(t, idx)                                                                         \
    do {                                                                                           \
        __m256i lo = _mm256_shuffle_epi8(bcast16(t), idx);                                         \
        __m256i hi = _mm256_shuffle_epi8(bcast16((t) + 16), idx);                                  \
        a = _mm256_add_epi16(a, _mm256_unpacklo_epi8(lo, hi));                                     \
        b = _mm256_add_epi16(b, _mm256_unpackhi_epi8(lo, hi));                                     \
    } while (0)

// dots[0..31] of one tile of 32 rows against one activation row's tables.
static void tile32(const uint8_t *tile, const uint8_t *unused, const uint8_t *tables, int chunks,
                   int32_t *dots)
{
    (void)unused;
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    __m256i r0 = _mm256_setzero_si256(), r16 = r0, r8 = r0, r24 = r0; // int32, rows r.. r+7
    for (int q0 = 0; q0 < chunks; q0 += LUT_BATCH_GROUPS / 2) {
        const int q1 = q0 + LUT_BATCH_GROUPS / 2 < chunks ? q0 + LUT_BATCH_GROUPS / 2 : chunks;
        __m256i a = _mm256_setzero_si256(), b = a;
        for (int q = q0; q < q1; q++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(tile + (size_t)q * 32));
            const __m256i i0 = _mm256_and_si256(v, low4);
            const __m256i i1 = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
            const uint8_t *t = tables + (size_t)(2 * q) * LUT_TABLE_BYTES;
            LOOKUP_ADD(t, i0);
            LOOKUP_ADD(t + LUT_TABLE_BYTES, i1);
        }
        r0 = _mm256_add_epi32(r0, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(a)));
        r16 = _mm256_add_epi32(r16, _mm256_cvtepi16_epi32(_mm256_extracti128_si256(a, 1)));
        r8 = _mm256_add_epi32(r8, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(b)));
        r24 = _mm256_add_epi32(r24, _mm256_cvtepi16_epi32(_mm256_extracti128_si256(b, 1)));
    }
    _mm256_storeu_si256((__m256i *)(dots + 0), r0);
    _mm256_storeu_si256((__m256i *)(dots + 8), r8);
    _mm256_storeu_si256((__m256i *)(dots + 16), r16);
    _mm256_storeu_si256((__m256i *)(dots + 24), r24);
}

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    lut_gemm_tiles(&lut2_format, packed, act, m, n, k, row0, row1, y, 0, tile32);
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    gemm(packed, act, 1, n, k, row0, row1, y);
}

const tb_kernel tb_kernel_lut2_avx2 = {
    .name = "lut2_avx2",
    .description = "LUT of weight pairs, 2 bits/weight, AVX2 vpshufb over 32-row tiles",
    .isa = TB_KERNEL_ISA,
    .rank = 0,
    LUT2_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
