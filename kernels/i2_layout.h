// The i2 packed format: 2 bits a weight, one layout on every ISA.
//
// Code c = w + 1, so -1 -> 0b00, 0 -> 0b01, +1 -> 0b10 (0b11 never appears). A row of k weights
// is cut into blocks of I2_BLOCK = 256 weights along k; block b covers k indices
// [256b, 256b + 256) and takes 64 bytes. Byte j of a block holds four weights 64 apart:
//
//            bit  7  6 | 5  4 | 3  2 | 1  0
//   byte j:   w[192+j] | w[128+j]| w[64+j] | w[j]        (indices within the block)
//
// so (byte >> 2s) & 3, taken over the 64 bytes of a block, is the codes of the 64 consecutive
// weights [64s, 64s + 64): one 64-byte, two 32-byte or four 16-byte vector loads of
// activations line up with it on any ISA, with no shuffles. Past k the row is padded with
// code 0b01 (weight 0), and prepared activations are zero there, so padding adds nothing.
//
//   packed buffer:  row 0: block 0 | block 1 | ... | block kb-1     (kb = ceil(k / 256))
//                   row 1: ...
//                   ...
//                   row n-1
//                   float w_scale, zero padded to 64 bytes
//
// Rows are independent, so any row range [row0, row1) can be computed on its own.
// Activations use the act_rows form with k_pad = 256 * kb.
//
// dot(x, w) = dot(x, c) - sum(x): the kernels multiply unsigned codes by signed activations
// and subtract the row sum of x once.
#ifndef TB_I2_LAYOUT_H
#define TB_I2_LAYOUT_H

#include "act_rows.h"

#include <assert.h>
#include <string.h>

#define I2_BLOCK       256
#define I2_BLOCK_BYTES 64

_Static_assert(I2_BLOCK_BYTES * 4 == I2_BLOCK, "four 2-bit codes a byte");
_Static_assert(I2_BLOCK_BYTES % TB_ALIGN == 0, "blocks keep 64-byte alignment");

static inline int i2_blocks(int k)
{
    return (k + I2_BLOCK - 1) / I2_BLOCK;
}
static inline int i2_k_pad(int k)
{
    return i2_blocks(k) * I2_BLOCK;
}
static inline size_t i2_row_bytes(int k)
{
    return (size_t)i2_blocks(k) * I2_BLOCK_BYTES;
}

static inline const uint8_t *i2_row(const void *packed, int k, int j)
{
    return (const uint8_t *)packed + (size_t)j * i2_row_bytes(k);
}

static inline float i2_scale(const void *packed, int n, int k)
{
    float s;
    memcpy(&s, (const char *)packed + (size_t)n * i2_row_bytes(k), sizeof s);
    return s;
}

// The entries every i2 kernel shares (i2_layout.c).
size_t i2_packed_size(int n, int k);
void i2_pack(const int8_t *w, float w_scale, int n, int k, void *packed);
size_t i2_act_size(int m, int k);
void i2_prepare(const int8_t *x, const float *x_scale, int m, int k, void *act);

// A kernel's inner routine: dots[r] = dot(codes of row r, x) - the raw unsigned-code dot, before
// the sum(x) correction - for the rows at w, w + stride, w + 2 stride, ... (as many as the
// routine does). A routine that prefetches fetches `ahead` bytes past each block it reads.
typedef void (*i2_rows_fn)(const uint8_t *w, size_t stride, size_t ahead, const int8_t *x, int kb,
                           int32_t *dots);
#define I2_MAX_TILE 16

// How far ahead in its stream each row of a tile prefetches: tb_prefetch_get(), a runtime
// parameter (default TB_PREFETCH_DEFAULT: on an Ice Lake server VM with 2 threads, 1-4 KB ahead
// of 8 interleaved streams read DRAM fastest); `tritbench tune` measures it per CPU.

