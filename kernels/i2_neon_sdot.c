// i2_neon_sdot: the i2 format (i2_layout.h) with the ARMv8.2 dot-product extension: vdotq_s32
// adds groups of four int8 x int8 products into int32 lanes. Compiled with
// -march=armv8.2-a+dotprod for this file only; dispatch calls it only when HWCAP_ASIMDDP is set.
//
// A block is four 16-byte chunks h. For a chunk v (signed dot, so every byte must stay <= 127):
//   v & 0x03         = c  of weights [ 64*0 + 16h, +16)    v4 = v >> 4
//   v & 0x0c         = 4c of weights [ 64*1 + 16h, +16)
//   v4 & 0x03        = c  of weights [ 64*2 + 16h, +16)
//   v4 & 0x0c        = 4c of weights [ 64*3 + 16h, +16)
// The 1x products go to accumulator lo, the 4x ones to hi; lo + (hi >> 2) is exact because hi
// holds exactly four times its true sums. Bytes are at most 8, so an int32 lane gains at most
// 4 * 8 * 128 per sdot, 8 sdots a block: 2^15, and 2^24 over the 512 blocks of TB_K_MAX.
//
// Tiles of TILE_ROWS rows share each activation load.
#include "i2_layout.h"

#include <arm_neon.h>

#define TILE_ROWS 4
#define INLINE    static inline __attribute__((always_inline))

// dots[r] = dot(codes of row r, x) for the R rows at w, w + stride, ... No software prefetch:
// not measured on ARM hardware yet, so `ahead` is not used.
INLINE void tile(const uint8_t *w, size_t stride, const int8_t *x, int kb, int R, int32_t *dots)
{
    const uint8x16_t m0 = vdupq_n_u8(0x03), m1 = vdupq_n_u8(0x0c);
    int32x4_t lo[TILE_ROWS], hi[TILE_ROWS];
    for (int r = 0; r < R; r++) lo[r] = hi[r] = vdupq_n_s32(0);
    for (int b = 0; b < kb; b++) {
        const int8_t *xb = x + (size_t)b * I2_BLOCK;
        for (int h = 0; h < 4; h++) {
            int8x16_t x0 = vld1q_s8(xb + 16 * h), x1 = vld1q_s8(xb + 64 + 16 * h);
            int8x16_t x2 = vld1q_s8(xb + 128 + 16 * h), x3 = vld1q_s8(xb + 192 + 16 * h);
            for (int r = 0; r < R; r++) {
                uint8x16_t v = vld1q_u8(w + r * stride + (size_t)b * I2_BLOCK_BYTES + 16 * h);
                uint8x16_t v4 = vshrq_n_u8(v, 4);
                lo[r] = vdotq_s32(lo[r], vreinterpretq_s8_u8(vandq_u8(v, m0)), x0);
                hi[r] = vdotq_s32(hi[r], vreinterpretq_s8_u8(vandq_u8(v, m1)), x1);
                lo[r] = vdotq_s32(lo[r], vreinterpretq_s8_u8(vandq_u8(v4, m0)), x2);
                hi[r] = vdotq_s32(hi[r], vreinterpretq_s8_u8(vandq_u8(v4, m1)), x3);
            }
        }
    }
    for (int r = 0; r < R; r++) dots[r] = vaddvq_s32(vaddq_s32(lo[r], vshrq_n_s32(hi[r], 2)));
}

static void tile_full(const uint8_t *w, size_t stride, size_t ahead, const int8_t *x, int kb,
                      int32_t *dots)
{
    (void)ahead;
    tile(w, stride, x, kb, TILE_ROWS, dots);
}

static void tile_one(const uint8_t *w, size_t stride, size_t ahead, const int8_t *x, int kb,
                     int32_t *dots)
{
    (void)ahead;
    tile(w, stride, x, kb, 1, dots);
}

