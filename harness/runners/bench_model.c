// tritbench bench model: end-to-end token rates of the whole transformer.
//
// The model is built once per kernel (packing takes long for large models) with a pool of the
// largest thread count; each thread count then runs on its own pool. A repetition is a prefill
// of the prompt followed by decode steps, the KV cache restarting at position 0; it is the same
// loop as `generate` (decode.h). Figures are medians over repetitions with their spread; the
// first repetition only warms up and is dropped. The bandwidth probe of an entry runs before,
// between (every TB_PROBE_EVERY decode steps, untimed) and after its repetitions.
#include "decode.h"
#include "info.h"
#include "model.h"
#include "runners.h"
#include "select.h"
#include "sources.h"
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Probe passes before and after an entry's repetitions (more run between its decode steps).
#define PROBE_PASSES_AROUND 2

void tb_bench_model_defaults(tb_bench_model_params *p)
{
    *p = (tb_bench_model_params){.threads = {1},
                                 .nthreads = 1,
                                 .prompt = 128,
                                 .tokens = 128,
                                 .reps = 3,
                                 .head_f16 = 1,
                                 .seed = 1};
}

// What one entry (kernel, thread count) measured, medians over the timed repetitions.
typedef struct {
    double prefill_tps, decode_tps, spread, ttft_s, j_per_token, kv_per_token;
    double bw, bw_median;
    int passes;
    cJSON *prefill_reps, *decode_reps; // the samples behind the medians
} entry_figures;

// Prompt of an entry: token ids 1, 2, ... (the content does not change the work).
static void make_prompt(int *ids, int n, int vocab)
{
    for (int i = 0; i < n; i++) ids[i] = 1 + i % (vocab - 1);
}

static void run_entry(const tb_bench_model_params *p, tb_transformer *t, tb_energy *energy,
                      entry_figures *f)
{
    const int reps = p->reps, steps = p->tokens - 1;
    int *ids = malloc(sizeof(int) * (size_t)(p->prompt + p->tokens));
    double *v = malloc(sizeof(double) * 6 * (size_t)reps);
    if (!ids || !v) abort();
    double *prefill = v, *decode = v + reps, *ttft = v + 2 * reps, *jpt = v + 3 * reps,
           *kv = v + 4 * reps;
    make_prompt(ids, p->prompt, t->cfg.vocab_size);
    tb_bw_probe *probe = tb_bw_probe_open(tb_roofline_bytes(p->roofline_mib));
    for (int r = 0; r < PROBE_PASSES_AROUND; r++) tb_bw_probe_pass(probe, t->pool);
    for (int r = -1; r < reps; r++) { // r = -1: the warm-up, dropped
        tb_sampler greedy = {0, 0};
        tb_gen_stats st;
        tb_generate_tokens(t, ids, p->prompt, ids + p->prompt, p->tokens, &greedy, probe, energy,
                           NULL, &st);
        if (r < 0) continue;
        prefill[r] = p->prompt / st.prefill_s;
        ttft[r] = st.ttft_s;
        decode[r] = steps / (st.first_step_s + st.steady_s);
        jpt[r] = st.joules >= 0 ? st.joules / steps : -1;
        kv[r] = (st.kv_first + st.kv_steady) / steps;
    }
    for (int r = 0; r < PROBE_PASSES_AROUND; r++) tb_bw_probe_pass(probe, t->pool);
    int nthr = tb_pool_threads(t->pool);
    *f = (entry_figures){tb_quantile(prefill, reps, 0.5),
                         tb_quantile(decode, reps, 0.5),
                         tb_quantile(decode, reps, 1.0) - tb_quantile(decode, reps, 0.0),
                         tb_quantile(ttft, reps, 0.5),
                         tb_quantile(jpt, reps, 0.5),
                         tb_quantile(kv, reps, 0.5),
                         tb_bw_probe_best(probe, nthr),
                         tb_bw_probe_median(probe, nthr),
                         tb_bw_probe_passes(probe, nthr),
                         cJSON_CreateDoubleArray(prefill, reps),
                         cJSON_CreateDoubleArray(decode, reps)};
    tb_bw_probe_close(probe);
    free(ids), free(v);
}

static cJSON *entry_to_json(const tb_transformer *t, int threads, entry_figures *f,
                            const tb_energy *energy, const tb_counters *counters)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kernel", t->kn->name);
    cJSON_AddNumberToObject(o, "threads", threads);
    cJSON_AddNumberToObject(o, "prefill_tokens_per_s", f->prefill_tps);
    cJSON_AddNumberToObject(o, "decode_tokens_per_s", f->decode_tps);
    cJSON_AddNumberToObject(o, "decode_tokens_per_s_spread", f->spread);
    cJSON_AddNumberToObject(o, "time_to_first_token_s", f->ttft_s);
    // The samples behind the medians, for tests of significance (tritbench compare).
    cJSON_AddItemToObject(o, "prefill_tokens_per_s_reps", f->prefill_reps);
    cJSON_AddItemToObject(o, "decode_tokens_per_s_reps", f->decode_reps);
    if (f->j_per_token >= 0) {
        cJSON_AddNumberToObject(o, "energy_j_per_token", f->j_per_token);
    } else {
        cJSON_AddNullToObject(o, "energy_j_per_token");
        cJSON_AddStringToObject(o, "energy_reason", tb_energy_reason(energy));
    }
    cJSON_AddNullToObject(o, "counters");
    cJSON_AddStringToObject(o, "counters_reason",
                            tb_counters_available(counters) ? "not collected end to end"
                                                            : tb_counters_reason(counters));
    cJSON_AddNumberToObject(o, "ternary_weight_bytes", (double)t->ternary_bytes);
    cJSON_AddNumberToObject(o, "ternary_bits_per_weight",
                            8.0 * (double)t->ternary_bytes / (double)t->ternary_params);
    cJSON_AddNumberToObject(o, "embedding_head_bytes", (double)t->embed_bytes);
    cJSON_AddNumberToObject(o, "kv_cache_bytes", (double)t->kv_bytes);
    tb_decode_limit_to_json(o, tb_transformer_weight_read_bytes(t), f->kv_per_token, f->bw,
                            f->bw_median, f->passes, f->decode_tps);
    return o;
}

