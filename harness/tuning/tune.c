// tritbench tune: every ternary kernel timed per regime and thread count through `bench
// kernels` (interleaved rounds), scored by the time of one layer, and the choices (tune.h).
#include "tune.h"
#include "info.h"
#include "model.h"
#include "results.h"
#include "select.h"
#include "tb_pool.h"
#include "tune_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REGIMES_MAX (2 + TB_LIST_MAX)

void tb_tune_defaults(tb_tune_params *p)
{
    *p = (tb_tune_params){.model = "2B4T",
                          .m = {8, 32, 128},
                          .nm = 3,
                          .rounds = 5,
                          .block_ms = 5,
                          .screen = 3,
                          .driver = 1,
                          .seed = 1};
}

char *tb_tune_default_path(void)
{
    return tb_results_folder(NULL, "tune.json");
}

// What the run times, and per regime what it measured.
typedef struct {
    const tb_tune_params *p;
    const tb_kernel *sel[TB_KERNELS_MAX];
    int nsel;
    tb_layer_shape shapes[TB_SHAPES_MAX];
    int nshapes;
    int threads[TB_LIST_MAX], nthreads;
    int m[TB_LIST_MAX], nm; // buckets, ascending
    const tb_observer *obs;
} tuner;

typedef struct {
    int m, cold;
    char name[TB_TUNE_NAME_BYTES];
    int timed[TB_KERNELS_MAX];                 // candidates of this regime
    double layer[TB_KERNELS_MAX][TB_LIST_MAX]; // < 0: not timed
    double shape_s[TB_KERNELS_MAX][TB_LIST_MAX][TB_SHAPES_MAX];
    char reason[TB_KERNELS_MAX][400]; // why not timed
} regime;

// ---------------------------------------------------------------------------------------------
// Planning

static int ternary_kernels(const tb_tune_params *p, tuner *tu, tb_error *err)
{
    const tb_kernel *oracle = tb_kernel_find("naive");
    if (!p->kernels) {
        for (int i = 0; i < tb_kernel_count(); i++) {
            const tb_kernel *k = tb_kernel_at(i);
            if (k->baseline == TB_FLOAT_NONE && k != oracle && tb_kernel_supported(k, NULL, 0))
                tu->sel[tu->nsel++] = k;
        }
        return tu->nsel ? TB_OK : tb_fail(err, "no ternary kernel this CPU runs");
    }
    int rc = tb_select_kernels(p->kernels, tu->sel, TB_KERNELS_MAX, &tu->nsel, err);
    for (int i = 0; i < tu->nsel && !rc; i++) {
        if (tu->sel[i]->baseline != TB_FLOAT_NONE)
            rc = tb_fail(err, "--kernel: %s is a %s; tune chooses among ternary kernels",
                         tu->sel[i]->name,
                         tb_float_format_is_baseline(tu->sel[i]->baseline)
                             ? "float baseline"
                             : "kernel for quantized float matrices (format q8/q4)");
        else if (tu->sel[i] == oracle)
            rc = tb_fail(err, "--kernel: naive is the integer oracle, never dispatched");
        for (int j = 0; j < i && !rc; j++)
            if (tu->sel[j] == tu->sel[i])
                rc = tb_fail(err, "--kernel: %s is listed twice", tu->sel[i]->name);
    }
    return rc;
}

