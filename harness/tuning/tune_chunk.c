// The row driver's chunk work, measured on the decode regime: one layer's products at m = 1 with
// cold weights (copies of the layer, more than twice the last-level cache in all, each product
// on the next copy of its shape, as a decode streams its layers from DRAM), at each candidate
// chunk work. Candidates are interleaved round by round, rotating who goes first, each block's
// first call dropped: the protocol of `bench kernels`, which cannot change the chunking between
// its kernels.
#include "bench_case.h"
#include "roofline.h"
#include "stats.h"
#include "tb_clock.h"
#include "tune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALIBRATION_CALLS 3
#define BLOCK_CALLS_MIN   3
#define BLOCK_CALLS_MAX   1000

typedef struct {
    const tb_kernel *kn;
    const tb_layer_shape *shapes;
    int nshapes, ncopies;
    tb_bench_data d[TB_SHAPES_MAX];
    void *act[TB_SHAPES_MAX];
    char *copies[TB_SHAPES_MAX]; // ncopies packed matrices of each shape, `stride` bytes apart
    size_t stride[TB_SHAPES_MAX];
    int next[TB_SHAPES_MAX]; // the copy each shape's next product uses
} layer;

static int layer_make(layer *L, const tb_kernel *kn, const tb_layer_shape *shapes, int nshapes,
                      uint64_t seed)
{
    memset(L, 0, sizeof *L);
    L->kn = kn, L->shapes = shapes, L->nshapes = nshapes;
    size_t bytes = 0;
    for (int s = 0; s < nshapes; s++) {
        L->stride[s] = tb_align_up(kn->packed_size(shapes[s].n, shapes[s].k), TB_ALIGN);
        bytes += L->stride[s];
    }
    L->ncopies = (int)(2 * tb_last_level_cache_bytes() / bytes) + 2;
    char err[300];
    for (int s = 0; s < nshapes; s++) {
        tb_bench_data_make(&L->d[s], 1, shapes[s].n, shapes[s].k, seed + (uint64_t)s);
        L->act[s] = tb_alloc(kn->act_size(1, shapes[s].k));
        L->copies[s] = tb_alloc(L->stride[s] * (size_t)L->ncopies);
        if (tb_pack(kn, L->d[s].w, 0.01f, shapes[s].n, shapes[s].k, L->copies[s], err, sizeof err))
            return -1;
        for (int c = 1; c < L->ncopies; c++)
            memcpy(L->copies[s] + L->stride[s] * (size_t)c, L->copies[s], L->stride[s]);
    }
    return 0;
}

static void layer_free(layer *L)
{
    for (int s = 0; s < L->nshapes; s++) {
        tb_bench_data_free(&L->d[s]);
        tb_free(L->act[s]), tb_free(L->copies[s]);
    }
}

// One layer's products as a decode step runs them; returns its seconds.
static double layer_call(layer *L, tb_pool *pool)
{
    double t0 = tb_now();
    for (int s = 0; s < L->nshapes; s++) {
        const tb_layer_shape *sh = &L->shapes[s];
        for (int c = 0; c < sh->count; c++) {
            L->kn->prepare(L->d[s].x, L->d[s].xs, 1, sh->k, L->act[s]);
            tb_pool_matmul(pool, L->kn, L->copies[s] + L->stride[s] * (size_t)L->next[s], L->act[s],
                           1, sh->n, sh->k, L->d[s].y);
            L->next[s] = (L->next[s] + 1) % L->ncopies;
        }
    }
    return tb_now() - t0;
}

cJSON *tb_tune_chunk_work(const tb_kernel *kn, const tb_layer_shape *shapes, int nshapes,
                          int threads, const int *candidates, int ncand, int rounds,
                          double block_ms, uint64_t seed, const tb_observer *obs)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "threads", threads);
    cJSON_AddStringToObject(o, "kernel", kn->name);
    const tb_chunking saved = tb_chunking_get();
    layer L;
    tb_pool *pool = tb_pool_create(threads);
    double *samples = calloc((size_t)ncand * rounds + BLOCK_CALLS_MAX, sizeof(double));
    double *block = samples + (size_t)ncand * rounds;
    if (!samples) abort();
    if (layer_make(&L, kn, shapes, nshapes, seed) == 0) {
        double t = 0;
        for (int c = 0; c < CALIBRATION_CALLS; c++) t = layer_call(&L, pool);
        double want = block_ms * 1e-3 / (t > 1e-9 ? t : 1e-9);
        int calls = want < BLOCK_CALLS_MIN   ? BLOCK_CALLS_MIN
                    : want > BLOCK_CALLS_MAX ? BLOCK_CALLS_MAX
                                             : (int)want;
        char what[96];
        snprintf(what, sizeof what, "tune chunk work, %s, %d thread%s: round", kn->name, threads,
                 threads > 1 ? "s" : "");
        for (int r = 0; r < rounds; r++) {
            tb_observe(obs, what, r + 1, rounds);
            for (int q = 0; q < ncand; q++) {
                int c = (q + r) % ncand; // rotate who goes first
                tb_chunking_set((tb_chunking){candidates[c], saved.guided_div});
                layer_call(&L, pool); // re-warm, dropped
                for (int i = 0; i < calls; i++) block[i] = layer_call(&L, pool);
                samples[(size_t)c * rounds + r] = tb_quantile(block, calls, 0.5);
            }
        }
        tb_chunking_set(saved);
        cJSON *list = cJSON_AddArrayToObject(o, "candidates");
        int best = 0;
        double best_s = 0;
        for (int c = 0; c < ncand; c++) {
            double med = tb_quantile(samples + (size_t)c * rounds, rounds, 0.5);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "chunk_work", candidates[c]);
            cJSON_AddNumberToObject(e, "layer_s", med);
            cJSON_AddItemToObject(e, "round_layer_s",
                                  cJSON_CreateDoubleArray(samples + (size_t)c * rounds, rounds));
            cJSON_AddItemToArray(list, e);
            if (c == 0 || med < best_s) best = c, best_s = med;
        }
        cJSON_AddNumberToObject(o, "best", candidates[best]);
    }
    layer_free(&L);
    tb_pool_destroy(pool);
    free(samples);
    return o;
}
