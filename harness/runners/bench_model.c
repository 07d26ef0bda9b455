// tritbench bench model: end-to-end token rates of the whole transformer.
//
// The model is built once per kernel (packing takes long for large models) with a pool of the
// largest thread count; each thread count then runs on its own pool. A repetition is a prefill
// of the prompt followed by decode steps, the KV cache restarting at position 0; it is the same
// loop as `generate` (decode.h). Figures are medians over repetitions with their spread; the
// first repetition only warms up and is dropped. The bandwidth probe of an entry runs before,
// between (every TB_PROBE_EVERY decode steps, untimed) and after its repetitions.
//
// Layer-sampled mode, for models larger than this machine's memory: the layers of a
// configuration are identical in shape and cost, so the model is built and timed with
// SAMPLE_LAYERS_LO and SAMPLE_LAYERS_HI layers (weights large enough to stream from DRAM, KV
// cache, embedding and head all real), and every time, byte and joule figure is extrapolated
// linearly to the full layer count: x(L) = x(lo) + (L - lo) (x(hi) - x(lo)) / (hi - lo), per
// repetition. Entries say so ("layer_sampled").
//
// Peer (--peer llama.cpp): llama.cpp's engine runs the same GGUF file (a configuration name is
// first written to a temporary TQ2_0 file, and tritbench's engine reads that file too) with the
// same repetitions: the same prompt ids in one prefill, then greedy decode steps one token at
// a time, the first repetition a warm-up. At each thread count its repetitions take turns with
// tritbench's (after the heads' turns of each repetition), so that both see the same minutes of
// the machine. Its figures go to the document's "peer" object, not to "entries", whose keys
// (kernel, threads, head) compare and report match across runs.
#include "decode.h"
#include "gguf_model.h"
#include "llama_peer.h"
#include "tb_clock.h"
#include "info.h"
#include "model.h"
#include "runners.h"
#include "select.h"
#include "sources.h"
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// Probe passes before and after an entry's repetitions (more run between its decode steps).
#define PROBE_PASSES_AROUND 2
// Layer counts timed in layer-sampled mode.
#define SAMPLE_LAYERS_LO 2
#define SAMPLE_LAYERS_HI 6
// Fields per repetition of a measurement (see measured).
#define REP_FIELDS 5

void tb_bench_model_defaults(tb_bench_model_params *p)
{
    *p = (tb_bench_model_params){.threads = {1},
                                 .nthreads = 1,
                                 .prompt = 128,
                                 .tokens = 128,
                                 .reps = 3,
                                 .heads = {TB_HEAD_F16},
                                 .nheads = 1,
                                 .seed = 1,
                                 .ffn = -1};
}

// What one entry (kernel, thread count) measured: per timed repetition the prefill seconds,
// decode seconds per token, time to first token, joules per decoded token (-1: unmetered) and
// KV cache bytes read per token; the bandwidth probe; and the model's sizes. Every field is
// linear in the layer count, which layer sampling relies on.
typedef struct {
    int reps;
    double rep[REP_FIELDS][TB_LIST_MAX * 8]; // [field][repetition]
    double bw, bw_median;
    double paired; // the decode steps' paired roof fraction (roofline.h); 0 layer-sampled
    int passes;
    cJSON *roof; // the roof of this entry (roofline.h), owned
    tb_driver_choice driver;
    tb_head_format head;     // the output head in use (f32 where no kernel of the one asked runs)
    const char *head_kernel; // its kernel, NULL for f32
    double ternary_bytes, ternary_params, embed_bytes, kv_bytes, weight_read;
    int no_layer_cost; // layer-sampled: the larger model was not slower (noise): no estimate
    double sampled_decode_tps[2]; // layer-sampled: what the two samples measured
} measured;
enum { R_PREFILL_S, R_DECODE_S, R_TTFT_S, R_JOULES, R_KV };
#define REPS_MAX (TB_LIST_MAX * 8)

// The peer at one thread count: prefill seconds and decode seconds a token per timed
// repetition; error: why it stopped (its figures are then not reported).
typedef struct {
    int started, reps;
    double prefill_s[REPS_MAX], decode_s[REPS_MAX];
    char error[600];
} peer_measured;

// The peer of a run (NULL if none) and what it measured per thread count.
typedef struct {
    tb_llama_peer *lib;
    int loaded; // the model file is loaded (else load_error says why)
    char load_error[1024];
    char file[1024];    // the GGUF file both engines run
    char temp_dir[600]; // "" unless file was written for this run (removed at the end)
    peer_measured at[TB_LIST_MAX];
} peer_run;