// The distinct linear shapes of the configuration and how many products of each a layer has.
static int layer_shapes(const char *model, tuner *tu, tb_error *err)
{
    int distinct[TB_SHAPES_MAX][2];
    int rc = tb_config_shapes(model, distinct, TB_SHAPES_MAX, &tu->nshapes, err);
    if (rc) return rc;
    tb_config c;
    tb_config_find(model, &c);
    for (int s = 0; s < tu->nshapes; s++) {
        tu->shapes[s] = (tb_layer_shape){distinct[s][0], distinct[s][1], 0};
        for (int l = 0; l < TB_N_LINEAR; l++) {
            int n, k;
            tb_linear_shape(&c, l, &n, &k);
            tu->shapes[s].count += n == distinct[s][0] && k == distinct[s][1];
        }
    }
    return TB_OK;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

// Sorted, without repeats.
static int distinct_sorted(const int *in, int n, int *out)
{
    int tmp[TB_LIST_MAX], u = 0;
    memcpy(tmp, in, sizeof(int) * (size_t)n);
    qsort(tmp, (size_t)n, sizeof(int), cmp_int);
    for (int i = 0; i < n; i++)
        if (i == 0 || tmp[i] != tmp[i - 1]) out[u++] = tmp[i];
    return u;
}

static int plan(const tb_tune_params *p, tuner *tu, tb_error *err)
{
    if (p->rounds < 1) return tb_fail(err, "--rounds: at least 1");
    if (!(p->block_ms > 0)) return tb_fail(err, "--block-ms: must be positive");
    for (int i = 0; i < p->nm; i++)
        if (p->m[i] < 2 || p->m[i] > TB_M_MAX)
            return tb_fail(err, "--m: %d is not a GEMM bucket (2 to %d rows)", p->m[i], TB_M_MAX);
    int rc = ternary_kernels(p, tu, err);
    if (!rc) rc = layer_shapes(p->model, tu, err);
    if (rc) return rc;
    if (p->nthreads) {
        tu->nthreads = distinct_sorted(p->threads, p->nthreads, tu->threads);
    } else {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        int two[2] = {1, cpus > 1 ? (int)(cpus < TB_THREADS_MAX ? cpus : TB_THREADS_MAX) : 1};
        tu->nthreads = distinct_sorted(two, 2, tu->threads);
    }
    tu->nm = distinct_sorted(p->m, p->nm, tu->m);
    return TB_OK;
}

// ---------------------------------------------------------------------------------------------
// Timing one regime

static int index_of_kernel(const tuner *tu, const char *name)
{
    for (int i = 0; i < tu->nsel; i++)
        if (strcmp(tu->sel[i]->name, name) == 0) return i;
    return -1;
}

static int index_of_threads(const tuner *tu, int t)
{
    for (int i = 0; i < tu->nthreads; i++)
        if (tu->threads[i] == t) return i;
    return -1;
}

static int index_of_shape(const tuner *tu, int n, int k)
{
    for (int s = 0; s < tu->nshapes; s++)
        if (tu->shapes[s].n == n && tu->shapes[s].k == k) return s;
    return -1;
}

// Layer times from a `bench kernels` document: per kernel and thread count, the sum over
// shapes of count x median; a kernel with a failed shape is not timed (the reason is kept).
static void score(const tuner *tu, const cJSON *bench, regime *g)
{
    int seen[TB_KERNELS_MAX][TB_LIST_MAX] = {{0}};
    for (int i = 0; i < tu->nsel; i++)
        for (int t = 0; t < tu->nthreads; t++) g->layer[i][t] = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(bench, "entries"))
    {
        int ki = index_of_kernel(tu, cJSON_GetStringValue(cJSON_GetObjectItem(e, "kernel")));
        int ti = index_of_threads(tu, (int)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "threads")));
        int si = index_of_shape(tu, (int)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "n")),
                                (int)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "k")));
        if (ki < 0 || ti < 0 || si < 0) continue;
        const char *error = cJSON_GetStringValue(cJSON_GetObjectItem(e, "error"));
        if (error) {
            snprintf(g->reason[ki], sizeof g->reason[ki], "%s", error);
            continue;
        }
        double med = cJSON_GetNumberValue(cJSON_GetObjectItem(e, "median_s"));
        g->shape_s[ki][ti][si] = med;
        g->layer[ki][ti] += med * tu->shapes[si].count;
        seen[ki][ti]++;
    }
    for (int i = 0; i < tu->nsel; i++)
        for (int t = 0; t < tu->nthreads; t++)
            if (!g->timed[i] || seen[i][t] != tu->nshapes) g->layer[i][t] = -1;
}

static int time_regime(const tuner *tu, regime *g, int index, int count, tb_error *err)
{
    const tb_tune_params *p = tu->p;
    tb_bench_kernels_params b;
    tb_bench_kernels_defaults(&b);
    char list[TB_KERNELS_MAX * 24] = "";
    for (int i = 0; i < tu->nsel; i++)
        if (g->timed[i])
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? "," : "",
                     tu->sel[i]->name);
    if (!list[0]) return tb_fail(err, "%s: no kernel left to time", g->name);
    b.kernels = list;
    b.model = NULL;
    b.nshapes = tu->nshapes;
    for (int s = 0; s < tu->nshapes; s++)
        b.shapes[s][0] = tu->shapes[s].n, b.shapes[s][1] = tu->shapes[s].k;
    b.m[0] = g->m, b.nm = 1;
    memcpy(b.threads, tu->threads, sizeof b.threads);
    b.nthreads = tu->nthreads;
    b.rounds = p->rounds, b.block_ms = p->block_ms, b.cold = g->cold, b.seed = p->seed;
    tb_prefixed_progress r = {tu->obs, ""};
    snprintf(r.prefix, sizeof r.prefix, "tune %d/%d %s", index + 1, count, g->name);
    tb_observer obs = tb_prefixed_observer(&r);
    cJSON *bench;
    int rc = tb_bench_kernels_run(&b, &obs, &bench, err);
    if (rc) return rc;
    score(tu, bench, g);
    cJSON_Delete(bench);
    return TB_OK;
}

