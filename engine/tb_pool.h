// A small pthread pool shared by the engine and the harness.
//
// The pool never goes inside a kernel: a kernel computes a row range [row0, row1) of one
// matrix product, and the pool hands each thread its own range (ggml-style). The calling
// thread is worker 0, so a pool of 1 thread starts no thread at all.
#ifndef TB_POOL_H
#define TB_POOL_H

#include "tb_kernel.h"

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

// y (m x n) = act x W^T over all n rows: act is the kernel-prepared form of m activation rows,
// packed the kernel-packed n x k weights. Rows are split across the threads with tb_pool_split.
void tb_pool_matmul(tb_pool *p, const tb_kernel *kn, const void *packed, const void *act, int m,
                    int n, int k, float *y);

#endif
