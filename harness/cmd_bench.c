// tritbench bench kernels: time kernels interleaved in one process.
//
// These machines drift between speed states for seconds to minutes, so kernels are never timed
// in back-to-back sweeps. Each round runs a short block of every kernel in turn (rotating who
// goes first), drops the block's first call to re-warm caches, and keeps the block's median.
// Figures are medians over rounds; ratios are medians of per-round ratios, which hold to a few
// percent where absolute times move by 30 %.
#include "check.h"
#include "cli.h"
#include "tb_reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *help =
    "usage: tritbench bench kernels [--kernel A,B,...|all] [--model 2B4T | --shape N,K]\n"
    "                               [--m M] [--rounds R] [--block-ms T] [--baseline NAME]\n"
    "                               [--cold] [--seed S] [--json FILE]\n"
    "\n"
    "Times y = W x for each kernel and weight shape, one thread, interleaving the kernels round\n"
    "by round. A call is what an engine does per token: prepare the activations (padding, row\n"
    "sums, LUT tables; 'prep%' is its share) and run every row. Every kernel is validated on the\n"
    "shape first; one that fails gets no time.\n"
    "  --kernel LIST     kernels to time (default all this CPU supports)\n"
    "  --model 2B4T      the four BitNet b1.58 2B4T linear shapes (default)\n"
    "  --shape N,K       one weight shape instead (N rows of K weights)\n"
    "  --m M             activation rows: 1 = decode GEMV (default), more = prefill GEMM\n"
    "  --rounds R        interleaved rounds (default 15)\n"
    "  --block-ms T      target length of one kernel's block in a round (default 20)\n"
    "  --baseline NAME   kernel the speed ratios are taken against (default i2_avx2 if it\n"
    "                    runs here, else i2_scalar)\n"
    "  --cold            rotate weight copies larger than twice the last-level cache, so the\n"
    "                    weights come from DRAM (default: hot, one cache-resident copy)\n"
    "  --seed S          seed of the random data (default 1)\n"
    "  --json FILE       also write the figures as JSON (atomically; '-' for stdout)\n";

#define MAX_SHAPES  8
#define MAX_KERNELS 32
#define MAX_ROUNDS  1000

typedef struct {
    const tb_kernel *kn;
    int ncopies;
    void **packed;
    void *act;
    size_t packed_bytes;
    double *round_time;  // median seconds per call (prepare + run) in each round
    double *round_prep;  // median seconds of prepare alone in each round
    double *round_ratio; // baseline time / this time, per round
    int valid;
    char note[640];
} bench_entry;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Quantile q of v[0..n) (sorts a copy), linear interpolation.
static double quantile(const double *v, int n, double q)
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

static size_t last_level_cache_bytes(void)
{
    long v = -1;
#ifdef _SC_LEVEL3_CACHE_SIZE
    v = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (v <= 0) v = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
    return v > 0 ? (size_t)v : (size_t)64 << 20; // unknown: assume a large 64 MiB
}

// One call as an engine makes it: prepare the activations (row sums, padding, LUT tables:
// they change every token), then run all rows. Returns the total; *prep gets prepare's share.
static double time_call(bench_entry *e, int copy, const int8_t *x, const float *xs, int m, int n,
                        int k, float *y, double *prep)
{
    double t0 = tb_now();
    e->kn->prepare(x, xs, m, k, e->act);
    double t1 = tb_now();
    tb_run(e->kn, e->packed[copy], e->act, m, n, k, 0, n, y);
    double t2 = tb_now();
    if (prep) *prep = t1 - t0;
    return t2 - t0;
}

