// lut3_avx2: the lut3 format (lut_layout.h) with AVX2 vpshufb lookups.
//
// As lut2_avx2 (one vpshufb looks up one group's low or high table bytes for 32 rows), plus the
// sign bits: the chunk's 32-bit sign word of a group becomes a byte mask M (0xff where the row's
// triple is negative); unpacking (M | 1) with M gives 16-bit words 0xffff or 0x0001 in the same
// row order as the entries, and vpsignw negates exactly the entries whose word is negative.
// int16 sums are widened to int32 every LUT_BATCH_GROUPS groups (64 * 384 < 32767).
#include "lut_layout.h"

#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))

INLINE __m256i bcast16(const uint8_t *p)
{
    return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p));
}

// Byte r of the result is 0xff if bit r of the little-endian 32-bit word at p is set.
INLINE __m256i sign_mask(const uint8_t *p, __m256i spread, __m256i bit)
{
    uint32_t w;
    memcpy(&w, p, sizeof w);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)w), spread);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

#define LOOKUP_ADD(t, idx, mask)                                                                   \
    do {                                                                                           \
        __m256i lo = _mm256_shuffle_epi8(bcast16(t), idx);                                         \
        __m256i hi = _mm256_shuffle_epi8(bcast16((t) + 16), idx);                                  \
        __m256i m1 = _mm256_or_si256(mask, one);                                                   \
        a = _mm256_add_epi16(                                                                      \
            a, _mm256_sign_epi16(_mm256_unpacklo_epi8(lo, hi), _mm256_unpacklo_epi8(m1, mask)));   \
        b = _mm256_add_epi16(                                                                      \
            b, _mm256_sign_epi16(_mm256_unpackhi_epi8(lo, hi), _mm256_unpackhi_epi8(m1, mask)));   \
    } while (0)

static void tile32(const uint8_t *tile, const uint8_t *unused, const uint8_t *tables, int chunks,
                   int32_t *dots)
{
    (void)unused;
    const __m256i low4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
    // Byte r takes byte r / 8 of the sign word, then tests bit r % 8.
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2,
                                            2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    __m256i r0 = _mm256_setzero_si256(), r16 = r0, r8 = r0, r24 = r0;
    for (int q0 = 0; q0 < chunks; q0 += LUT_BATCH_GROUPS / 2) {
        const int q1 = q0 + LUT_BATCH_GROUPS / 2 < chunks ? q0 + LUT_BATCH_GROUPS / 2 : chunks;
        __m256i a = _mm256_setzero_si256(), b = a;
        for (int q = q0; q < q1; q++) {
            const uint8_t *chunk = tile + (size_t)q * 40;
            const __m256i v = _mm256_loadu_si256((const __m256i *)chunk);
            const __m256i i0 = _mm256_and_si256(v, low4);
            const __m256i i1 = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
            const __m256i s0 = sign_mask(chunk + 32, spread, bit);
            const __m256i s1 = sign_mask(chunk + 36, spread, bit);
            const uint8_t *t = tables + (size_t)(2 * q) * LUT_TABLE_BYTES;
            LOOKUP_ADD(t, i0, s0);
            LOOKUP_ADD(t + LUT_TABLE_BYTES, i1, s1);
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
    lut_gemm_tiles(&lut3_format, packed, act, m, n, k, row0, row1, y, 0, tile32);
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    gemm(packed, act, 1, n, k, row0, row1, y);
}

const tb_kernel tb_kernel_lut3_avx2 = {
    .name = "lut3_avx2",
    .description = "LUT of weight triples + sign, 1.67 bits/weight, AVX2 vpshufb/vpsignw",
    .isa = TB_KERNEL_ISA,
    .rank = 0,
    LUT3_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
