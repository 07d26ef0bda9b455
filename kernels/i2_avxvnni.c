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

static void tile_full(const uint8_t *w, size_t stride, size_t ahead, const int8_t *x, int kb,
                      int32_t *dots)
{
    tile(w, stride, ahead, x, kb, TILE_ROWS, dots);
}

static void tile_one(const uint8_t *w, size_t stride, size_t ahead, const int8_t *x, int kb,
                     int32_t *dots)
{
    tile(w, stride, ahead, x, kb, 1, dots);
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    i2_gemm_rows(packed, act, 1, n, k, row0, row1, y, TILE_ROWS, tile_full, tile_one);
}

// ---- GEMM: the panel GEMM of i2_layout.h ----
//
// A panel of NR = 16 rows is two ymm of 8 rows a k4 step. A micro-kernel keeps MR = 6
// activation rows x 2 ymm = 12 accumulators, the step's 2 code vectors and the broadcast
// activation in the 16 ymm registers; VEX vpdpbusd has no broadcast operand, so the 4
// activation bytes come in through vpbroadcastd from memory (a load, no shuffle). Per k4 step:
// 2 code loads, 6 broadcasts, 12 vpdpbusd.
//
// Unpacking: i2_panel_unpack8_avx2 (i2_layout.h), shared with i2_avx2.
//
// Bounds: codes are at most 2 and activations at least -128, so one vpdpbusd adds at most
// 4 * 2 * 128 = 2^10 to a lane: k / 4 steps add at most 2^8 k <= 2^25 (TB_K_MAX), far below 2^31.
#define NR          16
#define MR          6
#define PANEL_STEP  (NR * 4) // bytes of one k4 step of a panel
#define PANEL_MIN_M 5        // below: the GEMV tiles, one activation row at a time

static void unpack(const uint8_t *w, size_t row_bytes, int rows, int nb, uint8_t *panel)
{
    i2_panel_unpack8_avx2(w, row_bytes, rows, nb, panel, NR);
}

// Accumulators a<h>_<i>: lane r += dot of panel row 8h + r with activation row i. Named, not
// arrays, and one function per (R, H) (see i2_avx512vnni.c: gcc spills otherwise).
#define EACH_ROW(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define ACC_INIT(i)                                                                                \
    __m256i a0_##i = _mm256_setzero_si256(), a1_##i = a0_##i;                                      \
    if (R > i) {                                                                                   \
        a0_##i = _mm256_load_si256((const __m256i *)(scratch + i * NR));                           \
        if (H > 1) a1_##i = _mm256_load_si256((const __m256i *)(scratch + i * NR + 8));            \
    }
#define ACC_STEP(i)                                                                                \
    if (R > i) {                                                                                   \
        const __m256i xb = _mm256_set1_epi32(load32(x + i * k_pad + 4 * (size_t)t));               \
        a0_##i = _mm256_dpbusd_avx_epi32(a0_##i, c0, xb);                                          \
        if (H > 1) a1_##i = _mm256_dpbusd_avx_epi32(a1_##i, c1, xb);                               \
    }
#define ACC_STORE(i)                                                                               \
    if (R > i) {                                                                                   \
        _mm256_store_si256((__m256i *)(scratch + i * NR), a0_##i);                                 \
        if (H > 1) _mm256_store_si256((__m256i *)(scratch + i * NR + 8), a1_##i);                  \
    }

INLINE int32_t load32(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

INLINE void micro(const uint8_t *panel, const int8_t *x, size_t k_pad, int kc4, int R, int H,
                  int32_t *scratch)
{
    EACH_ROW(ACC_INIT)
    for (int t = 0; t < kc4; t++) {
        const uint8_t *p = panel + (size_t)t * PANEL_STEP;
        const __m256i c0 = _mm256_load_si256((const __m256i *)p);
        const __m256i c1 = H > 1 ? _mm256_load_si256((const __m256i *)(p + 32)) : c0;
        EACH_ROW(ACC_STEP)
    }
    EACH_ROW(ACC_STORE)
}

typedef void (*micro_fn)(const uint8_t *panel, const int8_t *x, size_t k_pad, int kc4,
                         int32_t *scratch);
#define MICRO_FN(r)                                                                                \
    static void micro_##r##_1(const uint8_t *panel, const int8_t *x, size_t k_pad, int kc4,        \
                              int32_t *scratch)                                                    \
    {                                                                                              \
        micro(panel, x, k_pad, kc4, r, 1, scratch);                                                \
    }                                                                                              \
    static void micro_##r##_2(const uint8_t *panel, const int8_t *x, size_t k_pad, int kc4,        \
                              int32_t *scratch)                                                    \
    {                                                                                              \
        micro(panel, x, k_pad, kc4, r, 2, scratch);                                                \
    }
MICRO_FN(1)
MICRO_FN(2)
MICRO_FN(3)
MICRO_FN(4)
MICRO_FN(5)
MICRO_FN(6)
_Static_assert(MR == 6, "one micro-kernel per row count");
// micros[H - 1][R - 1]
static const micro_fn micros[2][MR] = {
    {micro_1_1, micro_2_1, micro_3_1, micro_4_1, micro_5_1, micro_6_1},
    {micro_1_2, micro_2_2, micro_3_2, micro_4_2, micro_5_2, micro_6_2},
};

static void micro_any(const uint8_t *panel, const int8_t *x, size_t k_pad, int kc4, int R, int rows,
                      int32_t *scratch)
{
    micros[rows > 8][R - 1](panel, x, k_pad, kc4, scratch);
}

static const i2_panel_kernel panels = {.nr = NR, .mr = MR, .unpack = unpack, .micro = micro_any};

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    if (m < PANEL_MIN_M)
        i2_gemm_rows(packed, act, m, n, k, row0, row1, y, TILE_ROWS, tile_full, tile_one);
    else
        i2_gemm_panels(packed, act, m, n, k, row0, row1, y, &panels);
}

const tb_kernel tb_kernel_i2_avxvnni = {
    .name = "i2_avxvnni",
    .description = "2-bit packed, 256-bit AVX-VNNI vpdpbusd, 4-row tiles, 16-row GEMM panels",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 4,
    I2_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
