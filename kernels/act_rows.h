// Prepared activations shared by the naive and i2 kernels: the int8 rows copied into rows of
// k_pad bytes (zero padded past k, so a kernel may read whole blocks), plus each row's scale
// and the exact sum of its k values (for the offset trick dot(x, w) = dot(x, w + 1) - sum(x)).
//
//   offset 0                 float   scale[m]
//   offset 4m                int32   sum[m]
//   offset align64(8m)       int8    x[m][k_pad]     (row i at i * k_pad)
#ifndef TB_ACT_ROWS_H
#define TB_ACT_ROWS_H

#include "tb_kernel.h"

static inline size_t tb_act_rows_header(int m)
{
    return tb_align_up(8 * (size_t)m, TB_ALIGN);
}

static inline size_t tb_act_rows_size(int m, int k_pad)
{
    return tb_act_rows_header(m) + (size_t)m * (size_t)k_pad;
}

static inline const float *tb_act_rows_scale(const void *act)
{
    return (const float *)act;
}

static inline const int32_t *tb_act_rows_sum(const void *act, int m)
{
    return (const int32_t *)((const char *)act + 4 * (size_t)m);
}

static inline const int8_t *tb_act_rows_x(const void *act, int m, int k_pad, int i)
{
    return (const int8_t *)act + tb_act_rows_header(m) + (size_t)i * (size_t)k_pad;
}

void tb_act_rows_prepare(const int8_t *x, const float *x_scale, int m, int k, int k_pad, void *act);

#endif
