// tritbench perplexity: perplexity of a model over a text, per kernel, and each kernel's token
// distributions against a reference kernel's (KL divergence, top-1 agreement), over the same
// tokens.
//
// Scoring follows llama.cpp's perplexity tool, so figures compare with published ones: the text
// is cut into non-overlapping chunks of ctx tokens; each chunk is evaluated from position 0 (its
// first token replaced by BOS where the vocabulary has one) and only its second half is scored,
// every scored token with the context of at least ctx/2 tokens before it:
//
//   chunk:  t0 t1 ... t(ctx/2-1) | t(ctx/2) ... t(ctx-1)
//   scored:                        -log p(t(j+1) | t0..tj)   for j = ctx/2 .. ctx-2
//
// PPL = exp(mean NLL), its standard error exp(mean) * sd(NLL) / sqrt(n) (first order).
// KL(ref || kernel) = sum_v p_ref(v) (log p_ref(v) - log p_kernel(v)) per scored position,
// averaged, with its standard error; top-1: how often both put the same token first.
//
// Kernels run in groups that fit in memory side by side, chunk by chunk, with the reference in
// every group: the reference's distributions are never stored (ctx/2 x vocab floats a chunk).
#include "model.h"
#include "perplexity.h"
#include "select.h"
#include "tb_clock.h"
#include "tokenizer.h"
#include "transformer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Positions per forward call: the logits of a call are PPL_BATCH x vocab floats (33 MB for
// 2B4T's 128256), whatever ctx is.
#define PPL_BATCH       64
#define PPL_MAX_KERNELS 64

void tb_perplexity_defaults(tb_perplexity_params *p)
{
    *p = (tb_perplexity_params){
        .kernels = "all", .reference = "naive", .ctx = 512, .threads = 1, .seed = 1, .ffn = -1};
}

// Running sums of one kernel over the scored tokens.
typedef struct {
    const tb_kernel *kn;
    tb_transformer t;
    int built;
    double nll, nll2, kl, kl2;
    long n, top1;
    double seconds;
} ppl_run;

// log-softmax of row (n values) into out, in double: the NLL and KL sums stay exact to far
// below the differences between kernels.
static int log_softmax(const float *row, int n, double *out)
{
    float mx = row[0];
    int arg = 0;
    for (int i = 1; i < n; i++)
        if (row[i] > mx) mx = row[i], arg = i;
    double s = 0;
    for (int i = 0; i < n; i++) s += exp((double)row[i] - mx);
    double lse = mx + log(s);
    for (int i = 0; i < n; i++) out[i] = row[i] - lse;
    return arg;
}

// Scores rows [0, n) of a forward call covering chunk positions pos..pos+n-1.
static void score(ppl_run *runs, int nruns, int ref, float *const *logits, const int *toks, int pos,
                  int n, int first, int ctx, int vocab, double *lr, double *lk)
{
    for (int r = 0; r < n; r++) {
        int j = pos + r; // position j's logits predict token j + 1
        if (j < first || j >= ctx - 1) continue;
        int next = toks[j + 1];
        int ref_top = log_softmax(logits[ref] + (size_t)r * vocab, vocab, lr);
        for (int k = 0; k < nruns; k++) {
            ppl_run *u = &runs[k];
            int top = k == ref ? ref_top : log_softmax(logits[k] + (size_t)r * vocab, vocab, lk);
            const double *l = k == ref ? lr : lk;
            double nll = -l[next], kl = 0;
            if (k != ref)
                for (int v = 0; v < vocab; v++) kl += exp(lr[v]) * (lr[v] - lk[v]);
            u->nll += nll, u->nll2 += nll * nll, u->kl += kl, u->kl2 += kl * kl;
            u->top1 += top == ref_top, u->n++;
        }
    }
}

