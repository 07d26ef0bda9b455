// i2_avx2: the i2 format (i2_layout.h) with AVX2 vpmaddubsw (u8 x s8 -> saturating s16 pairs).
//
// A block is two 32-byte halves h; (half >> 2s) & 3 are the codes (0..2) of weights
// [64s + 32h, 64s + 32h + 32), lined up with one 32-byte activation load each.
//
// Overflow: vpmaddubsw adds two products c * x with c <= 2 and |x| <= 128, so a 16-bit lane
// gets at most 512 in magnitude from one instruction. One block adds 8 of them into the same
// int16 lane (4 shifts x 2 halves): at most 4096, far from saturation at 32767. After every
// block the int16 sums are widened with vpmaddwd into int32 accumulators. A lane then gains at
// most 8192 per block, < 2^23 over 512 blocks (TB_K_MAX), so int32 never overflows either.
#include "i2_layout.h"

#include <immintrin.h>

#define TILE_ROWS 4
#define INLINE    static inline __attribute__((always_inline))

// Sum over one block of (code * x) as 16 int16 pairs widened to 8 int32 lanes.
INLINE __m256i block_dot(const uint8_t *wb, const __m256i *xs)
{
    const __m256i m = _mm256_set1_epi8(3), ones = _mm256_set1_epi16(1);
    __m256i s16 = _mm256_setzero_si256();
    for (int h = 0; h < 2; h++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(wb + 32 * h));
        for (int s = 0; s < 4; s++) {
            __m256i c = _mm256_and_si256(_mm256_srli_epi16(v, 2 * s), m);
            s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(c, xs[2 * s + h]));
        }
    }
    return _mm256_madd_epi16(s16, ones);
}

INLINE int32_t hsum(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

// dots[r] = dot(codes of row r, x) for the R rows at w, w + stride, ...
INLINE void tile(const uint8_t *w, size_t stride, size_t ahead, const int8_t *x, int kb, int R,
                 int32_t *dots)
{
    __m256i acc[TILE_ROWS];
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_si256();
    for (int b = 0; b < kb; b++) {
        __m256i xs[8]; // xs[2s + h] = activations [64s + 32h, +32) of the block
        for (int q = 0; q < 8; q++)
            xs[q] = _mm256_load_si256((const __m256i *)(x + (size_t)b * I2_BLOCK + 32 * q));
        for (int r = 0; r < R; r++) {
            const uint8_t *wb = w + r * stride + (size_t)b * I2_BLOCK_BYTES;
            // Further along this row's stream (i2_layout.h): without a prefetch this kernel
            // read DRAM at 43 % of the streaming bandwidth.
            if (ahead) _mm_prefetch((const char *)(wb + ahead), _MM_HINT_T0);
            acc[r] = _mm256_add_epi32(acc[r], block_dot(wb, xs));
        }
    }
    for (int r = 0; r < R; r++) dots[r] = hsum(acc[r]);
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
// Panels of NR = 16 rows, two ymm of 8 rows a k4 step, unpacked by i2_panel_unpack8_avx2 (as
// in i2_avxvnni). Without VNNI a step is vpmaddubsw (codes u8 x activations s8, adjacent pairs
// summed into int16) and vpaddw into int16 accumulators: MR = 6 activation rows x 2 ymm = 12
// accumulators, 2 code vectors, the broadcast activation and one product (ymm15) fill the 16
// ymm registers. At the end of a slice vpmaddwd with ones adds each row's two int16 into its int32
// lane of the scratch.
//
// Bounds: one vpmaddubsw lane is c0 x0 + c1 x1 with codes 0..2 and activations -128..127, so
// in [-512, 508], far from its saturation; a slice is I2_PANEL_KC / 4 = 64 steps, so an int16
// accumulator stays in [-64 * 512, 64 * 508] = [-32768, 32512]: exact, never wrapping (and
// every partial sum is within the same bounds). The int32 scratch gains at most 2 * 32768 = 2^16
// a slice, 2^25 over the 512 slices of TB_K_MAX.
#define NR         16
#define MR         6
#define PANEL_STEP (NR * 4) // bytes of one k4 step of a panel
// Below PANEL_MIN_M: the GEMV tiles, one activation row at a time. On 2560 x 6912 at one thread
// the panels ran m = 4 at 86 GMAC/s against 68 for the tiles, m = 3 at 47 against 52.
#define PANEL_MIN_M 4
_Static_assert(I2_PANEL_KC / 4 <= 64, "int16 accumulators hold at most 64 steps");

static void unpack(const uint8_t *w, size_t row_bytes, int rows, int nb, uint8_t *panel)
{
    i2_panel_unpack8_avx2(w, row_bytes, rows, nb, panel, NR);
}

// Accumulators a<h>_<i>: int16 pairs of panel rows 8h .. 8h + 7 with activation row i. Named,
// not arrays, and one function per (R, H) (see i2_avx512vnni.c: gcc spills otherwise).
#define EACH_ROW(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define ACC_INIT(i) __m256i a0_##i = _mm256_setzero_si256(), a1_##i = a0_##i;
#define ACC_STEP(i)                                                                                \
    if (R > i) {                                                                                   \
        const __m256i xb = _mm256_set1_epi32(load32(x + i * k_pad + 4 * (size_t)t));               \
        MADD_ACC(a0_##i, c0, xb);                                                                  \
        if (H > 1) MADD_ACC(a1_##i, c1, xb);                                                       \
    }
// acc += vpmaddubsw(c, xb) (c unsigned), in one asm statement through ymm15: written with
// intrinsics, gcc's scheduler hoisted all the broadcasts and products of a step above the adds
// and spilled accumulators on every step (the step needs 15 of the 16 registers).
#define MADD_ACC(acc, c, xb)                                                                       \
    __asm__("vpmaddubsw %2, %1, %%ymm15\n\tvpaddw %%ymm15, %0, %0"                                 \
            : "+x"(acc)                                                                            \
            : "x"(c), "x"(xb)                                                                      \
            : "xmm15")
#define ACC_STORE(i)                                                                               \
    if (R > i) {                                                                                   \
        add_pairs(scratch + i * NR, a0_##i);                                                       \
        if (H > 1) add_pairs(scratch + i * NR + 8, a1_##i);                                        \
    }

INLINE int32_t load32(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

// s[0..8) += the sums of the int16 pairs of a.
INLINE void add_pairs(int32_t *s, __m256i a)
{
    const __m256i sums = _mm256_madd_epi16(a, _mm256_set1_epi16(1));
    _mm256_store_si256((__m256i *)s, _mm256_add_epi32(_mm256_load_si256((const __m256i *)s), sums));
}

INLINE void micro(const uint8_t *panel, const int8_t *x, size_t k_pad, int kc4, int R, int H,
                  int32_t *scratch)
{
    assert(kc4 <= 64);
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

const tb_kernel tb_kernel_i2_avx2 = {
    .name = "i2_avx2",
    .description =
        "2-bit packed, AVX2 vpmaddubsw, widened every block, 4-row tiles, 16-row GEMM panels",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 3,
    I2_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
