// Model-level validation: one sequence through the references, then through the engine.
#include "model_check.h"
#include "tb_clock.h"
#include "transformer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int tb_ref_run_make(const tb_model *m, const int *prompt, int n_prompt, int n_gen, tb_ref_run *r,
                    char *err, size_t err_len)
{
    const tb_config *c = &m->cfg;
    memset(r, 0, sizeof *r);
    r->n_prompt = n_prompt;
    r->n_pos = n_prompt + n_gen;
    if (n_prompt < 1 || n_gen < 0 || r->n_pos > c->seq_len) {
        snprintf(err, err_len, "%d prompt + %d generated tokens: expected 1..%d positions in all",
                 n_prompt, n_gen, c->seq_len);
        return -1;
    }
    size_t V = (size_t)c->vocab_size;
    r->tokens = calloc((size_t)r->n_pos, sizeof(int));
    r->logits_a = malloc((size_t)r->n_pos * V * sizeof(float));
    r->logits_b = malloc((size_t)r->n_pos * V * sizeof(float));
    if (!r->tokens || !r->logits_a || !r->logits_b) abort();
    tb_ref_state *a = tb_ref_model_create(m, TB_REF_QUANT, r->n_pos);
    tb_ref_state *b = tb_ref_model_create(m, TB_REF_FLOAT, r->n_pos);
    double num = 0, den = 0;
    for (int p = 0; p < r->n_pos; p++) {
        // Reference (a) chooses the continuation; (b) is fed the same tokens.
        r->tokens[p] =
            p < n_prompt ? prompt[p] : tb_sample_argmax(r->logits_a + (size_t)(p - 1) * V, (int)V);
        float *la = r->logits_a + (size_t)p * V, *lb = r->logits_b + (size_t)p * V;
        tb_ref_model_forward(a, r->tokens[p], p, la);
        tb_ref_model_forward(b, r->tokens[p], p, lb);
        for (size_t v = 0; v < V; v++) {
            num += ((double)lb[v] - la[v]) * ((double)lb[v] - la[v]);
            den += (double)la[v] * la[v];
        }
    }
    r->nmse_ab = den > 0 ? num / den : 0;
    tb_ref_model_destroy(a);
    tb_ref_model_destroy(b);
    return 0;
}

void tb_ref_run_free(tb_ref_run *r)
{
    free(r->tokens), free(r->logits_a), free(r->logits_b);
    memset(r, 0, sizeof *r);
}

// KL(p || q) of the softmaxes of two logit rows, in double.
static double kl_softmax(const float *lp, const float *lq, int n)
{
    double mp = lp[tb_sample_argmax(lp, n)], mq = lq[tb_sample_argmax(lq, n)];
    double zp = 0, zq = 0;
    for (int i = 0; i < n; i++) zp += exp(lp[i] - mp), zq += exp(lq[i] - mq);
    double kl = 0;
    for (int i = 0; i < n; i++) {
        double logp = lp[i] - mp - log(zp), logq = lq[i] - mq - log(zq);
        kl += exp(logp) * (logp - logq);
    }
    return kl > 0 ? kl : 0; // rounding can leave a hair below zero
}

int tb_engine_compare(const tb_model *m, const tb_kernel *kn, tb_pool *pool, const tb_ref_run *r,
                      tb_engine_cmp *out, char *err, size_t err_len)
{
    const tb_config *c = &m->cfg;
    memset(out, 0, sizeof *out);
    double t0 = tb_now();
    tb_transformer t;
    if (tb_transformer_build(&t, m, kn, pool, r->n_pos, r->n_prompt, 0, err, err_len)) return -1;
    size_t V = (size_t)c->vocab_size;
    out->logits = malloc((size_t)r->n_pos * V * sizeof(float));
    if (!out->logits) abort();
    float *lg = tb_transformer_forward(&t, r->tokens, r->n_prompt, 0, 1);
    memcpy(out->logits, lg, (size_t)r->n_prompt * V * sizeof(float));
    for (int p = r->n_prompt; p < r->n_pos; p++) {
        lg = tb_transformer_forward(&t, r->tokens + p, 1, p, 0);
        memcpy(out->logits + (size_t)p * V, lg, V * sizeof(float));
    }
    tb_transformer_free(&t);

    double num = 0, den = 0, kl = 0;
    int top1 = 0;
    out->greedy_equal = 1;
    for (int p = 0; p < r->n_pos; p++) {
        const float *e = out->logits + (size_t)p * V, *a = r->logits_a + (size_t)p * V,
                    *b = r->logits_b + (size_t)p * V;
        for (size_t v = 0; v < V; v++) {
            double d = (double)e[v] - a[v];
            num += d * d;
            den += (double)a[v] * a[v];
            if (fabs(d) > out->max_abs) out->max_abs = fabs(d);
        }
        int ae = tb_sample_argmax(e, (int)V);
        // From the last prompt position on, each argmax is a greedy choice.
        if (p >= r->n_prompt - 1 && ae != tb_sample_argmax(a, (int)V)) out->greedy_equal = 0;
        top1 += ae == tb_sample_argmax(b, (int)V);
        kl += kl_softmax(b, e, (int)V);
    }
    out->nmse = den > 0 ? num / den : 0;
    out->bound = TB_ENGINE_NMSE_BOUND(r->nmse_ab, c->n_layers);
    out->kl = kl / r->n_pos;
    out->top1_b = (double)top1 / r->n_pos;
    out->seconds = tb_now() - t0;
    return 0;
}
