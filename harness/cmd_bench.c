// tritbench bench kernels: time kernels interleaved in one process.
//
// These machines drift between speed states for seconds to minutes, so kernels are never timed
// in back-to-back sweeps. Each round runs a short block of every kernel in turn (rotating who
// goes first), drops the block's first call to re-warm caches, and keeps the block's median.
// Figures are medians over rounds; ratios are medians of per-round ratios, which hold to a few
// percent where absolute times move by 30 %. The same run measures the streaming read
// bandwidth for every thread count, so each figure carries its roofline.
#include "bench.h"
#include "check.h"
#include "cli.h"
#include "counters.h"
#include "energy.h"
#include "info.h"
#include "results.h"
#include "roofline.h"
#include "model.h"
#include "tb_model.h"
#include "tb_pool.h"
#include "tb_reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *help =
    "usage: tritbench bench kernels [--kernel A,B,...|all] [--model CONFIG | --shape N,K]\n"
    "                               [--m M,...] [--threads T,...] [--rounds R] [--block-ms T]\n"
    "                               [--baseline NAME] [--cold] [--seed S] [--json FILE] [--save]\n"
    "                               [--gbench [-- GOOGLE-BENCHMARK-ARGS]]\n"
    "       tritbench bench model ...    (see 'tritbench bench model --help')\n"
    "\n"
    "Times Y = X W^T for each kernel, weight shape, activation count m and thread count,\n"
    "interleaving the kernels round by round. A call is what an engine does per token: prepare\n"
    "the activations (padding, row sums, LUT tables; 'prep%' is its share) on one thread, then\n"
    "every row split across the threads. Every kernel is validated on the shape first; one that\n"
    "fails gets no time. The run also measures the streaming read bandwidth (a buffer of 4x the\n"
    "last-level cache) for each thread count: 'roof%' is weight GB/s over it (above 100 % the\n"
    "weights come from cache).\n"
    "  --kernel LIST     kernels to time (default: all this CPU runs, baselines included)\n"
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
    "  --roofline-mib N  buffer of the bandwidth measurement (default: 4x the last-level cache,\n"
    "                    at least 256 MiB; smaller measures a cache)\n"
    "  --json FILE       write the results document there (atomically; '-' for stdout)\n"
    "  --save            also write it to results/<cpu>/kernels-<time>.json\n"
    "  --gbench          time through Google Benchmark instead (its repetitions, statistics and\n"
    "                    JSON; random interleaving on); arguments after '--' go to it\n";

#define MAX_SHAPES  64
#define MAX_LIST    16
#define MAX_KERNELS 64

typedef struct {
    const tb_kernel *kn;
    int ncopies;
    void **packed;
    void *act;
    size_t packed_bytes;
    int valid, reps, copy; // copy: the weight copy the next call uses (cold: rotates)
    double *round_time;    // median seconds per call (prepare + run) in each round
    double *round_prep;    // median seconds of prepare alone in each round
    double *round_ratio;   // baseline time / this time, per round
    double energy_j;       // summed over the timed calls
    long long counters[TB_COUNTERS_MAX];
    const char *counter_names[TB_COUNTERS_MAX];
    int ncounters;
    long calls;
    char note[640];
} entry;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Quantile q of v[0..n) (sorts a copy), linear interpolation.
double tb_quantile(const double *v, int n, double q)
{
    double *s = malloc(sizeof(double) * (size_t)n);
    memcpy(s, v, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    double pos = q * (n - 1);
    int lo = (int)pos;
    double r = lo + 1 < n ? s[lo] + (pos - lo) * (s[lo + 1] - s[lo]) : s[lo];
    free(s);
    return r;
}

int tb_parse_list(const char *cmd, const char *what, const char *s, int *out, int max, int lo,
                  int hi)
{
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", s);
    int n = 0;
    if (!*s || s[strlen(s) - 1] == ',' || strstr(s, ",,"))
        tb_usage_error(cmd, "%s: '%s' must be comma-separated whole numbers", what, s);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == max) tb_usage_error(cmd, "%s: more than %d values", what, max);
        out[n++] = (int)tb_parse_int(cmd, what, t, lo, hi);
    }
    return n;
}

