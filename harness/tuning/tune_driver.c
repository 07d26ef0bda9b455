// The runtime parameters of the decode path, measured on the decode regime: one layer's
// products at m = 1 with cold weights (copies of the layer, more than twice the last-level
// cache in all, each product on the next copy of its shape, as a decode streams its layers
// from DRAM). First the kernels' prefetch distance (tb_prefetch_set) at the default chunk work,
// then the row driver's chunk work (tb_chunking) at the chosen distance. Candidates of a sweep
// are interleaved round by round, rotating who goes first, each block's first call dropped: the
// protocol of `bench kernels`, which cannot change these parameters between its kernels.
//
// A candidate replaces the default only if its median layer time beats the default's by more
// than TB_DRIVER_MIN_GAIN: within that, the two cannot be told apart on these noisy machines,
// and the default (measured elsewhere) is kept.
#include "bench_case.h"
#include "roofline.h"
#include "stats.h"
#include "tb_clock.h"
#include "tb_pool.h"
#include "tune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALIBRATION_CALLS 3
#define BLOCK_CALLS_MIN   3
#define BLOCK_CALLS_MAX   1000

// Candidates; each list holds its default.
static const int prefetch_candidates[] = {0, 512, 1024, 2048, 4096, 8192};
static const int chunk_candidates[] = {16384, 32768, 65536, 131072, 262144};
// Room for the candidates of one sweep (the samples buffer and the medians are sized by it).
#define SWEEP_MAX 8
_Static_assert(sizeof prefetch_candidates / sizeof(int) <= SWEEP_MAX &&
                   sizeof chunk_candidates / sizeof(int) <= SWEEP_MAX,
               "a sweep fits its buffers");
_Static_assert(TB_PREFETCH_DEFAULT == 2048 && TB_POOL_CHUNK_WORK == 65536,
               "the candidate lists hold the defaults");

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

// What a sweep varies.
typedef enum { PREFETCH, CHUNK_WORK } param;

static void set_param(param what, int v, const tb_driver_params *base)
{
    tb_driver_params p = *base;
    if (what == PREFETCH)
        p.prefetch_bytes = v;
    else
        p.chunk_work = v;
    tb_driver_set(p);
}

typedef struct {
    layer *L;
    tb_pool *pool;
    int calls, rounds;
    double *samples, *block; // [candidate * rounds + round], [call]
    const tb_observer *obs;
} sweep_ctx;

// One sweep: the layer at every candidate value of `what` (the others as in base), interleaved.
// Returns {candidates: [{value, layer_s, round_layer_s}], default, fastest, choice, gain} and
// the chosen value in *choice.
static cJSON *sweep(sweep_ctx *x, param what, const int *cand, int ncand, int dflt,
                    const tb_driver_params *base, int *choice)
{
    char what_s[96];
    snprintf(what_s, sizeof what_s, "tune %s, %d thread%s: round",
             what == PREFETCH ? "prefetch distance" : "chunk work", tb_pool_threads(x->pool),
             tb_pool_threads(x->pool) > 1 ? "s" : "");
    for (int r = 0; r < x->rounds; r++) {
        tb_observe(x->obs, what_s, r + 1, x->rounds);
        for (int q = 0; q < ncand; q++) {
            int c = (q + r) % ncand; // rotate who goes first
            set_param(what, cand[c], base);
            layer_call(x->L, x->pool); // re-warm, dropped
            for (int i = 0; i < x->calls; i++) x->block[i] = layer_call(x->L, x->pool);
            x->samples[(size_t)c * x->rounds + r] = tb_quantile(x->block, x->calls, 0.5);
        }
    }
    cJSON *o = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(o, "candidates");
    int fastest = 0, d = 0;
    double fastest_s = 0, med[SWEEP_MAX];
    for (int c = 0; c < ncand; c++) {
        med[c] = tb_quantile(x->samples + (size_t)c * x->rounds, x->rounds, 0.5);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "value", cand[c]);
        cJSON_AddNumberToObject(e, "layer_s", med[c]);
        cJSON_AddItemToObject(
            e, "round_layer_s",
            cJSON_CreateDoubleArray(x->samples + (size_t)c * x->rounds, x->rounds));
        cJSON_AddItemToArray(list, e);
        if (c == 0 || med[c] < fastest_s) fastest = c, fastest_s = med[c];
        if (cand[c] == dflt) d = c;
    }
    double gain = med[d] / fastest_s - 1;
    *choice = gain > TB_DRIVER_MIN_GAIN ? cand[fastest] : dflt;
    cJSON_AddNumberToObject(o, "default", dflt);
    cJSON_AddNumberToObject(o, "fastest", cand[fastest]);
    cJSON_AddNumberToObject(o, "gain_over_default", gain);
    cJSON_AddNumberToObject(o, "choice", *choice);
    return o;
}

cJSON *tb_tune_driver(const tb_kernel *kn, const tb_layer_shape *shapes, int nshapes, int threads,
                      int rounds, double block_ms, uint64_t seed, const tb_observer *obs)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "threads", threads);
    cJSON_AddStringToObject(o, "kernel", kn->name);
    const tb_driver_params saved = tb_driver_get(), dflt = tb_driver_defaults();
    layer L;
    tb_pool *pool = tb_pool_create(threads);
    double *samples = calloc((size_t)SWEEP_MAX * rounds + BLOCK_CALLS_MAX, sizeof(double));
    if (!samples) abort();
    if (layer_make(&L, kn, shapes, nshapes, seed) == 0) {
        tb_driver_set(dflt);
        double t = 0;
        for (int c = 0; c < CALIBRATION_CALLS; c++) t = layer_call(&L, pool);
        double want = block_ms * 1e-3 / (t > 1e-9 ? t : 1e-9);
        sweep_ctx x = {&L,
                       pool,
                       want < BLOCK_CALLS_MIN   ? BLOCK_CALLS_MIN
                       : want > BLOCK_CALLS_MAX ? BLOCK_CALLS_MAX
                                                : (int)want,
                       rounds,
                       samples,
                       samples + (size_t)SWEEP_MAX * rounds,
                       obs};
        tb_driver_params chosen = dflt;
        cJSON_AddItemToObject(o, "prefetch_bytes",
                              sweep(&x, PREFETCH, prefetch_candidates,
                                    (int)(sizeof prefetch_candidates / sizeof(int)),
                                    dflt.prefetch_bytes, &chosen, &chosen.prefetch_bytes));
        cJSON_AddItemToObject(o, "chunk_work",
                              sweep(&x, CHUNK_WORK, chunk_candidates,
                                    (int)(sizeof chunk_candidates / sizeof(int)), dflt.chunk_work,
                                    &chosen, &chosen.chunk_work));
        cJSON *c = cJSON_AddObjectToObject(o, "choice");
        cJSON_AddNumberToObject(c, "prefetch_bytes", chosen.prefetch_bytes);
        cJSON_AddNumberToObject(c, "chunk_work", chosen.chunk_work);
    }
    tb_driver_set(saved);
    layer_free(&L);
    tb_pool_destroy(pool);
    free(samples);
    return o;
}