// The shared driver: for every activation row, rows [row0, row1) go through `tile` (tile_rows
// at once) while whole tiles fit, the rest through `one`; then the offset correction and the
// scales. Kernels differ only in their routines.
//
// The rows of a tile are not neighbours but Q = (row1 - row0) / tile_rows apart: the range is
// cut into tile_rows runs of Q consecutive rows, and tile t takes row t of every run.
//
//   runs:   [row0 .. row0+Q) [row0+Q .. row0+2Q) ... [.. row0+tile_rows*Q) | rest, one by one
//   tile t: row0+t,          row0+Q+t,          ...,  row0+(tile_rows-1)Q+t
//
// Consecutive rows are consecutive in memory, so a tile reads tile_rows sequential streams in
// lockstep, 64 bytes of each at a time: the access pattern that draws the most bandwidth from
// DRAM (one stream, or neighbouring rows of 640 bytes, drew 20-45 % less in the same test).
void i2_gemm_rows(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                  float *y, int tile_rows, i2_rows_fn tile, i2_rows_fn one);

// The gemm and gemv of a kernel whose routine tile(w, stride, ahead, x, kb, R, dots) handles R
// rows and is always inlined, so that both copies below get a constant R: R = tile_rows for
// whole tiles, R = 1 for the rows left over.
#define I2_TILED_GEMM_GEMV(tile_rows, tile)                                                        \
    static void tile_full(const uint8_t *w, size_t stride, size_t ahead, const int8_t *x, int kb,  \
                          int32_t *dots)                                                           \
    {                                                                                              \
        tile(w, stride, ahead, x, kb, tile_rows, dots);                                            \
    }                                                                                              \
    static void tile_one(const uint8_t *w, size_t stride, size_t ahead, const int8_t *x, int kb,   \
                         int32_t *dots)                                                            \
    {                                                                                              \
        tile(w, stride, ahead, x, kb, 1, dots);                                                    \
    }                                                                                              \
    static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1, \
                     float *y)                                                                     \
    {                                                                                              \
        i2_gemm_rows(packed, act, m, n, k, row0, row1, y, tile_rows, tile_full, tile_one);         \
    }                                                                                              \
    static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1,        \
                     float *y)                                                                     \
    {                                                                                              \
        gemm(packed, act, 1, n, k, row0, row1, y);                                                 \
    }

// ---- the panel GEMM (prefill, m >= a kernel's threshold) ----
//
// A GEMV-shaped kernel reuses each unpacked weight only across the few activation rows whose
// vectors fit its registers, and reduces every output horizontally. The panel GEMM instead
// unpacks a panel of `nr` weight rows over a slice of I2_PANEL_KC k values ONCE into a stack
// buffer, transposed so that one vector holds 4 consecutive codes of each of its rows:
//
//   panel (bytes), one k4 step t (4 consecutive k) after another:
//     step t:  row 0: c[4t] c[4t+1] c[4t+2] c[4t+3] | row 1: c[4t] .. c[4t+3] | ... | row nr-1
//     step t+1: ...
//   (nr * 4 bytes a step; a kernel's vector of `lanes` dword lanes covers `lanes` rows)
//
// and every activation row then meets every row of the panel in one dot-product instruction
// per vector: the 4 activation bytes of step t broadcast to every lane (u8 codes x s8
// activations, summed by fours into int32 lanes: vpdpbusd, or an equivalent). Each lane of an
// accumulator is one output; nothing is reduced horizontally. A micro-kernel keeps the
// accumulators of mr activation rows x nr panel rows in registers over the slice; between
// slices they rest in an int32 scratch on the stack. Codes are c = w + 1 in 0..2 as everywhere
// in i2, so the driver subtracts sum(x) once per output at the end.
//
// Loops: activation rows in chunks of at most I2_PANEL_MC (the scratch), panels of nr rows
// within [row0, row1) (the last one may be short: its missing rows repeat the last row and
// are never stored), slices of I2_PANEL_KC along k, micro-kernels of mr activation rows.
#define I2_PANEL_KC_BLOCKS 1 // one block: see the measurements in i2_avx512vnni.c
#define I2_PANEL_KC        (I2_PANEL_KC_BLOCKS * I2_BLOCK)
#define I2_PANEL_MAX_NR    32
#define I2_PANEL_MC        128

typedef struct {
    int nr; // weight rows a panel (<= I2_PANEL_MAX_NR)
    int mr; // activation rows a micro-kernel call handles at most
    // Writes the panel of rows w, w + row_bytes, ... (`rows` of them, 1..nr: lanes past it may
    // hold anything) over the blocks at w .. w + nb blocks, nb <= I2_PANEL_KC_BLOCKS.
    void (*unpack)(const uint8_t *w, size_t row_bytes, int rows, int nb, uint8_t *panel);
    // scratch[i * nr + r] += dot(panel row r, activation row i) over steps [0, kc4), for the
    // R <= mr activation rows at x, x + k_pad, ... and the panel's first `rows` rows (lanes past
    // them may be computed too).
    void (*micro)(const uint8_t *panel, const int8_t *x, size_t k_pad, int kc4, int R, int rows,
                  int32_t *scratch);
} i2_panel_kernel;

