// The lut2 and lut3 formats: lossless table-lookup ternary kernels.
//
// Instead of multiplying, a kernel looks up precomputed sums of small groups of activations.
// prepare() builds, for every activation row and every group of G consecutive activations
// (x0, x1[, x2]), a table of w . x over all weight patterns of the group; the kernel turns each
// group of weights into a 4-bit index and adds table[index]. Entries reach 2 * 128 (lut2) or
// 3 * 128 (lut3) in magnitude, so they are int16: lossless. Each table is stored as two 16-byte
// halves, low bytes then high bytes, which is what one pshufb (x86) or tbl (ARM) per half
// looks up; the portable kernels rebuild the int16 from the two bytes.
//
// lut2 (2 bits a weight): groups of G = 2 weights, index 3 (w0 + 1) + (w1 + 1) in 0..8;
//   table[i] = w0 x0 + w1 x1 for the pair encoded by i (entries 9..15 are 0).
// lut3 (5/3 = 1.67 bits a weight): groups of G = 3 weights, v = 9 w0 + 3 w1 + w2 in -13..13;
//   4-bit index |v| plus a sign bit (v < 0). table[m] = w . x for the triple with v = +m
//   (entries 14, 15 are 0); a set sign bit negates the entry (the triple with v = -m is the
//   negation of the one with v = m).
//
// Weights are vectorized across rows: a table lookup instruction applies one table to many
// indices, so a vector holds the indices of 32 rows for the same activation group. Rows are cut
// into tiles of LUT_TILE = 32 (the last tile padded with zero weights); within a tile, groups
// go in pairs (2q, 2q + 1) into one chunk:
//
//   chunk q of a tile (lut2: 32 bytes, lut3: 40 bytes)
//     byte r (r = 0..31, row r of the tile):  bits 3:0 index of group 2q,  bits 7:4 group 2q + 1
//     lut3 only: bytes 32..35: little-endian uint32, bit r = sign of group 2q of row r
//                bytes 36..39: the same for group 2q + 1
//
//   packed buffer: tile 0: chunk 0 | chunk 1 | ... ; tile 1 ... ; then the float scale at
//   align64(tiles * tile_bytes), padded to 64 bytes.
//
// k is zero-padded to 2 groups (lut2: 4 weights, lut3: 6); padded weights are 0 and padded
// activations are 0, so they add nothing. A kernel computes whole tiles and stores only the
// rows of [row0, row1).
//
// Prepared activations:  float scale[m], padded to 64 bytes; then per row, per group g:
//   16 low bytes and 16 high bytes of the int16 table (32 bytes a group, row stride groups*32).
//
// int16 accumulation: kernels that sum looked-up entries in int16 widen to int32 at least every
// LUT_BATCH_GROUPS = 64 groups: 64 * 384 = 24576 < 32767.
#ifndef TB_LUT_LAYOUT_H
#define TB_LUT_LAYOUT_H

#include "tb_kernel.h"

#include <assert.h>
#include <string.h>

#define LUT_TILE         32
#define LUT_TABLE_BYTES  32
#define LUT_BATCH_GROUPS 64

typedef struct {
    int group;       // weights a group: 2 (lut2) or 3 (lut3)
    int chunk_bytes; // bytes of a chunk (two groups of a tile): 32 or 40
} lut_format;

extern const lut_format lut2_format, lut3_format;

static inline int lut_k_pad(const lut_format *f, int k)
{
    int step = 2 * f->group;
    return (k + step - 1) / step * step;
}
static inline int lut_groups(const lut_format *f, int k)
{
    return lut_k_pad(f, k) / f->group;
}
static inline int lut_chunks(const lut_format *f, int k)
{
    return lut_groups(f, k) / 2;
}
static inline size_t lut_tile_bytes(const lut_format *f, int k)
{
    return (size_t)lut_chunks(f, k) * (size_t)f->chunk_bytes;
}
static inline int lut_tiles(int n)
{
    return (n + LUT_TILE - 1) / LUT_TILE;
}

