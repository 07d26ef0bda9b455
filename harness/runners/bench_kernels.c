// tritbench bench kernels: time kernels interleaved in one process.
//
// These machines drift between speed states for seconds to minutes, so kernels are never timed
// in back-to-back sweeps. Each round runs a short block of every kernel in turn (rotating who
// goes first), drops the block's first call to re-warm caches, and keeps the block's median.
// Figures are medians over rounds; ratios are medians of per-round ratios, which hold to a few
// percent where absolute times move by 30 %. Each case measures its bandwidth roofs in the same
// rounds (a probe pass after every round), on buffers sized to the work (roofline.h): hot, each
// kernel's own copy (a cache roof: one kernel's weights may sit in L2 and another's in L3);
// cold, one DRAM probe on the largest set of rotated copies (they differ by two copies).
#include "bench_case.h"
#include "compute_roof.h"
#include "info.h"
#include "model.h"
#include "peers.h"
#include "roofline.h"
#include "runners.h"
#include "select.h"
#include "sources.h"
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Calls that size a kernel's block before the rounds (the first ones warm up).
#define CALIBRATION_CALLS 3
// Calls of one block, at least (a median needs some) and at most (tiny shapes).
#define BLOCK_CALLS_MIN 3
#define BLOCK_CALLS_MAX 100000
// Probe passes of a case before its rounds (more run after each round); the best is the roof.
#define ROOF_PASSES_BEFORE 2
// Passes of each compute-roof probe per thread count (about 20 ms each); the best is the peak.
#define COMPUTE_PASSES 5

void tb_bench_kernels_defaults(tb_bench_kernels_params *p)
{
    *p = (tb_bench_kernels_params){.kernels = "all",
                                   .model = "2B4T",
                                   .m = {1},
                                   .nm = 1,
                                   .threads = {1},
                                   .nthreads = 1,
                                   .rounds = 15,
                                   .block_ms = 20,
                                   .seed = 1};
}

// What the run selected: kernels, the baseline, shapes; and per (shape, m, kernel) the
// verdict of its validation, which does not depend on the thread count.
typedef struct {
    const tb_bench_kernels_params *p;
    const tb_kernel *sel[TB_KERNELS_MAX];
    int nsel;
    const tb_kernel *base;
    int shapes[TB_SHAPES_MAX][2], nshapes;
    char (*verdict)[640]; // "" unchecked, "ok" passed, else why it failed
    tb_energy *energy;
    tb_counters *counters;
    double peak[TB_PATH_COUNT]; // MAC/s of each compute path at the current thread count
} plan;

// One kernel in one case: its operand and what the rounds measured.
typedef struct {
    tb_bench_operand op;
    const char *why;                               // NULL: valid and timed
    int calls;                                     // per block
    double *round_time, *round_prep, *round_ratio; // per round: medians and ratio to baseline
    double energy_j;                               // summed over the timed calls (-1: unmetered)
    long long counters[TB_COUNTERS_MAX];
    const char *counter_names[TB_COUNTERS_MAX];
    int ncounters;
    long timed_calls;
    tb_driver_choice driver; // set before each of its blocks
} entry;

static int make_plan(const tb_bench_kernels_params *p, plan *pl, tb_error *err)
{
    *pl = (plan){.p = p, .nshapes = p->nshapes};
    memcpy(pl->shapes, p->shapes, sizeof pl->shapes);
    int rc =
        p->model ? tb_config_shapes(p->model, pl->shapes, TB_SHAPES_MAX, &pl->nshapes, err) : TB_OK;
    char msg[256];
    for (int s = 0; s < pl->nshapes && !rc; s++)
        for (int q = 0; q < p->nm && !rc; q++)
            if (tb_check_shape(p->m[q], pl->shapes[s][0], pl->shapes[s][1], msg, sizeof msg))
                rc = tb_fail(err, "%s", msg);
    if (!rc) rc = tb_select_peers(p->kernels, p->peer_lib, err);
    if (!rc) rc = tb_select_kernels(p->kernels, pl->sel, TB_KERNELS_MAX, &pl->nsel, err);
    if (!rc) rc = tb_select_baseline(p->baseline, pl->sel, pl->nsel, &pl->base, err);
    if (rc) return rc;
    pl->verdict = calloc((size_t)pl->nshapes * p->nm * pl->nsel, sizeof *pl->verdict);
    if (!pl->verdict) abort();
    return TB_OK;
}

