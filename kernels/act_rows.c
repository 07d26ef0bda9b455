#include "act_rows.h"

#include <string.h>

void tb_act_rows_prepare(const int8_t *x, const float *x_scale, int m, int k, int k_pad, void *act)
{
    float *scale = (float *)act;
    int32_t *sum = (int32_t *)((char *)act + 4 * (size_t)m);
    int8_t *rows = (int8_t *)act + tb_act_rows_header(m);
    for (int i = 0; i < m; i++) {
        const int8_t *xi = x + (size_t)i * (size_t)k;
        int8_t *ri = rows + (size_t)i * (size_t)k_pad;
        int32_t s = 0;
        for (int t = 0; t < k; t++) s += xi[t];
        memcpy(ri, xi, (size_t)k);
        memset(ri + k, 0, (size_t)(k_pad - k));
        scale[i] = x_scale[i];
        sum[i] = s;
    }
}