static inline const uint8_t *lut_tile(const lut_format *f, const void *packed, int k, int t)
{
    return (const uint8_t *)packed + (size_t)t * lut_tile_bytes(f, k);
}

static inline float lut_scale(const lut_format *f, const void *packed, int n, int k)
{
    float s;
    size_t at = tb_align_up((size_t)lut_tiles(n) * lut_tile_bytes(f, k), TB_ALIGN);
    memcpy(&s, (const char *)packed + at, sizeof s);
    return s;
}

static inline const float *lut_act_scale(const void *act)
{
    return (const float *)act;
}

// Tables of activation row i: groups * 32 bytes.
static inline const uint8_t *lut_act_tables(const lut_format *f, const void *act, int m, int k,
                                            int i)
{
    size_t header = tb_align_up(sizeof(float) * (size_t)m, TB_ALIGN);
    return (const uint8_t *)act + header + (size_t)i * (size_t)lut_groups(f, k) * LUT_TABLE_BYTES;
}

// Entry e of a table (low byte at e, high byte at e + 16).
static inline int32_t lut_entry(const uint8_t *table, int e)
{
    return (int16_t)(uint16_t)(table[e] | (table[16 + e] << 8));
}

size_t lut_packed_size(const lut_format *f, int n, int k);
void lut_pack(const lut_format *f, const int8_t *w, float w_scale, int n, int k, void *packed);
size_t lut_act_size(const lut_format *f, int m, int k);
void lut_prepare(const lut_format *f, const int8_t *x, const float *x_scale, int m, int k,
                 void *act);

// Per-format entry points for the kernel structs (lut_layout.c).
size_t lut2_packed_size(int n, int k);
void lut2_pack(const int8_t *w, float w_scale, int n, int k, void *packed);
size_t lut2_act_size(int m, int k);
void lut2_prepare(const int8_t *x, const float *x_scale, int m, int k, void *act);
size_t lut3_packed_size(int n, int k);
void lut3_pack(const int8_t *w, float w_scale, int n, int k, void *packed);
size_t lut3_act_size(int m, int k);
void lut3_prepare(const int8_t *x, const float *x_scale, int m, int k, void *act);

#define LUT2_KERNEL_COMMON                                                                         \
    .format = "lut2", .k_block = 4, .n_tile = LUT_TILE, .exact = 1,                                \
    .packed_size = lut2_packed_size, .pack = lut2_pack, .act_size = lut2_act_size,                 \
    .prepare = lut2_prepare
#define LUT3_KERNEL_COMMON                                                                         \
    .format = "lut3", .k_block = 6, .n_tile = LUT_TILE, .exact = 1,                                \
    .packed_size = lut3_packed_size, .pack = lut3_pack, .act_size = lut3_act_size,                 \
    .prepare = lut3_prepare

// A SIMD kernel's inner routine: dots[0..31] for tile t0 and, when the kernel does two tiles at
// once and t1 is not NULL, dots[32..63] for tile t1, against one activation row's tables.
typedef void (*lut_tiles_fn)(const uint8_t *t0, const uint8_t *t1, const uint8_t *tables,
                             int chunks, int32_t *dots);

// The shared driver: for every activation row, the tiles covering [row0, row1) (two at a time
// if pair), storing only the rows in range.
void lut_gemm_tiles(const lut_format *f, const void *packed, const void *act, int m, int n, int k,
                    int row0, int row1, float *y, int pair, lut_tiles_fn fn);

// Stores the rows of tile t (dots[r] for row t*32 + r) that fall in [row0, row1) of output
// row y (already offset to the activation row), scaled.
static inline void lut_store_tile(const int32_t *dots, int t, int row0, int row1, float w_scale,
                                  float x_scale, float *y)
{
    for (int r = 0; r < LUT_TILE; r++) {
        int j = t * LUT_TILE + r;
        if (j >= row0 && j < row1) y[j] = tb_scale_dot(dots[r], w_scale, x_scale);
    }
}

#endif
