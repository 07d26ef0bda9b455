// Thread pool: workers wait for a new "generation" of work, run their share, and count
// themselves out; the caller (worker 0) runs its own share and waits for the count to reach 0.
//
// Why spin first: a decode step is ~200 matrix products of tens of microseconds each, and waking
// a thread through a condition variable costs tens of microseconds on these virtual machines,
// enough to make 2 threads slower than 1. So a waiting worker first spins on the generation
// counter (with the CPU's pause hint) for a few milliseconds (SPIN_BEFORE_SLEEP_S), which covers
// the gaps inside a forward pass, and only then sleeps on the condition variable; the caller
// broadcasts only when someone sleeps. The caller's own wait for stragglers spins too (they are
// microseconds away).
#include "tb_pool.h"
#include "tb_affinity.h"
#include "tb_clock.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

// How long a waiting worker spins before it sleeps. On these virtual machines a sleeping thread
// takes about a millisecond to wake (its virtual CPU halts), so spinning must outlast the small
// gaps and preemptions between the matrix products of a forward pass: time-based, not a count
// of pauses, whose cost varies by an order of magnitude between CPUs and hypervisors.
#define SPIN_BEFORE_SLEEP_S   3e-3
#define SPINS_PER_CLOCK_CHECK 256

struct tb_pool {
    int threads;
    pthread_t *tids; // (threads - 1) workers; worker 0 is the caller
    pthread_mutex_t lock;
    pthread_cond_t wake; // new work posted (or shutdown), for sleeping workers
    void (*fn)(void *ctx, int t, int nthreads);
    void *ctx;
    atomic_uint generation; // bumped once per tb_pool_run (release): fn and ctx are published
    atomic_int pending;     // workers (not counting the caller) still running this job
    atomic_int sleepers;    // workers blocked on wake
    atomic_int shutdown;
};

typedef struct {
    tb_pool *pool;
    int t;
} worker_arg;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

// Waits until the generation differs from seen (or shutdown); returns the new generation.
static unsigned wait_for_work(tb_pool *p, unsigned seen)
{
    const double until = tb_now() + SPIN_BEFORE_SLEEP_S;
    for (unsigned spins = 1;; spins++) {
        unsigned g = atomic_load_explicit(&p->generation, memory_order_acquire);
        if (g != seen || atomic_load(&p->shutdown)) return g;
        cpu_relax();
        if (spins % SPINS_PER_CLOCK_CHECK == 0 && tb_now() > until) break;
    }
    // Sleep. The caller bumps the generation under the lock and then looks at sleepers, so a
    // worker that registered as a sleeper and saw the old generation is always woken.
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add(&p->sleepers, 1);
    while (atomic_load(&p->generation) == seen && !atomic_load(&p->shutdown))
        pthread_cond_wait(&p->wake, &p->lock);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->lock);
    return atomic_load_explicit(&p->generation, memory_order_acquire);
}

static void *worker_main(void *arg_)
{
    worker_arg *arg = arg_;
    tb_pool *p = arg->pool;
    int t = arg->t;
    free(arg);
    tb_pin_current_thread(t);
    unsigned seen = 0;
    for (;;) {
        seen = wait_for_work(p, seen);
        if (atomic_load(&p->shutdown)) break;
        p->fn(p->ctx, t, p->threads);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
    }
    return NULL;
}

tb_pool *tb_pool_create(int threads)
{
    tb_pool *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->threads = threads < 1 ? 1 : threads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    atomic_init(&p->generation, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->shutdown, 0);
    p->tids = calloc((size_t)p->threads, sizeof *p->tids);
    if (!p->tids) abort();
    tb_pin_current_thread(0); // the caller is worker 0 (TRITBENCH_PIN only)
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
    atomic_store(&p->shutdown, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int t = 1; t < p->threads; t++) pthread_join(p->tids[t], NULL);
    pthread_cond_destroy(&p->wake);
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
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->pending, p->threads - 1, memory_order_relaxed);
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    if (atomic_load(&p->sleepers) > 0) pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    fn(ctx, 0, p->threads); // the caller is worker 0
    const double until = tb_now() + SPIN_BEFORE_SLEEP_S;
    for (unsigned spins = 1; atomic_load_explicit(&p->pending, memory_order_acquire) > 0; spins++) {
        cpu_relax();
        if (spins % SPINS_PER_CLOCK_CHECK == 0 && tb_now() > until)
            sched_yield(); // a worker was descheduled: give it the core
    }
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