// ---- GEMM: the panel GEMM of i2_layout.h ----
//
// A panel of NR = 16 rows is four q registers of 4 rows a k4 step. The by-element dot product
// vdotq_laneq_s32(acc, codes, xv, u) multiplies each row's 4 codes by the 4 activation bytes of
// lane u of xv, so one 16-byte load of an activation row serves 4 k4 steps, with no broadcast
// at all. A micro-kernel keeps MR = 4 activation rows x 4 registers = 16 accumulators, 4 code
// registers and the 4 activation registers (24 of the 32); per 4 k4 steps: 16 code loads,
// 4 activation loads, 64 sdot. Not timed on ARM hardware yet (the tests run it under qemu):
// NR, MR and PANEL_MIN_M follow the x86 kernels.
//
// Unpacking 4 rows of a block: each 16-byte quarter h of the 4 rows transposed as 4 x 4 dwords
// (vtrn1q/vtrn2q on 32 then 64 bits) gives o[p] lane r = bytes 4(4h + p) .. + 3 of row r, and
// o[p] >> 2s (a byte shift: no bits cross), masked with 3 below the top pair, = the codes of
// weights 64s + 4q .. 64s + 4q + 3, q = 4h + p: k4 step 16s + q of the block.
//
// Bounds: codes are at most 2 and activations at least -128, so one sdot adds at most
// 4 * 2 * 128 = 2^10 to a lane: k / 4 steps add at most 2^8 k <= 2^25 (TB_K_MAX), far below 2^31.
#define NR          16
#define MR          4
#define PANEL_STEP  (NR * 4) // bytes of one k4 step of a panel
#define PANEL_MIN_M 5        // below: the GEMV tiles, one activation row at a time
_Static_assert(I2_PANEL_KC % 16 == 0, "a slice is whole groups of 4 k4 steps");

// The codes of 4 rows (rows past `rows` repeat the last one) over one block, into the 16 bytes
// at dst of each k4 step.
static void unpack_block(const uint8_t *w, size_t row_bytes, int rows, uint8_t *dst)
{
    const uint8x16_t m = vdupq_n_u8(0x03);
    for (int h = 0; h < 4; h++) {
        uint32x4_t v[4];
        for (int r = 0; r < 4; r++)
            v[r] = vreinterpretq_u32_u8(
                vld1q_u8(w + (size_t)(r < rows ? r : rows - 1) * row_bytes + 16 * h));
        const uint32x4_t t0 = vtrn1q_u32(v[0], v[1]), t1 = vtrn2q_u32(v[0], v[1]);
        const uint32x4_t t2 = vtrn1q_u32(v[2], v[3]), t3 = vtrn2q_u32(v[2], v[3]);
        uint8x16_t o[4];
        o[0] = vreinterpretq_u8_u64(
            vtrn1q_u64(vreinterpretq_u64_u32(t0), vreinterpretq_u64_u32(t2))); // dword 0
        o[1] = vreinterpretq_u8_u64(
            vtrn1q_u64(vreinterpretq_u64_u32(t1), vreinterpretq_u64_u32(t3))); // dword 1
        o[2] = vreinterpretq_u8_u64(
            vtrn2q_u64(vreinterpretq_u64_u32(t0), vreinterpretq_u64_u32(t2))); // dword 2
        o[3] = vreinterpretq_u8_u64(
            vtrn2q_u64(vreinterpretq_u64_u32(t1), vreinterpretq_u64_u32(t3))); // dword 3
        for (int p = 0; p < 4; p++) {
            uint8_t *d = dst + (size_t)(4 * h + p) * PANEL_STEP;
            vst1q_u8(d, vandq_u8(o[p], m));
            vst1q_u8(d + 16 * PANEL_STEP, vandq_u8(vshrq_n_u8(o[p], 2), m));
            vst1q_u8(d + 32 * PANEL_STEP, vandq_u8(vshrq_n_u8(o[p], 4), m));
            vst1q_u8(d + 48 * PANEL_STEP, vshrq_n_u8(o[p], 6));
        }
    }
}

static void unpack(const uint8_t *w, size_t row_bytes, int rows, int nb, uint8_t *panel)
{
    for (int b = 0; b < nb; b++)
        for (int g = 0; 4 * g < rows; g++)
            unpack_block(w + (size_t)b * I2_BLOCK_BYTES + 4 * (size_t)g * row_bytes, row_bytes,
                         rows - 4 * g, panel + (size_t)b * 64 * PANEL_STEP + 16 * g);
}

// Accumulators a<g>_<i>: lane r += dot of panel row 4g + r with activation row i, for G = 2 or 4
// groups of the panel (a panel of at most 8 rows computes only the first two). Named, not
// arrays (see i2_avx512vnni.c).
#define ACC_INIT(i)                                                                                \
    int32x4_t a0_##i = vdupq_n_s32(0), a1_##i = a0_##i, a2_##i = a0_##i, a3_##i = a0_##i;          \
    int8x16_t x_##i = vdupq_n_s8(0);                                                               \
    if (R > i) {                                                                                   \
        a0_##i = vld1q_s32(scratch + i * NR);                                                      \
        a1_##i = vld1q_s32(scratch + i * NR + 4);                                                  \
        if (G > 2) a2_##i = vld1q_s32(scratch + i * NR + 8);                                       \
        if (G > 2) a3_##i = vld1q_s32(scratch + i * NR + 12);                                      \
    }