int tb_bench_shapes(const char *cmd, const char *model, int shapes[][2], int max)
{
    tb_config c;
    if (tb_config_find(model, &c))
        tb_usage_error(cmd, "--model: unknown configuration '%s' (see 'tritbench model --help')",
                       model);
    int n = 0;
    for (int l = 0; l < TB_N_LINEAR; l++) {
        int rows, cols, seen = 0;
        tb_linear_shape(&c, l, &rows, &cols);
        for (int s = 0; s < n; s++) seen |= shapes[s][0] == rows && shapes[s][1] == cols;
        if (!seen && n < max) shapes[n][0] = rows, shapes[n][1] = cols, n++;
    }
    return n;
}

const tb_kernel *tb_default_baseline(const tb_kernel *const *sel, int nsel)
{
    static const char *const order[] = {"f16_avx512", "f16_avx2", "f16_neon", "i2_scalar"};
    for (unsigned o = 0; o < sizeof order / sizeof order[0]; o++)
        for (int i = 0; i < nsel; i++)
            if (strcmp(sel[i]->name, order[o]) == 0) return sel[i];
    return sel[0];
}

int tb_select_kernels(const char *cmd, const char *list, const tb_kernel **sel, int max)
{
    int n = 0;
    if (strcmp(list, "all") == 0) {
        for (int i = 0; i < tb_kernel_count() && n < max; i++)
            if (tb_kernel_supported(tb_kernel_at(i), NULL, 0)) sel[n++] = tb_kernel_at(i);
        return n;
    }
    char buf[512], *save = NULL;
    snprintf(buf, sizeof buf, "%s", list);
    for (char *t = strtok_r(buf, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save)) {
        const tb_kernel *kn = tb_kernel_find(t);
        char why[200];
        if (!kn) tb_usage_error(cmd, "--kernel: no kernel named '%s' here", t);
        if (!tb_kernel_supported(kn, why, sizeof why))
            tb_usage_error(cmd, "--kernel: %s cannot run here: %s", t, why);
        sel[n++] = kn;
    }
    return n;
}

typedef struct {
    tb_pool *pool;
    tb_energy *energy;
    tb_counters *counters;
    const int8_t *x;
    const float *xs;
    int m, n, k;
    float *y;
} call_ctx;

// One call as an engine makes it: prepare the activations (they change every token) on the
// calling thread, then all rows on the pool. Returns the total; *prep gets prepare's share.
static double time_call(const call_ctx *c, entry *e, int copy, double *prep)
{
    double t0 = tb_now();
    e->kn->prepare(c->x, c->xs, c->m, c->k, e->act);
    double t1 = tb_now();
    tb_pool_matmul(c->pool, e->kn, e->packed[copy], e->act, c->m, c->n, c->k, c->y);
    double t2 = tb_now();
    if (prep) *prep = t1 - t0;
    return t2 - t0;
}

// Packs the weights (ncopies copies) and allocates the activations of one entry.
static int setup_entry(entry *e, const int8_t *w, int n, int k, int m, int cold)
{
    char err[256];
    e->packed_bytes = e->kn->packed_size(n, k);
    e->ncopies = cold ? (int)(2 * tb_last_level_cache_bytes() / e->packed_bytes) + 2 : 1;
    e->packed = malloc(sizeof(void *) * (size_t)e->ncopies);
    for (int c = 0; c < e->ncopies; c++) {
        e->packed[c] = tb_alloc(e->packed_bytes);
        if (tb_pack(e->kn, w, 0.01f, n, k, e->packed[c], err, sizeof err)) {
            fprintf(stderr, "tritbench bench: %s\n", err);
            return -1;
        }
    }
    e->act = tb_alloc(e->kn->act_size(m, k));
    return 0;
}

static void free_entry(entry *e)
{
    for (int c = 0; c < e->ncopies; c++) tb_free(e->packed[c]);
    free(e->packed);
    tb_free(e->act);
    free(e->round_time);
    free(e->round_prep);
    free(e->round_ratio);
}