// One repetition of the peer (r = -1: the warm-up): the same prompt ids, then tokens - 1
// greedy decode steps, as tb_generate_tokens does for tritbench's engine.
static void peer_rep(const tb_bench_model_params *p, tb_llama_peer *lib, int threads,
                     int32_t *prompt, int r, peer_measured *pm)
{
    const int steps = p->tokens - 1;
    int32_t next;
    tb_llama_set_threads(lib, threads);
    double t0 = tb_now();
    if (tb_llama_prefill(lib, prompt, p->prompt, &next, pm->error, sizeof pm->error)) return;
    double t1 = tb_now();
    for (int i = 0; i < steps; i++)
        if (tb_llama_step(lib, next, &next, pm->error, sizeof pm->error)) return;
    double t2 = tb_now();
    if (r < 0) return;
    pm->prefill_s[r] = t1 - t0;
    pm->decode_s[r] = (t2 - t1) / steps;
    pm->reps = r + 1;
}

// Prompt of an entry: token ids 1, 2, ... (the content does not change the work).
static void make_prompt(int *ids, int n, int vocab)
{
    for (int i = 0; i < n; i++) ids[i] = 1 + i % (vocab - 1);
}

// The bytes a decode step streams, for the roof; layer-sampled, at least twice the last-level
// cache, so that a pass empties the caches before every step.
static tb_bw_probe *open_probe(const tb_bench_model_params *p, const tb_transformer *t)
{
    size_t work = tb_transformer_weight_read_bytes(t) + t->kv_bytes;
    size_t least = (size_t)p->roofline_mib << 20;
    if (p->sample_layers && least < 2 * tb_last_level_cache_bytes())
        least = 2 * tb_last_level_cache_bytes();
    return tb_bw_probe_open(tb_roof_buffer_bytes(work, least));
}

// One repetition of engine t into slot r of f (r = -1: the warm-up, dropped).
static void one_rep(const tb_bench_model_params *p, tb_transformer *t, int *ids, tb_bw_probe *probe,
                    tb_energy *energy, int r, measured *f)
{
    const int steps = p->tokens - 1;
    tb_sampler greedy = {0, 0, NULL, NULL};
    tb_gen_stats st;
    // Layer-sampled: every step starts from emptied caches, as in the whole model, whose
    // weights are many times the last-level cache (the samples' would fit in it).
    tb_generate_tokens(t, ids, p->prompt, ids + p->prompt, p->tokens, &greedy, probe,
                       p->sample_layers ? 1 : TB_PROBE_EVERY, energy, NULL, &st);
    if (r < 0) {
        tb_bw_probe_forget_work(probe);
        return;
    }
    f->rep[R_PREFILL_S][r] = st.prefill_s;
    f->rep[R_DECODE_S][r] = (st.first_step_s + st.steady_s) / steps;
    f->rep[R_TTFT_S][r] = st.ttft_s;
    f->rep[R_JOULES][r] = st.joules >= 0 ? st.joules / steps : -1;
    f->rep[R_KV][r] = (st.kv_first + st.kv_steady) / steps;
}

