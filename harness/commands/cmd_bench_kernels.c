// tritbench bench kernels: kernels timed interleaved in one process (runners/bench_kernels.c).
#include "commands.h"
#include "options.h"

#include <stdio.h>
#include <string.h>

static const char *help =
    "usage: tritbench bench kernels [--kernel A,B,...|all] [--model CONFIG | --shape N,K]\n"
    "                               [--m M,...] [--threads T,...] [--rounds R] [--block-ms T]\n"
    "                               [--baseline NAME] [--cold] [--seed S] [--json] [--out FILE]\n"
    "                               [--save] [--gbench [-- GOOGLE-BENCHMARK-ARGS]]\n"
    "\n"
    "Times Y = X W^T for each kernel, weight shape, activation count m and thread count,\n"
    "interleaving the kernels round by round. A call is what an engine does per token: prepare\n"
    "the activations (padding, row sums, LUT tables; 'prep%' is its share) on one thread, then\n"
    "every row split across the threads. Every kernel is validated on the shape first; one that\n"
    "fails gets no time. Each case is measured against two roofs probed in the same run: the\n"
    "read bandwidth on a buffer as large as its working set ('roof:' line; all weight copies\n"
    "when cold, one copy when hot: a cache roof), and the peak of each kernel's multiply-\n"
    "accumulate instruction path. 'roof%' is the rate reached against the lower of the two at\n"
    "the kernel's MACs per weight byte; 'bound' says which ('bw' or 'cpu'). Against the\n"
    "bandwidth it is the median over rounds of the round's rate against the probe passes just\n"
    "before and after it (these VMs change speed state within a run, so rates are compared\n"
    "with passes taken in the same state); 'best%' is against the best pass of the run.\n"
    "  --kernel LIST     kernels to time (default: all this CPU runs, baselines included);\n"
    "                    peers by name: peer:ggml-tq2_0, -tq1_0, -q4_0, -q8_0, -f16 (ggml's own\n"
    "                    quantizers and dot products; see 'tritbench kernels')\n"
    "  --peer-lib DIR    directory of the peers' libraries (default $TRITBENCH_GGML_DIR, else\n"
    "                    where .ci/setup installs them)\n"
    "  --model CONFIG    every distinct linear shape of a model configuration (default 2B4T:\n"
    "                    2560x2560, 640x2560, 6912x2560, 2560x6912)\n"
    "  --shape N,K       one weight shape instead (N rows of K weights)\n"
    "  --m LIST          activation rows: 1 = decode GEMV (default), more = prefill GEMM\n"
    "  --threads LIST    thread counts (default 1)\n"
    "  --rounds R        interleaved rounds (default 15)\n"
    "  --block-ms T      target length of one kernel's block in a round (default 20)\n"
    "  --baseline NAME   kernel the ratios are taken against (default: the FP16 baseline)\n"
    "  --cold            rotate weight copies larger than twice the last-level cache, so the\n"
    "                    weights come from DRAM (default: hot, one cache-resident copy)\n"
    "  --seed S          seed of the random data (default 1)\n"
    "  --roofline-mib N  bandwidth probe of at least N MiB (default: exactly the bytes each case\n"
    "                    streams: all weight copies when cold, one copy when hot, a cache roof)\n"
    "  --json            the results document on standard output instead of the tables\n"
    "  --out FILE        also write the document to FILE (atomically)\n"
    "  --save            also write it to results/<cpu>/kernels-<time>.json\n"
    "  --gbench          time through Google Benchmark instead (its repetitions, statistics and\n"
    "                    JSON, which --out then writes; random interleaving on); arguments after\n"
    "                    '--' go to it\n";

typedef struct {
    tb_bench_kernels_params run;
    const char *model;
    int shape_values; // 2 when --shape N,K was given
    int json, save, gbench;
    const char *out;
} bench_options;

static const tb_option options[] = {
    TB_OPT_STRING_ROW("kernel", bench_options, run.kernels),
    TB_OPT_STRING_ROW("model", bench_options, model),
    TB_OPT_INTS_ROW("shape", bench_options, run.shapes[0], shape_values, 1, 1 << 30, 2, 2),
    TB_OPT_INTS_ROW("m", bench_options, run.m, run.nm, 1, TB_M_MAX, 1, TB_LIST_MAX),
    TB_OPT_INTS_ROW("threads", bench_options, run.threads, run.nthreads, 1, TB_THREADS_MAX, 1,
                    TB_LIST_MAX),
    TB_OPT_INT_ROW("rounds", bench_options, run.rounds, 3, 1000),
    TB_OPT_DOUBLE_ROW("block-ms", bench_options, run.block_ms, 0.1, 10000),
    TB_OPT_STRING_ROW("baseline", bench_options, run.baseline),
    TB_OPT_STRING_ROW("peer-lib", bench_options, run.peer_lib),
    TB_OPT_FLAG_ROW("cold", bench_options, run.cold),
    TB_OPT_U64_ROW("seed", bench_options, run.seed),
    TB_OPT_INT_ROW("roofline-mib", bench_options, run.roofline_mib, 1, 1 << 16),
    TB_OPT_FLAG_ROW("json", bench_options, json),
    TB_OPT_STRING_ROW("out", bench_options, out),
    TB_OPT_FLAG_ROW("save", bench_options, save),
    TB_OPT_FLAG_ROW("gbench", bench_options, gbench),
};