static cJSON *start_doc(const plan *pl)
{
    const tb_bench_kernels_params *p = pl->p;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "kind", "kernels");
    cJSON_AddItemToObject(doc, "info", tb_info_collect(NULL, NULL));
    tb_sources_to_json(cJSON_AddObjectToObject(doc, "sources"), pl->energy, pl->counters);
    cJSON *par = cJSON_AddObjectToObject(doc, "parameters");
    cJSON_AddNumberToObject(par, "seed", (double)p->seed);
    cJSON_AddNumberToObject(par, "rounds", p->rounds);
    cJSON_AddNumberToObject(par, "roofline_min_bytes", (double)p->roofline_mib * (1 << 20));
    cJSON_AddNumberToObject(par, "block_ms", p->block_ms);
    cJSON *jw = cJSON_AddArrayToObject(par, "weights");
    cJSON_AddItemToArray(jw, cJSON_CreateString(p->cold ? "cold" : "hot"));
    cJSON *jsh = cJSON_AddArrayToObject(par, "shapes");
    for (int s = 0; s < pl->nshapes; s++)
        cJSON_AddItemToArray(jsh, cJSON_CreateIntArray(pl->shapes[s], 2));
    cJSON_AddStringToObject(par, "baseline", pl->base->name);
    if (p->model) cJSON_AddStringToObject(par, "model", p->model);
    cJSON_AddItemToObject(par, "m", cJSON_CreateIntArray(p->m, p->nm));
    cJSON_AddItemToObject(par, "threads", cJSON_CreateIntArray(p->threads, p->nthreads));
    cJSON *jk = cJSON_AddArrayToObject(par, "kernels");
    for (int i = 0; i < pl->nsel; i++)
        cJSON_AddItemToArray(jk, cJSON_CreateString(pl->sel[i]->name));
    // Which library the peers among the kernels came from (peers.h), so that the figures say
    // what they were measured against.
    const tb_ggml_lib *lib = tb_peers_lib();
    if (lib) {
        cJSON *o = cJSON_AddObjectToObject(doc, "peers");
        cJSON_AddStringToObject(o, "ggml_version", lib->version);
        cJSON_AddStringToObject(o, "ggml_commit", lib->commit);
        cJSON_AddStringToObject(o, "cpu_library", lib->cpu_path);
        cJSON_AddStringToObject(o, "cpu_variant", lib->variant);
    }
    cJSON_AddObjectToObject(doc, "roofline");
    // Per thread count, GMAC/s of each compute path the kernels use (compute_roof.h).
    cJSON_AddObjectToObject(doc, "compute_roof");
    cJSON_AddArrayToObject(doc, "entries");
    return doc;
}