#define LOAD_X(i)                                                                                  \
    if (R > i) x_##i = vld1q_s8(x + i * k_pad + 4 * (size_t)t);
#define DOT(i, u)                                                                                  \
    if (R > i) {                                                                                   \
        a0_##i = vdotq_laneq_s32(a0_##i, c0, x_##i, u);                                            \
        a1_##i = vdotq_laneq_s32(a1_##i, c1, x_##i, u);                                            \
        if (G > 2) a2_##i = vdotq_laneq_s32(a2_##i, c2, x_##i, u);                                 \
        if (G > 2) a3_##i = vdotq_laneq_s32(a3_##i, c3, x_##i, u);                                 \
    }
// k4 step t + u: its codes, and the activations' 4 bytes of lane u.
#define STEP(u)                                                                                    \
    do {                                                                                           \
        const int8_t *p = (const int8_t *)panel + (size_t)(t + u) * PANEL_STEP;                    \
        const int8x16_t c0 = vld1q_s8(p), c1 = vld1q_s8(p + 16);                                   \
        const int8x16_t c2 = G > 2 ? vld1q_s8(p + 32) : c0, c3 = G > 2 ? vld1q_s8(p + 48) : c0;    \
        DOT(0, u) DOT(1, u) DOT(2, u) DOT(3, u)                                                    \
    } while (0)
#define ACC_STORE(i)                                                                               \
    if (R > i) {                                                                                   \
        vst1q_s32(scratch + i * NR, a0_##i);                                                       \
        vst1q_s32(scratch + i * NR + 4, a1_##i);                                                   \
        if (G > 2) vst1q_s32(scratch + i * NR + 8, a2_##i);                                        \
        if (G > 2) vst1q_s32(scratch + i * NR + 12, a3_##i);                                       \
    }

static inline __attribute__((always_inline)) void
micro(const uint8_t *panel, const int8_t *x, size_t k_pad, int kc4, int R, int G, int32_t *scratch)
{
    _Static_assert(MR == 4, "rows 0..3 below");
    int t = 0;
    ACC_INIT(0) ACC_INIT(1) ACC_INIT(2) ACC_INIT(3) for (; t < kc4; t += 4)
    {
        LOAD_X(0) LOAD_X(1) LOAD_X(2) LOAD_X(3) STEP(0);
        STEP(1);
        STEP(2);
        STEP(3);
    }
    ACC_STORE(0) ACC_STORE(1) ACC_STORE(2) ACC_STORE(3)
}

typedef void (*micro_fn)(const uint8_t *panel, const int8_t *x, size_t k_pad, int kc4,
                         int32_t *scratch);
#define MICRO_FN(r)                                                                                \
    static void micro_##r##_2(const uint8_t *panel, const int8_t *x, size_t k_pad, int kc4,        \
                              int32_t *scratch)                                                    \
    {                                                                                              \
        micro(panel, x, k_pad, kc4, r, 2, scratch);                                                \
    }                                                                                              \
    static void micro_##r##_4(const uint8_t *panel, const int8_t *x, size_t k_pad, int kc4,        \
                              int32_t *scratch)                                                    \
    {                                                                                              \
        micro(panel, x, k_pad, kc4, r, 4, scratch);                                                \
    }
MICRO_FN(1)
MICRO_FN(2)
MICRO_FN(3)
MICRO_FN(4)
// micros[G / 2 - 1][R - 1]
static const micro_fn micros[2][MR] = {
    {micro_1_2, micro_2_2, micro_3_2, micro_4_2},
    {micro_1_4, micro_2_4, micro_3_4, micro_4_4},
};

static void micro_any(const uint8_t *panel, const int8_t *x, size_t k_pad, int kc4, int R, int rows,
                      int32_t *scratch)
{
    assert(kc4 % 4 == 0);
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

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    i2_gemm_rows(packed, act, 1, n, k, row0, row1, y, TILE_ROWS, tile_full, tile_one);
}

const tb_kernel tb_kernel_i2_neon_sdot = {
    .name = "i2_neon_sdot",
    .description = "2-bit packed, ARMv8.2 dotprod vdotq_s32, 4-row tiles, 16-row GEMM panels",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 4,
    I2_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
