// q8_avx512vnni: the q8 format (q8_layout.h) with AVX-512 VNNI vpdpbusd (u8 x s8 -> s32, four
// products into each int32 lane).
//
// GEMV: vpdpbusd needs an unsigned operand; the weights q are signed, so the activations are
// shifted: x + 128 = x ^ 0x80 as u8, once per 64 activations and shared by the TILE_ROWS = 8
// rows of a tile (8 sequential streams, q8_gemv_rows), and the driver subtracts 128 qsum[j].
// GEMM: each 64-weight vector is shifted instead (q + 128, u8) and reused by GEMM_ACT_ROWS
// activation rows read straight from memory as s8; the driver subtracts 128 sum(x).
//
// Bounds: one vpdpbusd adds four products of a u8 (<= 255) and an s8 (|q| <= 127, |x| <= 128)
// to a lane: at most 4 * 255 * 128 = 130560 in magnitude. A lane takes one per 64 weights, so
// k_pad / 64 <= 2048 of them over TB_K_MAX: 2.7e8 < 2^31; the non-saturating vpdpbusd is used.
// The horizontal sum of the 16 lanes (the raw dot) may leave int32 (|raw| <= 255 * 127 * k <
// 2^32); it is taken with vector adds, which wrap, and the true dot, in int32 (q8_layout.h), is
// recovered modulo 2^32.
#include "q8_layout.h"

#include <immintrin.h>

#define TILE_ROWS     8
#define GEMM_W_ROWS   4
#define GEMM_ACT_ROWS 4
#define INLINE        static inline __attribute__((always_inline))

// The sum of the 16 lanes, modulo 2^32: vector adds, which wrap (the scalar additions of
// _mm512_reduce_add_epi32 would overflow, undefined behaviour, on a raw dot past int32).
INLINE int32_t hsum(__m512i v)
{
    const __m256i s = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4e));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xb1));
    return _mm_cvtsi128_si32(t);
}

// dots[r] = dot(q_r, x + 128) for the R rows at w, w + stride, ...
INLINE void tile(const int8_t *w, size_t stride, size_t ahead, const int8_t *x, int kp, int R,
                 int32_t *dots)
{
    const __m512i bias = _mm512_set1_epi8(-128);
    __m512i acc[TILE_ROWS];
    for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_si512();
    for (int t = 0; t < kp; t += 64) {
        const __m512i xu = _mm512_xor_si512(_mm512_load_si512(x + t), bias);
        for (int r = 0; r < R; r++) {
            const int8_t *wr = w + r * stride + t;
            if (ahead) _mm_prefetch((const char *)wr + ahead, _MM_HINT_T0);
            acc[r] = _mm512_dpbusd_epi32(acc[r], xu, _mm512_load_si512(wr));
        }
    }
    for (int r = 0; r < R; r++) dots[r] = hsum(acc[r]);
}

static void tile_full(const int8_t *w, size_t stride, size_t ahead, const int8_t *x, int kp,
                      int32_t *dots)
{
    tile(w, stride, ahead, x, kp, TILE_ROWS, dots);
}

static void tile_one(const int8_t *w, size_t stride, size_t ahead, const int8_t *x, int kp,
                     int32_t *dots)
{
    tile(w, stride, ahead, x, kp, 1, dots);
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    q8_gemv_rows(packed, act, n, k, row0, row1, y, TILE_ROWS, 128, tile_full, tile_one);
}

// raw[r][i] = dot(q_r + 128, x_i) for R weight rows at w (k_pad apart) and I activation rows at
// x (k_pad apart).
INLINE void gemm_block(const int8_t *w, const int8_t *x, int kp, int R, int I,
                       int32_t raw[GEMM_W_ROWS][GEMM_ACT_ROWS])
{
    const __m512i bias = _mm512_set1_epi8(-128);
    __m512i acc[GEMM_W_ROWS][GEMM_ACT_ROWS];
    for (int r = 0; r < R; r++)
        for (int i = 0; i < I; i++) acc[r][i] = _mm512_setzero_si512();
    for (int t = 0; t < kp; t += 64) {
        __m512i wu[GEMM_W_ROWS];
        for (int r = 0; r < R; r++)
            wu[r] = _mm512_xor_si512(_mm512_load_si512(w + (size_t)r * kp + t), bias);
        for (int i = 0; i < I; i++) {
            const __m512i xv = _mm512_load_si512(x + (size_t)i * kp + t);
            for (int r = 0; r < R; r++) acc[r][i] = _mm512_dpbusd_epi32(acc[r][i], wu[r], xv);
        }
    }
    for (int r = 0; r < R; r++)
        for (int i = 0; i < I; i++) raw[r][i] = hsum(acc[r][i]);
}

#define BLOCK_CASE(R, I)                                                                           \
    case (R)*8 + (I):                                                                              \
        gemm_block(w, x, kp, R, I, raw);                                                           \
        break

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    assert(((uintptr_t)packed | (uintptr_t)act) % TB_ALIGN == 0);
    const int kp = q8_k_pad(k);
    const float *d = q8_scales(packed, n, k), *x_scale = tb_act_rows_scale(act);
    const int32_t *sum = tb_act_rows_sum(act, m);
    int32_t raw[GEMM_W_ROWS][GEMM_ACT_ROWS];
    // Weight rows outside, so that a block of them is read from memory once and stays in cache
    // while every activation row passes over it.
    // Rows left over past the last whole block go one at a time.
    for (int j0 = row0, R; j0 < row1; j0 += R) {
        R = row1 - j0 >= GEMM_W_ROWS ? GEMM_W_ROWS : 1;
        const int8_t *w = q8_row(packed, k, j0);
        for (int i0 = 0; i0 < m; i0 += GEMM_ACT_ROWS) {
            const int I = m - i0 < GEMM_ACT_ROWS ? m - i0 : GEMM_ACT_ROWS;
            const int8_t *x = tb_act_rows_x(act, m, kp, i0);
            switch (R * 8 + I) {
                BLOCK_CASE(4, 4);
                BLOCK_CASE(4, 3);
                BLOCK_CASE(4, 2);
                BLOCK_CASE(4, 1);
                BLOCK_CASE(1, 4);
                BLOCK_CASE(1, 3);
                BLOCK_CASE(1, 2);
            default:
                gemm_block(w, x, kp, 1, 1, raw);
                break;
            }
            for (int r = 0; r < R; r++)
                for (int i = 0; i < I; i++)
                    y[(size_t)(i0 + i) * n + j0 + r] =
                        q8_output(raw[r][i], 128, sum[i0 + i], d[j0 + r], x_scale[i0 + i]);
        }
    }
}

const tb_kernel tb_kernel_q8_avx512vnni = {
    .name = "q8_avx512vnni",
    .description = "int8 weights, a float scale per row (output head), AVX-512 VNNI vpdpbusd",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 3,
    Q8_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
