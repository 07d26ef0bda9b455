// q4_avx2: the q4 format (q4_layout.h) with AVX2 vpmaddubsw (u8 x s8 -> saturating s16 pairs).
//
// A chunk of 64 code bytes is two 32-byte halves h; & 0x0f and (>> 4) & 0x0f of half h are the
// bytes [32h, 32h + 32) of vectors 2u and 2u+1, whose 8 int32 lanes are groups 8h .. 8h+7.
// vpmaddubsw multiplies the unsigned codes by the prepared activations into int16 pair sums;
// the 8 of a superblock half are added in int16, then vpmaddwd with ones adds pairs of pairs:
// lane g = dot(c, x) of group g. Minus the prepared offsets o_g that is dot_g = dot(q, x); then
// vcvtdq2ps and one FMA with the 8 group scales (vcvtph2ps) into the row's float accumulator.
//
// Bounds: a code is at most 15 and |x| <= 128, so a pair is at most 2 * 15 * 128 = 3840 in
// magnitude (vpmaddubsw cannot saturate) and the 8 pairs added into one int16 lane at most
// 30720 < 32767; lanes after vpmaddwd hold |dot(c, x)| <= 2^16, exact in float after the offset.
//
// GEMV: TILE_ROWS = 4 rows as sequential streams (q4_gemv_rows), prefetched like
// q4_avx512vnni; activations are read from memory by vpmaddubsw (L1). GEMM: each half chunk is
// unpacked once for GEMM_ACT_ROWS activation rows.
#include "q4_layout.h"

#include <immintrin.h>

#define TILE_ROWS     4
#define GEMM_ACT_ROWS 4
#define INLINE        static inline __attribute__((always_inline))

INLINE __m256 load_scales(const uint16_t *p)
{
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

INLINE __m256i load_x(const int8_t *p)
{
    return _mm256_load_si256((const __m256i *)p);
}

// facc + sum over the 16 groups of a superblock of d_g dot_g (8 lanes; groups g and g + 8 share
// a lane). c: the superblock's codes, xs: its prepared activations, d: its 16 scales.
INLINE __m256 superblock(__m256 facc, const uint8_t *c, const int8_t *xs, const uint16_t *d)
{
    const __m256i nib = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
    for (int h = 0; h < 2; h++) {
        __m256i s16 = _mm256_setzero_si256();
        for (int u = 0; u < 4; u++) {
            const __m256i v = _mm256_load_si256((const __m256i *)(c + 64 * u + 32 * h));
            const __m256i lo = _mm256_and_si256(v, nib);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
            s16 =
                _mm256_add_epi16(s16, _mm256_maddubs_epi16(lo, load_x(xs + 64 * (2 * u) + 32 * h)));
            s16 = _mm256_add_epi16(
                s16, _mm256_maddubs_epi16(hi, load_x(xs + 64 * (2 * u + 1) + 32 * h)));
        }
        const __m256i dot = _mm256_sub_epi32(_mm256_madd_epi16(s16, ones),
                                             load_x(xs + Q4_SB + 32 * h)); // offsets o_g
        facc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), load_scales(d + 8 * h), facc);
    }
    return facc;
}

INLINE float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

INLINE void tile(const uint8_t *codes, size_t cstride, const uint16_t *scales, size_t sstride,
                 size_t ahead, const int8_t *x, int nsb, int R, float *out)
{
    __m256 facc[TILE_ROWS];
    for (int r = 0; r < R; r++) facc[r] = _mm256_setzero_ps();
    for (int s = 0; s < nsb; s++) {
        const int8_t *xs = x + (size_t)s * Q4_ACT_SB;
        for (int r = 0; r < R; r++) {
            const uint8_t *c = codes + r * cstride + (size_t)s * Q4_SB_BYTES;
            const uint16_t *d = scales + r * sstride + (size_t)s * Q4_SB_GROUPS;
            if (ahead) {
                for (int u = 0; u < 4; u++)
                    _mm_prefetch((const char *)c + 64 * u + ahead, _MM_HINT_T0);
                _mm_prefetch((const char *)d + ahead / 8, _MM_HINT_T0);
            }
            facc[r] = superblock(facc[r], c, xs, d);
        }
    }
    for (int r = 0; r < R; r++) out[r] = hsum(facc[r]);
}

static void tile_full(const uint8_t *codes, size_t cstride, const uint16_t *scales, size_t sstride,
                      size_t ahead, const int8_t *x, int nsb, float *out)
{
    tile(codes, cstride, scales, sstride, ahead, x, nsb, TILE_ROWS, out);
}

static void tile_one(const uint8_t *codes, size_t cstride, const uint16_t *scales, size_t sstride,
                     size_t ahead, const int8_t *x, int nsb, float *out)
{
    tile(codes, cstride, scales, sstride, ahead, x, nsb, 1, out);
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    q4_gemv_rows(packed, act, n, k, row0, row1, y, TILE_ROWS, tile_full, tile_one);
}

// out[i] = sum_g d_g dot_g of one weight row and the I prepared rows at x (row_bytes apart).
INLINE void gemm_row(const uint8_t *codes, const uint16_t *scales, const int8_t *x,
                     size_t row_bytes, int nsb, int I, float *out)
{
    const __m256i nib = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
    __m256 facc[GEMM_ACT_ROWS];
    for (int i = 0; i < I; i++) facc[i] = _mm256_setzero_ps();
    for (int s = 0; s < nsb; s++) {
        const uint8_t *c = codes + (size_t)s * Q4_SB_BYTES;
        for (int h = 0; h < 2; h++) {
            __m256i s16[GEMM_ACT_ROWS];
            for (int i = 0; i < I; i++) s16[i] = _mm256_setzero_si256();
            for (int u = 0; u < 4; u++) {
                const __m256i v = _mm256_load_si256((const __m256i *)(c + 64 * u + 32 * h));
                const __m256i lo = _mm256_and_si256(v, nib);
                const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
                for (int i = 0; i < I; i++) {
                    const int8_t *xs = x + i * row_bytes + (size_t)s * Q4_ACT_SB;
                    s16[i] = _mm256_add_epi16(
                        s16[i], _mm256_maddubs_epi16(lo, load_x(xs + 64 * (2 * u) + 32 * h)));
                    s16[i] = _mm256_add_epi16(
                        s16[i], _mm256_maddubs_epi16(hi, load_x(xs + 64 * (2 * u + 1) + 32 * h)));
                }
            }
            const __m256 d = load_scales(scales + (size_t)s * Q4_SB_GROUPS + 8 * h);
            for (int i = 0; i < I; i++) {
                const int8_t *xs = x + i * row_bytes + (size_t)s * Q4_ACT_SB;
                const __m256i dot =
                    _mm256_sub_epi32(_mm256_madd_epi16(s16[i], ones), load_x(xs + Q4_SB + 32 * h));
                facc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), d, facc[i]);
            }
        }
    }
    for (int i = 0; i < I; i++) out[i] = hsum(facc[i]);
}

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    assert(((uintptr_t)packed | (uintptr_t)act) % TB_ALIGN == 0);
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

const tb_kernel tb_kernel_q4_avx2 = {
    .name = "q4_avx2",
    .description = "4-bit weights, an f16 scale per 32 (output head), AVX2 vpmaddubsw",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 2,
    Q4_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
