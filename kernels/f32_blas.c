// f32_blas: the FP32 baseline through a real BLAS (OpenBLAS cblas_sgemv / cblas_sgemm) on the
// dequantized weights (float_layout.h). The build links OpenBLAS's single-threaded variant:
// threads stay outside kernels, and the harness splits rows across its own threads like for
// every other kernel.
#include "float_layout.h"

#include <cblas.h>

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    if (row0 == row1) return;
    const int kp = float_k_pad(k);
    const float *w = (const float *)packed + (size_t)row0 * kp;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, row1 - row0, kp, 1.0f, act, kp, w, kp,
                0.0f, y + row0, n);
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    if (row0 == row1) return;
    const int kp = float_k_pad(k);
    const float *w = (const float *)packed + (size_t)row0 * kp;
    cblas_sgemv(CblasRowMajor, CblasNoTrans, row1 - row0, kp, 1.0f, w, kp, act, 1, 0.0f, y + row0,
                1);
}

const tb_kernel tb_kernel_f32_blas = {
    .name = "f32_blas",
    .description = "FP32 baseline: OpenBLAS sgemv/sgemm on dequantized weights, 1 thread",
    .isa = 0,
    .n_tile = 1,
    .rank = 0,
    F32_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
