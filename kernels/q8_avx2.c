// q8_avx2: the q8 format (q8_layout.h) with AVX2 vpmaddubsw (u8 x s8 -> saturating s16 pairs).
//
// Exact for every int8 activation, -128 included: the unsigned operand is |x| (0..128 as u8)
// and the signed one sign(q, x) = q with the sign of x (0 where x = 0), so each product is
// |x| sign(q, x) = q x. Since |q| <= 127 in the q8 format, |sign(q, x)| <= 127 and a pair sums
// to at most 2 * 128 * 127 = 32512 in magnitude: vpmaddubsw never saturates. (The offset trick
// of the VNNI kernel, (x + 128) u8 x q s8, would: 2 * 255 * 127 > 32767.) vpmaddwd with ones
// widens every 32 weights into int32 lanes, which hold exact partial dots (|dot| < 2^31).
//
// GEMV: TILE_ROWS = 8 rows taken as 8 sequential streams (q8_gemv_rows), sharing each
// activation load; every row is prefetched `ahead` bytes further along its stream.
// GEMM: blocks of GEMM_W_ROWS weight rows x GEMM_ACT_ROWS activation rows, each weight vector
// loaded once per block.
#include "q8_layout.h"

#include <immintrin.h>

#define TILE_ROWS     8
#define GEMM_W_ROWS   2
#define GEMM_ACT_ROWS 4
#define INLINE        static inline __attribute__((always_inline))

// acc + the four-product sums of q x (32 weights) in 8 int32 lanes; ax = |x|.
INLINE __m256i mac(__m256i acc, __m256i ax, __m256i xv, __m256i wv)
{
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i pairs = _mm256_maddubs_epi16(ax, _mm256_sign_epi8(wv, xv));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones));
}

INLINE int32_t hsum(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

// dots[r] = dot(q_r, x) for the R rows at w, w + stride, ...
INLINE void tile(const int8_t *w, size_t stride, size_t ahead, const int8_t *x, int kp, int R,
                 int32_t *dots)
{
    __m256i acc[TILE_ROWS];
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_si256();
    for (int t = 0; t < kp; t += 64) {
        if (ahead)
            for (int r = 0; r < R; r++)
                _mm_prefetch((const char *)(w + r * stride + t + ahead), _MM_HINT_T0);
        for (int h = 0; h < 64; h += 32) {
            const __m256i xv = _mm256_load_si256((const __m256i *)(x + t + h));
            const __m256i ax = _mm256_abs_epi8(xv);
            for (int r = 0; r < R; r++)
                acc[r] = mac(acc[r], ax, xv,
                             _mm256_load_si256((const __m256i *)(w + r * stride + t + h)));
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
    q8_gemv_rows(packed, act, n, k, row0, row1, y, TILE_ROWS, 0, tile_full, tile_one);
}

// dots[r][i] = dot(q_r, x_i) for R weight rows at w and I activation rows at x (k_pad apart).
INLINE void gemm_block(const int8_t *w, const int8_t *x, int kp, int R, int I,
                       int32_t dots[GEMM_W_ROWS][GEMM_ACT_ROWS])
{
    __m256i acc[GEMM_W_ROWS][GEMM_ACT_ROWS];
    for (int r = 0; r < R; r++)
        for (int i = 0; i < I; i++) acc[r][i] = _mm256_setzero_si256();
    for (int t = 0; t < kp; t += 32) {
        __m256i wv[GEMM_W_ROWS];
        for (int r = 0; r < R; r++)
            wv[r] = _mm256_load_si256((const __m256i *)(w + (size_t)r * kp + t));
        for (int i = 0; i < I; i++) {
            const __m256i xv = _mm256_load_si256((const __m256i *)(x + (size_t)i * kp + t));
            const __m256i ax = _mm256_abs_epi8(xv);
            for (int r = 0; r < R; r++) acc[r][i] = mac(acc[r][i], ax, xv, wv[r]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int i = 0; i < I; i++) dots[r][i] = hsum(acc[r][i]);
}

#define BLOCK_CASE(R, I)                                                                           \
    case (R)*8 + (I):                                                                              \
        gemm_block(w, x, kp, R, I, dots);                                                          \
        break

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    assert(((uintptr_t)packed | (uintptr_t)act) % TB_ALIGN == 0);
    const int kp = q8_k_pad(k);
    const float *d = q8_scales(packed, n, k), *x_scale = tb_act_rows_scale(act);
    int32_t dots[GEMM_W_ROWS][GEMM_ACT_ROWS];
    // Weight rows outside (read from memory once, kept in cache over the activation rows); rows
    // left over past the last whole block go one at a time.
    for (int j0 = row0, R; j0 < row1; j0 += R) {
        R = row1 - j0 >= GEMM_W_ROWS ? GEMM_W_ROWS : 1;
        const int8_t *w = q8_row(packed, k, j0);
        for (int i0 = 0; i0 < m; i0 += GEMM_ACT_ROWS) {
            const int I = m - i0 < GEMM_ACT_ROWS ? m - i0 : GEMM_ACT_ROWS;
            const int8_t *x = tb_act_rows_x(act, m, kp, i0);
            switch (R * 8 + I) {
                BLOCK_CASE(2, 4);
                BLOCK_CASE(2, 3);
                BLOCK_CASE(2, 2);
                BLOCK_CASE(2, 1);
                BLOCK_CASE(1, 4);
                BLOCK_CASE(1, 3);
                BLOCK_CASE(1, 2);
            default:
                gemm_block(w, x, kp, 1, 1, dots);
                break;
            }
            for (int r = 0; r < R; r++)
                for (int i = 0; i < I; i++)
                    y[(size_t)(i0 + i) * n + j0 + r] =
                        tb_scale_dot(dots[r][i], d[j0 + r], x_scale[i0 + i]);
        }
    }
}

const tb_kernel tb_kernel_q8_avx2 = {
    .name = "q8_avx2",
    .description = "int8 weights, a float scale per row (output head), AVX2 vpmaddubsw",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 2,
    Q8_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
