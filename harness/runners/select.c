#include "select.h"

#include "model.h"
#include "peers.h"
#include "roofline.h"
#include "transformer.h"
#include "tune_file.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tb_fail(tb_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return TB_BAD_INPUT;
}

void tb_observe(const tb_observer *obs, const char *what, int done, int total)
{
    if (obs && obs->progress) obs->progress(obs->ctx, what, done, total);
}

static void prefixed(void *ctx, const char *what, int done, int total)
{
    tb_prefixed_progress *p = ctx;
    char line[512];
    snprintf(line, sizeof line, "%s: %s", p->prefix, what);
    tb_observe(p->outer, line, done, total);
}

tb_observer tb_prefixed_observer(tb_prefixed_progress *p)
{
    return (tb_observer){prefixed, p};
}

int tb_select_kernel(const char *name, const tb_kernel **kn, tb_error *err)
{
    if (!name) {
        *kn = tb_kernel_best();
        return *kn ? TB_OK : tb_fail(err, "no kernel this CPU can run");
    }
    char why[200];
    *kn = tb_kernel_find(name);
    if (!*kn)
        return tb_fail(err, "--kernel: no kernel named '%s' here (see 'tritbench kernels')", name);
    if (!tb_kernel_supported(*kn, why, sizeof why))
        return tb_fail(err, "--kernel: %s cannot run here: %s", name, why);
    return TB_OK;
}

// The tuned choice, if the tune file of this CPU gives one; else 0 and why not in k->source.
static int tuned(int threads, int prompt, tb_engine_kernels *k)
{
    const tb_tune_state *st = tb_tune_dispatch();
    char why[400];
    tb_tune_pick pick;
    if (st->status != TB_TUNE_USED) {
        snprintf(k->source, sizeof k->source, "%s", st->why);
        return 0;
    }
    if (tb_tune_pick_engine(&st->tune, threads, prompt, &pick, why, sizeof why)) {
        snprintf(k->source, sizeof k->source, "%.400s: %.400s", st->path, why);
        return 0;
    }
    k->decode = pick.decode, k->prefill = pick.prefill;
    snprintf(k->source, sizeof k->source, "tune file %.500s: %.300s", st->path, pick.note);
    return 1;
}

int tb_select_engine_kernels(const char *name, int threads, int prompt, tb_engine_kernels *k,
                             tb_error *err)
{
    memset(k, 0, sizeof *k);
    if (name) {
        int rc = tb_select_kernel(name, &k->decode, err);
        k->prefill = k->decode;
        snprintf(k->source, sizeof k->source, "--kernel");
        return rc;
    }
    if ((k->decode = k->prefill = tb_kernel_override())) {
        snprintf(k->source, sizeof k->source, "TRITBENCH_KERNEL");
    } else if (!tuned(threads, prompt, k)) {
        char not_tuned[sizeof k->source];
        snprintf(not_tuned, sizeof not_tuned, "%s", k->source);
        k->decode = k->prefill = tb_kernel_ranked();
        if (!k->decode) return tb_fail(err, "no kernel this CPU can run");
        snprintf(k->source, sizeof k->source,
                 "rank %d, the highest this CPU runs (not tuned: %.800s)", k->decode->rank,
                 not_tuned);
    }
    if (getenv("TRITBENCH_DEBUG"))
        fprintf(stderr, "tritbench: decode kernel %s, prefill kernel %s, at %d thread%s: %s\n",
                k->decode->name, k->prefill->name, threads, threads > 1 ? "s" : "", k->source);
    return TB_OK;
}

const tb_kernel *tb_select_best(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    tb_engine_kernels k;
    tb_error err;
    if (tb_select_engine_kernels(NULL, cpus > 0 ? (int)cpus : 1, 1, &k, &err)) return NULL;
    return k.decode;
}

void tb_engine_kernels_to_json(cJSON *o, const tb_engine_kernels *k)
{
    cJSON_AddStringToObject(o, "decode_kernel", k->decode->name);
    cJSON_AddStringToObject(o, "prefill_kernel", k->prefill->name);
    cJSON_AddStringToObject(o, "kernel_choice", k->source);
}

void tb_select_driver(const tb_kernel *kn, int threads, tb_driver_choice *d)
{
    const tb_tune_state *st = tb_tune_dispatch();
    char why[200];
    d->params = tb_driver_defaults();
    if (st->status != TB_TUNE_USED)
        snprintf(d->source, sizeof d->source, "defaults (%.600s)", st->why);
    else if (tb_tune_pick_driver(&st->tune, kn, threads, &d->params, why, sizeof why))
        snprintf(d->source, sizeof d->source, "defaults (tune file %.400s: %s)", st->path, why);
    else
        snprintf(d->source, sizeof d->source, "tune file %.600s", st->path);
    if (getenv("TRITBENCH_DEBUG"))
        fprintf(stderr,
                "tritbench: %s at %d thread%s: prefetch %d bytes, chunk work %d bytes: %s\n",
                kn->name, threads, threads > 1 ? "s" : "", d->params.prefetch_bytes,
                d->params.chunk_work, d->source);
}

