// tritbench generate: the engine on a model with one kernel: token ids, prefill and decode
// speeds, and where the bytes went.
#include "decode.h"
#include "model.h"
#include "roofline.h"
#include "runners.h"
#include "select.h"
#include "tb_clock.h"

#include <stdlib.h>

// Probe passes before and after the decode steps (more run between them).
#define PROBE_PASSES_AROUND 4
// Mixed into the seed for the sampling draws, so they do not repeat the synthetic weights'.
#define SAMPLING_SEED_MIX 0x5eed5eed5eedull

void tb_generate_defaults(tb_generate_params *p)
{
    *p = (tb_generate_params){.prompt = {1},
                              .n_prompt = 1,
                              .tokens = 16,
                              .threads = 1,
                              .seed = 1,
                              .head = TB_HEAD_F16,
                              .ffn = -1};
}

// The engine's speeds and the bandwidth limit of its decode steps.
static void speeds_to_json(cJSON *doc, const tb_gen_stats *st, const tb_transformer *t,
                           const tb_bw_probe *probe, int n_prompt)
{
    const int steady = st->steps - 1;
    double decode_tps =
        steady > 0 ? steady / st->steady_s : (st->steps > 0 ? 1 / st->first_step_s : 0);
    cJSON_AddNumberToObject(doc, "prefill_tokens_per_s", n_prompt / st->prefill_s);
    cJSON_AddNumberToObject(doc, "time_to_first_token_s", st->ttft_s);
    cJSON_AddNumberToObject(doc, "first_decode_s", st->first_step_s);
    cJSON_AddNumberToObject(doc, "decode_tokens_per_s", decode_tps);
    cJSON_AddNumberToObject(doc, "ternary_bytes", (double)t->ternary_bytes);
    cJSON_AddNumberToObject(doc, "ternary_bits_per_weight",
                            8.0 * (double)t->ternary_bytes / (double)t->ternary_params);
    cJSON_AddNumberToObject(doc, "embedding_head_bytes", (double)t->embed_bytes);
    cJSON_AddNumberToObject(doc, "norm_bytes", (double)t->norm_bytes);
    cJSON_AddNumberToObject(doc, "kv_cache_bytes", (double)t->kv_bytes);
    int nthr = tb_pool_threads(t->pool);
    tb_decode_limit_to_json(doc, tb_transformer_weight_read_bytes(t),
                            steady > 0 ? st->kv_steady / steady : 0, tb_bw_probe_best(probe, nthr),
                            tb_bw_probe_median(probe, nthr), tb_bw_probe_passes(probe, nthr),
                            tb_bw_probe_paired_fraction(probe, 0, nthr, NULL), decode_tps);
    cJSON_AddNumberToObject(doc, "peak_rss_bytes", (double)tb_peak_rss());
}

static void profile_to_json(cJSON *doc, const tb_profile *prof, const tb_gen_stats *st)
{
    const int steady = st->steps - 1;
    if (steady <= 0) return;
    // Whatever the forward pass's phases do not cover: sampling (argmax or a softmax draw).
    double sampling_s = st->steady_s;
    cJSON *pr = cJSON_AddObjectToObject(doc, "decode_profile_ms_per_token");
    for (int p = 0; p < TB_PHASE_COUNT; p++) {
        cJSON_AddNumberToObject(pr, tb_phase_names[p], 1e3 * prof->seconds[p] / steady);
        sampling_s -= prof->seconds[p];
    }
    cJSON_AddNumberToObject(pr, "sampling", 1e3 * sampling_s / steady);
}

static cJSON *start_doc(const tb_generate_params *p, const tb_transformer *t,
                        const tb_engine_kernels *ek)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "model", p->model);
    tb_config_to_json(doc, &t->cfg);
    cJSON_AddStringToObject(doc, "kernel", t->kn->name);
    tb_engine_kernels_to_json(doc, ek);
    cJSON_AddNumberToObject(doc, "threads", tb_pool_threads(t->pool));
    cJSON_AddNumberToObject(doc, "seed", (double)p->seed);
    cJSON_AddNumberToObject(doc, "temperature", p->temperature);
    cJSON_AddStringToObject(doc, "head", tb_head_names[t->head_format]);
    if (t->head_kn) cJSON_AddStringToObject(doc, "head_kernel", t->head_kn->name);
    return doc;
}

static void generate(const tb_generate_params *p, tb_transformer *t, const tb_engine_kernels *ek,
                     double load_s, cJSON **doc)
{
    int *out = malloc((size_t)p->tokens * sizeof(int));
    if (!out) abort();
    tb_sampler sampler = {(float)p->temperature, p->seed ^ SAMPLING_SEED_MIX};
    // The roof on the bytes a decode step streams (roofline.h).
    size_t work = tb_transformer_weight_read_bytes(t) + t->kv_bytes;
    tb_bw_probe *probe = tb_bw_probe_open(tb_roof_buffer_bytes(work, 0));
    for (int r = 0; r < PROBE_PASSES_AROUND; r++) tb_bw_probe_pass(probe, t->pool);
    tb_profile prof = {{0}};
    tb_gen_stats st;
    tb_generate_tokens(t, p->prompt, p->n_prompt, out, p->tokens, &sampler, probe, TB_PROBE_EVERY,
                       NULL, p->profile ? &prof : NULL, &st);
    for (int r = 0; r < PROBE_PASSES_AROUND; r++) tb_bw_probe_pass(probe, t->pool);
    *doc = start_doc(p, t, ek);
    cJSON_AddItemToObject(*doc, "tokens", cJSON_CreateIntArray(out, p->tokens));
    cJSON_AddNumberToObject(*doc, "prompt_tokens", p->n_prompt);
    cJSON_AddNumberToObject(*doc, "load_seconds", load_s);
    speeds_to_json(*doc, &st, t, probe, p->n_prompt);
    cJSON_AddItemToObject(*doc, "roof", tb_roof_to_json(probe, tb_pool_threads(t->pool), work));
    if (p->profile) profile_to_json(*doc, &prof, &st);
    tb_bw_probe_close(probe);
    free(out);
}

int tb_generate_run(const tb_generate_params *p, const tb_observer *obs, cJSON **doc, tb_error *err)
{
    (void)obs;
    *doc = NULL;
    if (!p->model) return tb_fail(err, "--model FILE|CONFIG is required");
    tb_engine_kernels ek;
    tb_model m;
    int rc = tb_select_engine_kernels(p->kernel, p->threads, p->n_prompt, &ek, err);
    if (!rc)
        rc = tb_open_engine_model(p->model, p->seed, p->ffn, &ek.decode, 1, p->prompt, p->n_prompt,
                                  p->tokens, p->head, p->threads, &m, err);
    if (rc) return rc;
    tb_pool *pool = tb_pool_create(p->threads);
    tb_transformer t;
    double t0 = tb_now();
    rc = tb_transformer_build_pair(&t, &m, ek.decode, ek.prefill, pool, p->n_prompt + p->tokens,
                                   p->n_prompt, p->head, err->msg, sizeof err->msg)
             ? TB_BAD_INPUT
             : TB_OK;
    if (!rc) {
        const tb_driver_params saved = tb_driver_get();
        tb_driver_choice dc;
        tb_select_driver(ek.decode, p->threads, &dc);
        tb_driver_set(dc.params);
        generate(p, &t, &ek, tb_now() - t0, doc);
        tb_driver_set(saved);
        tb_driver_to_json(*doc, &dc);
        tb_transformer_free(&t);
    }
    tb_pool_destroy(pool);
    tb_model_free(&m);
    return rc;
}
