// Packing, activation preparation and the GEMV driver of the q8 format (q8_layout.h).
#include "q8_layout.h"

#include <math.h>

static size_t tail_bytes(int n)
{
    return tb_align_up(4 * (size_t)n, TB_ALIGN);
}

size_t q8_packed_size(int n, int k)
{
    return (size_t)n * (size_t)q8_k_pad(k) + 2 * tail_bytes(n);
}

// Zeroes the scale and qsum arrays (their padding included); returns where the scales go.
static float *start_tail(int n, int k, void *packed)
{
    char *tail = (char *)packed + (size_t)n * (size_t)q8_k_pad(k);
    memset(tail, 0, 2 * tail_bytes(n));
    return (float *)tail;
}

// qsum[j] of the packed q rows.
static void write_qsums(int n, int k, void *packed)
{
    const size_t kp = (size_t)q8_k_pad(k);
    const int8_t *q = packed;
    int32_t *qsum = (int32_t *)q8_qsums(packed, n, k);
    for (int j = 0; j < n; j++) {
        int32_t s = 0;
        for (size_t t = 0; t < kp; t++) s += q[(size_t)j * kp + t];
        qsum[j] = s;
    }
}

void q8_pack(const int8_t *w, float w_scale, int n, int k, void *packed)
{
    const size_t kp = (size_t)q8_k_pad(k);
    int8_t *q = packed;
    float *d = start_tail(n, k, packed);
    for (int j = 0; j < n; j++) {
        memcpy(q + (size_t)j * kp, w + (size_t)j * (size_t)k, (size_t)k);
        memset(q + (size_t)j * kp + k, 0, kp - (size_t)k);
        d[j] = w_scale;
    }
    write_qsums(n, k, packed);
}

void q8_pack_float(const float *w, int n, int k, void *packed)
{
    const size_t kp = (size_t)q8_k_pad(k);
    int8_t *q = packed;
    float *d = start_tail(n, k, packed);
    for (int j = 0; j < n; j++) {
        const float *wj = w + (size_t)j * (size_t)k;
        int8_t *qj = q + (size_t)j * kp;
        float a = 0;
        for (int t = 0; t < k; t++) a = fabsf(wj[t]) > a ? fabsf(wj[t]) : a;
        const float dj = a / 127.0f;
        for (int t = 0; t < k; t++) {
            long v = dj > 0 ? lrintf(wj[t] / dj) : 0;
            qj[t] = (int8_t)(v < -127 ? -127 : v > 127 ? 127 : v);
        }
        memset(qj + k, 0, kp - (size_t)k);
        d[j] = dj;
    }
    write_qsums(n, k, packed);
}

size_t q8_act_size(int m, int k)
{
    return tb_act_rows_size(m, q8_k_pad(k));
}

void q8_prepare(const int8_t *x, const float *x_scale, int m, int k, void *act)
{
    tb_act_rows_prepare(x, x_scale, m, k, q8_k_pad(k), act);
}

void q8_gemv_rows(const void *packed, const void *act, int n, int k, int row0, int row1, float *y,
                  int tile_rows, int x_bias, q8_rows_fn tile, q8_rows_fn one)
{
    assert(0 <= row0 && row0 <= row1 && row1 <= n);
    assert(((uintptr_t)packed | (uintptr_t)act) % TB_ALIGN == 0);
    assert(tile_rows >= 1 && tile_rows <= Q8_MAX_TILE);
    const int kp = q8_k_pad(k);
    const float *d = q8_scales(packed, n, k);
    const int32_t *qsum = q8_qsums(packed, n, k);
    const size_t ahead = (size_t)tb_prefetch_get();
    const int8_t *x = tb_act_rows_x(act, 1, kp, 0);
    const float x_scale = tb_act_rows_scale(act)[0];
    int32_t dots[Q8_MAX_TILE];
    const int q = (row1 - row0) / tile_rows; // rows a run
    for (int t = 0; t < q; t++) {
        tile(q8_row(packed, k, row0 + t), (size_t)q * (size_t)kp, ahead, x, kp, dots);
        for (int r = 0; r < tile_rows; r++) {
            const int j = row0 + r * q + t;
            y[j] = q8_output(dots[r], x_bias, qsum[j], d[j], x_scale);
        }
    }
    for (int j = row0 + q * tile_rows; j < row1; j++) {
        one(q8_row(packed, k, j), (size_t)kp, 0, x, kp, dots);
        y[j] = q8_output(dots[0], x_bias, qsum[j], d[j], x_scale);
    }
}
