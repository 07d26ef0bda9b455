// A small pthread pool shared by the engine and the harness.
//
// The pool never goes inside a kernel: a kernel computes a row range [row0, row1) of one
// matrix product, and the pool hands each thread its own range (ggml-style). The calling
// thread is worker 0, so a pool of 1 thread starts no thread at all.
#ifndef TB_POOL_H
#define TB_POOL_H

#include "tb_kernel.h"

#include <stdatomic.h>

typedef struct tb_pool tb_pool;

// threads >= 1 (values below 1 are taken as 1); the calling thread is worker 0.
tb_pool *tb_pool_create(int threads);
void tb_pool_destroy(tb_pool *p);
int tb_pool_threads(const tb_pool *p);

// Runs fn(ctx, t, nthreads) for t = 0..nthreads-1 on the pool's threads and returns when all
// are done. Not reentrant: fn must not call tb_pool_run on the same pool.
void tb_pool_run(tb_pool *p, void (*fn)(void *ctx, int t, int nthreads), void *ctx);

// Rows [*row0, *row1) of n that thread t of nthreads computes: contiguous chunks whose
// boundaries are multiples of tile (the kernel's n_tile), as even as the tiles allow.
void tb_pool_split(int n, int tile, int t, int nthreads, int *row0, int *row1);

// Dynamic sharing inside one tb_pool_run: chunks 0, 1, 2, ... go in order to whichever thread
// asks next, so a thread the machine slows down (these VMs are shared) simply takes fewer, and
// all threads finish within one chunk of each other. A static split left one of two threads
// idle for 10-15 % of a decode step.
typedef struct {
    atomic_int next;
} tb_chunks;

static inline void tb_chunks_init(tb_chunks *c)
{
    atomic_init(&c->next, 0);
}

// The next chunk index (callers stop at their own count); each index is returned once.
static inline int tb_chunks_take(tb_chunks *c)
{
    return atomic_fetch_add_explicit(&c->next, 1, memory_order_relaxed);
}

// Guided sharing of the rows of one m x n x k product inside a tb_pool_run: each take is a
// share of the rows still left (left / (guided_div * threads)), so chunks start large and
// shrink towards the end: long runs of consecutive rows early (long sequential streams for the
// memory system) and small ones last (threads finish within a small chunk of each other). A
// chunk is at least chunk_work bytes of packed weights times activation rows, a multiple of
// kn->n_tile.
typedef struct {
    int chunk_work; // bytes of packed weights times activation rows, >= 1
    int guided_div; // >= 1
} tb_chunking;
#define TB_POOL_CHUNK_WORK 65536 // the defaults, measured on an Ice Lake server VM
#define TB_POOL_GUIDED_DIV 2

// The chunking every tb_rows_init uses, process-wide: a runtime parameter so that `tritbench
// tune` can measure other values. Set it between products, not while one runs; values below 1
// are taken as 1.
void tb_chunking_set(tb_chunking c);
tb_chunking tb_chunking_get(void);

// The runtime parameters of a product, together: the kernels' prefetch distance
// (tb_prefetch_set in tb_kernel.h) and the row driver's chunking. `tritbench tune` measures them
// per CPU and thread count; engine runs set the tuned ones (harness/tuning/tune_file.h).
typedef struct {
    int prefetch_bytes, chunk_work, guided_div;
} tb_driver_params;
tb_driver_params tb_driver_defaults(void);
tb_driver_params tb_driver_get(void);
void tb_driver_set(tb_driver_params p);

typedef struct {
    atomic_int next;
    int n, tile, min_rows, div;
} tb_rows;

void tb_rows_init(tb_rows *r, const tb_kernel *kn, int m, int n, int k, int threads);
// The next chunk [*row0, *row1) into the caller's hands; 0 when no rows are left.
int tb_rows_take(tb_rows *r, int *row0, int *row1);

// y (m x n) = act x W^T over all n rows: act is the kernel-prepared form of m activation rows,
// packed the kernel-packed n x k weights. Rows go to the threads in chunks (tb_rows).
void tb_pool_matmul(tb_pool *p, const tb_kernel *kn, const void *packed, const void *act, int m,
                    int n, int k, float *y);

#endif
