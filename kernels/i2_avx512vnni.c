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
// GEMM (m >= PANEL_MIN_M): the panel GEMM of i2_layout.h. A panel of NR = 32 rows is two zmm
// of 16 rows a k4 step. A micro-kernel keeps MR = 12 activation rows x 2 zmm = 24 accumulators
// in registers; per k4 step it loads the 2 code vectors and, for each activation row, its 4
// bytes broadcast from memory (vpbroadcastd: a load, no shuffle) into 2 vpdpbusd: 24 vpdpbusd,
// 14 loads. In isolation (L1-resident panel, activations streaming from L2) it ran at 93-95 %
// of a 12-chain vpdpbusd loop, for MR = 8, 10, 12 and 14 alike (MR = 6: 83 %). In the whole
// GEMM at m = 128 MR = 8 .. 14 and slices of 256 .. 2048 k were within the noise of each other;
// slices of one block make the unpacking cheapest (the panel stays in L1: 8 KB), which is what
// small m needs.
//
// Unpacking 16 rows of a block: the 16 rows' 64 bytes transposed as 16 x 16 dwords (4 rounds of
// 16 shuffles), then 4 shifts and masks per vector: 16 loads, 64 shuffles, 112 shifts and ands,
// 64 stores for 64 vectors of codes. The same codes then meet every activation row: at m = 128
// unpacking is ~3 % of the time, at m = 16 a quarter (measured ~55 ns a 16-row block).
//
// Bounds (GEMM): codes are at most 2 and activations at least -128, so one vpdpbusd adds at most
// 4 * 2 * 128 = 2^10 to a lane: k / 4 steps add at most 2^8 k <= 2^25 (TB_K_MAX), far below 2^31.
//
// m < PANEL_MIN_M goes through the GEMV tiles, one activation row at a time: for m <= 4 they beat
// both the panels (whose unpacking is then not amortized) and the former GEMM (which read the
// weights in one stream, unprefetched) on 2560 x 6912.
#include "i2_layout.h"

#include <immintrin.h>

#define TILE_ROWS   8
#define NR          32
#define MR          12
#define PANEL_STEP  (NR * 4) // bytes of one k4 step of a panel
#define PANEL_MIN_M 5
#define INLINE      static inline __attribute__((always_inline))

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

// ---- GEMM: register-blocked over a panel of unpacked codes ----