// Validates (once per shape and m), packs, and sizes the block of one kernel in one case.
static int setup_entry(plan *pl, entry *e, int ki, size_t vi, const tb_bench_data *d, tb_pool *pool,
                       const tb_observer *obs, tb_error *err)
{
    const tb_bench_kernels_params *p = pl->p;
    char *verdict = pl->verdict[vi];
    if (!verdict[0]) {
        tb_observe(obs, "validating", ki + 1, pl->nsel);
        if (tb_bench_validate(pl->sel[ki], d->m, d->n, d->k, p->seed, verdict, 640) == 0)
            strcpy(verdict, "ok");
    }
    e->op.kn = pl->sel[ki];
    if (strcmp(verdict, "ok") != 0) {
        e->why = verdict;
        return TB_OK;
    }
    if (tb_bench_operand_make(&e->op, pl->sel[ki], d, p->cold, err->msg, sizeof err->msg))
        return TB_BAD_INPUT;
    e->round_time = calloc((size_t)p->rounds * 3, sizeof(double));
    if (!e->round_time) abort();
    e->round_prep = e->round_time + p->rounds, e->round_ratio = e->round_prep + p->rounds;
    tb_select_driver(e->op.kn, tb_pool_threads(pool), &e->driver);
    tb_driver_set(e->driver.params);
    double t = 0;
    for (int c = 0; c < CALIBRATION_CALLS; c++) t = tb_bench_call(pool, &e->op, d, NULL);
    double calls = p->block_ms * 1e-3 / (t > 1e-9 ? t : 1e-9);
    e->calls = calls < BLOCK_CALLS_MIN   ? BLOCK_CALLS_MIN
               : calls > BLOCK_CALLS_MAX ? BLOCK_CALLS_MAX
                                         : (int)calls;
    return TB_OK;
}

// One block of one kernel in round r: a re-warming call (dropped), then e->calls timed calls
// metered for energy and counters.
static void time_block(plan *pl, entry *e, int r, tb_pool *pool, const tb_bench_data *d)
{
    double *tm = malloc(sizeof(double) * (size_t)e->calls * 2), *pp = tm + e->calls;
    if (!tm) abort();
    tb_driver_set(e->driver.params);
    tb_bench_call(pool, &e->op, d, NULL);
    tb_energy_start(pl->energy);
    tb_counters_start(pl->counters);
    for (int c = 0; c < e->calls; c++) tm[c] = tb_bench_call(pool, &e->op, d, &pp[c]);
    long long cv[TB_COUNTERS_MAX];
    e->ncounters = tb_counters_stop(pl->counters, cv, e->counter_names, TB_COUNTERS_MAX);
    for (int c = 0; c < e->ncounters; c++) e->counters[c] += cv[c];
    double j = tb_energy_package_joules(pl->energy);
    if (j >= 0) e->energy_j += j;
    e->timed_calls += e->calls;
    e->round_time[r] = tb_quantile(tm, e->calls, 0.5);
    e->round_prep[r] = tb_quantile(pp, e->calls, 0.5);
    free(tm);
}

// The compute roof of the entry's kernel and which roof bounds it: the lower of the compute
// peak and of the MAC rate the bandwidth roof allows at this arithmetic intensity (MACs per
// weight byte); roof_fraction is the achieved rate against that bound: for the bandwidth the
// paired fraction (roofline.h; `paired`, the median of per-round ratios to the passes beside
// each round), with the ratio to the best pass beside it.
static void bound_to_json(cJSON *o, const plan *pl, const entry *e, const tb_bench_data *d,
                          double median_s, double bw, double paired)
{
    const double macs = (double)d->m * d->n * d->k, rate = macs / median_s;
    const double bw_rate = bw * macs / (double)e->op.packed_bytes;
    tb_compute_path path = tb_compute_path_of(e->op.kn);
    double peak = path == TB_PATH_NONE ? 0 : pl->peak[path];
    if (peak > 0) {
        cJSON *c = cJSON_AddObjectToObject(o, "compute_roof");
        cJSON_AddStringToObject(c, "path", tb_compute_path_name(path));
        cJSON_AddNumberToObject(c, "peak_gmacs", peak / 1e9);
        cJSON_AddNumberToObject(c, "fraction", rate / peak);
    } else {
        cJSON_AddNullToObject(o, "compute_roof");
        cJSON_AddStringToObject(o, "compute_roof_reason",
                                path == TB_PATH_NONE ? tb_compute_path_none_reason(e->op.kn)
                                                     : "the CPU lacks its path");
    }
    int compute = peak > 0 && peak < bw_rate;
    cJSON_AddStringToObject(o, "bound_by", compute ? "compute" : "bandwidth");
    if (compute) {
        cJSON_AddNumberToObject(o, "roof_fraction", rate / peak);
        cJSON_AddStringToObject(o, "roof_fraction_method", "median rate / compute peak");
    } else {
        cJSON_AddNumberToObject(o, "roof_fraction", paired > 0 ? paired : rate / bw_rate);
        cJSON_AddStringToObject(o, "roof_fraction_method",
                                paired > 0 ? "median of per-round ratios to the adjacent passes"
                                           : "median rate / best pass");
    }
    cJSON_AddNumberToObject(o, "roof_fraction_best_pass", rate / (compute ? peak : bw_rate));
}