// Every head of the run on engine t at its pool's thread count: f[h * stride] for head h. The
// heads take turns repetition by repetition (the head is packed again between turns, untimed),
// as the protocol interleaves kernels round by round, so that their ratio compares runs made
// in the same minutes of a machine whose speed drifts; each head has its own bandwidth probe,
// sized to what its steps stream, whose passes run around and between its own steps.
// pm: the peer's turns at this thread count (NULL: none), after the heads' turns of every
// repetition.
static int measure(const tb_bench_model_params *p, tb_transformer *t, tb_energy *energy,
                   measured *f, int stride, tb_llama_peer *peer, peer_measured *pm, tb_error *err)
{
    int *ids = malloc(sizeof(int) * (size_t)(p->prompt + p->tokens));
    tb_bw_probe *probe[TB_HEAD_COUNT] = {0};
    if (!ids) abort();
    make_prompt(ids, p->prompt, t->cfg.vocab_size);
    int32_t *peer_prompt = malloc(sizeof(int32_t) * (size_t)p->prompt);
    if (!peer_prompt) abort();
    for (int i = 0; i < p->prompt; i++) peer_prompt[i] = ids[i];
    int rc = TB_OK;
    for (int r = -1; r < p->reps && !rc; r++) {
        for (int h = 0; h < p->nheads && !rc; h++) {
            if (t->head_format != p->heads[h] &&
                tb_transformer_set_head(t, p->heads[h], err->msg, sizeof err->msg)) {
                rc = TB_BAD_INPUT;
                break;
            }
            if (r < 0) {
                probe[h] = open_probe(p, t);
                for (int i = 0; i < PROBE_PASSES_AROUND; i++) tb_bw_probe_pass(probe[h], t->pool);
            }
            one_rep(p, t, ids, probe[h], energy, r, &f[h * stride]);
        }
        if (pm && !*pm->error && !rc)
            peer_rep(p, peer, tb_pool_threads(t->pool), peer_prompt, r, pm);
    }
    free(peer_prompt);
    for (int h = 0; h < p->nheads && !rc; h++) {
        measured *fh = &f[h * stride];
        if (t->head_format != p->heads[h] &&
            tb_transformer_set_head(t, p->heads[h], err->msg, sizeof err->msg)) {
            rc = TB_BAD_INPUT;
            break;
        }
        for (int i = 0; i < PROBE_PASSES_AROUND; i++) tb_bw_probe_pass(probe[h], t->pool);
        int nthr = tb_pool_threads(t->pool);
        fh->reps = p->reps;
        fh->bw = tb_bw_probe_best(probe[h], nthr);
        fh->bw_median = tb_bw_probe_median(probe[h], nthr);
        fh->passes = tb_bw_probe_passes(probe[h], nthr);
        fh->paired = p->sample_layers ? 0 : tb_bw_probe_paired_fraction(probe[h], 0, nthr, NULL);
        fh->roof =
            tb_roof_to_json(probe[h], nthr, tb_transformer_weight_read_bytes(t) + t->kv_bytes);
        fh->ternary_bytes = (double)t->ternary_bytes;
        fh->ternary_params = (double)t->ternary_params;
        fh->embed_bytes = (double)t->embed_bytes, fh->kv_bytes = (double)t->kv_bytes;
        fh->weight_read = (double)tb_transformer_weight_read_bytes(t);
        fh->head = t->head_format, fh->head_kernel = t->head_kn ? t->head_kn->name : NULL;
    }
    for (int h = 0; h < p->nheads; h++)
        if (probe[h]) tb_bw_probe_close(probe[h]);
    free(ids);
    return rc;
}

static double extrapolate(double lo, double hi, double x)
{
    return lo + (x - SAMPLE_LAYERS_LO) * (hi - lo) / (SAMPLE_LAYERS_HI - SAMPLE_LAYERS_LO);
}

// Per repetition: values[r] = num / rep[field][r] (a rate), or the field itself (num = 0).
static double median_of(const measured *f, int field, double num, cJSON **samples)
{
    double v[REPS_MAX];
    for (int r = 0; r < f->reps; r++) v[r] = num > 0 ? num / f->rep[field][r] : f->rep[field][r];
    if (samples) *samples = cJSON_CreateDoubleArray(v, f->reps);
    return tb_quantile(v, f->reps, 0.5);
}

// The full model's figures from runs of SAMPLE_LAYERS_LO and SAMPLE_LAYERS_HI layers.
static void extrapolate_measured(const measured *lo, const measured *hi, int layers, measured *f)
{
    *f = *hi;
    for (int k = 0; k < REP_FIELDS; k++)
        for (int r = 0; r < f->reps; r++)
            f->rep[k][r] = lo->rep[k][r] < 0 || hi->rep[k][r] < 0
                               ? -1
                               : extrapolate(lo->rep[k][r], hi->rep[k][r], layers);
    for (int r = 0; r < f->reps; r++)
        if (!(hi->rep[R_DECODE_S][r] > lo->rep[R_DECODE_S][r])) f->no_layer_cost = 1;
    f->sampled_decode_tps[0] = 1 / median_of(lo, R_DECODE_S, 0, NULL);
    f->sampled_decode_tps[1] = 1 / median_of(hi, R_DECODE_S, 0, NULL);
    // The roof of the larger sample, which streams the most (its probe ran at its steps).
    f->roof = cJSON_Duplicate(hi->roof, 1);
    f->ternary_bytes = extrapolate(lo->ternary_bytes, hi->ternary_bytes, layers);
    f->ternary_params = extrapolate(lo->ternary_params, hi->ternary_params, layers);
    f->embed_bytes = extrapolate(lo->embed_bytes, hi->embed_bytes, layers);
    f->kv_bytes = extrapolate(lo->kv_bytes, hi->kv_bytes, layers);
    f->weight_read = extrapolate(lo->weight_read, hi->weight_read, layers);
}