void i2_gemm_panels(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                    float *y, const i2_panel_kernel *pk);

#if defined(__AVX2__)
#include <immintrin.h>

// Panels of 8-row ymm lane groups, for the AVX2 kernels (compiled into each with its flags).
// v[q] lane r = v[r] lane q for 8 vectors of 8 dwords: 3 rounds of 8 shuffles (dwords and
// qwords within 128-bit lanes, then the lanes).
static inline __attribute__((always_inline)) void i2_transpose8_avx2(__m256i v[8])
{
    __m256i t[8];
    for (int r = 0; r < 8; r += 2) {
        t[r] = _mm256_unpacklo_epi32(v[r], v[r + 1]);
        t[r + 1] = _mm256_unpackhi_epi32(v[r], v[r + 1]);
    }
    // v[4g + p] 128-bit lane L: dword 4L + p of rows 4g .. 4g + 3
    for (int g = 0; g < 2; g++) {
        v[4 * g + 0] = _mm256_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
        v[4 * g + 1] = _mm256_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
        v[4 * g + 2] = _mm256_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
        v[4 * g + 3] = _mm256_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
    }
    for (int p = 0; p < 4; p++) {
        t[p] = _mm256_permute2x128_si256(v[p], v[4 + p], 0x20);     // dword p
        t[4 + p] = _mm256_permute2x128_si256(v[p], v[4 + p], 0x31); // dword 4 + p
    }
    for (int q = 0; q < 8; q++) v[q] = t[q];
}

// The codes of 8 rows of one block (rows past `rows` repeat the last one) into the 32 bytes at
// dst of each k4 step of a panel of `step` bytes a step: each 32-byte half of the rows,
// transposed, gives v[q] lane r = bytes 4q .. 4q + 3 of row r of the half, and
// (v[q] >> 2s) & 3 = the codes of weights 64s + 4q .. 64s + 4q + 3: k4 step 16s + q (+ 8 for
// the second half) of the block.
static inline __attribute__((always_inline)) void
i2_unpack_block8_avx2(const uint8_t *w, size_t row_bytes, int rows, uint8_t *dst, size_t step)
{
    const __m256i m = _mm256_set1_epi8(0x03);
    for (int half = 0; half < 2; half++) {
        __m256i v[8];
        for (int r = 0; r < 8; r++)
            v[r] = _mm256_load_si256(
                (const __m256i *)(w + (size_t)(r < rows ? r : rows - 1) * row_bytes + 32 * half));
        i2_transpose8_avx2(v);
#pragma GCC unroll 8
        for (int q = 0; q < 8; q++)
#pragma GCC unroll 4
            for (int s = 0; s < 4; s++)
                _mm256_store_si256((__m256i *)(dst + (size_t)(16 * s + 8 * half + q) * step),
                                   _mm256_and_si256(_mm256_srli_epi32(v[q], 2 * s), m));
    }
}

// A panel of nr rows (a multiple of 8) over nb blocks, in 8-row groups (i2_panel_kernel.unpack).
static inline void i2_panel_unpack8_avx2(const uint8_t *w, size_t row_bytes, int rows, int nb,
                                         uint8_t *panel, int nr)
{
    for (int b = 0; b < nb; b++)
        for (int g = 0; 8 * g < rows; g++)
            i2_unpack_block8_avx2(
                w + (size_t)b * I2_BLOCK_BYTES + 8 * (size_t)g * row_bytes, row_bytes, rows - 8 * g,
                panel + (size_t)b * 64 * 4 * (size_t)nr + 32 * (size_t)g, 4 * (size_t)nr);
}
#endif

// Designated initialisers shared by every i2 kernel (k_block, packing, activations).
#define I2_KERNEL_COMMON                                                                           \
    .format = "i2", .k_block = I2_BLOCK, .exact = 1, .packed_size = i2_packed_size,                \
    .pack = i2_pack, .act_size = i2_act_size, .prepare = i2_prepare

#endif
