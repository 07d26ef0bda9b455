// tritbench bench kernels --gbench: the kernel list x shapes x m x threads registered as Google
// Benchmark benchmarks (through the C shim of gbench.h), with the library's repetitions,
// statistics and JSON output, and counters GMAC/s, weight GB/s, bits/weight and roofline
// fraction. Random interleaving of repetitions is on by default (these machines drift); the
// ratio tables of plain 'bench kernels' pair kernels round by round and are tighter still.
#include "bench.h"
#include "check.h"
#include "cli.h"
#include "gbench.h"
#include "roofline.h"
#include "tb_pool.h"
#include "tb_reference.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const tb_kernel *kn;
    tb_pool *pool;
    void **packed;
    int ncopies, copy;
    void *act;
    int8_t *x;
    float *xs, *y;
    int m, n, k, valid;
    double bandwidth; // bytes/s of this thread count, for the roofline counter
    char why[600];
} gb_case;

static void body(tb_gb_state *st, void *ctx)
{
    gb_case *c = ctx;
    if (!c->valid) {
        tb_gb_skip(st, c->why);
        return;
    }
    while (tb_gb_keep_running(st)) {
        c->kn->prepare(c->x, c->xs, c->m, c->k, c->act);
        tb_pool_matmul(c->pool, c->kn, c->packed[c->copy], c->act, c->m, c->n, c->k, c->y);
        c->copy = (c->copy + 1) % c->ncopies;
    }
    const double bytes = (double)c->kn->packed_size(c->n, c->k);
    tb_gb_counter(st, "GMAC/s", (double)c->m * c->n * c->k / 1e9, TB_GB_RATE);
    tb_gb_counter(st, "weight_GB/s", bytes / 1e9, TB_GB_RATE);
    tb_gb_counter(st, "roofline_fraction", bytes / c->bandwidth, TB_GB_RATE);
    tb_gb_counter(st, "bits_per_weight", 8 * bytes / ((double)c->n * c->k), TB_GB_VALUE);
}

int tb_gbench_kernels(const tb_kernel *const *sel, int nsel, int shapes[][2], int nshapes,
                      const int *ms, int nm, const int *threads, int nthreads, int cold,
                      uint64_t seed, int roofline_mib, const char *json_path, int gb_argc,
                      char **gb_argv)
{
    if (!tb_gb_available()) return tb_gb_run(0, NULL);
    const int ncases = nsel * nshapes * nm * nthreads;
    gb_case *cases = calloc((size_t)ncases, sizeof(gb_case));
    tb_pool **pools = calloc((size_t)nthreads, sizeof(tb_pool *));
    char err[256], name[256];
    int ci = 0;
    for (int t = 0; t < nthreads; t++) {
        pools[t] = tb_pool_create(threads[t]);
        double bw = tb_read_bandwidth(pools[t], tb_roofline_bytes(roofline_mib), 10);
        fprintf(stderr, "threads %d: streaming read bandwidth %.1f GB/s\n", threads[t], bw / 1e9);
        for (int s = 0; s < nshapes; s++)
            for (int q = 0; q < nm; q++)
                for (int i = 0; i < nsel; i++, ci++) {
                    gb_case *c = &cases[ci];
                    c->kn = sel[i], c->pool = pools[t], c->bandwidth = bw;
                    c->n = shapes[s][0], c->k = shapes[s][1], c->m = ms[q];
                    tb_rng rng = {seed};
                    int8_t *w = malloc((size_t)c->n * c->k);
                    for (size_t e = 0; e < (size_t)c->n * c->k; e++)
                        w[e] = (int8_t)tb_rng_int(&rng, -1, 1);
                    c->x = malloc((size_t)c->m * c->k);
                    for (size_t e = 0; e < (size_t)c->m * c->k; e++)
                        c->x[e] = (int8_t)tb_rng_int(&rng, -128, 127);
                    c->xs = malloc(sizeof(float) * c->m);
                    for (int e = 0; e < c->m; e++) c->xs[e] = 1.0f / 127;
                    c->y = tb_alloc(sizeof(float) * (size_t)c->m * c->n);
                    tb_check_result res = {0};
                    c->valid = tb_check_case(c->kn, c->m, c->n, c->k, 0, c->n, TB_W_RANDOM,
                                             TB_X_RANDOM, seed, &res) == 0;
                    snprintf(c->why, sizeof c->why, "failed validation: %s", res.first_failure);
                    size_t bytes = c->kn->packed_size(c->n, c->k);
                    c->ncopies = cold ? (int)(2 * tb_last_level_cache_bytes() / bytes) + 2 : 1;
                    c->packed = malloc(sizeof(void *) * (size_t)c->ncopies);
                    for (int p = 0; p < c->ncopies; p++) {
                        c->packed[p] = tb_alloc(bytes);
                        if (tb_pack(c->kn, w, 0.01f, c->n, c->k, c->packed[p], err, sizeof err))
                            c->valid = 0, snprintf(c->why, sizeof c->why, "%s", err);
                    }
                    c->act = tb_alloc(c->kn->act_size(c->m, c->k));
                    free(w);
                    snprintf(name, sizeof name, "%s/n=%d/k=%d/m=%d/threads=%d/%s", c->kn->name,
                             c->n, c->k, c->m, threads[t], cold ? "cold" : "hot");
                    tb_gb_register(name, body, c);
                }
    }
    // Our defaults first, so that the caller's own flags (after '--') override them.
    char **argv = calloc((size_t)gb_argc + 8, sizeof(char *));
    char out_flag[1100], tmp_path[1024];
    int argc = 0;
    argv[argc++] = "tritbench";
    argv[argc++] = "--benchmark_enable_random_interleaving=true";
    argv[argc++] = "--benchmark_repetitions=5";
    argv[argc++] = "--benchmark_min_time=0.05";
    if (json_path) { // the library writes a temporary file; renamed only when the run succeeds
        snprintf(tmp_path, sizeof tmp_path, "%s.tmp.%d", json_path, (int)getpid());
        snprintf(out_flag, sizeof out_flag, "--benchmark_out=%s", tmp_path);
        argv[argc++] = out_flag;
        argv[argc++] = "--benchmark_out_format=json";
    }
    for (int i = 0; i < gb_argc; i++) argv[argc++] = gb_argv[i];
    int rc = tb_gb_run(argc, argv);
    free(argv);
    if (json_path && rc == 0 && rename(tmp_path, json_path) != 0) {
        fprintf(stderr, "tritbench bench: cannot write %s: %s\n", json_path, strerror(errno));
        rc = TB_EXIT_FAIL;
    }
    if (json_path && rc != 0) unlink(tmp_path);
    for (int i = 0; i < ncases; i++) {
        gb_case *c = &cases[i];
        for (int p = 0; p < c->ncopies; p++) tb_free(c->packed[p]);
        free(c->packed), tb_free(c->act), free(c->x), free(c->xs), tb_free(c->y);
    }
    for (int t = 0; t < nthreads; t++) tb_pool_destroy(pools[t]);
    free(pools), free(cases);
    return rc;
}
