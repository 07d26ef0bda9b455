// i2_avx512vnni: the i2 format (i2_layout.h) with AVX-512 VNNI vpdpbusd (u8 x s8 -> s32).
//
// GEMV. One 64-byte load v holds a whole block of a row: 256 weights, codes c in 0..2.
//   v & 0x03  = c of weights [  0,  64)          v4 = v >> 4 (16-bit shift; the masks drop
//   v & 0x0c  = 4c of weights [ 64, 128)           the bits that cross bytes)
//   v4 & 0x03 = c of weights [128, 192)
//   v4 & 0x0c = 4c of weights [192, 256)
// vpdpbusd multiplies each by its 64 activations and adds groups of four into 16 int32 lanes.
// Per row two accumulators: lo gets the 1x products, hi the 4x ones; lo + (hi >> 2) is exact,
// since hi holds exactly four times its true partial sums. A row costs 1 load + 1 shift +
// 4 and + 4 vpdpbusd per block; the four activation vectors are loaded once per block and
// shared by the TILE_ROWS = 8 rows of a tile (16 accumulators + 4 activations + 2 masks
// fit the 32 zmm registers).
//
// Bounds: the unsigned operand is at most 8 (code 2 under mask 0x0c) and an activation at
// least -128, so one vpdpbusd adds at most 4 * 8 * 128 = 2^12 to a lane, and an accumulator
// takes two of them per block: 2^13. Over 512 blocks (TB_K_MAX) that is 2^22, far below 2^31.
// (The non-saturating vpdpbusd is used; vpdpbusds would saturate.)
//
// Prefetch: each row of a tile is one stream of the driver (i2_layout.h); every block is
// prefetched `ahead` bytes further along its stream (none when ahead is 0).
//
// GEMM. Codes are unpacked to 0..2 once per (row, block) (3 shifts + 4 ands) and reused across
// GEMM_ACT_ROWS activation rows, whose bytes vpdpbusd reads straight from memory.
#include "i2_layout.h"

#include <immintrin.h>

#define TILE_ROWS     8
#define GEMM_ACT_ROWS 4
#define INLINE        static inline __attribute__((always_inline))

#define MASKS const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0c)

#define LOAD_X(b)                                                                                  \
    const int8_t *xb = x + (size_t)(b)*I2_BLOCK;                                                   \
    const __m512i x0 = _mm512_load_si512(xb), x1 = _mm512_load_si512(xb + 64);                     \
    const __m512i x2 = _mm512_load_si512(xb + 128), x3 = _mm512_load_si512(xb + 192)

// One row's share of block b: its 64 code bytes at p, into accumulators lo and hi.
#define ROW_BLOCK(p, lo, hi)                                                                       \
    do {                                                                                           \
        __m512i v = _mm512_load_si512((p) + o), v4 = _mm512_srli_epi16(v, 4);                      \
        lo = _mm512_dpbusd_epi32(lo, _mm512_and_si512(v, m0), x0);                                 \
        hi = _mm512_dpbusd_epi32(hi, _mm512_and_si512(v, m1), x1);                                 \
        lo = _mm512_dpbusd_epi32(lo, _mm512_and_si512(v4, m0), x2);                                \
        hi = _mm512_dpbusd_epi32(hi, _mm512_and_si512(v4, m1), x3);                                \
    } while (0)

INLINE int32_t row_total(__m512i lo, __m512i hi)
{
    return _mm512_reduce_add_epi32(_mm512_add_epi32(lo, _mm512_srai_epi32(hi, 2)));
}

// dots[0..7] for the eight rows at w, w + rb, ... Named accumulators, not arrays: gcc copies
// and spills arrays of vectors.
static void gemv_tile8(const uint8_t *w, size_t rb, size_t ahead, const int8_t *x, int kb,
                       int32_t *dots)
{
    MASKS;
    __m512i l0 = _mm512_setzero_si512(), h0 = l0, l1 = l0, h1 = l0, l2 = l0, h2 = l0, l3 = l0;
    __m512i h3 = l0, l4 = l0, h4 = l0, l5 = l0, h5 = l0, l6 = l0, h6 = l0, l7 = l0, h7 = l0;
    const uint8_t *next = w + ahead;
    for (int b = 0; b < kb; b++) {
        LOAD_X(b);
        const size_t o = (size_t)b * I2_BLOCK_BYTES;
        if (ahead)
            for (int r = 0; r < TILE_ROWS; r++)
                _mm_prefetch((const char *)next + r * rb + o, _MM_HINT_T0);
        ROW_BLOCK(w, l0, h0);
        ROW_BLOCK(w + rb, l1, h1);
        ROW_BLOCK(w + 2 * rb, l2, h2);
        ROW_BLOCK(w + 3 * rb, l3, h3);
        ROW_BLOCK(w + 4 * rb, l4, h4);
        ROW_BLOCK(w + 5 * rb, l5, h5);
        ROW_BLOCK(w + 6 * rb, l6, h6);
        ROW_BLOCK(w + 7 * rb, l7, h7);
    }
    dots[0] = row_total(l0, h0), dots[1] = row_total(l1, h1);
    dots[2] = row_total(l2, h2), dots[3] = row_total(l3, h3);
    dots[4] = row_total(l4, h4), dots[5] = row_total(l5, h5);
    dots[6] = row_total(l6, h6), dots[7] = row_total(l7, h7);
}