static void rates_to_json(cJSON *o, const tb_bench_model_params *p, const measured *f)
{
    cJSON *prefill_reps, *decode_reps;
    double prefill = median_of(f, R_PREFILL_S, p->prompt, &prefill_reps);
    double decode = median_of(f, R_DECODE_S, 1, &decode_reps);
    double v[REPS_MAX];
    for (int r = 0; r < f->reps; r++) v[r] = 1 / f->rep[R_DECODE_S][r];
    cJSON_AddNumberToObject(o, "prefill_tokens_per_s", prefill);
    cJSON_AddNumberToObject(o, "decode_tokens_per_s", decode);
    cJSON_AddNumberToObject(o, "decode_tokens_per_s_spread",
                            tb_quantile(v, f->reps, 1.0) - tb_quantile(v, f->reps, 0.0));
    cJSON_AddNumberToObject(o, "time_to_first_token_s", median_of(f, R_TTFT_S, 0, NULL));
    // The samples behind the medians, for tests of significance (tritbench compare).
    cJSON_AddItemToObject(o, "prefill_tokens_per_s_reps", prefill_reps);
    cJSON_AddItemToObject(o, "decode_tokens_per_s_reps", decode_reps);
}

// The kernels of one engine (decode and prefill, tb_select_engine_kernels) and the thread counts
// (bits of indices into the threads list) they were chosen for.
typedef struct {
    tb_engine_kernels k;
    unsigned threads_mask;
} engine;

static cJSON *entry_to_json(const tb_bench_model_params *p, const engine *e, int threads,
                            const measured *f, const tb_energy *energy, const tb_counters *counters)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kernel", e->k.decode->name);
    tb_engine_kernels_to_json(o, &e->k);
    tb_driver_to_json(o, &f->driver);
    cJSON_AddNumberToObject(o, "threads", threads);
    cJSON_AddStringToObject(o, "head", tb_head_names[f->head]);
    if (f->head_kernel) cJSON_AddStringToObject(o, "head_kernel", f->head_kernel);
    if (f->no_layer_cost) {
        cJSON_AddStringToObject(o, "error",
                                "layer sampling: the larger sample decoded no slower than the "
                                "smaller (a noisy machine); no estimate, rerun");
        return o;
    }
    rates_to_json(o, p, f);
    if (f->sampled_decode_tps[0] > 0)
        cJSON_AddItemToObject(o, "layer_samples_decode_tokens_per_s",
                              cJSON_CreateDoubleArray(f->sampled_decode_tps, 2));
    double jpt = median_of(f, R_JOULES, 0, NULL);
    if (jpt >= 0) {
        cJSON_AddNumberToObject(o, "energy_j_per_token", jpt);
    } else {
        cJSON_AddNullToObject(o, "energy_j_per_token");
        cJSON_AddStringToObject(o, "energy_reason",
                                tb_energy_available(energy) ? "a metered stretch had no reading"
                                                            : tb_energy_reason(energy));
    }
    cJSON_AddNullToObject(o, "counters");
    cJSON_AddStringToObject(o, "counters_reason",
                            tb_counters_available(counters) ? "not collected end to end"
                                                            : tb_counters_reason(counters));
    cJSON_AddNumberToObject(o, "ternary_weight_bytes", f->ternary_bytes);
    cJSON_AddNumberToObject(o, "ternary_bits_per_weight",
                            8.0 * f->ternary_bytes / f->ternary_params);
    cJSON_AddNumberToObject(o, "embedding_head_bytes", f->embed_bytes);
    cJSON_AddNumberToObject(o, "kv_cache_bytes", f->kv_bytes);
    tb_decode_limit_to_json(o, (uint64_t)f->weight_read, median_of(f, R_KV, 0, NULL), f->bw,
                            f->bw_median, f->passes, f->paired,
                            1 / median_of(f, R_DECODE_S, 0, NULL));
    cJSON_AddItemToObject(o, "roof", cJSON_Duplicate(f->roof, 1));
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
    if (p->peer) cJSON_AddStringToObject(par, "peer", p->peer);
    tb_config_to_json(par, c);
    cJSON_AddNumberToObject(par, "prompt", p->prompt);
    cJSON_AddNumberToObject(par, "tokens", p->tokens);
    cJSON_AddNumberToObject(par, "reps", p->reps);
    cJSON_AddNumberToObject(par, "seed", (double)p->seed);
    char heads[64] = "";
    for (int h = 0; h < p->nheads; h++)
        snprintf(heads + strlen(heads), sizeof heads - strlen(heads), "%s%s", h ? "," : "",
                 tb_head_names[p->heads[h]]);
    cJSON_AddStringToObject(par, "head", heads);
    if (p->sample_layers) {
        // Every entry's figures are extrapolated from runs of fewer layers (see above).
        cJSON *s = cJSON_AddObjectToObject(par, "layer_sampled");
        int timed[2] = {SAMPLE_LAYERS_LO, SAMPLE_LAYERS_HI};
        cJSON_AddItemToObject(s, "layers_timed", cJSON_CreateIntArray(timed, 2));
        cJSON_AddNumberToObject(s, "layers", c->n_layers);
        cJSON_AddStringToObject(s, "method", "linear in the layer count, per repetition");
    }
    cJSON_AddObjectToObject(doc, "roofline");
    cJSON_AddArrayToObject(doc, "entries");
    return doc;
}