// The fastest timed kernel at thread index t (of format fmt, or any if NULL); -1 if none.
static int fastest(const tuner *tu, const regime *g, int t, const char *fmt)
{
    int best = -1;
    for (int i = 0; i < tu->nsel; i++) {
        if (g->layer[i][t] < 0 || (fmt && strcmp(tb_kernel_format(tu->sel[i]), fmt) != 0)) continue;
        if (best < 0 || g->layer[i][t] < g->layer[best][t]) best = i;
    }
    return best;
}

// The candidates of the regime after g: within p->screen of g's fastest at some thread count, or
// the fastest of their format there.
static void screen_next(const tuner *tu, const regime *g, regime *next)
{
    double factor = tu->p->screen;
    for (int i = 0; i < tu->nsel; i++) {
        int keep = factor <= 0;
        for (int t = 0; t < tu->nthreads && !keep; t++) {
            int best = fastest(tu, g, t, NULL);
            keep = g->layer[i][t] >= 0 && best >= 0 &&
                   (g->layer[i][t] <= factor * g->layer[best][t] ||
                    fastest(tu, g, t, tb_kernel_format(tu->sel[i])) == i);
        }
        next->timed[i] = keep;
        if (!keep)
            snprintf(
                next->reason[i], sizeof next->reason[i],
                "not timed: more than %gx the fastest layer time at %s, and not the fastest of "
                "its format there",
                factor, g->name);
    }
}

// ---------------------------------------------------------------------------------------------
// The document

static cJSON *regime_to_json(const tuner *tu, const regime *g, int t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "regime", g->name);
    cJSON_AddNumberToObject(o, "m", g->m);
    cJSON_AddStringToObject(o, "weights", g->cold ? "cold" : "hot");
    cJSON_AddNumberToObject(o, "threads", tu->threads[t]);
    cJSON *list = cJSON_AddArrayToObject(o, "kernels");
    for (int i = 0; i < tu->nsel; i++) {
        cJSON *k = cJSON_CreateObject();
        cJSON_AddStringToObject(k, "kernel", tu->sel[i]->name);
        cJSON_AddStringToObject(k, "format", tb_kernel_format(tu->sel[i]));
        if (g->layer[i][t] < 0) {
            cJSON_AddNullToObject(k, "layer_s");
            cJSON_AddStringToObject(k, "reason",
                                    g->reason[i][0] ? g->reason[i] : "not timed on every shape");
        } else {
            cJSON_AddNumberToObject(k, "layer_s", g->layer[i][t]);
            // per shape of parameters.shapes, the median seconds of one product
            cJSON_AddItemToObject(k, "shape_median_s",
                                  cJSON_CreateDoubleArray(g->shape_s[i][t], tu->nshapes));
        }
        cJSON_AddItemToArray(list, k);
    }
    int best = fastest(tu, g, t, NULL);
    if (best >= 0) cJSON_AddStringToObject(o, "best", tu->sel[best]->name);
    cJSON *bf = cJSON_AddObjectToObject(o, "best_by_format");
    for (int i = 0; i < tu->nsel; i++) {
        const char *fmt = tb_kernel_format(tu->sel[i]);
        if (fastest(tu, g, t, fmt) == i) cJSON_AddStringToObject(bf, fmt, tu->sel[i]->name);
    }
    return o;
}

