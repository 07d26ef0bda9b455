// tritbench generate: the engine on a model with one kernel: token ids, prefill and decode
// speeds, and where the bytes went.
#include "decode.h"
#include "model.h"
#include "roofline.h"
#include "runners.h"
#include "select.h"
#include "tb_clock.h"
#include "tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

// Text in and out: the model file's tokenizer, the prompt's ids, the tokens that end a reply,
// and how much of the generated text has been handed on.
typedef struct {
    const tb_generate_params *p;
    tb_tokenizer *tok;
    int *prompt, n_prompt;
    int stop[2]; // end of text, end of turn (-1: none)
    int32_t *gen;
    size_t ngen, shown;
    int stopped;
} text_session;

// The id of a token by its text, or -1.
static int find_token(const tb_tokenizer *t, const char *piece)
{
    for (int i = 0; i < tb_tokenizer_n_vocab(t); i++)
        if (strcmp(tb_tokenizer_piece(t, i), piece) == 0) return i;
    return -1;
}

// Appends the ids of text (BOS first if bos) to the prompt.
static int add_text(text_session *ts, const char *text, int bos, tb_error *err)
{
    int32_t *ids;
    size_t n;
    char msg[600];
    if (tb_tokenizer_encode(ts->tok, text, strlen(text), bos, &ids, &n, msg, sizeof msg))
        return tb_fail(err, "--prompt: %s", msg);
    int *grown = realloc(ts->prompt, sizeof *grown * (ts->n_prompt + n + 1));
    if (!grown) return free(ids), tb_fail(err, "out of memory");
    ts->prompt = grown;
    for (size_t i = 0; i < n; i++) ts->prompt[ts->n_prompt++] = ids[i];
    free(ids);
    return TB_OK;
}

static int add_token(text_session *ts, int id)
{
    int *grown = realloc(ts->prompt, sizeof *grown * (ts->n_prompt + 1));
    if (!grown) return TB_BAD_INPUT;
    ts->prompt = grown, ts->prompt[ts->n_prompt++] = id;
    return TB_OK;
}

static char *read_text(const char *path, tb_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return tb_fail(err, "--prompt-file %s: cannot read it", path), NULL;
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);
    for (size_t got; s && (got = fread(s + len, 1, cap - len - 1, f)) > 0;) {
        len += got;
        if (len + 1 == cap) {
            char *grown = realloc(s, cap *= 2);
            if (!grown) free(s);
            s = grown;
        }
    }
    fclose(f);
    if (!s) return tb_fail(err, "out of memory"), NULL;
    s[len] = '\0';
    if (strlen(s) != len)
        return free(s), tb_fail(err, "--prompt-file %s: holds a NUL byte", path), NULL;
    return s;
}

// The prompt's ids from text. The 2B4T chat template (its tokenizer_config.json), with the
// control tokens by id, never parsed out of the user's text:
//   <|begin_of_text|>System: SYSTEM<|eot_id|>User: TEXT<|eot_id|>Assistant:
static int text_prompt(const tb_generate_params *p, text_session *ts, tb_error *err)
{
    tb_gguf g;
    char msg[600];
    if (tb_gguf_open(p->model, &g, msg, sizeof msg) != 0)
        return tb_fail(err, "--prompt needs a GGUF model file with its tokenizer (%s)", msg);
    int rc = tb_tokenizer_load(&g, &ts->tok, msg, sizeof msg) ? tb_fail(err, "%s", msg) : TB_OK;
    tb_gguf_close(&g);
    char *text = rc ? NULL : p->text ? strdup(p->text) : read_text(p->text_path, err);
    if (!rc && !text) rc = TB_BAD_INPUT;
    ts->stop[0] = ts->tok ? tb_tokenizer_eos(ts->tok) : -1;
    ts->stop[1] = ts->tok ? find_token(ts->tok, "<|eot_id|>") : -1;
    if (!rc && p->chat) {
        int bos = tb_tokenizer_bos(ts->tok), eot = ts->stop[1];
        if (bos < 0 || eot < 0)
            rc = tb_fail(err, "--chat: %s has no %s token: not the LLaMA 3 vocabulary of 2B4T",
                         p->model, bos < 0 ? "BOS" : "<|eot_id|>");
        size_t need = strlen(text) + (p->system ? strlen(p->system) : 0) + 16;
        char *line = rc ? NULL : malloc(need);
        if (!rc && !line) rc = tb_fail(err, "out of memory");
        if (!rc) rc = add_token(ts, bos);
        if (!rc && p->system) {
            snprintf(line, need, "System: %s", p->system);
            if (!(rc = add_text(ts, line, 0, err))) rc = add_token(ts, eot);
        }
        if (!rc) snprintf(line, need, "User: %s", text), rc = add_text(ts, line, 0, err);
        if (!rc) rc = add_token(ts, eot);
        if (!rc) rc = add_text(ts, "Assistant: ", 0, err);
        free(line);
    } else if (!rc) {
        rc = add_text(ts, text, tb_tokenizer_bos(ts->tok) >= 0, err);
    }
    free(text);
    if (!rc && ts->n_prompt == 0) rc = tb_fail(err, "--prompt: empty (no token to start from)");
    return rc;
}