int cmd_bench(int argc, char **argv)
{
    if (argc < 2 ||
        (strcmp(argv[1], "kernels") != 0 && !tb_flag(argv, 1, "--help") && !tb_flag(argv, 1, "-h")))
        tb_usage_error("bench", "say what to benchmark: 'tritbench bench kernels'");
    const char *kernels = "all", *json_path = NULL, *baseline = NULL;
    int shapes[MAX_SHAPES][2] = {{2560, 2560}, {640, 2560}, {6912, 2560}, {2560, 6912}};
    int nshapes = 4, m = 1, rounds = 15, cold = 0;
    double block_ms = 20;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (i == 1 && strcmp(argv[i], "kernels") == 0) continue;
        if (tb_flag(argv, i, "--help") || tb_flag(argv, i, "-h")) {
            fputs(help, stdout);
            return 0;
        } else if ((v = tb_opt("bench", argc, argv, &i, "--kernel"))) {
            kernels = v;
        } else if ((v = tb_opt("bench", argc, argv, &i, "--model"))) {
            if (strcmp(v, "2B4T") != 0)
                tb_usage_error("bench", "--model: unknown model '%s' (known: 2B4T)", v);
        } else if ((v = tb_opt("bench", argc, argv, &i, "--shape"))) {
            tb_parse_ints("bench", "--shape", v, 2, shapes[0]);
            nshapes = 1;
        } else if ((v = tb_opt("bench", argc, argv, &i, "--m"))) {
            m = (int)tb_parse_int("bench", "--m", v, 1, 4096);
        } else if ((v = tb_opt("bench", argc, argv, &i, "--rounds"))) {
            rounds = (int)tb_parse_int("bench", "--rounds", v, 3, MAX_ROUNDS);
        } else if ((v = tb_opt("bench", argc, argv, &i, "--block-ms"))) {
            block_ms = (double)tb_parse_int("bench", "--block-ms", v, 1, 10000);
        } else if ((v = tb_opt("bench", argc, argv, &i, "--baseline"))) {
            baseline = v;
        } else if ((v = tb_opt("bench", argc, argv, &i, "--seed"))) {
            seed = tb_parse_u64("bench", "--seed", v);
        } else if ((v = tb_opt("bench", argc, argv, &i, "--json"))) {
            json_path = v;
        } else if (tb_flag(argv, i, "--cold")) {
            cold = 1;
        } else {
            tb_usage_error("bench", "unknown option '%s'", argv[i]);
        }
    }
    char err[256];
    for (int s = 0; s < nshapes; s++)
        if (tb_check_shape(m, shapes[s][0], shapes[s][1], err, sizeof err))
            tb_usage_error("bench", "%s", err);

    // Kernels to time: the named ones (each must exist and run here) or all that run here.
    const tb_kernel *sel[MAX_KERNELS];
    int nsel = 0;
    if (strcmp(kernels, "all") == 0) {
        for (int i = 0; i < tb_kernel_count() && nsel < MAX_KERNELS; i++)
            if (tb_kernel_supported(tb_kernel_at(i), NULL, 0)) sel[nsel++] = tb_kernel_at(i);
    } else {
        char buf[512], *save = NULL;
        snprintf(buf, sizeof buf, "%s", kernels);
        for (char *t = strtok_r(buf, ",", &save); t && nsel < MAX_KERNELS;
             t = strtok_r(NULL, ",", &save)) {
            const tb_kernel *kn = tb_kernel_find(t);
            char why[200];
            if (!kn) tb_usage_error("bench", "--kernel: no kernel named '%s' here", t);
            if (!tb_kernel_supported(kn, why, sizeof why))
                tb_usage_error("bench", "--kernel: %s cannot run here: %s", t, why);
            sel[nsel++] = kn;
        }
    }
    int base = -1;
    if (baseline) {
        for (int i = 0; i < nsel; i++)
            if (strcmp(sel[i]->name, baseline) == 0) base = i;
        if (base < 0)
            tb_usage_error("bench", "--baseline: '%s' is not among the kernels timed", baseline);
    } else {
        for (int i = 0; i < nsel; i++)
            if (strcmp(sel[i]->name, "i2_avx2") == 0) base = i;
        for (int i = 0; i < nsel && base < 0; i++)
            if (strcmp(sel[i]->name, "i2_scalar") == 0) base = i;
        if (base < 0) base = 0;
    }

    char features[256];
    tb_isa_names(tb_cpu_features(), features, sizeof features);
    cJSON *doc = cJSON_CreateObject(), *jshapes;
    cJSON_AddStringToObject(doc, "cpu_features", features);
    cJSON_AddNumberToObject(doc, "threads", 1);
    cJSON_AddNumberToObject(doc, "m", m);
    cJSON_AddNumberToObject(doc, "rounds", rounds);
    cJSON_AddNumberToObject(doc, "block_ms", block_ms);
    cJSON_AddNumberToObject(doc, "seed", (double)seed);
    cJSON_AddStringToObject(doc, "weights", cold ? "cold" : "hot");
    cJSON_AddStringToObject(doc, "baseline", sel[base]->name);
    jshapes = cJSON_AddArrayToObject(doc, "shapes");
    printf("bench: m=%d, 1 thread, %s weights, %d interleaved rounds, ratios against %s\n", m,
           cold ? "cold" : "hot", rounds, sel[base]->name);

    tb_progress prog;
    for (int s = 0; s < nshapes; s++) {
        const int n = shapes[s][0], k = shapes[s][1];
        const double macs = (double)m * n * k;
        tb_rng rng = {seed};
        int8_t *w = malloc((size_t)n * k), *x = malloc((size_t)m * k);
        float *xs = malloc(sizeof(float) * m), *y = tb_alloc(sizeof(float) * (size_t)m * n);
        for (size_t i = 0; i < (size_t)n * k; i++) w[i] = (int8_t)tb_rng_int(&rng, -1, 1);
        for (size_t i = 0; i < (size_t)m * k; i++) x[i] = (int8_t)tb_rng_int(&rng, -128, 127);
        for (int i = 0; i < m; i++) xs[i] = 1.0f / 127;
        bench_entry e[MAX_KERNELS];
        int reps[MAX_KERNELS];
        memset(e, 0, sizeof e);
        tb_progress_start(&prog, 1);
        for (int q = 0; q < nsel; q++) {
            bench_entry *b = &e[q];
            b->kn = sel[q];
            b->packed_bytes = b->kn->packed_size(n, k);
            tb_check_result res = {0};
            b->valid =
                tb_check_case(b->kn, m, n, k, 0, n, TB_W_RANDOM, TB_X_RANDOM, seed, &res) == 0;
            if (!b->valid) {
                snprintf(b->note, sizeof b->note, "failed validation, not timed: %s",
                         res.first_failure);
                continue;
            }
            b->ncopies = cold ? (int)(2 * last_level_cache_bytes() / b->packed_bytes) + 2 : 1;
            b->packed = malloc(sizeof(void *) * (size_t)b->ncopies);
            for (int c = 0; c < b->ncopies; c++) {
                b->packed[c] = tb_alloc(b->packed_bytes);
                if (tb_pack(b->kn, w, 0.01f, n, k, b->packed[c], err, sizeof err)) {
                    fprintf(stderr, "tritbench bench: %s\n", err);
                    return TB_EXIT_FAIL;
                }
            }
            b->act = tb_alloc(b->kn->act_size(m, k));
            b->round_time = calloc((size_t)rounds, sizeof(double));
            b->round_prep = calloc((size_t)rounds, sizeof(double));
            b->round_ratio = calloc((size_t)rounds, sizeof(double));
            // Calibrate: calls per block so that a block lasts about block_ms.
            double t = 0;
            for (int c = 0; c < 3; c++) t = time_call(b, c % b->ncopies, x, xs, m, n, k, y, NULL);
            reps[q] = (int)(block_ms * 1e-3 / (t > 1e-9 ? t : 1e-9));
            if (reps[q] < 3) reps[q] = 3;
            if (reps[q] > 100000) reps[q] = 100000;
        }
        if (!e[base].valid) {
            fprintf(stderr, "tritbench bench: baseline %s failed validation: %s\n",
                    e[base].kn->name, e[base].note);
            return TB_EXIT_FAIL;
        }
        int copy = 0;
        for (int r = 0; r < rounds; r++) {
            char what[128];
            snprintf(what, sizeof what, "bench %dx%d (shape %d/%d) round", n, k, s + 1, nshapes);
            tb_progress_show(&prog, what, r + 1, rounds);
            for (int qq = 0; qq < nsel; qq++) {
                int q = (qq + r) % nsel; // rotate who goes first
                bench_entry *b = &e[q];
                if (!b->valid) continue;
                double *t = malloc(sizeof(double) * (size_t)reps[q] * 2), *p = t + reps[q];
                time_call(b, copy, x, xs, m, n, k, y, NULL); // re-warm, dropped
                for (int c = 0; c < reps[q]; c++) {
                    copy = (copy + 1) % b->ncopies;
                    t[c] = time_call(b, copy, x, xs, m, n, k, y, &p[c]);
                }
                b->round_time[r] = quantile(t, reps[q], 0.5);
                b->round_prep[r] = quantile(p, reps[q], 0.5);
                free(t);
            }
            for (int q = 0; q < nsel; q++)
                if (e[q].valid) e[q].round_ratio[r] = e[base].round_time[r] / e[q].round_time[r];
        }
        tb_progress_done(&prog);
        printf("\nshape n=%d k=%d m=%d (%.1f MMAC)\n", n, k, m, macs / 1e6);
        printf("  %-16s %10s %10s %7s %6s %9s %8s %8s %s\n", "kernel", "median_us", "min_us",
               "iqr%", "prep%", "GMAC/s", "GB/s", "bits/w", "speed vs baseline (median of rounds)");
        cJSON *js = cJSON_CreateObject(), *jk;
        cJSON_AddNumberToObject(js, "n", n);
        cJSON_AddNumberToObject(js, "k", k);
        jk = cJSON_AddArrayToObject(js, "kernels");
        for (int q = 0; q < nsel; q++) {
            bench_entry *b = &e[q];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "kernel", b->kn->name);
            double bpw = 8.0 * (double)b->packed_bytes / ((double)n * k);
            if (!b->valid) {
                printf("  %-16s %s\n", b->kn->name, b->note);
                cJSON_AddStringToObject(o, "error", b->note);
            } else {
                double med = quantile(b->round_time, rounds, 0.5);
                double mn = quantile(b->round_time, rounds, 0.0);
                double iqr =
                    quantile(b->round_time, rounds, 0.75) - quantile(b->round_time, rounds, 0.25);
                double ratio = quantile(b->round_ratio, rounds, 0.5);
                double prep = quantile(b->round_prep, rounds, 0.5);
                printf("  %-16s %10.1f %10.1f %7.1f %6.1f %9.1f %8.1f %8.3f %.3fx\n", b->kn->name,
                       med * 1e6, mn * 1e6, 100 * iqr / med, 100 * prep / med, macs / med / 1e9,
                       (double)b->packed_bytes / med / 1e9, bpw, ratio);
                cJSON_AddNumberToObject(o, "prepare_median_s", prep);
                cJSON_AddNumberToObject(o, "median_s", med);
                cJSON_AddNumberToObject(o, "min_s", mn);
                cJSON_AddNumberToObject(o, "iqr_s", iqr);
                cJSON_AddNumberToObject(o, "gmacs", macs / med / 1e9);
                cJSON_AddNumberToObject(o, "weight_gbs", (double)b->packed_bytes / med / 1e9);
                cJSON_AddNumberToObject(o, "bits_per_weight", bpw);
                cJSON_AddNumberToObject(o, "ratio_vs_baseline", ratio);
                cJSON_AddNumberToObject(o, "calls_per_block", reps[q]);
                cJSON_AddNumberToObject(o, "weight_copies", b->ncopies);
                for (int c = 0; c < b->ncopies; c++) tb_free(b->packed[c]);
                free(b->packed);
                tb_free(b->act);
                free(b->round_time);
                free(b->round_prep);
                free(b->round_ratio);
            }
            cJSON_AddItemToArray(jk, o);
        }
        cJSON_AddItemToArray(jshapes, js);
        free(w), free(x), free(xs), tb_free(y);
    }
    if (json_path) return tb_emit_json(doc, json_path) ? TB_EXIT_FAIL : 0;
    cJSON_Delete(doc);
    return 0;
}