static cJSON *start_doc(const tuner *tu)
{
    const tb_tune_params *p = tu->p;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "kind", TB_TUNE_KIND);
    cJSON *info = tb_info_collect(NULL, NULL);
    cJSON_AddItemToObject(doc, "info", info);
    cJSON_AddItemToObject(doc, "fingerprint", tb_tune_fingerprint(info));
    cJSON_AddItemToObject(doc, "tritbench",
                          cJSON_Duplicate(cJSON_GetObjectItem(info, "tritbench"), 1));
    cJSON *par = cJSON_AddObjectToObject(doc, "parameters");
    cJSON_AddStringToObject(par, "model", p->model);
    cJSON *sh = cJSON_AddArrayToObject(par, "shapes");
    for (int s = 0; s < tu->nshapes; s++) {
        int v[3] = {tu->shapes[s].n, tu->shapes[s].k, tu->shapes[s].count};
        cJSON_AddItemToArray(sh, cJSON_CreateIntArray(v, 3));
    }
    cJSON_AddItemToObject(par, "threads", cJSON_CreateIntArray(tu->threads, tu->nthreads));
    cJSON_AddItemToObject(par, "m", cJSON_CreateIntArray(tu->m, tu->nm));
    cJSON_AddBoolToObject(par, "cold", !p->hot_only);
    cJSON_AddNumberToObject(par, "rounds", p->rounds);
    cJSON_AddNumberToObject(par, "block_ms", p->block_ms);
    cJSON_AddNumberToObject(par, "screen", p->screen);
    cJSON_AddNumberToObject(par, "seed", (double)p->seed);
    cJSON *jk = cJSON_AddArrayToObject(par, "kernels");
    for (int i = 0; i < tu->nsel; i++)
        cJSON_AddItemToArray(jk, cJSON_CreateString(tu->sel[i]->name));
    cJSON_AddArrayToObject(doc, "regimes");
    return doc;
}

// The decode path's runtime parameters on the decode kernel, per thread count (tune.h).
static void add_driver(const tuner *tu, const regime *decode, cJSON *doc)
{
    cJSON *dr = cJSON_AddObjectToObject(doc, "driver");
    tb_driver_params d = tb_driver_defaults();
    cJSON_AddStringToObject(dr, "regime", decode->name);
    cJSON *def = cJSON_AddObjectToObject(dr, "defaults");
    cJSON_AddNumberToObject(def, "prefetch_bytes", d.prefetch_bytes);
    cJSON_AddNumberToObject(def, "chunk_work", d.chunk_work);
    cJSON_AddNumberToObject(def, "guided_div", d.guided_div);
    cJSON_AddNumberToObject(dr, "min_gain", TB_DRIVER_MIN_GAIN);
    cJSON *per = cJSON_AddArrayToObject(dr, "threads");
    for (int t = 0; t < tu->nthreads; t++) {
        int best = fastest(tu, decode, t, NULL);
        if (best < 0) continue;
        cJSON_AddItemToArray(per,
                             tb_tune_driver(tu->sel[best], tu->shapes, tu->nshapes, tu->threads[t],
                                            tu->p->rounds, tu->p->block_ms, tu->p->seed, tu->obs));
    }
}

int tb_tune_run(const tb_tune_params *p, const tb_observer *obs, cJSON **doc, tb_error *err)
{
    *doc = NULL;
    tuner tu = {.p = p, .obs = obs};
    int rc = plan(p, &tu, err);
    if (rc) return rc;
    regime *g = calloc(REGIMES_MAX, sizeof *g);
    if (!g) abort();
    int n = 0;
    if (!p->hot_only) g[n].m = 1, g[n].cold = 1, n++;
    g[n].m = 1, n++;
    for (int i = 0; i < tu.nm; i++) g[n].m = tu.m[i], n++;
    *doc = start_doc(&tu);
    for (int r = 0; r < n && !rc; r++) {
        tb_tune_regime_name(g[r].m, g[r].cold, g[r].name, sizeof g[r].name);
        if (g[r].m == 1) // every kernel at decode; GEMM buckets screened by the regime before
            for (int i = 0; i < tu.nsel; i++) g[r].timed[i] = 1;
        else
            screen_next(&tu, &g[r - 1], &g[r]);
        rc = time_regime(&tu, &g[r], r, n, err);
        for (int t = 0; t < tu.nthreads && !rc; t++)
            if (fastest(&tu, &g[r], t, NULL) < 0)
                rc = tb_fail(err, "%s at %d threads: no kernel was timed (%s: %s)", g[r].name,
                             tu.threads[t], tu.sel[0]->name, g[r].reason[0]);
        for (int t = 0; t < tu.nthreads && !rc; t++)
            cJSON_AddItemToArray(cJSON_GetObjectItem(*doc, "regimes"),
                                 regime_to_json(&tu, &g[r], t));
    }
    if (!rc && p->driver && !p->hot_only) add_driver(&tu, &g[0], *doc);
    free(g);
    if (rc) cJSON_Delete(*doc), *doc = NULL;
    return rc;
}