static cJSON *start_doc(const tb_bench_model_params *p, const tb_config *c, tb_energy *energy,
                        tb_counters *counters)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "kind", "model");
    cJSON_AddItemToObject(doc, "info", tb_info_collect(NULL, NULL));
    tb_sources_to_json(cJSON_AddObjectToObject(doc, "sources"), energy, counters);
    cJSON *par = cJSON_AddObjectToObject(doc, "parameters");
    cJSON_AddStringToObject(par, "model", p->model);
    tb_config_to_json(par, c);
    cJSON_AddNumberToObject(par, "prompt", p->prompt);
    cJSON_AddNumberToObject(par, "tokens", p->tokens);
    cJSON_AddNumberToObject(par, "reps", p->reps);
    cJSON_AddNumberToObject(par, "seed", (double)p->seed);
    cJSON_AddStringToObject(par, "head", p->head_f16 ? "f16" : "f32");
    cJSON_AddObjectToObject(doc, "roofline");
    cJSON_AddArrayToObject(doc, "entries");
    return doc;
}

// The roofline per thread count: the best pass any entry of that count saw.
static void note_roofline(cJSON *doc, int threads, double bw)
{
    cJSON *roof = cJSON_GetObjectItem(doc, "roofline");
    char key[16];
    snprintf(key, sizeof key, "%d", threads);
    cJSON *seen = cJSON_GetObjectItem(roof, key);
    if (!seen)
        cJSON_AddNumberToObject(roof, key, bw);
    else if (bw > seen->valuedouble)
        cJSON_SetNumberValue(seen, bw);
}

// Every thread count on one kernel.
static int bench_kernel(const tb_bench_model_params *p, const tb_model *m, const tb_kernel *kn,
                        tb_pool *build_pool, tb_pool **pools, cJSON *doc, tb_energy *energy,
                        tb_counters *counters, const tb_observer *obs, tb_error *err)
{
    tb_transformer t;
    if (tb_transformer_build(&t, m, kn, build_pool, p->prompt + p->tokens, p->prompt, p->head_f16,
                             err->msg, sizeof err->msg))
        return TB_BAD_INPUT;
    // No FP16 kernel on this CPU: the head stays f32, and the document says so.
    cJSON_SetValuestring(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "parameters"), "head"),
                         t.head_kn ? "f16" : "f32");
    for (int ti = 0; ti < p->nthreads; ti++) {
        char what[96];
        snprintf(what, sizeof what, "%s, %d thread%s", kn->name, p->threads[ti],
                 p->threads[ti] > 1 ? "s" : "");
        tb_observe(obs, what, ti, p->nthreads);
        t.pool = pools[ti]; // buffers were sized for the largest pool
        entry_figures f;
        run_entry(p, &t, energy, &f);
        note_roofline(doc, p->threads[ti], f.bw);
        cJSON_AddItemToArray(cJSON_GetObjectItem(doc, "entries"),
                             entry_to_json(&t, p->threads[ti], &f, energy, counters));
    }
    t.pool = build_pool;
    tb_transformer_free(&t);
    return TB_OK;
}

static int max_of(const int *v, int n)
{
    int m = v[0];
    for (int i = 1; i < n; i++) m = v[i] > m ? v[i] : m;
    return m;
}

int tb_bench_model_run(const tb_bench_model_params *p, const tb_observer *obs, cJSON **doc,
                       tb_error *err)
{
    *doc = NULL;
    if (!p->model) return tb_fail(err, "--model CONFIG|FILE is required");
    const tb_kernel *sel[TB_KERNELS_MAX];
    int nsel = 1, rc, max_threads = max_of(p->threads, p->nthreads);
    rc = p->kernels ? tb_select_kernels(p->kernels, sel, TB_KERNELS_MAX, &nsel, err)
                    : tb_select_kernel(NULL, &sel[0], err);
    tb_model m;
    if (!rc)
        rc = tb_open_engine_model(p->model, p->seed, sel, nsel, NULL, p->prompt, p->tokens,
                                  p->head_f16, max_threads, &m, err);
    if (rc) return rc;
    tb_energy *energy = tb_energy_open(NULL);
    tb_counters *counters = tb_counters_open();
    *doc = start_doc(p, &m.cfg, energy, counters);
    tb_pool **pools = calloc((size_t)p->nthreads, sizeof(tb_pool *));
    for (int ti = 0; ti < p->nthreads; ti++) pools[ti] = tb_pool_create(p->threads[ti]);
    tb_pool *build_pool = tb_pool_create(max_threads);
    for (int ki = 0; ki < nsel && !rc; ki++)
        rc = bench_kernel(p, &m, sel[ki], build_pool, pools, *doc, energy, counters, obs, err);
    cJSON_AddNumberToObject(*doc, "peak_rss_bytes", (double)tb_peak_rss());
    for (int ti = 0; ti < p->nthreads; ti++) tb_pool_destroy(pools[ti]);
    tb_pool_destroy(build_pool);
    free(pools);
    tb_model_free(&m);
    tb_energy_close(energy);
    tb_counters_close(counters);
    if (rc) cJSON_Delete(*doc), *doc = NULL;
    return rc;
}