// roof: the entry's bandwidth roof (NULL for an entry that failed validation).
static cJSON *entry_to_json(const plan *pl, const entry *e, const tb_bench_data *d, int threads,
                            const cJSON *roof, double paired)
{
    const int rounds = pl->p->rounds;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kernel", e->op.kn->name);
    cJSON_AddBoolToObject(o, "baseline", e->op.kn->baseline);
    cJSON_AddNumberToObject(o, "n", d->n);
    cJSON_AddNumberToObject(o, "k", d->k);
    cJSON_AddNumberToObject(o, "m", d->m);
    cJSON_AddNumberToObject(o, "threads", threads);
    cJSON_AddStringToObject(o, "weights", pl->p->cold ? "cold" : "hot");
    if (e->why) {
        cJSON_AddStringToObject(o, "error", e->why);
        return o;
    }
    double bw = cJSON_GetNumberValue(cJSON_GetObjectItem(roof, "best_gbs")) * 1e9;
    double med = tb_quantile(e->round_time, rounds, 0.5);
    double iqr =
        tb_quantile(e->round_time, rounds, 0.75) - tb_quantile(e->round_time, rounds, 0.25);
    double gbs = (double)e->op.packed_bytes / med;
    cJSON_AddNumberToObject(o, "median_s", med);
    cJSON_AddNumberToObject(o, "min_s", tb_quantile(e->round_time, rounds, 0.0));
    cJSON_AddNumberToObject(o, "iqr_s", iqr);
    cJSON_AddNumberToObject(o, "prepare_median_s", tb_quantile(e->round_prep, rounds, 0.5));
    cJSON_AddNumberToObject(o, "gmacs", (double)d->m * d->n * d->k / med / 1e9);
    cJSON_AddNumberToObject(o, "weight_gbs", gbs / 1e9);
    cJSON_AddNumberToObject(o, "bits_per_weight",
                            8.0 * (double)e->op.packed_bytes / ((double)d->n * d->k));
    cJSON_AddNumberToObject(o, "roofline_fraction", gbs / bw);
    cJSON_AddItemToObject(o, "roof", cJSON_Duplicate(roof, 1));
    bound_to_json(o, pl, e, d, med, bw, paired);
    cJSON_AddNumberToObject(o, "ratio_vs_baseline", tb_quantile(e->round_ratio, rounds, 0.5));
    // The samples behind the medians, for tests of significance (tritbench compare).
    cJSON_AddItemToObject(o, "round_median_s", cJSON_CreateDoubleArray(e->round_time, rounds));
    tb_driver_to_json(o, &e->driver);
    cJSON_AddNumberToObject(o, "calls_per_block", e->calls);
    cJSON_AddNumberToObject(o, "weight_copies", e->op.ncopies);
    tb_entry_sources_to_json(o, pl->energy, e->energy_j, e->timed_calls, pl->counters, e->counters,
                             e->counter_names, e->ncounters);
    cJSON_AddNumberToObject(o, "peak_rss_bytes", (double)tb_peak_rss());
    return o;
}