// The pools and meters of a run.
typedef struct {
    const tb_bench_model_params *p;
    tb_pool **pools, *build_pool;
    tb_energy *energy;
    tb_counters *counters;
    const tb_observer *obs;
    peer_run *peer; // NULL: no peer
} bench_ctx;

// Every thread count and head of one engine on one model: f[h * nthreads + ti]. The engine is
// built once; at each thread count the heads take turns repetition by repetition (measure).
static int measure_kernel(const bench_ctx *b, const tb_model *m, const engine *e, measured *f,
                          tb_error *err)
{
    const tb_bench_model_params *p = b->p;
    tb_transformer t;
    if (tb_transformer_build_pair(&t, m, e->k.decode, e->k.prefill, b->build_pool,
                                  p->prompt + p->tokens, p->prompt, p->heads[0], err->msg,
                                  sizeof err->msg))
        return TB_BAD_INPUT;
    for (int ti = 0; ti < p->nthreads; ti++) {
        if (!(e->threads_mask & (1u << ti))) continue;
        char what[128];
        snprintf(what, sizeof what, "%s, %d layers, %d thread%s", e->k.decode->name,
                 m->cfg.n_layers, p->threads[ti], p->threads[ti] > 1 ? "s" : "");
        tb_observe(b->obs, what, ti, p->nthreads);
        t.pool = b->pools[ti]; // buffers were sized for the largest pool
        const tb_driver_params saved = tb_driver_get();
        tb_driver_choice driver;
        tb_select_driver(e->k.decode, p->threads[ti], &driver);
        for (int h = 0; h < p->nheads; h++) f[h * p->nthreads + ti].driver = driver;
        tb_driver_set(driver.params);
        // The peer takes its turns beside the first engine that runs this thread count.
        peer_measured *pm = NULL;
        if (b->peer && b->peer->loaded && !b->peer->at[ti].started)
            pm = &b->peer->at[ti], pm->started = 1;
        int rc = measure(p, &t, b->energy, &f[ti], p->nthreads, pm ? b->peer->lib : NULL, pm, err);
        tb_driver_set(saved);
        if (rc) {
            t.pool = b->build_pool;
            tb_transformer_free(&t);
            return rc;
        }
    }
    t.pool = b->build_pool;
    tb_transformer_free(&t);
    return TB_OK;
}

// One engine: measured whole, or at two layer counts and extrapolated.
static int bench_kernel(const bench_ctx *b, const tb_model *whole, const engine *e, cJSON *doc,
                        tb_error *err)
{
    const tb_bench_model_params *p = b->p;
    const int cells = p->nthreads * p->nheads; // (head, thread count)
    measured *f = calloc((size_t)cells * 3, sizeof(measured));
    if (!f) abort();
    int rc = TB_OK;
    if (!p->sample_layers) {
        rc = measure_kernel(b, whole, e, f, err);
    } else {
        measured *lo = f + cells, *hi = lo + cells;
        const int counts[2] = {SAMPLE_LAYERS_LO, SAMPLE_LAYERS_HI};
        for (int i = 0; i < 2 && !rc; i++) {
            tb_config c = whole->cfg;
            c.n_layers = counts[i];
            tb_model part;
            tb_model_synthetic(&c, p->seed, &part);
            rc = measure_kernel(b, &part, e, i ? hi : lo, err);
            tb_model_free(&part);
        }
        for (int c = 0; c < cells && !rc; c++)
            if (e->threads_mask & (1u << (c % p->nthreads)))
                extrapolate_measured(&lo[c], &hi[c], whole->cfg.n_layers, &f[c]);
    }
    for (int ti = 0; ti < p->nthreads && !rc; ti++) {
        if (!(e->threads_mask & (1u << ti))) continue;
        for (int h = 0; h < p->nheads; h++) {
            const measured *fi = &f[h * p->nthreads + ti];
            tb_roofline_note(cJSON_GetObjectItem(doc, "roofline"), p->threads[ti], fi->bw);
            cJSON_AddItemToArray(cJSON_GetObjectItem(doc, "entries"),
                                 entry_to_json(p, e, p->threads[ti], fi, b->energy, b->counters));
        }
    }
    for (int i = 0; i < cells * 3; i++) cJSON_Delete(f[i].roof);
    free(f);
    return rc;
}

static int max_of(const int *v, int n)
{
    int m = v[0];
    for (int i = 1; i < n; i++) m = v[i] > m ? v[i] : m;
    return m;
}

