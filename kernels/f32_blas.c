// f32_blas: the FP32 baseline through a real BLAS (OpenBLAS cblas_sgemv / cblas_sgemm) on the
// dequantized weights (float_layout.h). The build links OpenBLAS's single-threaded variant:
// threads stay outside kernels, and the harness splits rows across its own threads like for
// every other kernel.
//
// That variant is not reentrant (Debian builds it without USE_LOCKING): two threads inside
// sgemv at once corrupted each other's results (2560 x 2560 at 3 threads: outputs off by 100 %;
// validate --model 2B4T at 2 threads: NMSE 0.18-0.55 against 0.010 at 1 thread). So calls are
// serialized by one lock: at T threads this baseline runs at one thread's speed, which is what
// this BLAS can give safely.
#include "float_layout.h"

#include <cblas.h>
#include <pthread.h>

static pthread_mutex_t blas_lock = PTHREAD_MUTEX_INITIALIZER;

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    if (row0 == row1) return;
    const int kp = float_k_pad(k);
    const float *w = (const float *)packed + (size_t)row0 * kp;
    pthread_mutex_lock(&blas_lock);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, row1 - row0, kp, 1.0f, act, kp, w, kp,
                0.0f, y + row0, n);
    pthread_mutex_unlock(&blas_lock);
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    if (row0 == row1) return;
    const int kp = float_k_pad(k);
    const float *w = (const float *)packed + (size_t)row0 * kp;
    pthread_mutex_lock(&blas_lock);
    cblas_sgemv(CblasRowMajor, CblasNoTrans, row1 - row0, kp, 1.0f, w, kp, act, 1, 0.0f, y + row0,
                1);
    pthread_mutex_unlock(&blas_lock);
}

const tb_kernel tb_kernel_f32_blas = {
    .name = "f32_blas",
    .description = "FP32 baseline: OpenBLAS sgemv/sgemm on dequantized weights, calls serialized",
    .isa = TB_KERNEL_ISA,
    .n_tile = 1,
    .rank = 1,
    F32_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
