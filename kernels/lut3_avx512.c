// lut3_avx512: the lut3 format (lut_layout.h) with 512-bit vpshufb (AVX-512BW).
//
// Two tiles (64 rows) are processed together: chunk q of tile t fills the low 256 bits and
// chunk q of tile t + 1 the high 256 bits, so all four 128-bit lanes use the same group table
// (broadcast once) and one vpshufb looks up 64 rows. An odd last tile runs with a zero upper
// half. Row order after unpacking, per 128-bit lane L (rows of the lane's 16 bytes):
//   unpacklo -> rows 16L + 0..7, unpackhi -> rows 16L + 8..15  (64-row numbering)
// Signs: the two tiles' 32-bit sign words of a group form one 64-bit mask, bit b for byte b of
// the vector; vpmovm2b turns it into a byte mask M, unpacked like the entries into 16-bit
// masks m, and (v ^ m) - m negates exactly the entries of negative triples.
// int16 sums are widened to int32 every LUT_BATCH_GROUPS groups (64 * 384 < 32767).
#include "lut_layout.h"

#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))

INLINE __m512i bcast16(const uint8_t *p)
{
    return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)p));
}

INLINE uint32_t load32(const uint8_t *p)
{
    uint32_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

#define LOOKUP_ADD(t, idx, signs)                                                                  \
    do {                                                                                           \
        __m512i lo = _mm512_shuffle_epi8(bcast16(t), idx);                                         \
        __m512i hi = _mm512_shuffle_epi8(bcast16((t) + 16), idx);                                  \
        __m512i mb = _mm512_movm_epi8(signs);                                                      \
        __m512i ml = _mm512_unpacklo_epi8(mb, mb), mh = _mm512_unpackhi_epi8(mb, mb);              \
        __m512i vl = _mm512_unpacklo_epi8(lo, hi), vh = _mm512_unpackhi_epi8(lo, hi);              \
        a = _mm512_add_epi16(a, _mm512_sub_epi16(_mm512_xor_si512(vl, ml), ml));                   \
        b = _mm512_add_epi16(b, _mm512_sub_epi16(_mm512_xor_si512(vh, mh), mh));                   \
    } while (0)

// dots[0..63] of tiles t0 and t1 (t1 may be NULL: its rows come out 0).
static void tile64(const uint8_t *t0, const uint8_t *t1, const uint8_t *tables, int chunks,
                   int32_t *dots)
{
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    __m512i ra = _mm512_setzero_si512(), rb = ra, rc = ra, rd = ra; // int32 sums
    for (int q0 = 0; q0 < chunks; q0 += LUT_BATCH_GROUPS / 2) {
        const int q1 = q0 + LUT_BATCH_GROUPS / 2 < chunks ? q0 + LUT_BATCH_GROUPS / 2 : chunks;
        __m512i a = _mm512_setzero_si512(), b = a;
        for (int q = q0; q < q1; q++) {
            const uint8_t *c0 = t0 + (size_t)q * 40, *c1 = t1 ? t1 + (size_t)q * 40 : NULL;
            __m256i lo_tile = _mm256_loadu_si256((const __m256i *)c0);
            __m256i hi_tile = c1 ? _mm256_loadu_si256((const __m256i *)c1)
                                 : _mm256_setzero_si256(); // index 0 = (0, 0, 0): entry 0
            const __mmask64 s0 = load32(c0 + 32) | (c1 ? (uint64_t)load32(c1 + 32) << 32 : 0);
            const __mmask64 s1 = load32(c0 + 36) | (c1 ? (uint64_t)load32(c1 + 36) << 32 : 0);
            const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(lo_tile), hi_tile, 1);
            const __m512i i0 = _mm512_and_si512(v, low4);
            const __m512i i1 = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
            const uint8_t *t = tables + (size_t)(2 * q) * LUT_TABLE_BYTES;
            LOOKUP_ADD(t, i0, s0);
            LOOKUP_ADD(t + LUT_TABLE_BYTES, i1, s1);
        }
        // a: lanes L = 0..3 hold rows 16L + 0..7; b: rows 16L + 8..15.
        ra = _mm512_add_epi32(ra, _mm512_cvtepi16_epi32(_mm512_castsi512_si256(a)));
        rb = _mm512_add_epi32(rb, _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(a, 1)));
        rc = _mm512_add_epi32(rc, _mm512_cvtepi16_epi32(_mm512_castsi512_si256(b)));
        rd = _mm512_add_epi32(rd, _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(b, 1)));
    }
    // ra = rows 0..7, 16..23; rb = 32..39, 48..55; rc = 8..15, 24..31; rd = 40..47, 56..63.
    int32_t tmp[4][16];
    _mm512_storeu_si512(tmp[0], ra);
    _mm512_storeu_si512(tmp[1], rb);
    _mm512_storeu_si512(tmp[2], rc);
    _mm512_storeu_si512(tmp[3], rd);
    for (int e = 0; e < 8; e++) {
        dots[e] = tmp[0][e], dots[16 + e] = tmp[0][8 + e];
        dots[32 + e] = tmp[1][e], dots[48 + e] = tmp[1][8 + e];
        dots[8 + e] = tmp[2][e], dots[24 + e] = tmp[2][8 + e];
        dots[40 + e] = tmp[3][e], dots[56 + e] = tmp[3][8 + e];
    }
}

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    lut_gemm_tiles(&lut3_format, packed, act, m, n, k, row0, row1, y, 1, tile64);
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    gemm(packed, act, 1, n, k, row0, row1, y);
}

const tb_kernel tb_kernel_lut3_avx512 = {
    .name = "lut3_avx512",
    .description = "LUT of weight triples + sign, 1.67 bits/weight, AVX-512BW vpshufb over 64 rows",
    .isa = TB_KERNEL_ISA,
    .rank = 0,
    LUT3_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