// The head of the run that takes the most memory (one head is held at a time): f16 > q8 > q4 >
// f32, whose array is the model's own.
static tb_head_format largest_head(const tb_bench_model_params *p)
{
    static const int order[TB_HEAD_COUNT] = {
        [TB_HEAD_F32] = 0, [TB_HEAD_Q4] = 1, [TB_HEAD_Q8] = 2, [TB_HEAD_F16] = 3};
    tb_head_format h = p->heads[0];
    for (int i = 1; i < p->nheads; i++)
        if (order[p->heads[i]] > order[h]) h = p->heads[i];
    return h;
}

// The model of the run: whole, or (layer-sampled) only its configuration, the layers are built
// per sample.
static int open_model(const tb_bench_model_params *p, const tb_kernel *const *sel, int nsel,
                      int max_threads, tb_model *m, tb_error *err)
{
    if (!p->sample_layers)
        return tb_open_engine_model(p->model, p->seed, p->ffn, sel, nsel, NULL, p->prompt,
                                    p->tokens, largest_head(p), max_threads, m, err);
    memset(m, 0, sizeof *m);
    if (tb_config_find(p->model, &m->cfg))
        return tb_fail(err, "--model: layer sampling needs a configuration, not '%s'", p->model);
    if (p->ffn >= 0) tb_model_force_ffn(m, (tb_ffn_act)p->ffn); // the samples copy cfg
    if (m->cfg.n_layers < SAMPLE_LAYERS_HI)
        return tb_fail(err, "--model: %s has %d layers, fewer than the %d layer sampling times",
                       p->model, m->cfg.n_layers, SAMPLE_LAYERS_HI);
    tb_config sample = m->cfg;
    sample.n_layers = SAMPLE_LAYERS_HI; // the larger sample must fit
    for (int i = 0; i < nsel; i++) {
        int rc =
            tb_check_memory(&sample,
                            tb_transformer_bytes_needed(&sample, sel[i], p->prompt + p->tokens,
                                                        p->prompt, largest_head(p), max_threads),
                            err);
        if (rc) return rc;
    }
    return tb_check_sequence(&m->cfg, NULL, p->prompt, p->tokens, err);
}

// The engines of the run: each kernel of --kernel at every thread count, or (no --kernel) the
// chosen decode and prefill kernels of each thread count, thread counts with the same choice
// sharing one engine. sel gets the decode kernels (for the memory checks).
static int select_engines(const tb_bench_model_params *p, engine *eng, const tb_kernel **sel,
                          int *nsel, tb_error *err)
{
    const unsigned all = (1u << p->nthreads) - 1;
    int rc = TB_OK;
    if (p->kernels) {
        rc = tb_select_kernels(p->kernels, sel, TB_KERNELS_MAX, nsel, err);
        for (int i = 0; i < *nsel && !rc; i++) {
            rc = tb_select_engine_kernels(sel[i]->name, 0, p->prompt, &eng[i].k, err);
            eng[i].threads_mask = all;
        }
        return rc;
    }
    *nsel = 0;
    for (int ti = 0; ti < p->nthreads && !rc; ti++) {
        engine e = {.threads_mask = 1u << ti};
        rc = tb_select_engine_kernels(NULL, p->threads[ti], p->prompt, &e.k, err);
        int same = -1;
        for (int i = 0; i < *nsel && !rc; i++)
            if (eng[i].k.decode == e.k.decode && eng[i].k.prefill == e.k.prefill &&
                strcmp(eng[i].k.source, e.k.source) == 0)
                same = i;
        if (rc) break;
        if (same >= 0)
            eng[same].threads_mask |= e.threads_mask;
        else
            sel[*nsel] = e.k.decode, eng[(*nsel)++] = e;
    }
    return rc;
}

