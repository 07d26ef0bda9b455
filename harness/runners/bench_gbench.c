// tritbench bench kernels --gbench: the kernel list x shapes x m x threads registered as Google
// Benchmark benchmarks (through the C shim of gbench.h), with the library's repetitions,
// statistics and JSON output, and counters GMAC/s, weight GB/s, bits/weight and roofline
// fraction. Random interleaving of repetitions is on by default (these machines drift); the
// ratio tables of plain 'bench kernels' pair kernels round by round and are tighter still.
#include "atomic_file.h"
#include "bench_case.h"
#include "gbench.h"
#include "roofline.h"
#include "runners.h"
#include "select.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// Passes of the bandwidth probe per thread count; the best one is the roof.
#define ROOFLINE_PASSES 5 // per case

typedef struct {
    tb_bench_data data;
    tb_bench_operand op;
    tb_pool *pool;
    double bandwidth; // bytes/s of this thread count, for the roofline counter
    char why[640];    // non-empty: not timed, and why
} gb_case;

static void body(tb_gb_state *st, void *ctx)
{
    gb_case *c = ctx;
    if (c->why[0]) {
        tb_gb_skip(st, c->why);
        return;
    }
    while (tb_gb_keep_running(st)) tb_bench_call(c->pool, &c->op, &c->data, NULL);
    const tb_bench_data *d = &c->data;
    const double bytes = (double)c->op.packed_bytes;
    tb_gb_counter(st, "GMAC/s", (double)d->m * d->n * d->k / 1e9, TB_GB_RATE);
    tb_gb_counter(st, "weight_GB/s", bytes / 1e9, TB_GB_RATE);
    tb_gb_counter(st, "roofline_fraction", bytes / c->bandwidth, TB_GB_RATE);
    tb_gb_counter(st, "bits_per_weight", 8 * bytes / ((double)d->n * d->k), TB_GB_VALUE);
}

static void setup_case(gb_case *c, const tb_kernel *kn, int m, int n, int k, int cold,
                       uint64_t seed)
{
    tb_bench_data_make(&c->data, m, n, k, seed);
    if (tb_bench_validate(kn, m, n, k, seed, c->why, sizeof c->why) == 0)
        tb_bench_operand_make(&c->op, kn, &c->data, cold, c->why, sizeof c->why);
}

// Our defaults first, so that the caller's own flags override them; the library writes its
// JSON to a temporary file that is renamed only when the run succeeds.
static int run_library(const char *out_path, int gb_argc, char **gb_argv, tb_error *err)
{
    char **argv = calloc((size_t)gb_argc + 8, sizeof(char *));
    char out_flag[1100], tmp_path[1024];
    int argc = 0;
    argv[argc++] = "tritbench";
    argv[argc++] = "--benchmark_enable_random_interleaving=true";
    argv[argc++] = "--benchmark_repetitions=5";
    argv[argc++] = "--benchmark_min_time=0.05";
    if (out_path) {
        snprintf(tmp_path, sizeof tmp_path, "%s" TB_TMP_INFIX "%d", out_path, (int)getpid());
        snprintf(out_flag, sizeof out_flag, "--benchmark_out=%s", tmp_path);
        argv[argc++] = out_flag;
        argv[argc++] = "--benchmark_out_format=json";
    }
    for (int i = 0; i < gb_argc; i++) argv[argc++] = gb_argv[i];
    int rc = tb_gb_run(argc, argv);
    free(argv);
    if (rc) snprintf(err->msg, sizeof err->msg, "Google Benchmark refused its arguments");
    if (out_path && rc == 0 && rename(tmp_path, out_path) != 0)
        rc = tb_fail(err, "cannot write %s: %s", out_path, strerror(errno));
    if (out_path && rc != 0) unlink(tmp_path);
    return rc ? TB_BAD_INPUT : TB_OK;
}

int tb_bench_kernels_gbench(const tb_bench_kernels_params *p, const char *out_path, int gb_argc,
                            char **gb_argv, tb_error *err)
{
    if (!tb_gb_available()) return tb_fail(err, "this build has no Google Benchmark");
    const tb_kernel *sel[TB_KERNELS_MAX];
    int shapes[TB_SHAPES_MAX][2], nshapes = p->nshapes, nsel, rc = TB_OK;
    memcpy(shapes, p->shapes, sizeof shapes);
    if (p->model) rc = tb_config_shapes(p->model, shapes, TB_SHAPES_MAX, &nshapes, err);
    if (!rc) rc = tb_select_kernels(p->kernels, sel, TB_KERNELS_MAX, &nsel, err);
    if (rc) return rc;
    const int ncases = nsel * nshapes * p->nm * p->nthreads;
    gb_case *cases = calloc((size_t)ncases, sizeof(gb_case)), *c = cases;
    tb_pool **pools = calloc((size_t)p->nthreads, sizeof(tb_pool *));
    char name[256];
    for (int t = 0; t < p->nthreads; t++) {
        pools[t] = tb_pool_create(p->threads[t]);
        for (int s = 0; s < nshapes; s++)
            for (int q = 0; q < p->nm; q++)
                for (int i = 0; i < nsel; i++, c++) {
                    c->pool = pools[t];
                    setup_case(c, sel[i], p->m[q], shapes[s][0], shapes[s][1], p->cold, p->seed);
                    // Each case's roof on a buffer as large as its working set (roofline.h).
                    size_t work = c->op.packed_bytes * (size_t)c->op.ncopies;
                    c->bandwidth = tb_read_bandwidth(
                        pools[t], tb_roof_buffer_bytes(work, (size_t)p->roofline_mib << 20),
                        ROOFLINE_PASSES);
                    snprintf(name, sizeof name, "%s/n=%d/k=%d/m=%d/threads=%d/%s", sel[i]->name,
                             shapes[s][0], shapes[s][1], p->m[q], p->threads[t],
                             p->cold ? "cold" : "hot");
                    tb_gb_register(name, body, c);
                }
    }
    rc = run_library(out_path, gb_argc, gb_argv, err);
    for (int i = 0; i < ncases; i++) {
        tb_bench_operand_free(&cases[i].op);
        tb_bench_data_free(&cases[i].data);
    }
    for (int t = 0; t < p->nthreads; t++) tb_pool_destroy(pools[t]);
    free(pools), free(cases);
    return rc;
}
