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

// Designated initialisers shared by every i2 kernel (k_block, packing, activations).
#define I2_KERNEL_COMMON                                                                           \
    .format = "i2", .k_block = I2_BLOCK, .exact = 1, .packed_size = i2_packed_size,                \
    .pack = i2_pack, .act_size = i2_act_size, .prepare = i2_prepare

#endif
