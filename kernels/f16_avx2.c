// f16_avx2: the FP16 baseline (float_layout.h): binary16 weights converted with F16C
// vcvtph2ps and multiplied into float accumulators with FMA, AVX2. This is the baseline the papers'
// speedups are quoted against (llama.cpp FP16), so it is made as fast as it goes: GEMV reads 4
// rows as 4 streams that share each activation load, 2 accumulators a row (16 weights a step);
// GEMM converts each 16-weight slice once and uses it for 4 activation rows.
#include "float_layout.h"

#include <immintrin.h>

#define TILE_ROWS     4
#define GEMM_ACT_ROWS 4

static inline __m256 load_half8(const uint16_t *p)
{
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

static inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// GEMV: 4 rows at a time, taken Q rows apart (the row range cut into 4 runs of Q consecutive
// rows, step t takes row t of each; see i2_layout.h): 4 sequential streams read in lockstep,
// each prefetched AHEAD bytes further along, which draws more from DRAM than neighbouring rows.
#define AHEAD 2048 // bytes

#define STREAM_STEP(r, a, b)                                                                       \
    do {                                                                                           \
        const uint16_t *wr = w + (r)*stride + t;                                                   \
        _mm_prefetch((const char *)wr + AHEAD, _MM_HINT_T0);                                       \
        a = _mm256_fmadd_ps(load_half8(wr), xa, a);                                                \
        b = _mm256_fmadd_ps(load_half8(wr + 8), xb, b);                                            \
    } while (0)

// out[r * out_stride] = row r . x for the 4 rows at w + r * stride (in halves).
static void gemv_streams4(const uint16_t *w, size_t stride, size_t kp, const float *x, float *out,
                          size_t out_stride)
{
    __m256 a0 = _mm256_setzero_ps(), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
    for (size_t t = 0; t < kp; t += 16) {
        const __m256 xa = _mm256_loadu_ps(x + t), xb = _mm256_loadu_ps(x + t + 8);
        STREAM_STEP(0, a0, b0);
        STREAM_STEP(1, a1, b1);
        STREAM_STEP(2, a2, b2);
        STREAM_STEP(3, a3, b3);
    }
    out[0] = hsum(_mm256_add_ps(a0, b0));
    out[out_stride] = hsum(_mm256_add_ps(a1, b1));
    out[2 * out_stride] = hsum(_mm256_add_ps(a2, b2));
    out[3 * out_stride] = hsum(_mm256_add_ps(a3, b3));
}

static float gemv_row(const uint16_t *w, size_t kp, const float *x)
{
    __m256 a = _mm256_setzero_ps(), b = a;
    for (size_t t = 0; t < kp; t += 16) {
        a = _mm256_fmadd_ps(load_half8(w + t), _mm256_loadu_ps(x + t), a);
        b = _mm256_fmadd_ps(load_half8(w + t + 8), _mm256_loadu_ps(x + t + 8), b);
    }
    return hsum(_mm256_add_ps(a, b));
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    const size_t kp = (size_t)float_k_pad(k);
    const uint16_t *w = packed;
    const float *x = act;
    const size_t q = (size_t)(row1 - row0) / TILE_ROWS; // rows a run
    for (size_t t = 0; t < q; t++)
        gemv_streams4(w + (row0 + t) * kp, q * kp, kp, x, y + row0 + t, q);
    for (int j = row0 + (int)(q * TILE_ROWS); j < row1; j++) y[j] = gemv_row(w + j * kp, kp, x);
}

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    const size_t kp = (size_t)float_k_pad(k);
    const uint16_t *w = packed;
    int i = 0;
    for (; i + GEMM_ACT_ROWS <= m; i += GEMM_ACT_ROWS) {
        const float *x0 = float_act_row(act, k, i), *x1 = x0 + kp, *x2 = x1 + kp, *x3 = x2 + kp;
        for (int j = row0; j < row1; j++) {
            const uint16_t *wj = w + j * kp;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (size_t t = 0; t < kp; t += 8) {
                const __m256 v = load_half8(wj + t);
                a0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(x0 + t), a0);
                a1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(x1 + t), a1);
                a2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(x2 + t), a2);
                a3 = _mm256_fmadd_ps(v, _mm256_loadu_ps(x3 + t), a3);
            }
            y[(size_t)i * n + j] = hsum(a0);
            y[(size_t)(i + 1) * n + j] = hsum(a1);
            y[(size_t)(i + 2) * n + j] = hsum(a2);
            y[(size_t)(i + 3) * n + j] = hsum(a3);
        }
    }
    for (; i < m; i++) gemv(packed, float_act_row(act, k, i), n, k, row0, row1, y + (size_t)i * n);
}

const tb_kernel tb_kernel_f16_avx2 = {
    .name = "f16_avx2",
    .description = "FP16 baseline: F16C vcvtph2ps + FMA, AVX2, 4-row GEMV tiles",
    .isa = TB_KERNEL_ISA,
    .n_tile = TILE_ROWS,
    .rank = 1,
    F16_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