static void gemv_row(const uint8_t *w, size_t stride, size_t ahead, const int8_t *x, int kb,
                     int32_t *dots)
{
    (void)stride, (void)ahead;
    MASKS;
    __m512i lo = _mm512_setzero_si512(), hi = lo;
    for (int b = 0; b < kb; b++) {
        LOAD_X(b);
        const size_t o = (size_t)b * I2_BLOCK_BYTES;
        ROW_BLOCK(w, lo, hi);
    }
    dots[0] = row_total(lo, hi);
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    i2_gemm_rows(packed, act, 1, n, k, row0, row1, y, TILE_ROWS, gemv_tile8, gemv_row);
}

// dots[i] = dot(codes of row w, activation row i) for I rows x, x + k_pad, ...
INLINE void gemm_tile(const uint8_t *w, const int8_t *x, size_t k_pad, int kb, int I, int32_t *dots)
{
    const __m512i m = _mm512_set1_epi8(0x03);
    __m512i acc[GEMM_ACT_ROWS];
    for (int i = 0; i < I; i++) acc[i] = _mm512_setzero_si512();
    for (int b = 0; b < kb; b++) {
        __m512i v = _mm512_load_si512(w + (size_t)b * I2_BLOCK_BYTES);
        __m512i c0 = _mm512_and_si512(v, m);
        __m512i c1 = _mm512_and_si512(_mm512_srli_epi16(v, 2), m);
        __m512i c2 = _mm512_and_si512(_mm512_srli_epi16(v, 4), m);
        __m512i c3 = _mm512_and_si512(_mm512_srli_epi16(v, 6), m);
        for (int i = 0; i < I; i++) {
            const int8_t *xb = x + i * k_pad + (size_t)b * I2_BLOCK;
            acc[i] = _mm512_dpbusd_epi32(acc[i], c0, _mm512_load_si512(xb));
            acc[i] = _mm512_dpbusd_epi32(acc[i], c1, _mm512_load_si512(xb + 64));
            acc[i] = _mm512_dpbusd_epi32(acc[i], c2, _mm512_load_si512(xb + 128));
            acc[i] = _mm512_dpbusd_epi32(acc[i], c3, _mm512_load_si512(xb + 192));
        }
    }
    for (int i = 0; i < I; i++) dots[i] = _mm512_reduce_add_epi32(acc[i]);
}

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    assert(((uintptr_t)packed | (uintptr_t)act) % TB_ALIGN == 0);
    const int kb = i2_blocks(k), k_pad = i2_k_pad(k);
    const float w_scale = i2_scale(packed, n, k);
    const int32_t *sum = tb_act_rows_sum(act, m);
    const float *x_scale = tb_act_rows_scale(act);
    int32_t dots[GEMM_ACT_ROWS];
    for (int i0 = 0; i0 < m; i0 += GEMM_ACT_ROWS) {
        const int I = m - i0 < GEMM_ACT_ROWS ? m - i0 : GEMM_ACT_ROWS;
        const int8_t *x = tb_act_rows_x(act, m, k_pad, i0);
        for (int j = row0; j < row1; j++) {
            const uint8_t *w = i2_row(packed, k, j);
            switch (I) {
            case 4:
                gemm_tile(w, x, (size_t)k_pad, kb, 4, dots);
                break;
            case 3:
                gemm_tile(w, x, (size_t)k_pad, kb, 3, dots);
                break;
            case 2:
                gemm_tile(w, x, (size_t)k_pad, kb, 2, dots);
                break;
            default:
                gemm_tile(w, x, (size_t)k_pad, kb, 1, dots);
                break;
            }
            for (int i = 0; i < I; i++)
                y[(size_t)(i0 + i) * n + j] =
                    tb_scale_dot(dots[i] - sum[i0 + i], w_scale, x_scale[i0 + i]);
        }
    }
}

const tb_kernel tb_kernel_i2_avx512vnni = {
    .name = "i2_avx512vnni",
    .description = "2-bit packed, AVX-512 VNNI vpdpbusd, 8-row tiles",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 5,
    I2_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