// Opens the peer's library and names the file both engines run: the model file given, or a
// configuration written for this run to a temporary directory (TQ2_0, the ternary type
// mainline llama.cpp runs; F32 where the shapes are not multiples of its 256-weight blocks).
static int peer_open(const tb_bench_model_params *p, const tb_observer *obs, peer_run *pr,
                     tb_error *err)
{
    if (strcmp(p->peer, "llama.cpp") != 0)
        return tb_fail(err, "--peer: expected llama.cpp, got '%s'", p->peer);
    if (p->sample_layers)
        return tb_fail(err, "--peer: llama.cpp runs whole model files, not with --layer-sampled");
    char msg[700];
    if (tb_llama_open(p->peer_lib, &pr->lib, msg, sizeof msg))
        return tb_fail(err, "--peer llama.cpp: %s", msg);
    tb_config c;
    if (tb_config_find(p->model, &c) != 0) {
        snprintf(pr->file, sizeof pr->file, "%s", p->model);
        return TB_OK;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(pr->temp_dir, sizeof pr->temp_dir, "%s/tritbench-peer-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(pr->temp_dir)) {
        pr->temp_dir[0] = '\0';
        return tb_fail(err, "--peer: cannot make a temporary directory under %s",
                       tmp && *tmp ? tmp : "/tmp");
    }
    tb_file_format fmt = c.dim % 256 || c.hidden_dim % 256 ? TB_FMT_F32 : TB_FMT_TQ2_0;
    snprintf(pr->file, sizeof pr->file, "%s/%s-seed%llu-%s.gguf", pr->temp_dir, c.name,
             (unsigned long long)p->seed, fmt == TB_FMT_F32 ? "f32" : "tq2_0");
    tb_observe(obs, "writing the model file both engines run", 0, 1);
    tb_model m;
    tb_model_synthetic(&c, p->seed, &m);
    int rc = tb_gguf_save_model(&m, pr->file, fmt, msg, sizeof msg);
    tb_model_free(&m);
    if (rc) return tb_fail(err, "--peer: writing %s: %s", pr->file, msg);
    return TB_OK;
}

// Loads the file into llama.cpp with room for the run's sequence. A file llama.cpp cannot run
// is not an error of the run (its reason is reported, tritbench's figures still are); an
// interface that does not match is (TB_BAD_INPUT).
static int peer_load(const tb_bench_model_params *p, const tb_model *m, peer_run *pr, tb_error *err)
{
    char msg[700];
    int rc = tb_llama_load(pr->lib, pr->file, p->prompt + p->tokens, p->prompt, msg, sizeof msg);
    if (rc == -2) return tb_fail(err, "--peer llama.cpp: %s", msg);
    if (rc) {
        // llama.cpp's bitnet graph uses token_embd as the head and refuses tensors it did not
        // create: say what its message means for a file with its own head.
        snprintf(pr->load_error, sizeof pr->load_error, "%s%s", msg,
                 m->output && strstr(msg, "wrong number of tensors")
                     ? " (the file has an output head of its own, output.weight; llama.cpp's "
                       "bitnet architecture takes only a tied one, token_embd)"
                     : "");
        return TB_OK;
    }
    if (tb_llama_n_vocab(pr->lib) != m->cfg.vocab_size) {
        snprintf(pr->load_error, sizeof pr->load_error,
                 "llama.cpp reads a vocabulary of %d tokens, the model has %d",
                 tb_llama_n_vocab(pr->lib), m->cfg.vocab_size);
        return TB_OK;
    }
    pr->loaded = 1;
    return TB_OK;
}

// The tritbench entry a peer figure is compared with: the first of this thread count (the
// first head listed).
static const cJSON *tritbench_entry(const cJSON *doc, int threads)
{
    const cJSON *e;
    cJSON_ArrayForEach(
        e, cJSON_GetObjectItem(
               doc, "entries")) if (cJSON_GetObjectItem(e, "threads")->valuedouble == threads &&
                                    cJSON_IsNumber(
                                        cJSON_GetObjectItem(e, "decode_tokens_per_s"))) return e;
    return NULL;
}

static void peer_to_json(cJSON *doc, const tb_bench_model_params *p, const peer_run *pr)
{
    const tb_llama_identity *id = tb_llama_identity_of(pr->lib);
    cJSON *o = cJSON_AddObjectToObject(doc, "peer");
    cJSON_AddStringToObject(o, "engine", "llama.cpp");
    cJSON_AddStringToObject(o, "library", id->lib_path);
    cJSON_AddStringToObject(o, "library_dir_source", id->dir_source);
    cJSON_AddStringToObject(o, "ggml_version", id->ggml_version);
    cJSON_AddStringToObject(o, "ggml_commit", id->ggml_commit);
    cJSON_AddStringToObject(o, "cpu_backend", id->cpu_variant);
    cJSON_AddStringToObject(o, "system_info", id->system_info);
    cJSON_AddStringToObject(o, "model_file", pr->file);
    cJSON_AddBoolToObject(o, "model_file_temporary", *pr->temp_dir != '\0');
    if (!pr->loaded) {
        cJSON_AddStringToObject(o, "error", pr->load_error);
        return;
    }
    cJSON *entries = cJSON_AddArrayToObject(o, "entries");
    for (int ti = 0; ti < p->nthreads; ti++) {
        const peer_measured *pm = &pr->at[ti];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(entries, e);
        cJSON_AddNumberToObject(e, "threads", p->threads[ti]);
        if (*pm->error || pm->reps < p->reps) {
            cJSON_AddStringToObject(e, "error", *pm->error ? pm->error : "not run");
            continue;
        }
        double pre[REPS_MAX], dec[REPS_MAX];
        for (int r = 0; r < pm->reps; r++)
            pre[r] = p->prompt / pm->prefill_s[r], dec[r] = 1 / pm->decode_s[r];
        double prefill = tb_quantile(pre, pm->reps, 0.5), decode = tb_quantile(dec, pm->reps, 0.5);
        cJSON_AddNumberToObject(e, "prefill_tokens_per_s", prefill);
        cJSON_AddNumberToObject(e, "decode_tokens_per_s", decode);
        cJSON_AddNumberToObject(e, "decode_tokens_per_s_spread",
                                tb_quantile(dec, pm->reps, 1.0) - tb_quantile(dec, pm->reps, 0.0));
        cJSON_AddItemToObject(e, "prefill_tokens_per_s_reps",
                              cJSON_CreateDoubleArray(pre, pm->reps));
        cJSON_AddItemToObject(e, "decode_tokens_per_s_reps",
                              cJSON_CreateDoubleArray(dec, pm->reps));
        const cJSON *t = tritbench_entry(doc, p->threads[ti]);
        if (t) {
            cJSON *ratio = cJSON_AddObjectToObject(e, "tritbench_over_peer");
            cJSON_AddStringToObject(ratio, "kernel", cJSON_GetObjectItem(t, "kernel")->valuestring);
            cJSON_AddNumberToObject(ratio, "prefill",
                                    cJSON_GetObjectItem(t, "prefill_tokens_per_s")->valuedouble /
                                        prefill);
            cJSON_AddNumberToObject(ratio, "decode",
                                    cJSON_GetObjectItem(t, "decode_tokens_per_s")->valuedouble /
                                        decode);
        }
    }
}

static void peer_cleanup(peer_run *pr)
{
    if (pr->lib) tb_llama_close(pr->lib);
    if (*pr->temp_dir) {
        unlink(pr->file);
        rmdir(pr->temp_dir);
    }
}

int tb_bench_model_run(const tb_bench_model_params *p_in, const tb_observer *obs, cJSON **doc,
                       tb_error *err)
{
    *doc = NULL;
    if (!p_in->model) return tb_fail(err, "--model CONFIG|FILE is required");
    if (p_in->reps > REPS_MAX) return tb_fail(err, "--reps: at most %d", REPS_MAX);
    if (p_in->peer_lib && !p_in->peer)
        return tb_fail(err, "--peer-lib: says where a peer is, needs --peer llama.cpp");
    // With a peer both engines run one file: tritbench's reads the file the peer is given.
    tb_bench_model_params pf = *p_in;
    const tb_bench_model_params *p = &pf;
    peer_run *peer = NULL;
    const tb_kernel *sel[TB_KERNELS_MAX];
    engine eng[TB_KERNELS_MAX];
    int nsel = 0, max_threads = max_of(p->threads, p->nthreads);
    int rc = select_engines(p, eng, sel, &nsel, err);
    if (!rc && p->peer) {
        peer = calloc(1, sizeof *peer);
        if (!peer) abort();
        rc = peer_open(p, obs, peer, err);
        pf.model = peer->file;
    }
    tb_model m;
    int have_model = 0;
    if (!rc) rc = open_model(p, sel, nsel, max_threads, &m, err), have_model = !rc;
    if (!rc && peer) rc = peer_load(p, &m, peer, err);
    if (rc) {
        if (have_model && !p->sample_layers) tb_model_free(&m);
        if (peer) peer_cleanup(peer), free(peer);
        return rc;
    }
    pf.model = p_in->model; // the documents name the model as asked
    bench_ctx b = {p,
                   calloc((size_t)p->nthreads, sizeof(tb_pool *)),
                   tb_pool_create(max_threads),
                   tb_energy_open(NULL),
                   tb_counters_open(),
                   obs,
                   peer};
    *doc = start_doc(p, &m.cfg, b.energy, b.counters);
    for (int ti = 0; ti < p->nthreads; ti++) b.pools[ti] = tb_pool_create(p->threads[ti]);
    for (int ki = 0; ki < nsel && !rc; ki++) rc = bench_kernel(&b, &m, &eng[ki], *doc, err);
    if (!rc && peer) peer_to_json(*doc, p, peer);
    cJSON_AddNumberToObject(*doc, "peak_rss_bytes", (double)tb_peak_rss());
    for (int ti = 0; ti < p->nthreads; ti++) tb_pool_destroy(b.pools[ti]);
    tb_pool_destroy(b.build_pool);
    free(b.pools);
    if (!p->sample_layers) tb_model_free(&m);
    if (peer) peer_cleanup(peer), free(peer);
    tb_energy_close(b.energy);
    tb_counters_close(b.counters);
    if (rc) cJSON_Delete(*doc), *doc = NULL;
    return rc;
}