void tb_driver_to_json(cJSON *o, const tb_driver_choice *d)
{
    cJSON *j = cJSON_AddObjectToObject(o, "driver");
    cJSON_AddNumberToObject(j, "prefetch_bytes", d->params.prefetch_bytes);
    cJSON_AddNumberToObject(j, "chunk_work", d->params.chunk_work);
    cJSON_AddNumberToObject(j, "guided_div", d->params.guided_div);
    cJSON_AddStringToObject(j, "source", d->source);
}

int tb_select_peers(const char *list, const char *peer_lib, tb_error *err)
{
    char msg[700];
    if (!tb_list_has_peer(list) && !(peer_lib && *peer_lib)) return TB_OK;
    if (tb_peers_load(peer_lib, msg, sizeof msg)) return tb_fail(err, "%s", msg);
    return TB_OK;
}

int tb_select_kernels(const char *list, const tb_kernel **sel, int max, int *nsel, tb_error *err)
{
    *nsel = 0;
    if (strcmp(list, "all") == 0) { // tritbench's own: peers are named one by one
        for (int i = 0; i < tb_kernel_static_count() && *nsel < max; i++)
            if (tb_kernel_supported(tb_kernel_at(i), NULL, 0)) sel[(*nsel)++] = tb_kernel_at(i);
        return TB_OK;
    }
    char buf[512], *save = NULL;
    if (strlen(list) >= sizeof buf) return tb_fail(err, "--kernel: list too long");
    strcpy(buf, list);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*nsel == max) return tb_fail(err, "--kernel: more than %d kernels", max);
        int rc = tb_select_kernel(t, &sel[*nsel], err);
        if (rc) return rc;
        (*nsel)++;
    }
    return *nsel ? TB_OK : tb_fail(err, "--kernel: empty list");
}

int tb_config_shapes(const char *config, int shapes[][2], int max, int *n, tb_error *err)
{
    tb_config c;
    if (tb_config_find(config, &c))
        return tb_fail(err, "--model: unknown configuration '%s' (see 'tritbench model --help')",
                       config);
    *n = 0;
    for (int l = 0; l < TB_N_LINEAR; l++) {
        int rows, cols, seen = 0;
        tb_linear_shape(&c, l, &rows, &cols);
        for (int s = 0; s < *n; s++) seen |= shapes[s][0] == rows && shapes[s][1] == cols;
        if (!seen && *n < max) shapes[*n][0] = rows, shapes[*n][1] = cols, (*n)++;
    }
    return TB_OK;
}

// Which baseline the speedups of the papers are quoted against: FP16 first (llama.cpp's FP16),
// then FP32; among equals the higher rank. -1: not a baseline.
static int baseline_preference(const tb_kernel *kn)
{
    switch (kn->baseline) {
    case TB_FLOAT_FP16:
        return 2000 + kn->rank;
    case TB_FLOAT_FP32:
        return 1000 + kn->rank;
    default:
        return -1;
    }
}

int tb_select_baseline(const char *name, const tb_kernel *const *sel, int nsel,
                       const tb_kernel **base, tb_error *err)
{
    *base = NULL;
    if (name) {
        for (int i = 0; i < nsel; i++)
            if (strcmp(sel[i]->name, name) == 0) *base = sel[i];
        return *base ? TB_OK
                     : tb_fail(err, "--baseline: '%s' is not among the kernels timed", name);
    }
    int best = -1;
    for (int i = 0; i < nsel; i++) {
        int pref = baseline_preference(sel[i]);
        if (pref > best) best = pref, *base = sel[i];
    }
    if (!*base) *base = sel[0];
    return TB_OK;
}

// A file computed with a SiLU FFN while its shapes are 2B4T's is warned about on stderr, once
// a process (a run may open its model more than once).
static void warn_ffn_once(const tb_model *m, const char *spec)
{
    static atomic_int warned;
    char msg[700];
    if (tb_model_ffn_warning(m, spec, msg, sizeof msg) && atomic_exchange(&warned, 1) == 0)
        fprintf(stderr, "tritbench: warning: %s\n", msg);
}

int tb_open_model(const char *spec, uint64_t seed, int ffn, tb_model *m, tb_error *err)
{
    char msg[600];
    if (tb_model_open(spec, seed, m, msg, sizeof msg)) return tb_fail(err, "--model: %s", msg);
    if (ffn >= 0) tb_model_force_ffn(m, (tb_ffn_act)ffn);
    warn_ffn_once(m, spec);
    return TB_OK;
}

