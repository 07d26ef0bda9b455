// One case of a kernel benchmark, shared by `bench kernels` and its Google Benchmark mode: the
// random data of a seed, each kernel's verdict on it, packed weight copies and prepared
// activations, and one call timed as an engine makes it.
#ifndef TB_BENCH_CASE_H
#define TB_BENCH_CASE_H

#include "tb_kernel.h"
#include "tb_pool.h"

#include <stddef.h>
#include <stdint.h>

// Canonical inputs of an m x n x k product: ternary weights, int8 activations.
typedef struct {
    int m, n, k;
    int8_t *w, *x;
    float *xs, *y;
} tb_bench_data;
void tb_bench_data_make(tb_bench_data *d, int m, int n, int k, uint64_t seed);
void tb_bench_data_free(tb_bench_data *d);

// A kernel's packed weights and activation buffer for one case. Cold: enough weight copies to
// exceed twice the last-level cache, rotated call by call so the weights come from DRAM.
typedef struct {
    const tb_kernel *kn;
    void **packed;
    int ncopies, copy; // copy: the one the next call uses
    size_t packed_bytes;
    void *act;
} tb_bench_operand;
// Weight copies of a kernel's operand: 1 hot; cold, enough to exceed twice the last-level cache.
int tb_bench_copies(const tb_kernel *kn, int n, int k, int cold);
int tb_bench_operand_make(tb_bench_operand *o, const tb_kernel *kn, const tb_bench_data *d,
                          int cold, char *err, size_t err_len);
void tb_bench_operand_free(tb_bench_operand *o);

// Validates kn on the case's shape (random data of the seed) against the naive oracle: a kernel
// that fails gets no time. Returns 0, or -1 with "failed validation, not timed: ..." in why.
int tb_bench_validate(const tb_kernel *kn, int m, int n, int k, uint64_t seed, char *why,
                      size_t why_len);

// One call as an engine makes it: prepare the activations (they change every token) on the
// calling thread, then all rows on the pool, with the operand's next weight copy. Returns the
// seconds of the call; *prep (if not NULL) gets prepare's share.
double tb_bench_call(tb_pool *pool, tb_bench_operand *o, const tb_bench_data *d, double *prep);

#endif