static void render_entry(const cJSON *e)
{
    if (cJSON_GetObjectItem(e, "error")) {
        printf("  %-14s %s\n", tb_jstr(e, "kernel"), tb_jstr(e, "error"));
        return;
    }
    double med = tb_jnum(e, "median_s");
    const char *bound = tb_jstr(e, "bound_by");
    double best = cJSON_IsNumber(cJSON_GetObjectItem(e, "roof_fraction_best_pass"))
                      ? tb_jnum(e, "roof_fraction_best_pass")
                      : tb_jnum(e, "roof_fraction");
    printf("  %-14s %10.1f %10.1f %6.1f %6.1f %8.1f %7.1f %6.0f %6.0f %5s %7.3f %.3fx\n",
           tb_jstr(e, "kernel"), med * 1e6, tb_jnum(e, "min_s") * 1e6,
           100 * tb_jnum(e, "iqr_s") / med, 100 * tb_jnum(e, "prepare_median_s") / med,
           tb_jnum(e, "gmacs"), tb_jnum(e, "weight_gbs"), 100 * tb_jnum(e, "roof_fraction"),
           100 * best, bound && !strcmp(bound, "compute") ? "cpu" : "bw",
           tb_jnum(e, "bits_per_weight"), tb_jnum(e, "ratio_vs_baseline"));
}

// A header per thread count and per case (shape, m), then a row per kernel.
static void render(const cJSON *doc)
{
    const cJSON *par = cJSON_GetObjectItem(doc, "parameters");
    const cJSON *src = cJSON_GetObjectItem(doc, "sources");
    const cJSON *energy = cJSON_GetObjectItem(src, "energy");
    const cJSON *counters = cJSON_GetObjectItem(src, "counters");
    printf("bench kernels: %s weights, %d interleaved rounds, ratios against %s; energy: %s; "
           "counters: %s\n",
           cJSON_GetArrayItem(cJSON_GetObjectItem(par, "weights"), 0)->valuestring,
           (int)tb_jnum(par, "rounds"), tb_jstr(par, "baseline"),
           cJSON_IsTrue(cJSON_GetObjectItem(energy, "available")) ? "RAPL"
                                                                  : tb_jstr(energy, "reason"),
           cJSON_IsTrue(cJSON_GetObjectItem(counters, "available")) ? "PAPI"
                                                                    : tb_jstr(counters, "reason"));
    int threads = 0, n = 0, k = 0, m = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "entries"))
    {
        int t = (int)tb_jnum(e, "threads");
        if (t != threads || tb_jnum(e, "n") != n || tb_jnum(e, "k") != k || tb_jnum(e, "m") != m) {
            threads = t, n = (int)tb_jnum(e, "n"), k = (int)tb_jnum(e, "k"),
            m = (int)tb_jnum(e, "m");
            printf("\n  shape n=%d k=%d m=%d, %d thread%s (%.1f MMAC)\n", n, k, m, t,
                   t > 1 ? "s" : "", (double)m * n * k / 1e6);
            const cJSON *roof = cJSON_GetObjectItem(e, "roof");
            if (roof)
                printf("  roof: %s read bandwidth %.1f GB/s (best of %d passes, median %.1f) on a "
                       "%.0f MiB buffer for %.0f MiB of weights\n",
                       tb_jstr(roof, "kind"), tb_jnum(roof, "best_gbs"),
                       (int)tb_jnum(roof, "passes"), tb_jnum(roof, "median_gbs"),
                       tb_jnum(roof, "buffer_bytes") / (1 << 20),
                       tb_jnum(roof, "work_bytes") / (1 << 20));
            printf("  %-14s %10s %10s %6s %6s %8s %7s %6s %6s %5s %7s %s\n", "kernel", "median_us",
                   "min_us", "iqr%", "prep%", "GMAC/s", "GB/s", "roof%", "best%", "bound", "bits/w",
                   "vs baseline");
        }
        render_entry(e);
    }
}

int cmd_bench_kernels(int argc, char **argv)
{
    bench_options o = {0};
    tb_bench_kernels_defaults(&o.run);
    int rest, rc = tb_parse_options("bench kernels", help, options, TB_COUNT(options), argc, argv,
                                    &o, &rest);
    if (rc) return rc < 0 ? 0 : rc;
    o.run.nshapes = o.shape_values ? 1 : 0;
    if (o.model && o.run.nshapes)
        return tb_usage_error("bench kernels", "--model and --shape do not go together");
    if (rest < argc && !o.gbench)
        return tb_usage_error("bench kernels", "arguments after '--' need --gbench");
    o.run.model = o.run.nshapes ? NULL : o.model ? o.model : o.run.model;
    tb_error err;
    if (o.gbench)
        return tb_run_error("bench kernels",
                            tb_bench_kernels_gbench(&o.run, o.out, argc - rest, argv + rest, &err),
                            &err);
    cJSON *doc;
    tb_progress prog;
    tb_observer obs = tb_progress_observer(&prog, 1);
    rc = tb_bench_kernels_run(&o.run, &obs, &doc, &err);
    tb_progress_done(&prog);
    if (rc) return tb_run_error("bench kernels", rc, &err);
    if (!o.json) render(doc);
    rc = tb_save_results(doc, o.save, "kernels");
    return tb_output(doc, o.json, o.out, rc);
}
