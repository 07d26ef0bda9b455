// f16_avx512: the FP16 baseline (float_layout.h): binary16 weights converted with vcvtph2ps
// and multiplied into float accumulators with FMA, AVX-512. This is the baseline the papers'
// speedups are quoted against (llama.cpp FP16), so it is made as fast as it goes: GEMV reads
// 8 rows as 8 streams that share each activation load, with 2 accumulators a row (32 weights a
// step) and prefetch; GEMM is blocked (below).
#include "float_layout.h"

#include <immintrin.h>

#define TILE_ROWS 8 // GEMV streams

static inline __m512 load_half16(const uint16_t *p)
{
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

// GEMV: 8 rows at a time, taken Q rows apart: the row range is cut into 8 runs of Q consecutive
// rows and step t takes row t of every run (as the i2 driver does, i2_layout.h). Rows of a run
// are consecutive in memory, so the 8 rows are 8 sequential streams read in lockstep, 64 bytes
// of each at a time, each prefetched AHEAD bytes further along: the pattern that draws the most
// bandwidth from DRAM here (4 neighbouring rows, as before, read the 657 MB head of 2B4T at
// ~20 GB/s where the machine gave 28 GB/s).
#define AHEAD 2048 // bytes

#define STREAM_STEP(r, a, b)                                                                       \
    do {                                                                                           \
        const uint16_t *wr = w + (r)*stride + t;                                                   \
        _mm_prefetch((const char *)wr + AHEAD, _MM_HINT_T0);                                       \
        a = _mm512_fmadd_ps(load_half16(wr), xa, a);                                               \
        b = _mm512_fmadd_ps(load_half16(wr + 16), xb, b);                                          \
    } while (0)

// out[r * out_stride] = row r . x for the 8 rows at w + r * stride (in halves).
static void gemv_streams8(const uint16_t *w, size_t stride, size_t kp, const float *x, float *out,
                          size_t out_stride)
{
    __m512 a0 = _mm512_setzero_ps(), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
    __m512 a4 = a0, b4 = a0, a5 = a0, b5 = a0, a6 = a0, b6 = a0, a7 = a0, b7 = a0;
    for (size_t t = 0; t < kp; t += 32) {
        const __m512 xa = _mm512_loadu_ps(x + t), xb = _mm512_loadu_ps(x + t + 16);
        STREAM_STEP(0, a0, b0);
        STREAM_STEP(1, a1, b1);
        STREAM_STEP(2, a2, b2);
        STREAM_STEP(3, a3, b3);
        STREAM_STEP(4, a4, b4);
        STREAM_STEP(5, a5, b5);
        STREAM_STEP(6, a6, b6);
        STREAM_STEP(7, a7, b7);
    }
    out[0] = _mm512_reduce_add_ps(_mm512_add_ps(a0, b0));
    out[out_stride] = _mm512_reduce_add_ps(_mm512_add_ps(a1, b1));
    out[2 * out_stride] = _mm512_reduce_add_ps(_mm512_add_ps(a2, b2));
    out[3 * out_stride] = _mm512_reduce_add_ps(_mm512_add_ps(a3, b3));
    out[4 * out_stride] = _mm512_reduce_add_ps(_mm512_add_ps(a4, b4));
    out[5 * out_stride] = _mm512_reduce_add_ps(_mm512_add_ps(a5, b5));
    out[6 * out_stride] = _mm512_reduce_add_ps(_mm512_add_ps(a6, b6));
    out[7 * out_stride] = _mm512_reduce_add_ps(_mm512_add_ps(a7, b7));
}

static float gemv_row(const uint16_t *w, size_t kp, const float *x)
{
    __m512 a = _mm512_setzero_ps(), b = a;
    for (size_t t = 0; t < kp; t += 32) {
        a = _mm512_fmadd_ps(load_half16(w + t), _mm512_loadu_ps(x + t), a);
        b = _mm512_fmadd_ps(load_half16(w + t + 16), _mm512_loadu_ps(x + t + 16), b);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(a, b));
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    const size_t kp = (size_t)float_k_pad(k);
    const uint16_t *w = packed;
    const float *x = act;
    const size_t q = (size_t)(row1 - row0) / TILE_ROWS; // rows a run
    for (size_t t = 0; t < q; t++)
        gemv_streams8(w + (row0 + t) * kp, q * kp, kp, x, y + row0 + t, q);
    for (int j = row0 + (int)(q * TILE_ROWS); j < row1; j++) y[j] = gemv_row(w + j * kp, kp, x);
}

// GEMM, for m >= GEMM_MIN_M: blocked like a BLAS microkernel. A block of NR = 32 weight rows by
// KB = 256 values is converted once to float and stored transposed (stage[t][r]: the 32 rows'
// weights at k = t side by side), then reused by every activation row: for MR activation rows at
// a time, each k step loads two 16-row weight vectors, broadcasts each row's x[t], and does
// 2 MR FMAs into accumulators that hold 32 outputs per activation row. Partial sums of each
// k block are added into y, so no horizontal reduction is ever needed.
#define NR         32
#define KB         256
#define MR         8
#define GEMM_MIN_M 8

static void gemm_blocked(const uint16_t *w, size_t kp, const void *act, int m, int n, int k,
                         int row0, int row1, float *y)
{
    float stage[KB][NR] __attribute__((aligned(64)));
    for (int j0 = row0; j0 < row1; j0 += NR) {
        const int nr = row1 - j0 < NR ? row1 - j0 : NR;
        const __mmask16 lo_mask = (__mmask16)(nr >= 16 ? 0xffff : (1u << nr) - 1);
        const __mmask16 hi_mask = (__mmask16)(nr >= 32  ? 0xffff
                                              : nr > 16 ? (1u << (nr - 16)) - 1
                                                        : 0);
        for (int i = 0; i < m; i++)
            for (int r = 0; r < nr; r++) y[(size_t)i * n + j0 + r] = 0.0f;
        for (size_t k0 = 0; k0 < kp; k0 += KB) {
            const int kb = kp - k0 < KB ? (int)(kp - k0) : KB;
            for (int r = 0; r < NR; r++) {
                float row[KB] __attribute__((aligned(64)));
                for (int t = 0; t < kb; t += 16)
                    _mm512_store_ps(row + t, r < nr ? load_half16(w + (j0 + r) * kp + k0 + t)
                                                    : _mm512_setzero_ps());
                for (int t = 0; t < kb; t++) stage[t][r] = row[t];
            }
            for (int i0 = 0; i0 < m; i0 += MR) {
                const int mr = m - i0 < MR ? m - i0 : MR;
                const float *x[MR];
                for (int r = 0; r < MR; r++)
                    x[r] = float_act_row(act, k, i0 + (r < mr ? r : 0)) + k0;
                __m512 c0[MR], c1[MR];
                for (int r = 0; r < MR; r++) c0[r] = c1[r] = _mm512_setzero_ps();
                for (int t = 0; t < kb; t++) {
                    const __m512 w0 = _mm512_load_ps(stage[t]), w1 = _mm512_load_ps(stage[t] + 16);
                    for (int r = 0; r < MR; r++) {
                        const __m512 xb = _mm512_set1_ps(x[r][t]);
                        c0[r] = _mm512_fmadd_ps(w0, xb, c0[r]);
                        c1[r] = _mm512_fmadd_ps(w1, xb, c1[r]);
                    }
                }
                for (int r = 0; r < mr; r++) {
                    float *yr = y + (size_t)(i0 + r) * n + j0;
                    _mm512_mask_storeu_ps(yr, lo_mask,
                                          _mm512_add_ps(_mm512_maskz_loadu_ps(lo_mask, yr), c0[r]));
                    _mm512_mask_storeu_ps(
                        yr + 16, hi_mask,
                        _mm512_add_ps(_mm512_maskz_loadu_ps(hi_mask, yr + 16), c1[r]));
                }
            }
        }
    }
}

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    const size_t kp = (size_t)float_k_pad(k);
    if (m >= GEMM_MIN_M) {
        gemm_blocked(packed, kp, act, m, n, k, row0, row1, y);
        return;
    }
    for (int i = 0; i < m; i++)
        gemv(packed, float_act_row(act, k, i), n, k, row0, row1, y + (size_t)i * n);
}

const tb_kernel tb_kernel_f16_avx512 = {
    .name = "f16_avx512",
    .description = "FP16 baseline: vcvtph2ps + FMA, AVX-512, 8-stream GEMV",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 2,
    F16_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
