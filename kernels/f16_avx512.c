// f16_avx512: the FP16 baseline (float_layout.h): binary16 weights converted with vcvtph2ps
// and multiplied into float accumulators with FMA, AVX-512. This is the baseline the papers'
// speedups are quoted against (llama.cpp FP16), so it is made as fast as it goes: GEMV tiles of
// 4 rows share each activation load and keep 2 accumulators a row (32 weights a step);
// GEMM converts each 16-weight slice once and uses it for 4 activation rows.
#include "float_layout.h"

#include <immintrin.h>

#define TILE_ROWS     4
#define GEMM_ACT_ROWS 4

static inline __m512 load_half16(const uint16_t *p)
{
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

static void gemv_tile4(const uint16_t *w, size_t kp, const float *x, float *out)
{
    __m512 a0 = _mm512_setzero_ps(), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
    for (size_t t = 0; t < kp; t += 32) {
        const __m512 xa = _mm512_loadu_ps(x + t), xb = _mm512_loadu_ps(x + t + 16);
        for (int r = 0; r < TILE_ROWS; r++) // the next tile, one 64-byte line per row
            _mm_prefetch((const char *)(w + (TILE_ROWS + r) * kp + t), _MM_HINT_T0);
        a0 = _mm512_fmadd_ps(load_half16(w + t), xa, a0);
        b0 = _mm512_fmadd_ps(load_half16(w + t + 16), xb, b0);
        a1 = _mm512_fmadd_ps(load_half16(w + kp + t), xa, a1);
        b1 = _mm512_fmadd_ps(load_half16(w + kp + t + 16), xb, b1);
        a2 = _mm512_fmadd_ps(load_half16(w + 2 * kp + t), xa, a2);
        b2 = _mm512_fmadd_ps(load_half16(w + 2 * kp + t + 16), xb, b2);
        a3 = _mm512_fmadd_ps(load_half16(w + 3 * kp + t), xa, a3);
        b3 = _mm512_fmadd_ps(load_half16(w + 3 * kp + t + 16), xb, b3);
    }
    out[0] = _mm512_reduce_add_ps(_mm512_add_ps(a0, b0));
    out[1] = _mm512_reduce_add_ps(_mm512_add_ps(a1, b1));
    out[2] = _mm512_reduce_add_ps(_mm512_add_ps(a2, b2));
    out[3] = _mm512_reduce_add_ps(_mm512_add_ps(a3, b3));
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
    int j = row0;
    for (; j + TILE_ROWS <= row1; j += TILE_ROWS) gemv_tile4(w + j * kp, kp, x, y + j);
    for (; j < row1; j++) y[j] = gemv_row(w + j * kp, kp, x);
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
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (size_t t = 0; t < kp; t += 16) {
                const __m512 v = load_half16(wj + t);
                a0 = _mm512_fmadd_ps(v, _mm512_loadu_ps(x0 + t), a0);
                a1 = _mm512_fmadd_ps(v, _mm512_loadu_ps(x1 + t), a1);
                a2 = _mm512_fmadd_ps(v, _mm512_loadu_ps(x2 + t), a2);
                a3 = _mm512_fmadd_ps(v, _mm512_loadu_ps(x3 + t), a3);
            }
            y[(size_t)i * n + j] = _mm512_reduce_add_ps(a0);
            y[(size_t)(i + 1) * n + j] = _mm512_reduce_add_ps(a1);
            y[(size_t)(i + 2) * n + j] = _mm512_reduce_add_ps(a2);
            y[(size_t)(i + 3) * n + j] = _mm512_reduce_add_ps(a3);
        }
    }
    for (; i < m; i++) gemv(packed, float_act_row(act, k, i), n, k, row0, row1, y + (size_t)i * n);
}

const tb_kernel tb_kernel_f16_avx512 = {
    .name = "f16_avx512",
    .description = "FP16 baseline: vcvtph2ps + FMA, AVX-512, 4-row GEMV tiles",
    .isa = TB_ISA_AVX512F,
    .n_tile = TILE_ROWS,
    .rank = 0,
    F16_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
