// q4_avx512vnni: the q4 format (q4_layout.h) with AVX-512 VNNI vpdpbusd (u8 x s8 -> s32).
//
// A superblock of a row is 4 loads of 64 bytes (chunks u); v & 0x0f and (v >> 4) & 0x0f are
// vectors 2u and 2u+1, whose int32 lanes are the 16 groups. vpdpbusd multiplies the unsigned
// codes by the prepared (permuted) activations of the same vectors, so after 8 of them lane g
// holds dot(c, x) of group g; the accumulator starts at -o_g (the prepared offsets, shared by
// the rows of a tile), which leaves dot_g = dot(q, x). Then one vcvtdq2ps and one FMA with the
// 16 group scales (vcvtph2ps) into a float accumulator per row; its 16 lanes are added at the
// end (q4_layout.h: the arithmetic of error_bound).
//
// Bounds: a code is at most 15 and |x| <= 128, so one vpdpbusd adds at most 4 * 15 * 128 = 7680
// to a lane; 8 a superblock plus |o_g| <= 8 * 32 * 128 stays below 2^17: the non-saturating
// vpdpbusd never comes near overflow, and |dot_g| <= 2^15 converts to float exactly.
//
// GEMV: TILE_ROWS = 8 rows as sequential streams (q4_gemv_rows) share the 8 activation
// vectors of a superblock; each row prefetches its codes `ahead` bytes further along and its
// scales ahead / 8 bytes further (they advance 32 bytes per 256 of codes).
// GEMM: the 8 code vectors of a superblock are unpacked once and used for GEMM_ACT_ROWS
// activation rows.
#include "q4_layout.h"

#include <immintrin.h>

#define TILE_ROWS     8
#define GEMM_ACT_ROWS 4
#define INLINE        static inline __attribute__((always_inline))

INLINE __m512 load_scales(const uint16_t *p)
{
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

// out[r] = sum_g d_g dot_g for the R rows at codes + r * cstride, scales + r * sstride.
INLINE void tile(const uint8_t *codes, size_t cstride, const uint16_t *scales, size_t sstride,
                 size_t ahead, const int8_t *x, int nsb, int R, float *out)
{
    const __m512i nib = _mm512_set1_epi8(0x0f);
    __m512 facc[TILE_ROWS];
    for (int r = 0; r < R; r++) facc[r] = _mm512_setzero_ps();
    for (int s = 0; s < nsb; s++) {
        const int8_t *xs = x + (size_t)s * Q4_ACT_SB;
        __m512i xv[8];
        for (int t = 0; t < 8; t++) xv[t] = _mm512_load_si512(xs + 64 * t);
        const __m512i start =
            _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_load_si512(xs + Q4_SB));
        for (int r = 0; r < R; r++) {
            const uint8_t *c = codes + r * cstride + (size_t)s * Q4_SB_BYTES;
            const uint16_t *d = scales + r * sstride + (size_t)s * Q4_SB_GROUPS;
            if (ahead) {
                for (int u = 0; u < 4; u++)
                    _mm_prefetch((const char *)c + 64 * u + ahead, _MM_HINT_T0);
                _mm_prefetch((const char *)d + ahead / 8, _MM_HINT_T0);
            }
            __m512i acc = start;
            for (int u = 0; u < 4; u++) {
                const __m512i v = _mm512_load_si512(c + 64 * u);
                acc = _mm512_dpbusd_epi32(acc, _mm512_and_si512(v, nib), xv[2 * u]);
                acc = _mm512_dpbusd_epi32(acc, _mm512_and_si512(_mm512_srli_epi16(v, 4), nib),
                                          xv[2 * u + 1]);
            }
            facc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), load_scales(d), facc[r]);
        }
    }
    for (int r = 0; r < R; r++) out[r] = _mm512_reduce_add_ps(facc[r]);
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
    const __m512i nib = _mm512_set1_epi8(0x0f);
    __m512 facc[GEMM_ACT_ROWS];
    for (int i = 0; i < I; i++) facc[i] = _mm512_setzero_ps();
    for (int s = 0; s < nsb; s++) {
        __m512i cv[8];
        for (int u = 0; u < 4; u++) {
            const __m512i v = _mm512_load_si512(codes + (size_t)s * Q4_SB_BYTES + 64 * u);
            cv[2 * u] = _mm512_and_si512(v, nib);
            cv[2 * u + 1] = _mm512_and_si512(_mm512_srli_epi16(v, 4), nib);
        }
        const __m512 d = load_scales(scales + (size_t)s * Q4_SB_GROUPS);
        for (int i = 0; i < I; i++) {
            const int8_t *xs = x + i * row_bytes + (size_t)s * Q4_ACT_SB;
            __m512i acc = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_load_si512(xs + Q4_SB));
            for (int t = 0; t < 8; t++)
                acc = _mm512_dpbusd_epi32(acc, cv[t], _mm512_load_si512(xs + 64 * t));
            facc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), d, facc[i]);
        }
    }
    for (int i = 0; i < I; i++) out[i] = _mm512_reduce_add_ps(facc[i]);
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

const tb_kernel tb_kernel_q4_avx512vnni = {
    .name = "q4_avx512vnni",
    .description = "4-bit weights, an f16 scale per 32 (output head), AVX-512 VNNI vpdpbusd",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 3,
    Q4_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