// Transposes the dwords of 16 vectors in place: afterwards v[q] lane r holds what v[r] lane q
// held. Four rounds of 16 two-source shuffles (every output depends on all 16 inputs):
// unpack dwords and qwords within 128-bit lanes (4x4 transposes of dwords), then two rounds of
// 128-bit lane shuffles (a 4x4 transpose of lanes).
INLINE void transpose16(__m512i v[16])
{
    __m512i t[16];
    for (int r = 0; r < 16; r += 2) {
        t[r] = _mm512_unpacklo_epi32(v[r], v[r + 1]);
        t[r + 1] = _mm512_unpackhi_epi32(v[r], v[r + 1]);
    }
    // v[4g + p] lane L: dword 4L + p of rows 4g .. 4g + 3
    for (int g = 0; g < 4; g++) {
        v[4 * g + 0] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
        v[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
        v[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
        v[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
    }
    for (int p = 0; p < 4; p++) {
        t[4 * p + 0] = _mm512_shuffle_i32x4(v[p], v[4 + p], 0x88);      // lanes 0, 2 of groups 0, 1
        t[4 * p + 1] = _mm512_shuffle_i32x4(v[p], v[4 + p], 0xdd);      // lanes 1, 3
        t[4 * p + 2] = _mm512_shuffle_i32x4(v[8 + p], v[12 + p], 0x88); // of groups 2, 3
        t[4 * p + 3] = _mm512_shuffle_i32x4(v[8 + p], v[12 + p], 0xdd);
    }
    for (int p = 0; p < 4; p++) {
        v[p] = _mm512_shuffle_i32x4(t[4 * p], t[4 * p + 2], 0x88);          // dword p
        v[8 + p] = _mm512_shuffle_i32x4(t[4 * p], t[4 * p + 2], 0xdd);      // dword 8 + p
        v[4 + p] = _mm512_shuffle_i32x4(t[4 * p + 1], t[4 * p + 3], 0x88);  // dword 4 + p
        v[12 + p] = _mm512_shuffle_i32x4(t[4 * p + 1], t[4 * p + 3], 0xdd); // dword 12 + p
    }
}

// The codes of a 16-row half panel over one block: v[r] = block of row min(r, rows - 1) (rows
// past the range repeat the last one: their lanes are computed and never stored); after the
// transpose v[q] lane r = bytes 4q .. 4q + 3 of row r, and (v[q] >> 2s) & 3 = codes of the four
// weights 64s + 4q .. 64s + 4q + 3 of each row: k4 step 16s + q of the block.
__attribute__((noinline)) static void unpack_block(const uint8_t *w, size_t row_bytes, int rows,
                                                   uint8_t *dst)
{
    const __m512i m = _mm512_set1_epi8(0x03);
    __m512i v[16];
    for (int r = 0; r < 16; r++)
        v[r] = _mm512_load_si512(w + (size_t)(r < rows ? r : rows - 1) * row_bytes);
    transpose16(v);
#pragma GCC unroll 16
    for (int q = 0; q < 16; q++)
#pragma GCC unroll 4
        for (int s = 0; s < 4; s++)
            _mm512_store_si512(dst + (size_t)(16 * s + q) * PANEL_STEP,
                               _mm512_and_si512(_mm512_srli_epi32(v[q], 2 * s), m));
}

// Accumulators of R activation rows x H halves: a<h>_<i> lane r += dot of row 16h + r of the
// panel with activation row i over kc4 k4 steps. The activation's 4 bytes of a step are
// broadcast from memory; nothing is reduced horizontally. Named accumulators, not arrays (gcc
// keeps arrays of vectors in memory); rows i >= R compile away, R and H being constants.
#define EACH_ROW(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define ACC_INIT(i)                                                                                \
    __m512i a0_##i = _mm512_setzero_si512(), a1_##i = a0_##i;                                      \
    if (R > i) {                                                                                   \
        a0_##i = _mm512_load_si512(scratch + i * NR);                                              \
        if (H > 1) a1_##i = _mm512_load_si512(scratch + i * NR + 16);                              \
    }
#define ACC_STEP(i)                                                                                \
    if (R > i) {                                                                                   \
        const __m512i xb = _mm512_set1_epi32(load32(x + i * k_pad + 4 * (size_t)t));               \
        a0_##i = _mm512_dpbusd_epi32(a0_##i, c0, xb);                                              \
        if (H > 1) a1_##i = _mm512_dpbusd_epi32(a1_##i, c1, xb);                                   \
    }
#define ACC_STORE(i)                                                                               \
    if (R > i) {                                                                                   \
        _mm512_store_si512(scratch + i * NR, a0_##i);                                              \
        if (H > 1) _mm512_store_si512(scratch + i * NR + 16, a1_##i);                              \
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
        const __m512i c0 = _mm512_load_si512(p);
        const __m512i c1 = H > 1 ? _mm512_load_si512(p + 64) : c0;
        EACH_ROW(ACC_STEP)
    }
    EACH_ROW(ACC_STORE)
}

// micro with constant R and H, one function each: inlined into one switch, gcc's register
// allocator spilled the accumulators of every case on every step.
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
MICRO_FN(7)
MICRO_FN(8)
MICRO_FN(9)
MICRO_FN(10)
MICRO_FN(11)
MICRO_FN(12)
_Static_assert(MR == 12, "one micro-kernel per row count");
// micros[H - 1][R - 1]
static const micro_fn micros[2][MR] = {
    {micro_1_1, micro_2_1, micro_3_1, micro_4_1, micro_5_1, micro_6_1, micro_7_1, micro_8_1,
     micro_9_1, micro_10_1, micro_11_1, micro_12_1},
    {micro_1_2, micro_2_2, micro_3_2, micro_4_2, micro_5_2, micro_6_2, micro_7_2, micro_8_2,
     micro_9_2, micro_10_2, micro_11_2, micro_12_2},
};

static void unpack(const uint8_t *w, size_t row_bytes, int rows, int nb, uint8_t *panel)
{
    for (int b = 0; b < nb; b++)
        for (int h = 0; 16 * h < rows; h++)
            unpack_block(w + (size_t)b * I2_BLOCK_BYTES + 16 * (size_t)h * row_bytes, row_bytes,
                         rows - 16 * h, panel + (size_t)b * 64 * PANEL_STEP + 64 * h);
}

static void micro_any(const uint8_t *panel, const int8_t *x, size_t k_pad, int kc4, int R, int rows,
                      int32_t *scratch)
{
    micros[rows > 16][R - 1](panel, x, k_pad, kc4, scratch);
}

static const i2_panel_kernel panels = {.nr = NR, .mr = MR, .unpack = unpack, .micro = micro_any};

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    if (m < PANEL_MIN_M)
        i2_gemm_rows(packed, act, m, n, k, row0, row1, y, TILE_ROWS, gemv_tile8, gemv_row);
    else
        i2_gemm_panels(packed, act, m, n, k, row0, row1, y, &panels);
}

const tb_kernel tb_kernel_i2_avx512vnni = {
    .name = "i2_avx512vnni",
    .description = "2-bit packed, AVX-512 VNNI vpdpbusd, 8-row tiles, 32-row GEMM panels",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 5,
    I2_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
