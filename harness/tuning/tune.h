// tritbench tune: which ternary kernel is fastest on this CPU, per product regime and thread
// count, measured on a model's layer shapes; the document dispatch then reads (tune_file.h).
//
// Regimes: the ones the engine runs. Decode multiplies one token (m = 1, GEMV) with weights
// that stream from DRAM ("gemv_cold") or sit in cache ("gemv_hot"); prefill several tokens at
// once (GEMM, hot) at m buckets ("gemm_m8", "gemm_m32", "gemm_m128"). Each regime is one
// `bench kernels` run (interleaved rounds, the protocol), every thread count in it. A kernel's
// score is the time of one layer: each shape's median time weighted by how many products of
// that shape a layer has (2B4T: q, o 2560x2560; k, v 640x2560; gate, up 6912x2560; down
// 2560x6912). The fastest kernel of each regime and thread count is its choice, and the fastest
// of each packed format too: an engine packs one format, its decode kernel's.
//
// Portable kernels take seconds a call at m = 128, so GEMM buckets are screened: a bucket times
// the kernels within `screen` times the fastest layer time of the regime before it (at any
// thread count), and the fastest of every format there; the others are listed as not timed,
// with the reason.
#ifndef TB_TUNE_H
#define TB_TUNE_H

#include "runners.h"
#include "tb_kernel.h"

typedef struct {
    const char *model;   // configuration whose layer shapes are timed
    const char *kernels; // comma list of ternary kernels; NULL: every one this CPU runs, but naive
    int threads[TB_LIST_MAX], nthreads; // 0 values: 1 and the logical CPUs
    int m[TB_LIST_MAX], nm;             // GEMM buckets, each > 1
    int rounds;
    double block_ms;
    int hot_only;  // leave out gemv_cold (its weight copies fill twice the last-level cache)
    double screen; // see above; 0: time every kernel at every bucket
    int driver;    // also tune the decode path's runtime parameters (tb_tune_driver)
    uint64_t seed;
} tb_tune_params;
void tb_tune_defaults(tb_tune_params *p);
// The "tune" document (tune_file.h describes it). TB_OK, or TB_BAD_INPUT with err set.
int tb_tune_run(const tb_tune_params *p, const tb_observer *obs, cJSON **doc, tb_error *err);

// Where a tune document goes by default: "results/<cpu-slug>/tune.json" (malloc'd).
char *tb_tune_default_path(void);

typedef struct {
    int n, k, count; // a shape and how many products of it a layer has
} tb_layer_shape;

// The runtime parameters of the decode path (tune_driver.c): the layer time of kernel kn at
// m = 1 with cold weights at `threads` threads, first at each prefetch distance (tb_prefetch_set),
// then at each chunk work of the row driver with the distance chosen; candidates interleaved
// round by round. A candidate is chosen over the default only if it is more than
// TB_DRIVER_MIN_GAIN faster. Returns {threads, kernel, prefetch_bytes: SWEEP, chunk_work: SWEEP,
// choice: {prefetch_bytes, chunk_work}}, SWEEP = {candidates: [{value, layer_s, round_layer_s}],
// default, fastest, gain_over_default, choice}. The process-wide parameters are restored.
#define TB_DRIVER_MIN_GAIN 0.02
cJSON *tb_tune_driver(const tb_kernel *kn, const tb_layer_shape *shapes, int nshapes, int threads,
                      int rounds, double block_ms, uint64_t seed, const tb_observer *obs);

#endif
