// i2_scalar: the i2 format (i2_layout.h) in portable C. Exact: int32 accumulation of at most
// 2 * 128 * TB_K_MAX = 2^25 in magnitude. The reference for every SIMD i2 kernel's unpacking,
// and what runs where no SIMD kernel does.
#include "i2_layout.h"

// Written so that compilers vectorize it with the baseline ISA (SSE2, NEON): each of the 64 byte
// positions of a block sums its four products in int16 (|code * x| <= 2 * 128, so at most
// 4 * 256 = 1024, far inside int16), and the 64 partial sums are widened into int32 per block.
static int32_t dot_row(const uint8_t *row, const int8_t *x, int kb)
{
    int32_t acc = 0;
    for (int b = 0; b < kb; b++, row += I2_BLOCK_BYTES, x += I2_BLOCK) {
        int16_t part[I2_BLOCK_BYTES];
        for (int j = 0; j < I2_BLOCK_BYTES; j++) {
            int v = row[j];
            part[j] = (int16_t)((v & 3) * x[j] + ((v >> 2) & 3) * x[64 + j] +
                                ((v >> 4) & 3) * x[128 + j] + (v >> 6) * x[192 + j]);
        }
        for (int j = 0; j < I2_BLOCK_BYTES; j++) acc += part[j];
    }
    return acc;
}

static void row_one(const uint8_t *w, size_t stride, size_t ahead, const int8_t *x, int kb,
                    int32_t *dots)
{
    (void)stride, (void)ahead;
    dots[0] = dot_row(w, x, kb);
}

static void gemm(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y)
{
    i2_gemm_rows(packed, act, m, n, k, row0, row1, y, 1, row_one, row_one);
}

static void gemv(const void *packed, const void *act, int n, int k, int row0, int row1, float *y)
{
    gemm(packed, act, 1, n, k, row0, row1, y);
}

const tb_kernel tb_kernel_i2_scalar = {
    .name = "i2_scalar",
    .description = "2-bit packed, portable C",
    .isa = TB_KERNEL_ISA,
    .n_tile = 1,
    .rank = 2,
    I2_KERNEL_COMMON,
    .gemv = gemv,
    .gemm = gemm,
};