static cJSON *run_result(const ppl_run *u, const tb_kernel *ref)
{
    cJSON *o = cJSON_CreateObject();
    double n = (double)u->n, mean = u->nll / n;
    double var = u->n > 1 ? (u->nll2 - n * mean * mean) / (n - 1) : 0;
    double klm = u->kl / n, klvar = u->n > 1 ? (u->kl2 - n * klm * klm) / (n - 1) : 0;
    cJSON_AddStringToObject(o, "kernel", u->kn->name);
    cJSON_AddBoolToObject(o, "exact", u->kn->exact);
    cJSON_AddNumberToObject(o, "perplexity", exp(mean));
    cJSON_AddNumberToObject(o, "perplexity_stderr", exp(mean) * sqrt(var > 0 ? var : 0) / sqrt(n));
    cJSON_AddNumberToObject(o, "nll_mean", mean);
    cJSON_AddNumberToObject(o, "kl_vs_reference", klm);
    cJSON_AddNumberToObject(o, "kl_stderr", sqrt(klvar > 0 ? klvar : 0) / sqrt(n));
    cJSON_AddNumberToObject(o, "top1_vs_reference", (double)u->top1 / n);
    cJSON_AddStringToObject(o, "reference", ref->name);
    cJSON_AddNumberToObject(o, "scored_tokens", n);
    cJSON_AddNumberToObject(o, "seconds", u->seconds);
    return o;
}

// Evaluates every chunk on the kernels runs[0..nruns) (runs[ref] the reference), side by side.
static int run_group(const tb_perplexity_params *p, const tb_model *m, tb_pool *pool,
                     const int *tokens, int nchunks, int bos, ppl_run *runs, int nruns, int ref,
                     const tb_observer *obs, int *done, int total, tb_error *err)
{
    const int ctx = p->ctx, vocab = m->cfg.vocab_size, batch = ctx < PPL_BATCH ? ctx : PPL_BATCH;
    for (int k = 0; k < nruns; k++) {
        if (tb_transformer_build(&runs[k].t, m, runs[k].kn, pool, ctx, batch, TB_HEAD_F32, err->msg,
                                 sizeof err->msg))
            return TB_BAD_INPUT;
        runs[k].built = 1;
    }
    int *toks = malloc(sizeof *toks * (size_t)ctx);
    double *lr = malloc(sizeof *lr * (size_t)vocab), *lk = malloc(sizeof *lk * (size_t)vocab);
    float *logits[PPL_MAX_KERNELS];
    if (!toks || !lr || !lk) {
        free(toks), free(lr), free(lk);
        return tb_fail(err, "out of memory");
    }
    for (int c = 0; c < nchunks; c++) {
        memcpy(toks, tokens + (size_t)c * ctx, sizeof *toks * (size_t)ctx);
        if (bos >= 0) toks[0] = bos;
        // The first half only fills the KV cache: its logits (vocab floats a position, the
        // head's cost) are never scored, so they are not computed.
        const int first = ctx / 2;
        for (int pos = 0, n; pos < ctx; pos += n) {
            const int end = pos < first ? first : ctx, scored = pos >= first;
            n = end - pos < batch ? end - pos : batch;
            for (int k = 0; k < nruns; k++) {
                double t0 = tb_now();
                logits[k] = tb_transformer_forward(&runs[k].t, toks + pos, n, pos, scored);
                runs[k].seconds += tb_now() - t0;
            }
            if (scored) score(runs, nruns, ref, logits, toks, pos, n, first, ctx, vocab, lr, lk);
        }
        char what[160];
        snprintf(what, sizeof what, "chunk %d/%d, kernels %s..%s", c + 1, nchunks, runs[0].kn->name,
                 runs[nruns - 1].kn->name);
        tb_observe(obs, what, ++*done, total);
    }
    free(toks), free(lr), free(lk);
    return TB_OK;
}

// Token ids of a file of whitespace- or comma-separated numbers.
static int read_token_file(const char *path, int vocab, int **out, int *n, tb_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return tb_fail(err, "--tokens %s: cannot read it", path);
    int cap = 4096, *v = malloc(sizeof *v * (size_t)cap);
    long id;
    *n = 0;
    int c, rc = TB_OK;
    while (v && rc == TB_OK && (c = fgetc(f)) != EOF) {
        if (c == ',' || c == ' ' || c == '\n' || c == '\t' || c == '\r') continue;
        ungetc(c, f);
        if (fscanf(f, "%ld", &id) != 1) {
            rc = tb_fail(err, "--tokens %s: token %d: expected a whole number", path, *n + 1);
        } else if (id < 0 || id >= vocab) {
            rc = tb_fail(err, "--tokens %s: token %d: id %ld outside the vocabulary [0, %d)", path,
                         *n + 1, id, vocab);
        } else {
            if (*n == cap) {
                int *w = realloc(v, sizeof *v * (size_t)(cap *= 2));
                if (!w) free(v);
                v = w;
            }
            if (v) v[(*n)++] = (int)id;
        }
    }
    fclose(f);
    if (!v) return tb_fail(err, "out of memory");
    if (rc)
        free(v);
    else
        *out = v;
    return rc;
}