// The bandwidth probes of a case: probe[owner[q]] is entry q's, sized to work[owner[q]].
typedef struct {
    tb_bw_probe *probe[TB_KERNELS_MAX];
    size_t work[TB_KERNELS_MAX];
    int owner[TB_KERNELS_MAX];
} case_roofs;

// Hot: a probe per entry on its one copy; cold: one probe, on the largest set of copies.
static void open_roofs(const plan *pl, const entry *e, tb_pool *pool, case_roofs *cr)
{
    memset(cr, 0, sizeof *cr);
    int first = -1;
    for (int q = 0; q < pl->nsel; q++) {
        if (e[q].why) continue;
        size_t w = e[q].op.packed_bytes * (size_t)e[q].op.ncopies;
        int o = pl->p->cold && first >= 0 ? first : q;
        if (first < 0) first = q;
        cr->owner[q] = o;
        if (w > cr->work[o]) cr->work[o] = w;
    }
    for (int q = 0; q < pl->nsel; q++) {
        if (e[q].why || cr->owner[q] != q) continue;
        cr->probe[q] =
            tb_bw_probe_open(tb_roof_buffer_bytes(cr->work[q], (size_t)pl->p->roofline_mib << 20));
        for (int r = 0; r < ROOF_PASSES_BEFORE; r++) tb_bw_probe_pass(cr->probe[q], pool);
    }
}

static void roofs_pass(const plan *pl, case_roofs *cr, tb_pool *pool)
{
    for (int q = 0; q < pl->nsel; q++)
        if (cr->probe[q]) tb_bw_probe_pass(cr->probe[q], pool);
}

static void close_roofs(const plan *pl, case_roofs *cr)
{
    for (int q = 0; q < pl->nsel; q++) tb_bw_probe_close(cr->probe[q]);
}

// The interleaved rounds of one case, probe passes after each.
static void run_rounds(plan *pl, entry *e, int bi, tb_pool *pool, const tb_bench_data *d,
                       case_roofs *cr, const tb_observer *obs)
{
    const int rounds = pl->p->rounds, nsel = pl->nsel;
    char what[160];
    snprintf(what, sizeof what, "threads %d, %dx%d, m=%d: round", tb_pool_threads(pool), d->n, d->k,
             d->m);
    for (int r = 0; r < rounds; r++) {
        tb_observe(obs, what, r + 1, rounds);
        for (int q = 0; q < nsel; q++) {
            entry *b = &e[(q + r) % nsel]; // rotate who goes first
            if (!b->why) time_block(pl, b, r, pool, d);
        }
        for (int q = 0; q < nsel; q++) {
            if (e[q].why) continue;
            e[q].round_ratio[r] = e[bi].round_time[r] / e[q].round_time[r];
            tb_bw_probe_work(cr->probe[cr->owner[q]], q, tb_pool_threads(pool),
                             (double)e[q].op.packed_bytes, e[q].round_time[r]);
        }
        roofs_pass(pl, cr, pool);
    }
}

// The doc's roofline per thread count: the best DRAM roof any case saw (cache roofs are not
// this machine's read bandwidth).
static void note_roofline(cJSON *doc, int threads, const cJSON *roof)
{
    if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(roof, "kind")), "dram") != 0) return;
    tb_roofline_note(cJSON_GetObjectItem(doc, "roofline"), threads,
                     cJSON_GetNumberValue(cJSON_GetObjectItem(roof, "best_gbs")) * 1e9);
}