int cmd_bench(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "model") == 0) return cmd_bench_model(argc - 1, argv + 1);
    if (argc < 2 ||
        (strcmp(argv[1], "kernels") != 0 && !tb_flag(argv, 1, "--help") && !tb_flag(argv, 1, "-h")))
        tb_usage_error("bench", "say what to benchmark: 'tritbench bench kernels' or "
                                "'tritbench bench model'");
    const char *kernels = "all", *json_path = NULL, *baseline = NULL, *model = "2B4T";
    int shapes[MAX_SHAPES][2], nshapes = 0, ms[MAX_LIST] = {1}, nm = 1;
    int threads[MAX_LIST] = {1}, nthreads = 1, rounds = 15, cold = 0, save = 0, gbench = 0;
    int gb_argc = 0, roofline_mib = 0;
    char **gb_argv = NULL;
    double block_ms = 20;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (i == 1 && strcmp(argv[i], "kernels") == 0) continue;
        if (tb_flag(argv, i, "--")) {
            gb_argc = argc - i - 1, gb_argv = argv + i + 1;
            break;
        } else if (tb_flag(argv, i, "--help") || tb_flag(argv, i, "-h")) {
            fputs(help, stdout);
            return 0;
        } else if ((v = tb_opt("bench", argc, argv, &i, "--kernel"))) {
            kernels = v;
        } else if ((v = tb_opt("bench", argc, argv, &i, "--model"))) {
            model = v, nshapes = 0;
        } else if ((v = tb_opt("bench", argc, argv, &i, "--shape"))) {
            tb_parse_ints("bench", "--shape", v, 2, shapes[0]);
            nshapes = 1, model = NULL;
        } else if ((v = tb_opt("bench", argc, argv, &i, "--m"))) {
            nm = tb_parse_list("bench", "--m", v, ms, MAX_LIST, 1, 4096);
        } else if ((v = tb_opt("bench", argc, argv, &i, "--threads"))) {
            nthreads = tb_parse_list("bench", "--threads", v, threads, MAX_LIST, 1, 256);
        } else if ((v = tb_opt("bench", argc, argv, &i, "--rounds"))) {
            rounds = (int)tb_parse_int("bench", "--rounds", v, 3, 1000);
        } else if ((v = tb_opt("bench", argc, argv, &i, "--block-ms"))) {
            block_ms = (double)tb_parse_int("bench", "--block-ms", v, 1, 10000);
        } else if ((v = tb_opt("bench", argc, argv, &i, "--baseline"))) {
            baseline = v;
        } else if ((v = tb_opt("bench", argc, argv, &i, "--seed"))) {
            seed = tb_parse_u64("bench", "--seed", v);
        } else if ((v = tb_opt("bench", argc, argv, &i, "--json"))) {
            json_path = v;
        } else if ((v = tb_opt("bench", argc, argv, &i, "--roofline-mib"))) {
            roofline_mib = (int)tb_parse_int("bench", "--roofline-mib", v, 1, 1 << 16);
        } else if (tb_flag(argv, i, "--cold")) {
            cold = 1;
        } else if (tb_flag(argv, i, "--save")) {
            save = 1;
        } else if (tb_flag(argv, i, "--gbench")) {
            gbench = 1;
        } else {
            tb_usage_error("bench", "unknown option '%s'", argv[i]);
        }
    }
    if (gb_argc && !gbench) tb_usage_error("bench", "arguments after '--' need --gbench");
    if (model) nshapes = tb_bench_shapes("bench", model, shapes, MAX_SHAPES);
    char err[256];
    for (int s = 0; s < nshapes; s++)
        for (int q = 0; q < nm; q++)
            if (tb_check_shape(ms[q], shapes[s][0], shapes[s][1], err, sizeof err))
                tb_usage_error("bench", "%s", err);
    const tb_kernel *sel[MAX_KERNELS];
    int nsel = tb_select_kernels("bench", kernels, sel, MAX_KERNELS);
    const tb_kernel *base = tb_default_baseline(sel, nsel);
    if (baseline) {
        base = NULL;
        for (int i = 0; i < nsel; i++)
            if (strcmp(sel[i]->name, baseline) == 0) base = sel[i];
        if (!base)
            tb_usage_error("bench", "--baseline: '%s' is not among the kernels timed", baseline);
    }
    if (gbench)
        return tb_gbench_kernels(sel, nsel, shapes, nshapes, ms, nm, threads, nthreads, cold, seed,
                                 roofline_mib, json_path, gb_argc, gb_argv);

    // Provenance and measurement sources, recorded once.
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "kind", "kernels");
    cJSON_AddItemToObject(doc, "info", tb_info_collect(NULL, NULL));
    tb_energy *energy = tb_energy_open(NULL);
    tb_counters *counters = tb_counters_open();
    cJSON *sources = cJSON_AddObjectToObject(doc, "sources");
    tb_sources_to_json(sources, energy, counters);
    cJSON *par = cJSON_AddObjectToObject(doc, "parameters");
    cJSON_AddNumberToObject(par, "seed", (double)seed);
    cJSON_AddNumberToObject(par, "rounds", rounds);
    cJSON_AddNumberToObject(par, "roofline_bytes", (double)tb_roofline_bytes(roofline_mib));
    cJSON_AddNumberToObject(par, "block_ms", block_ms);
    cJSON *jw = cJSON_AddArrayToObject(par, "weights");
    cJSON_AddItemToArray(jw, cJSON_CreateString(cold ? "cold" : "hot"));
    cJSON *jsh = cJSON_AddArrayToObject(par, "shapes");
    for (int s = 0; s < nshapes; s++) cJSON_AddItemToArray(jsh, cJSON_CreateIntArray(shapes[s], 2));
    cJSON_AddStringToObject(par, "baseline", base->name);
    if (model) cJSON_AddStringToObject(par, "model", model);
    cJSON_AddItemToObject(par, "m", cJSON_CreateIntArray(ms, nm));
    cJSON_AddItemToObject(par, "threads", cJSON_CreateIntArray(threads, nthreads));
    cJSON *jk = cJSON_AddArrayToObject(par, "kernels");
    for (int i = 0; i < nsel; i++) cJSON_AddItemToArray(jk, cJSON_CreateString(sel[i]->name));
    cJSON *roof = cJSON_AddObjectToObject(doc, "roofline");
    cJSON *entries = cJSON_AddArrayToObject(doc, "entries");

    printf("bench kernels: %s weights, %d interleaved rounds, ratios against %s; energy: %s; "
           "counters: %s\n",
           cold ? "cold" : "hot", rounds, base->name,
           tb_energy_available(energy) ? "RAPL" : tb_energy_reason(energy),
           tb_counters_available(counters) ? "PAPI" : tb_counters_reason(counters));
    tb_progress prog;
    tb_progress_start(&prog, 1);
    const size_t ncases = (size_t)nshapes * nm * nsel;
    char *verdict = calloc(ncases, 1); // per (shape, m, kernel): 0 unchecked, 1 pass, 2 fail
    char(*notes)[sizeof(((entry *)0)->note)] = calloc(ncases, sizeof *notes);
    for (int ti = 0; ti < nthreads; ti++) {
        tb_pool *pool = tb_pool_create(threads[ti]);
        double bw = tb_read_bandwidth(pool, tb_roofline_bytes(roofline_mib), 10);
        char key[16];
        snprintf(key, sizeof key, "%d", threads[ti]);
        cJSON_AddNumberToObject(roof, key, bw);
        printf("\nthreads %d: streaming read bandwidth %.1f GB/s (%zu MiB buffer)\n", threads[ti],
               bw / 1e9, tb_roofline_bytes(roofline_mib) >> 20);
        for (int s = 0; s < nshapes; s++) {
            for (int q = 0; q < nm; q++) {
                const int n = shapes[s][0], k = shapes[s][1], m = ms[q];
                const double macs = (double)m * n * k;
                tb_rng rng = {seed};
                int8_t *w = malloc((size_t)n * k), *x = malloc((size_t)m * k);
                float *xs = malloc(sizeof(float) * m), *y = tb_alloc(sizeof(float) * (size_t)m * n);
                for (size_t i = 0; i < (size_t)n * k; i++) w[i] = (int8_t)tb_rng_int(&rng, -1, 1);
                for (size_t i = 0; i < (size_t)m * k; i++)
                    x[i] = (int8_t)tb_rng_int(&rng, -128, 127);
                for (int i = 0; i < m; i++) xs[i] = 1.0f / 127;
                call_ctx cc = {pool, energy, counters, x, xs, m, n, k, y};
                entry *e = calloc((size_t)nsel, sizeof(entry));
                int bi = 0;
                for (int qk = 0; qk < nsel; qk++) {
                    entry *b = &e[qk];
                    b->kn = sel[qk];
                    if (b->kn == base) bi = qk;
                    // Validation does not depend on the thread count: once per kernel and shape.
                    size_t vi = ((size_t)s * nm + q) * nsel + qk;
                    if (!verdict[vi]) {
                        tb_check_result res = {0};
                        tb_progress_show(&prog, "validating", qk + 1, nsel);
                        int ok = tb_check_case(b->kn, m, n, k, 0, n, TB_W_RANDOM, TB_X_RANDOM, seed,
                                               &res) == 0;
                        verdict[vi] = ok ? 1 : 2;
                        if (!ok)
                            snprintf(notes[vi], sizeof notes[vi],
                                     "failed validation, not timed: %s", res.first_failure);
                    }
                    b->valid = verdict[vi] == 1;
                    if (!b->valid) {
                        snprintf(b->note, sizeof b->note, "%s", notes[vi]);
                        continue;
                    }
                    if (setup_entry(b, w, n, k, m, cold)) return TB_EXIT_FAIL;
                    b->round_time = calloc((size_t)rounds, sizeof(double));
                    b->round_prep = calloc((size_t)rounds, sizeof(double));
                    b->round_ratio = calloc((size_t)rounds, sizeof(double));
                    double t = 0;
                    for (int c = 0; c < 3; c++) t = time_call(&cc, b, c % b->ncopies, NULL);
                    b->reps = (int)(block_ms * 1e-3 / (t > 1e-9 ? t : 1e-9));
                    b->reps = b->reps < 3 ? 3 : b->reps > 100000 ? 100000 : b->reps;
                }
                if (!e[bi].valid) {
                    fprintf(stderr, "tritbench bench: baseline %s: %s\n", base->name, e[bi].note);
                    return TB_EXIT_FAIL;
                }
                for (int r = 0; r < rounds; r++) {
                    char what[160];
                    snprintf(what, sizeof what, "threads %d, %dx%d, m=%d: round", threads[ti], n, k,
                             m);
                    tb_progress_show(&prog, what, r + 1, rounds);
                    for (int qq = 0; qq < nsel; qq++) {
                        entry *b = &e[(qq + r) % nsel]; // rotate who goes first
                        if (!b->valid) continue;
                        double *tm = malloc(sizeof(double) * (size_t)b->reps * 2),
                               *pp = tm + b->reps;
                        time_call(&cc, b, b->copy, NULL); // re-warm, dropped
                        tb_energy_start(energy);
                        tb_counters_start(counters);
                        for (int c = 0; c < b->reps; c++) {
                            b->copy = (b->copy + 1) % b->ncopies;
                            tm[c] = time_call(&cc, b, b->copy, &pp[c]);
                        }
                        long long cv[TB_COUNTERS_MAX];
                        b->ncounters =
                            tb_counters_stop(counters, cv, b->counter_names, TB_COUNTERS_MAX);
                        for (int c = 0; c < b->ncounters; c++) b->counters[c] += cv[c];
                        double joules[8];
                        const char *zones[8];
                        int nz = tb_energy_stop(energy, joules, zones, 8);
                        if (nz > 0) b->energy_j += joules[0]; // the first zone: the package
                        b->calls += b->reps;
                        b->round_time[r] = tb_quantile(tm, b->reps, 0.5);
                        b->round_prep[r] = tb_quantile(pp, b->reps, 0.5);
                        free(tm);
                    }
                    for (int qk = 0; qk < nsel; qk++)
                        if (e[qk].valid)
                            e[qk].round_ratio[r] = e[bi].round_time[r] / e[qk].round_time[r];
                }
                tb_progress_done(&prog);
                printf("\n  shape n=%d k=%d m=%d, %d thread%s (%.1f MMAC)\n", n, k, m, threads[ti],
                       threads[ti] > 1 ? "s" : "", macs / 1e6);
                printf("  %-14s %10s %10s %6s %6s %8s %7s %6s %7s %s\n", "kernel", "median_us",
                       "min_us", "iqr%", "prep%", "GMAC/s", "GB/s", "roof%", "bits/w",
                       "vs baseline");
                for (int qk = 0; qk < nsel; qk++) {
                    entry *b = &e[qk];
                    cJSON *o = cJSON_CreateObject();
                    cJSON_AddStringToObject(o, "kernel", b->kn->name);
                    cJSON_AddBoolToObject(o, "baseline", b->kn->baseline);
                    cJSON_AddNumberToObject(o, "n", n);
                    cJSON_AddNumberToObject(o, "k", k);
                    cJSON_AddNumberToObject(o, "m", m);
                    cJSON_AddNumberToObject(o, "threads", threads[ti]);
                    cJSON_AddStringToObject(o, "weights", cold ? "cold" : "hot");
                    if (!b->valid) {
                        printf("  %-14s %s\n", b->kn->name, b->note);
                        cJSON_AddStringToObject(o, "error", b->note);
                        cJSON_AddItemToArray(entries, o);
                        continue;
                    }
                    double med = tb_quantile(b->round_time, rounds, 0.5);
                    double mn = tb_quantile(b->round_time, rounds, 0.0);
                    double iqr = tb_quantile(b->round_time, rounds, 0.75) -
                                 tb_quantile(b->round_time, rounds, 0.25);
                    double prep = tb_quantile(b->round_prep, rounds, 0.5);
                    double ratio = tb_quantile(b->round_ratio, rounds, 0.5);
                    double gbs = (double)b->packed_bytes / med;
                    double bpw = 8.0 * (double)b->packed_bytes / ((double)n * k);
                    printf("  %-14s %10.1f %10.1f %6.1f %6.1f %8.1f %7.1f %6.0f %7.3f %.3fx\n",
                           b->kn->name, med * 1e6, mn * 1e6, 100 * iqr / med, 100 * prep / med,
                           macs / med / 1e9, gbs / 1e9, 100 * gbs / bw, bpw, ratio);
                    cJSON_AddNumberToObject(o, "median_s", med);
                    cJSON_AddNumberToObject(o, "min_s", mn);
                    cJSON_AddNumberToObject(o, "iqr_s", iqr);
                    cJSON_AddNumberToObject(o, "prepare_median_s", prep);
                    cJSON_AddNumberToObject(o, "gmacs", macs / med / 1e9);
                    cJSON_AddNumberToObject(o, "weight_gbs", gbs / 1e9);
                    cJSON_AddNumberToObject(o, "bits_per_weight", bpw);
                    cJSON_AddNumberToObject(o, "roofline_fraction", gbs / bw);
                    cJSON_AddNumberToObject(o, "ratio_vs_baseline", ratio);
                    cJSON_AddNumberToObject(o, "calls_per_block", b->reps);
                    cJSON_AddNumberToObject(o, "weight_copies", b->ncopies);
                    tb_entry_sources_to_json(o, energy, b->energy_j, b->calls, counters,
                                             b->counters, b->counter_names, b->ncounters);
                    cJSON_AddNumberToObject(o, "peak_rss_bytes", (double)tb_peak_rss());
                    cJSON_AddItemToArray(entries, o);
                    free_entry(b);
                }
                free(e);
                free(w), free(x), free(xs), tb_free(y);
            }
        }
        tb_pool_destroy(pool);
    }
    free(verdict);
    free(notes);
    cJSON_AddNumberToObject(doc, "peak_rss_bytes", (double)tb_peak_rss());
    tb_energy_close(energy);
    tb_counters_close(counters);
    return tb_finish_results(doc, json_path, save, "kernels");
}
