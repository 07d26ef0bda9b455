// i2_avx512vnni: the i2 format (i2_layout.h) with AVX-512 VNNI vpdpbusd (u8 x s8 -> s32).
//
// GEMV. One 64-byte load holds a whole block row: 256 weights. Masking it with 0x03, 0x0c, 0x30
// and 0xc0 gives bytes 4^s * c for the 64 weights [64s, 64s + 64), with no shift; vpdpbusd
// multiplies them by the 64 matching activations and adds groups of four into int32 lanes.
// Each of the four masks keeps its own accumulator, so accumulator s holds exactly 4^s times
// its true partial sums and an arithmetic shift by 2s at the end recovers them exactly.
// Per block a row costs 1 load + 4 and + 4 vpdpbusd; the four activation vectors are loaded
// once per block and shared by the TILE_ROWS rows of a tile.
//
// Bounds: a byte is at most 0xc0 = 192 and an activation at least -128, so a lane gains at most
// 4 * 192 * 128 < 2^17 per block; with k_pad <= TB_K_MAX = 2^17 (512 blocks) a lane stays
// under 2^26. vpdpbusd never saturates (that is vpdpbusds), so nothing can overflow.
//
// GEMM. Codes are unpacked to 0..2 once per (row, block) (3 shifts + 4 ands) and reused across
// GEMM_ACT_ROWS activation rows, whose bytes vpdpbusd reads straight from memory.
#include "i2_layout.h"

#include <immintrin.h>

#define TILE_ROWS 4
#define GEMM_ACT_ROWS 4
#define INLINE static inline __attribute__((always_inline))

// dots[r] = dot(codes of row r, x) for rows w, w + row_bytes, ... (R of them).
INLINE void gemv_tile(const uint8_t *w, size_t row_bytes, const int8_t *x, int kb, int R,
                      int32_t *dots)
{
    const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0c);
    const __m512i m2 = _mm512_set1_epi8(0x30), m3 = _mm512_set1_epi8((char)0xc0);
    __m512i a0[TILE_ROWS], a1[TILE_ROWS], a2[TILE_ROWS], a3[TILE_ROWS];
    for (int r = 0; r < R; r++)
        a0[r] = a1[r] = a2[r] = a3[r] = _mm512_setzero_si512();
    for (int b = 0; b < kb; b++) {
        const int8_t *xb = x + (size_t)b * I2_BLOCK;
        __m512i x0 = _mm512_load_si512(xb), x1 = _mm512_load_si512(xb + 64);
        __m512i x2 = _mm512_load_si512(xb + 128), x3 = _mm512_load_si512(xb + 192);
        for (int r = 0; r < R; r++) {
            __m512i v = _mm512_load_si512(w + r * row_bytes + (size_t)b * I2_BLOCK_BYTES);
            a0[r] = _mm512_dpbusd_epi32(a0[r], _mm512_and_si512(v, m0), x0);
            a1[r] = _mm512_dpbusd_epi32(a1[r], _mm512_and_si512(v, m1), x1);
            a2[r] = _mm512_dpbusd_epi32(a2[r], _mm512_and_si512(v, m2), x2);
            a3[r] = _mm512_dpbusd_epi32(a3[r], _mm512_and_si512(v, m3), x3);
        }
    }
    for (int r = 0; r < R; r++) {
        __m512i t = _mm512_add_epi32(a0[r], _mm512_srai_epi32(a1[r], 2));
        t = _mm512_add_epi32(t, _mm512_srai_epi32(a2[r], 4));
        t = _mm512_add_epi32(t, _mm512_srai_epi32(a3[r], 6));
        dots[r] = _mm512_reduce_add_epi32(t);
    }
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    assert(((uintptr_t)packed | (uintptr_t)act) % TB_ALIGN == 0);
    const int kb = i2_blocks(k), k_pad = i2_k_pad(k);
    const size_t row_bytes = i2_row_bytes(k);
    const int8_t *x = tb_act_rows_x(act, 1, k_pad, 0);
    const int32_t sum = tb_act_rows_sum(act, 1)[0];
    const float w_scale = i2_scale(packed, n, k), x_scale = tb_act_rows_scale(act)[0];
    int32_t dots[TILE_ROWS];
    int j = row0;
    for (; j + TILE_ROWS <= row1; j += TILE_ROWS) {
        gemv_tile(i2_row(packed, k, j), row_bytes, x, kb, TILE_ROWS, dots);
        for (int r = 0; r < TILE_ROWS; r++) y[j + r] = tb_scale_dot(dots[r] - sum, w_scale, x_scale);
    }
    for (; j < row1; j++) {
        gemv_tile(i2_row(packed, k, j), row_bytes, x, kb, 1, dots);
        y[j] = tb_scale_dot(dots[0] - sum, w_scale, x_scale);
    }
}

// dots[i] = dot(codes of row w, x row i) for I activation rows x, x + k_pad, ...
INLINE void gemm_tile(const uint8_t *w, const int8_t *x, size_t k_pad, int kb, int I,
                      int32_t *dots)
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
            case 4: gemm_tile(w, x, (size_t)k_pad, kb, 4, dots); break;
            case 3: gemm_tile(w, x, (size_t)k_pad, kb, 3, dots); break;
            case 2: gemm_tile(w, x, (size_t)k_pad, kb, 2, dots); break;
            default: gemm_tile(w, x, (size_t)k_pad, kb, 1, dots); break;
            }
            for (int i = 0; i < I; i++)
                y[(size_t)(i0 + i) * n + j] = tb_scale_dot(dots[i] - sum[i0 + i], w_scale, x_scale[i0 + i]);
        }
    }
}

const tb_kernel tb_kernel_i2_avx512vnni = {
    .name = "i2_avx512vnni",
    .description = "2-bit packed, AVX-512 VNNI vpdpbusd, 4-row tiles",
    .isa = TB_ISA_AVX512F | TB_ISA_AVX512BW | TB_ISA_AVX512VNNI,
    .n_tile = TILE_ROWS,
    .rank = 4,
    I2_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