// One (shape, m) at one thread count: every kernel set up, timed and added to the entries
// with its roofs.
static int run_case(plan *pl, int s, int q, tb_pool *pool, cJSON *doc, const tb_observer *obs,
                    tb_error *err)
{
    const int nsel = pl->nsel;
    tb_bench_data d;
    tb_bench_data_make(&d, pl->p->m[q], pl->shapes[s][0], pl->shapes[s][1], pl->p->seed);
    entry *e = calloc((size_t)nsel, sizeof(entry));
    int rc = TB_OK, bi = 0;
    for (int k = 0; k < nsel && !rc; k++) {
        if (pl->sel[k] == pl->base) bi = k;
        rc = setup_entry(pl, &e[k], k, ((size_t)s * pl->p->nm + q) * nsel + k, &d, pool, obs, err);
    }
    if (!rc && e[bi].why) rc = tb_fail(err, "baseline %s: %s", pl->base->name, e[bi].why);
    case_roofs cr;
    const int threads = tb_pool_threads(pool);
    if (!rc) {
        open_roofs(pl, e, pool, &cr);
        run_rounds(pl, e, bi, pool, &d, &cr, obs);
    }
    for (int k = 0; k < nsel; k++) {
        if (!rc) {
            const int o = cr.owner[k];
            cJSON *roof = e[k].why ? NULL : tb_roof_to_json(cr.probe[o], threads, cr.work[o]);
            double paired =
                e[k].why ? 0 : tb_bw_probe_paired_fraction(cr.probe[o], k, threads, NULL);
            if (roof) note_roofline(doc, threads, roof);
            cJSON_AddItemToArray(cJSON_GetObjectItem(doc, "entries"),
                                 entry_to_json(pl, &e[k], &d, threads, roof, paired));
            cJSON_Delete(roof);
        }
        tb_bench_operand_free(&e[k].op);
        free(e[k].round_time);
    }
    if (!rc) close_roofs(pl, &cr);
    free(e);
    tb_bench_data_free(&d);
    return rc;
}

static int run_threads(plan *pl, int ti, cJSON *doc, const tb_observer *obs, tb_error *err)
{
    const tb_bench_kernels_params *p = pl->p;
    tb_pool *pool = tb_pool_create(p->threads[ti]);
    memset(pl->peak, 0, sizeof pl->peak);
    for (int k = 0; k < pl->nsel; k++) {
        tb_compute_path path = tb_compute_path_of(pl->sel[k]);
        if (path != TB_PATH_NONE && pl->peak[path] == 0) {
            tb_observe(obs, "compute roof", k + 1, pl->nsel);
            pl->peak[path] = tb_compute_peak(path, pool, COMPUTE_PASSES);
            char key[16];
            snprintf(key, sizeof key, "%d", p->threads[ti]);
            cJSON *cr = cJSON_GetObjectItem(doc, "compute_roof"),
                  *at = cJSON_GetObjectItem(cr, key);
            if (!at) at = cJSON_AddObjectToObject(cr, key);
            cJSON_AddNumberToObject(at, tb_compute_path_name(path), pl->peak[path] / 1e9);
        }
    }
    int rc = TB_OK;
    for (int s = 0; s < pl->nshapes && !rc; s++)
        for (int q = 0; q < p->nm && !rc; q++) rc = run_case(pl, s, q, pool, doc, obs, err);
    tb_pool_destroy(pool);
    return rc;
}

int tb_bench_kernels_run(const tb_bench_kernels_params *p, const tb_observer *obs, cJSON **doc,
                         tb_error *err)
{
    *doc = NULL;
    plan pl;
    int rc = make_plan(p, &pl, err);
    if (rc) return rc;
    pl.energy = tb_energy_open(NULL);
    pl.counters = tb_counters_open();
    *doc = start_doc(&pl);
    const tb_driver_params saved = tb_driver_get();
    for (int ti = 0; ti < p->nthreads && !rc; ti++) rc = run_threads(&pl, ti, *doc, obs, err);
    tb_driver_set(saved);
    cJSON_AddNumberToObject(*doc, "peak_rss_bytes", (double)tb_peak_rss());
    tb_energy_close(pl.energy);
    tb_counters_close(pl.counters);
    free(pl.verdict);
    if (rc) cJSON_Delete(*doc), *doc = NULL;
    return rc;
}
