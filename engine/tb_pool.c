// Thread pool: workers sleep on a condition variable until a new "generation" of work is
// posted, run their share, and the last one to finish wakes the caller. One job at a time.
#include "tb_pool.h"

#include <pthread.h>
#include <stdlib.h>

struct tb_pool {
    int threads;
    pthread_t *tids; // (threads - 1) workers; worker 0 is the caller
    pthread_mutex_t lock;
    pthread_cond_t wake; // new work posted (or shutdown)
    pthread_cond_t done; // the last worker finished
    void (*fn)(void *ctx, int t, int nthreads);
    void *ctx;
    unsigned long generation; // bumped once per tb_pool_run: workers wait for a change
    int pending;              // workers (not counting the caller) still running this job
    int shutdown;
};

typedef struct {
    tb_pool *pool;
    int t;
} worker_arg;

static void *worker_main(void *arg_)
{
    worker_arg *arg = arg_;
    tb_pool *p = arg->pool;
    int t = arg->t;
    free(arg);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->shutdown && p->generation == seen) pthread_cond_wait(&p->wake, &p->lock);
        if (p->shutdown) break;
        seen = p->generation;
        void (*fn)(void *, int, int) = p->fn;
        void *ctx = p->ctx;
        pthread_mutex_unlock(&p->lock);
        fn(ctx, t, p->threads);
        pthread_mutex_lock(&p->lock);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

tb_pool *tb_pool_create(int threads)
{
    tb_pool *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->threads = threads < 1 ? 1 : threads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    p->tids = calloc((size_t)p->threads, sizeof *p->tids);
    if (!p->tids) abort();
    for (int t = 1; t < p->threads; t++) {
        worker_arg *arg = malloc(sizeof *arg);
        if (!arg) abort();
        arg->pool = p;
        arg->t = t;
        if (pthread_create(&p->tids[t], NULL, worker_main, arg) != 0) {
            // Fewer threads than asked is still correct: shrink the pool to what started.
            free(arg);
            p->threads = t;
            break;
        }
    }
    return p;
}

void tb_pool_destroy(tb_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->shutdown = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int t = 1; t < p->threads; t++) pthread_join(p->tids[t], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->lock);
    free(p->tids);
    free(p);
}

int tb_pool_threads(const tb_pool *p)
{
    return p->threads;
}

void tb_pool_run(tb_pool *p, void (*fn)(void *ctx, int t, int nthreads), void *ctx)
{
    if (p->threads == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->fn = fn;
    p->ctx = ctx;
    p->pending = p->threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    fn(ctx, 0, p->threads); // the caller is worker 0
    pthread_mutex_lock(&p->lock);
    while (p->pending > 0) pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

void tb_pool_split(int n, int tile, int t, int nthreads, int *row0, int *row1)
{
    if (tile < 1) tile = 1;
    // Whole tiles are dealt out evenly; the ragged last tile goes to whoever gets it.
    long tiles = ((long)n + tile - 1) / tile;
    long t0 = tiles * t / nthreads, t1 = tiles * (t + 1) / nthreads;
    long r0 = t0 * tile, r1 = t1 * tile;
    *row0 = (int)(r0 < n ? r0 : n);
    *row1 = (int)(r1 < n ? r1 : n);
}

typedef struct {
    const tb_kernel *kn;
    const void *packed, *act;
    int m, n, k;
    float *y;
} matmul_job;

static void matmul_part(void *ctx, int t, int nthreads)
{
    const matmul_job *j = ctx;
    int row0, row1;
    tb_pool_split(j->n, j->kn->n_tile, t, nthreads, &row0, &row1);
    if (row0 < row1) tb_run(j->kn, j->packed, j->act, j->m, j->n, j->k, row0, row1, j->y);
}

void tb_pool_matmul(tb_pool *p, const tb_kernel *kn, const void *packed, const void *act, int m,
                    int n, int k, float *y)
{
    matmul_job j = {kn, packed, act, m, n, k, y};
    tb_pool_run(p, matmul_part, &j);
}
