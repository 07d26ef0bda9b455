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

// ---------------------------------------------------------------------------------------------
// The output head's formats (model_check.h)

// The engine over r's tokens (the prompt as one prefill, then one token a call): every
// position's logits, and the head's input rows (the final-normed residual stream) into xs.
static void run_positions(tb_transformer *t, const tb_ref_run *r, float *logits, float *xs)
{
    size_t V = (size_t)t->cfg.vocab_size, d = (size_t)t->cfg.dim;
    float *lg = tb_transformer_forward(t, r->tokens, r->n_prompt, 0, 1);
    memcpy(logits, lg, (size_t)r->n_prompt * V * sizeof(float));
    memcpy(xs, t->s.xb, (size_t)r->n_prompt * d * sizeof(float));
    for (int p = r->n_prompt; p < r->n_pos; p++) {
        lg = tb_transformer_forward(t, r->tokens + p, 1, p, 0);
        memcpy(logits + (size_t)p * V, lg, V * sizeof(float));
        memcpy(xs + (size_t)p * d, t->s.xb, d * sizeof(float));
    }
}

// e[j]: how far from w[j] format h may hold it (model_check.h).
static void head_weight_error(tb_head_format h, const float *w, int d, double *e)
{
    const int group = 32;
    for (int j0 = 0; j0 < d; j0 += h == TB_HEAD_Q4 ? group : d) {
        int j1 = h == TB_HEAD_Q4 && j0 + group < d ? j0 + group : d;
        double a = 0;
        for (int j = j0; j < j1; j++) a = fabs(w[j]) > a ? fabs(w[j]) : a;
        for (int j = j0; j < j1; j++) switch (h) {
            case TB_HEAD_F16:
                e[j] = 0x1p-11 * fabs(w[j]) + 0x1p-25;
                break;
            case TB_HEAD_Q8:
                e[j] = a / 127 / 2;
                break;
            case TB_HEAD_Q4:
                e[j] = (a / 7 * (1 + 0x1p-10) + 0x1p-24) / 2;
                break;
            default:
                e[j] = 0;
            }
    }
}

// The kernel's float error relative to S = sum |w^ x^| (model_check.h).
static double head_rho(const tb_transformer *t, int d)
{
    const double u = 0x1p-24;
    if (!t->head_kn) return d * u / (1 - d * u); // the engine's f32 dot: any summation order
    if (t->head_kn->exact) return (1 + u) * (1 + u) * (1 + u) - 1;
    return t->head_kn->error_bound(d);
}

// Largest |logit - L_v| / bound over every position and row v (model_check.h).
static double head_bound_ratio(const tb_transformer *t, const float *logits, const float *xs,
                               int n_pos)
{
    const int V = t->cfg.vocab_size, d = t->cfg.dim;
    const int quantized = t->head_format == TB_HEAD_Q8 || t->head_format == TB_HEAD_Q4;
    const double rho = head_rho(t, d);
    double *e = malloc((size_t)d * sizeof *e), *dx = calloc((size_t)n_pos, sizeof *dx);
    if (!e || !dx) abort();
    for (int p = 0; p < n_pos && quantized; p++) { // s_x / 2 of each position's int8 input
        double a = 0;
        for (int j = 0; j < d; j++) {
            double f = fabs(xs[(size_t)p * d + j]);
            a = f > a ? f : a;
        }
        dx[p] = a / 127 / 2;
    }
    double worst = 0;
    for (int v = 0; v < V; v++) {
        const float *w = t->head + (size_t)v * d;
        head_weight_error(t->head_format, w, d, e);
        double sum_aw = 0; // sum of |w_j| + e_j: the held row's size, whatever the input
        for (int j = 0; j < d; j++) sum_aw += fabs(w[j]) + e[j];
        for (int p = 0; p < n_pos; p++) {
            const float *x = xs + (size_t)p * d;
            double exact = 0, held = 0, s = 0;
            for (int j = 0; j < d; j++) {
                double ax = fabs((double)x[j]);
                exact += (double)w[j] * (double)x[j];
                held += e[j] * ax;
                s += (fabs((double)w[j]) + e[j]) * ax;
            }
            // sum (|w| + e) |x - x^| <= s_x / 2 sum_aw, and S <= s + s_x / 2 sum_aw.
            double input = dx[p] * sum_aw;
            double bound = TB_HEAD_BOUND_SLACK * (held + input + rho * (s + input));
            double diff = fabs(logits[(size_t)p * V + v] - exact);
            double ratio = bound > 0 ? diff / bound : diff > 0 ? INFINITY : 0;
            if (!(ratio <= worst)) worst = ratio; // a NaN logit is the worst of all
        }
    }
    free(e), free(dx);
    return worst;
}

int tb_head_compare(const tb_model *m, const tb_kernel *kn, tb_pool *pool, const tb_ref_run *r,
                    const tb_head_format *heads, int n, tb_head_cmp *out, char *err, size_t err_len)
{
    const size_t V = (size_t)m->cfg.vocab_size, d = (size_t)m->cfg.dim, P = (size_t)r->n_pos;
    tb_transformer t;
    if (tb_transformer_build(&t, m, kn, pool, r->n_pos, r->n_prompt, TB_HEAD_F16, err, err_len))
        return -1;
    float *base = malloc(P * V * sizeof(float)), *lg = malloc(P * V * sizeof(float));
    float *xs = malloc(P * d * sizeof(float)), *xh = malloc(P * d * sizeof(float));
    if (!base || !lg || !xs || !xh) abort();
    run_positions(&t, r, base, xs);
    const tb_head_format base_format = t.head_format;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        tb_head_cmp *o = &out[i];
        memset(o, 0, sizeof *o);
        if (tb_transformer_set_head(&t, heads[i], err, err_len)) {
            rc = -1;
            break;
        }
        run_positions(&t, r, lg, xh);
        if (memcmp(xs, xh, P * d * sizeof(float)) != 0) {
            // The same kernel on the same tokens: only the head may differ.
            snprintf(err, err_len,
                     "head %s: the head's input differs from the f16 run's (the "
                     "engine is not deterministic up to the head)",
                     tb_head_names[heads[i]]);
            rc = -1;
            break;
        }
        o->head = t.head_format;
        o->base = base_format;
        o->kernel = t.head_kn ? t.head_kn->name : NULL;
        o->bytes = tb_transformer_weight_read_bytes(&t) - t.ternary_bytes - t.norm_bytes;
        double num = 0, den = 0;
        int top1 = 0, top1_b = 0;
        for (size_t p = 0; p < P; p++) {
            const float *b = base + p * V, *h = lg + p * V, *f = r->logits_b + p * V;
            for (size_t v = 0; v < V; v++) {
                num += ((double)h[v] - b[v]) * ((double)h[v] - b[v]);
                den += (double)b[v] * b[v];
            }
            int ah = tb_sample_argmax(h, (int)V);
            top1 += ah == tb_sample_argmax(b, (int)V);
            top1_b += ah == tb_sample_argmax(f, (int)V);
            o->kl_vs_f16 += kl_softmax(b, h, (int)V) / (double)P;
            o->kl_vs_float += kl_softmax(f, h, (int)V) / (double)P;
        }
        o->nmse_vs_f16 = den > 0 ? num / den : 0;
        o->top1_vs_f16 = (double)top1 / (double)P;
        o->top1_vs_float = (double)top1_b / (double)P;
        o->bound_ratio = head_bound_ratio(&t, lg, xh, r->n_pos);
    }
    free(base), free(lg), free(xs), free(xh);
    tb_transformer_free(&t);
    return rc;
}