int tb_check_memory(const tb_config *c, uint64_t need, tb_error *err)
{
    uint64_t avail = tb_mem_available();
    // Keep a tenth in reserve: the page cache and the other users of a shared machine.
    if (avail && need > avail / 10 * 9)
        return tb_fail(err,
                       "model %s needs about %.1f GiB (%.1f G ternary weights, KV cache, "
                       "buffers), more than the %.1f GiB available here (MemAvailable): refused",
                       c->name, (double)need / (1u << 30), (double)tb_model_ternary_params(c) / 1e9,
                       (double)avail / (1u << 30));
    return TB_OK;
}

int tb_check_sequence(const tb_config *c, const int *prompt, int n_prompt, int tokens,
                      tb_error *err)
{
    for (int i = 0; prompt && i < n_prompt; i++)
        if (prompt[i] >= c->vocab_size)
            return tb_fail(err, "--prompt-tokens: token %d is outside the vocabulary (%d)",
                           prompt[i], c->vocab_size);
    if (n_prompt + tokens > c->seq_len)
        return tb_fail(err, "--tokens: %d prompt + %d tokens exceed the context %d", n_prompt,
                       tokens, c->seq_len);
    return TB_OK;
}

void tb_config_to_json(cJSON *o, const tb_config *c)
{
    cJSON *j = cJSON_AddObjectToObject(o, "config");
    cJSON_AddStringToObject(j, "name", c->name);
    cJSON_AddNumberToObject(j, "dim", c->dim);
    cJSON_AddNumberToObject(j, "hidden_dim", c->hidden_dim);
    cJSON_AddNumberToObject(j, "n_layers", c->n_layers);
    cJSON_AddNumberToObject(j, "n_heads", c->n_heads);
    cJSON_AddNumberToObject(j, "n_kv_heads", c->n_kv_heads);
    cJSON_AddNumberToObject(j, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(j, "context", c->seq_len);
    cJSON_AddNumberToObject(j, "rope_theta", c->rope_theta);
    cJSON_AddNumberToObject(j, "norm_eps", c->norm_eps);
    cJSON_AddStringToObject(j, "ffn", tb_ffn_names[c->ffn]);
    cJSON_AddStringToObject(j, "ffn_source", tb_ffn_source_names[c->ffn_source]);
}

void tb_decode_limit_to_json(cJSON *o, uint64_t weight_bytes, double kv_per_token, double bw,
                             double bw_median, int passes, double paired, double decode_tps)
{
    double per_token = (double)weight_bytes + kv_per_token;
    cJSON_AddNumberToObject(o, "weight_bytes_read_per_token", (double)weight_bytes);
    cJSON_AddNumberToObject(o, "kv_cache_bytes_read_per_token", kv_per_token);
    cJSON_AddNumberToObject(o, "bytes_read_per_token", per_token);
    cJSON_AddNumberToObject(o, "read_bandwidth_bytes_per_s", bw);
    cJSON_AddNumberToObject(o, "read_bandwidth_median_bytes_per_s", bw_median);
    cJSON_AddNumberToObject(o, "read_bandwidth_passes", passes);
    cJSON_AddNumberToObject(o, "decode_fraction_of_bandwidth_limit", decode_tps * per_token / bw);
    cJSON_AddNumberToObject(o, "decode_fraction_of_median_bandwidth",
                            decode_tps * per_token / bw_median);
    if (paired > 0)
        cJSON_AddNumberToObject(o, "decode_fraction_of_adjacent_passes", paired);
    else
        cJSON_AddNullToObject(o, "decode_fraction_of_adjacent_passes");
}

static int check_fits(const tb_config *c, const tb_kernel *const *kns, int nk, int max_seq,
                      int n_prompt, tb_head_format head, int threads, tb_error *err)
{
    for (int i = 0; i < nk; i++) {
        uint64_t need = tb_transformer_bytes_needed(c, kns[i], max_seq, n_prompt, head, threads);
        // The bandwidth probe reads a buffer as large as what a step streams (roofline.h): at
        // most what the engine holds, at most the plateau.
        uint64_t probe = need < tb_roof_plateau_bytes() ? need : tb_roof_plateau_bytes();
        need += probe;
        int rc = tb_check_memory(c, need, err);
        if (rc) return rc;
    }
    return TB_OK;
}

int tb_open_engine_model(const char *spec, uint64_t seed, int ffn, const tb_kernel *const *kns,
                         int nk, const int *prompt, int n_prompt, int tokens, tb_head_format head,
                         int threads, tb_model *m, tb_error *err)
{
    tb_config pre;
    const int max_seq = n_prompt + tokens;
    int rc;
    if (tb_config_find(spec, &pre) == 0) {
        int seq = max_seq < pre.seq_len ? max_seq : pre.seq_len;
        if ((rc = check_fits(&pre, kns, nk, seq, n_prompt, head, threads, err))) return rc;
    }
    if ((rc = tb_open_model(spec, seed, ffn, m, err))) return rc;
    rc = tb_check_sequence(&m->cfg, prompt, n_prompt, tokens, err);
    if (!rc) rc = check_fits(&m->cfg, kns, nk, max_seq, n_prompt, head, threads, err);
    if (rc) tb_model_free(m);
    return rc;
}