// Each token sampled: the text it adds is handed on (the whole reply decoded again, the new
// bytes passed: a character split across tokens comes out whole once its last byte is there).
static int on_token(void *ctx, int id)
{
    text_session *ts = ctx;
    if (id == ts->stop[0] || id == ts->stop[1]) return ts->stopped = 1;
    int32_t *grown = realloc(ts->gen, sizeof *grown * (ts->ngen + 1));
    if (!grown) return 0;
    ts->gen = grown, ts->gen[ts->ngen++] = id;
    char *text, msg[200];
    size_t len;
    if (tb_tokenizer_decode(ts->tok, ts->gen, ts->ngen, 0, &text, &len, msg, sizeof msg)) return 0;
    if (len > ts->shown && ts->p->on_text)
        ts->p->on_text(ts->p->on_text_ctx, text + ts->shown, len - ts->shown);
    ts->shown = len > ts->shown ? len : ts->shown;
    free(text);
    return 0;
}

static void generate(const tb_generate_params *p, tb_transformer *t, const tb_engine_kernels *ek,
                     double load_s, text_session *ts, cJSON **doc)
{
    const int *prompt = ts->tok ? ts->prompt : p->prompt;
    int n_prompt = ts->tok ? ts->n_prompt : p->n_prompt;
    int *out = malloc((size_t)p->tokens * sizeof(int));
    if (!out) abort();
    tb_sampler sampler = {(float)p->temperature, p->seed ^ SAMPLING_SEED_MIX,
                          ts->tok ? on_token : NULL, ts};
    // The roof on the bytes a decode step streams (roofline.h).
    size_t work = tb_transformer_weight_read_bytes(t) + t->kv_bytes;
    tb_bw_probe *probe = tb_bw_probe_open(tb_roof_buffer_bytes(work, 0));
    for (int r = 0; r < PROBE_PASSES_AROUND; r++) tb_bw_probe_pass(probe, t->pool);
    tb_profile prof = {{0}};
    tb_gen_stats st;
    int n = tb_generate_tokens(t, prompt, n_prompt, out, p->tokens, &sampler, probe, TB_PROBE_EVERY,
                               NULL, p->profile ? &prof : NULL, &st);
    for (int r = 0; r < PROBE_PASSES_AROUND; r++) tb_bw_probe_pass(probe, t->pool);
    *doc = start_doc(p, t, ek);
    cJSON_AddItemToObject(*doc, "tokens", cJSON_CreateIntArray(out, n));
    cJSON_AddNumberToObject(*doc, "prompt_tokens", n_prompt);
    if (ts->tok) {
        char *text, msg[200];
        size_t len;
        cJSON_AddBoolToObject(*doc, "chat", p->chat);
        cJSON_AddItemToObject(*doc, "prompt_ids", cJSON_CreateIntArray(prompt, n_prompt));
        if (!tb_tokenizer_decode(ts->tok, ts->gen, ts->ngen, 0, &text, &len, msg, sizeof msg)) {
            cJSON_AddStringToObject(*doc, "text", text);
            free(text);
        }
        cJSON_AddBoolToObject(*doc, "stopped_at_end_of_text", ts->stopped);
    }
    cJSON_AddNumberToObject(*doc, "load_seconds", load_s);
    speeds_to_json(*doc, &st, t, probe, n_prompt);
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
    text_session ts = {.p = p, .stop = {-1, -1}};
    int rc = p->text || p->text_path ? text_prompt(p, &ts, err) : TB_OK;
    const int *prompt = ts.tok ? ts.prompt : p->prompt;
    int n_prompt = ts.tok ? ts.n_prompt : p->n_prompt;
    if (!rc) rc = tb_select_engine_kernels(p->kernel, p->threads, n_prompt, &ek, err);
    if (!rc)
        rc = tb_open_engine_model(p->model, p->seed, p->ffn, &ek.decode, 1, prompt, n_prompt,
                                  p->tokens, p->head, p->threads, &m, err);
    if (rc) {
        free(ts.prompt);
        if (ts.tok) tb_tokenizer_free(ts.tok);
        return rc;
    }
    tb_pool *pool = tb_pool_create(p->threads);
    tb_transformer t;
    double t0 = tb_now();
    rc = tb_transformer_build_pair(&t, &m, ek.decode, ek.prefill, pool, n_prompt + p->tokens,
                                   n_prompt, p->head, err->msg, sizeof err->msg)
             ? TB_BAD_INPUT
             : TB_OK;
    if (!rc) {
        const tb_driver_params saved = tb_driver_get();
        tb_driver_choice dc;
        tb_select_driver(ek.decode, p->threads, &dc);
        tb_driver_set(dc.params);
        generate(p, &t, &ek, tb_now() - t0, &ts, doc);
        tb_driver_set(saved);
        tb_driver_to_json(*doc, &dc);
        tb_transformer_free(&t);
    }
    tb_pool_destroy(pool);
    tb_model_free(&m);
    free(ts.prompt), free(ts.gen);
    if (ts.tok) tb_tokenizer_free(ts.tok);
    return rc;
}
