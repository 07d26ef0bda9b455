#include "bench_case.h"
#include "check.h"
#include "roofline.h"
#include "tb_clock.h"
#include "tb_reference.h"

#include <stdio.h>
#include <stdlib.h>

// Scales of the benchmark data: a typical absmean weight scale, and activations in [-1, 1].
#define BENCH_W_SCALE 0.01f
#define BENCH_X_SCALE (1.0f / 127)

void tb_bench_data_make(tb_bench_data *d, int m, int n, int k, uint64_t seed)
{
    tb_rng rng = {seed};
    *d = (tb_bench_data){m,
                         n,
                         k,
                         malloc((size_t)n * k),
                         malloc((size_t)m * k),
                         malloc(sizeof(float) * m),
                         tb_alloc(sizeof(float) * (size_t)m * n)};
    if (!d->w || !d->x || !d->xs) abort();
    for (size_t i = 0; i < (size_t)n * k; i++) d->w[i] = (int8_t)tb_rng_int(&rng, -1, 1);
    for (size_t i = 0; i < (size_t)m * k; i++) d->x[i] = (int8_t)tb_rng_int(&rng, -128, 127);
    for (int i = 0; i < m; i++) d->xs[i] = BENCH_X_SCALE;
}

void tb_bench_data_free(tb_bench_data *d)
{
    free(d->w), free(d->x), free(d->xs), tb_free(d->y);
}

int tb_bench_copies(const tb_kernel *kn, int n, int k, int cold)
{
    return cold ? (int)(2 * tb_last_level_cache_bytes() / kn->packed_size(n, k)) + 2 : 1;
}

int tb_bench_operand_make(tb_bench_operand *o, const tb_kernel *kn, const tb_bench_data *d,
                          int cold, char *err, size_t err_len)
{
    *o = (tb_bench_operand){.kn = kn, .packed_bytes = kn->packed_size(d->n, d->k)};
    o->ncopies = tb_bench_copies(kn, d->n, d->k, cold);
    o->packed = calloc((size_t)o->ncopies, sizeof(void *));
    if (!o->packed) abort();
    o->act = tb_alloc(kn->act_size(d->m, d->k));
    for (int c = 0; c < o->ncopies; c++) {
        o->packed[c] = tb_alloc(o->packed_bytes);
        if (tb_pack(kn, d->w, BENCH_W_SCALE, d->n, d->k, o->packed[c], err, err_len)) return -1;
    }
    return 0;
}

void tb_bench_operand_free(tb_bench_operand *o)
{
    for (int c = 0; c < o->ncopies && o->packed; c++) tb_free(o->packed[c]);
    free(o->packed);
    tb_free(o->act);
    o->packed = NULL, o->act = NULL, o->ncopies = 0;
}

int tb_bench_validate(const tb_kernel *kn, int m, int n, int k, uint64_t seed, char *why,
                      size_t why_len)
{
    tb_check_result res = {0};
    if (tb_check_case(kn, m, n, k, 0, n, TB_W_RANDOM, TB_X_RANDOM, seed, &res) == 0) return 0;
    snprintf(why, why_len, "failed validation, not timed: %s", res.first_failure);
    return -1;
}

double tb_bench_call(tb_pool *pool, tb_bench_operand *o, const tb_bench_data *d, double *prep)
{
    double t0 = tb_now();
    o->kn->prepare(d->x, d->xs, d->m, d->k, o->act);
    double t1 = tb_now();
    tb_pool_matmul(pool, o->kn, o->packed[o->copy], o->act, d->m, d->n, d->k, d->y);
    double t2 = tb_now();
    o->copy = (o->copy + 1) % o->ncopies;
    if (prep) *prep = t1 - t0;
    return t2 - t0;
}