// Atomics only so that a setter racing a reader is defined behaviour; the values are meant to
// be set between products.
static atomic_int chunk_work = TB_POOL_CHUNK_WORK, guided_div = TB_POOL_GUIDED_DIV;

void tb_chunking_set(tb_chunking c)
{
    atomic_store_explicit(&chunk_work, c.chunk_work > 1 ? c.chunk_work : 1, memory_order_relaxed);
    atomic_store_explicit(&guided_div, c.guided_div > 1 ? c.guided_div : 1, memory_order_relaxed);
}

tb_chunking tb_chunking_get(void)
{
    return (tb_chunking){atomic_load_explicit(&chunk_work, memory_order_relaxed),
                         atomic_load_explicit(&guided_div, memory_order_relaxed)};
}

tb_driver_params tb_driver_defaults(void)
{
    return (tb_driver_params){TB_PREFETCH_DEFAULT, TB_POOL_CHUNK_WORK, TB_POOL_GUIDED_DIV};
}

tb_driver_params tb_driver_get(void)
{
    tb_chunking c = tb_chunking_get();
    return (tb_driver_params){tb_prefetch_get(), c.chunk_work, c.guided_div};
}

void tb_driver_set(tb_driver_params p)
{
    tb_prefetch_set(p.prefetch_bytes);
    tb_chunking_set((tb_chunking){p.chunk_work, p.guided_div});
}

void tb_rows_init(tb_rows *r, const tb_kernel *kn, int m, int n, int k, int threads)
{
    tb_chunking c = tb_chunking_get();
    atomic_init(&r->next, 0);
    r->n = n;
    r->tile = kn->n_tile > 0 ? kn->n_tile : 1;
    r->div = c.guided_div * (threads > 1 ? threads : 1);
    double row_work = (double)kn->packed_size(n, k) / n * m;
    long rows = (long)(c.chunk_work / row_work);
    rows = (rows + r->tile - 1) / r->tile * r->tile;
    r->min_rows = (int)(rows < r->tile ? r->tile : rows > n ? n : rows);
}

int tb_rows_take(tb_rows *r, int *row0, int *row1)
{
    int cur = atomic_load_explicit(&r->next, memory_order_relaxed), take;
    do {
        if (cur >= r->n) return 0;
        int left = r->n - cur;
        take = left / r->div / r->tile * r->tile;
        if (take < r->min_rows) take = r->min_rows;
        if (take > left) take = left;
    } while (!atomic_compare_exchange_weak_explicit(&r->next, &cur, cur + take,
                                                    memory_order_relaxed, memory_order_relaxed));
    *row0 = cur;
    *row1 = cur + take;
    return 1;
}

typedef struct {
    const tb_kernel *kn;
    const void *packed, *act;
    int m, n, k;
    float *y;
    tb_rows rows;
} matmul_job;

static void matmul_part(void *ctx, int t, int nthreads)
{
    (void)t, (void)nthreads;
    matmul_job *j = ctx;
    for (int row0, row1; tb_rows_take(&j->rows, &row0, &row1);)
        tb_run(j->kn, j->packed, j->act, j->m, j->n, j->k, row0, row1, j->y);
}

void tb_pool_matmul(tb_pool *p, const tb_kernel *kn, const void *packed, const void *act, int m,
                    int n, int k, float *y)
{
    matmul_job j = {.kn = kn, .packed = packed, .act = act, .m = m, .n = n, .k = k, .y = y};
    tb_rows_init(&j.rows, kn, m, n, k, p->threads);
    tb_pool_run(p, matmul_part, &j);
}