static int load_tokens(const tb_perplexity_params *p, const tb_model *m, int **tokens, int *n,
                       int *bos, tb_error *err)
{
    *bos = -1;
    if (p->tokens_path) return read_token_file(p->tokens_path, m->cfg.vocab_size, tokens, n, err);
    return tb_perplexity_tokenize(p->model, p->text_path, m->cfg.vocab_size, tokens, n, bos, err);
}

// Kernels in groups whose engines fit in memory beside the reference's.
static int group_end(const tb_config *c, const tb_kernel *const *sel, int from, int nsel,
                     const tb_kernel *ref, int ctx, int threads)
{
    int batch = ctx < PPL_BATCH ? ctx : PPL_BATCH;
    uint64_t avail = tb_mem_available() / 10 * 8; // room for the model's own copy and the OS
    uint64_t used = tb_transformer_bytes_needed(c, ref, ctx, batch, TB_HEAD_F32, threads);
    int end = from;
    while (end < nsel && end - from < PPL_MAX_KERNELS - 1) {
        used += tb_transformer_bytes_needed(c, sel[end], ctx, batch, TB_HEAD_F32, threads);
        if (end > from && avail && used > avail) break;
        end++;
    }
    return end;
}

int tb_perplexity_run(const tb_perplexity_params *p, const tb_observer *obs, cJSON **doc,
                      tb_error *err)
{
    *doc = NULL;
    if ((p->text_path != NULL) == (p->tokens_path != NULL))
        return tb_fail(err, "give the text: --text FILE (or --tokens FILE of token ids)");
    if (p->ctx < 4 || p->ctx % 2)
        return tb_fail(err, "--ctx %d: expected an even number of at least 4", p->ctx);
    const tb_kernel *sel[PPL_MAX_KERNELS * 4], *ref;
    int nsel, rc;
    if ((rc = tb_select_kernels(p->kernels, sel, PPL_MAX_KERNELS * 4, &nsel, err)) ||
        (rc = tb_select_kernel(p->reference, &ref, err)))
        return rc;
    tb_model m;
    if ((rc = tb_open_model(p->model, p->seed, p->ffn, &m, err))) return rc;
    int *tokens = NULL, ntok = 0, bos;
    if ((rc = load_tokens(p, &m, &tokens, &ntok, &bos, err))) return tb_model_free(&m), rc;
    int nchunks = ntok / p->ctx;
    if (p->chunks > 0 && p->chunks < nchunks) nchunks = p->chunks;
    if (p->ctx > m.cfg.seq_len)
        rc = tb_fail(err, "--ctx %d: longer than the model's context (%d)", p->ctx, m.cfg.seq_len);
    else if (nchunks == 0)
        rc = tb_fail(err, "%s: %d tokens, fewer than one chunk of --ctx %d",
                     p->text_path ? p->text_path : p->tokens_path, ntok, p->ctx);
    if (!rc && tb_model_materialize(&m, err->msg, sizeof err->msg)) rc = TB_BAD_INPUT;
    if (rc) {
        free(tokens);
        tb_model_free(&m);
        return rc;
    }
    // The kernels besides the reference, each once.
    int nk = 0;
    for (int i = 0; i < nsel; i++)
        if (sel[i] != ref) sel[nk++] = sel[i];
    *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(*doc, "model", p->model);
    tb_config_to_json(*doc, &m.cfg);
    cJSON_AddStringToObject(*doc, "text", p->text_path ? p->text_path : p->tokens_path);
    cJSON_AddNumberToObject(*doc, "tokens", ntok);
    cJSON_AddNumberToObject(*doc, "ctx", p->ctx);
    cJSON_AddNumberToObject(*doc, "chunks", nchunks);
    cJSON_AddNumberToObject(*doc, "bos_token_id", bos);
    cJSON_AddStringToObject(*doc, "reference", ref->name);
    cJSON_AddStringToObject(*doc, "head", "f32");
    cJSON *list = cJSON_AddArrayToObject(*doc, "results");
    tb_pool *pool = tb_pool_create(p->threads);
    int done = 0, total = 0;
    for (int from = 0; from < (nk ? nk : 1); total += nchunks)
        from = nk ? group_end(&m.cfg, sel, from, nk, ref, p->ctx, p->threads) : 1;
    for (int from = 0; !rc && from < (nk ? nk : 1);) {
        int end = nk ? group_end(&m.cfg, sel, from, nk, ref, p->ctx, p->threads) : from;
        ppl_run runs[PPL_MAX_KERNELS];
        int nruns = 0;
        memset(runs, 0, sizeof runs);
        runs[nruns++].kn = ref;
        for (int i = from; i < end; i++) runs[nruns++].kn = sel[i];
        rc = run_group(p, &m, pool, tokens, nchunks, bos, runs, nruns, 0, obs, &done, total, err);
        for (int k = 0; k < nruns; k++) {
            if (!rc && (k > 0 || from == 0)) cJSON_AddItemToArray(list, run_result(&runs[k], ref));
            if (runs[k].built) tb_transformer_free(&runs[k].t);
        }
        from = nk ? end : 1;
    }
    tb_pool_destroy(pool);
    free(tokens);
    tb_model_free(&m);
    if (rc) {
        cJSON_Delete(*doc);
        *doc = NULL;
    }
    return rc;
}

// The text through the model file's own tokenizer (engine/tokenizer.h).
int tb_perplexity_tokenize(const char *model, const char *path, int vocab, int **ids, int *n,
                           int *bos, tb_error *err)
{
    tb_gguf g;
    char msg[600];
    if (tb_gguf_open(model, &g, msg, sizeof msg) != 0)
        return tb_fail(err,
                       "--text needs a GGUF model file with its tokenizer (%s); a "
                       "configuration takes --tokens FILE of token ids",
                       msg);
    tb_tokenizer *t = NULL;
    int rc = tb_tokenizer_load(&g, &t, msg, sizeof msg) ? tb_fail(err, "%s", msg) : TB_OK;
    tb_gguf_close(&g);
    if (!rc && tb_tokenizer_n_vocab(t) != vocab)
        rc = tb_fail(err, "%s: tokenizer.ggml.tokens: %d tokens, the model has %d", model,
                     tb_tokenizer_n_vocab(t), vocab);
    FILE *f = rc ? NULL : fopen(path, "rb");
    if (!rc && !f) rc = tb_fail(err, "--text %s: cannot read it", path);
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (size_t got; f && !rc; len += got) {
        if (len + 65536 > cap) {
            char *grown = realloc(text, cap = 2 * cap + 65536);
            if (!grown) {
                rc = tb_fail(err, "out of memory");
                break;
            }
            text = grown;
        }
        if ((got = fread(text + len, 1, cap - len, f)) == 0) break;
    }
    if (f) fclose(f);
    int32_t *tok = NULL;
    size_t ntok = 0;
    if (!rc && tb_tokenizer_encode(t, text ? text : "", len, 0, &tok, &ntok, msg, sizeof msg))
        rc = tb_fail(err, "--text %s: %s", path, msg);
    free(text);
    if (!rc && ntok > (size_t)1 << 30) rc = tb_fail(err, "--text %s: too long", path);
    if (!rc && !(*ids = malloc(sizeof **ids * (ntok ? ntok : 1))))
        rc = tb_fail(err, "out of memory");
    for (size_t i = 0; !rc && i < ntok; i++) (*ids)[i] = tok[i];
    if (!rc) *n = (int)ntok, *bos = tb_tokenizer_bos(t);
    free(tok);
    if (t) tb_tokenizer_free(t);
    return rc;
}
