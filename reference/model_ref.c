// The float reference model: llama2.c-style loops, nothing clever, double accumulation. It
// shares the quantizers with the engine (tb_ref_quantize_row) and nothing else: its own RMSNorm,
// RoPE, attention and softmax, so a mistake in the engine's versions shows up as a mismatch.
#include "tb_model.h"
#include "tb_reference.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const tb_linear_names[TB_N_LINEAR] = {
    "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down",
};

const char *const tb_ffn_names[TB_FFN_COUNT] = {"relu2", "silu"};
const char *const tb_ffn_source_names[TB_FFN_SOURCE_COUNT] = {"configuration", "hidden_activation",
                                                              "architecture", "override"};

int tb_ffn_parse(const char *name)
{
    for (int f = 0; f < TB_FFN_COUNT; f++)
        if (strcmp(name, tb_ffn_names[f]) == 0) return f;
    return -1;
}

void tb_linear_shape(const tb_config *c, int which, int *n, int *k)
{
    int kv_dim = c->n_kv_heads * (c->dim / c->n_heads);
    switch (which) {
    case TB_WQ:
        *n = c->dim, *k = c->dim;
        break;
    case TB_WK:
    case TB_WV:
        *n = kv_dim, *k = c->dim;
        break;
    case TB_WO:
        *n = c->dim, *k = c->dim;
        break;
    case TB_WGATE:
    case TB_WUP:
        *n = c->hidden_dim, *k = c->dim;
        break;
    default:
        *n = c->dim, *k = c->hidden_dim;
        break; // TB_WDOWN
    }
}

int tb_config_check(const tb_config *c, char *err, size_t err_len)
{
    // Caps keep every derived size comfortably inside int and size_t arithmetic.
    const struct {
        const char *name;
        int v, lo, hi;
    } f[] = {
        {"dim", c->dim, 2, 1 << 17},
        {"hidden_dim", c->hidden_dim, 1, 1 << 17},
        {"n_layers", c->n_layers, 1, 1024},
        {"n_heads", c->n_heads, 1, 4096},
        {"n_kv_heads", c->n_kv_heads, 1, 4096},
        {"vocab_size", c->vocab_size, 1, 1 << 22},
        {"seq_len", c->seq_len, 1, 1 << 20},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].v < f[i].lo || f[i].v > f[i].hi) {
            snprintf(err, err_len, "%s = %d is out of range [%d, %d]", f[i].name, f[i].v, f[i].lo,
                     f[i].hi);
            return -1;
        }
    if (c->dim % c->n_heads || (c->dim / c->n_heads) % 2) {
        snprintf(err, err_len, "dim %d / n_heads %d must be a whole, even head size", c->dim,
                 c->n_heads);
        return -1;
    }
    if (c->n_heads % c->n_kv_heads) {
        snprintf(err, err_len, "n_heads %d is not a multiple of n_kv_heads %d", c->n_heads,
                 c->n_kv_heads);
        return -1;
    }
    if ((unsigned)c->ffn >= TB_FFN_COUNT || (unsigned)c->ffn_source >= TB_FFN_SOURCE_COUNT) {
        snprintf(err, err_len, "ffn %d (source %d): expected an activation of tb_ffn_act",
                 (int)c->ffn, (int)c->ffn_source);
        return -1;
    }
    if (!(c->rope_theta > 1.0f) || !(c->norm_eps > 0.0f) || !(c->norm_eps < 1.0f)) {
        snprintf(err, err_len, "rope_theta %g must be > 1 and norm_eps %g in (0, 1)",
                 (double)c->rope_theta, (double)c->norm_eps);
        return -1;
    }
    return 0;
}

struct tb_ref_state {
    const tb_model *m;
    tb_ref_mode mode;
    int max_seq;
    // Current token's activations, as in llama2.c's RunState.
    float *x;    // (dim) residual stream
    float *xb;   // (dim) normed input of a block
    float *xb2;  // (dim)
    float *q;    // (dim)
    float *hb;   // (hidden_dim)
    float *hb2;  // (hidden_dim)
    float *xin;  // (max(dim, hidden_dim)) what a BitLinear actually sees (fake-quantized)
    int8_t *xq;  // (max(dim, hidden_dim))
    double *att; // (max_seq) scores of one head
    float *kc;   // (n_layers, max_seq, kv_dim) key cache
    float *vc;   // (n_layers, max_seq, kv_dim) value cache
};

tb_ref_state *tb_ref_model_create(const tb_model *m, tb_ref_mode mode, int max_seq)
{
    const tb_config *c = &m->cfg;
    for (int i = 0; i < c->n_layers * TB_N_LINEAR; i++) assert(m->lin[i].w != NULL);
    tb_ref_state *s = calloc(1, sizeof *s);
    int kv_dim = c->n_kv_heads * (c->dim / c->n_heads);
    int wide = c->dim > c->hidden_dim ? c->dim : c->hidden_dim;
    size_t cache = (size_t)c->n_layers * (size_t)max_seq * (size_t)kv_dim;
    s->m = m;
    s->mode = mode;
    s->max_seq = max_seq;
    s->x = calloc((size_t)c->dim, sizeof(float));
    s->xb = calloc((size_t)c->dim, sizeof(float));
    s->xb2 = calloc((size_t)c->dim, sizeof(float));
    s->q = calloc((size_t)c->dim, sizeof(float));
    s->hb = calloc((size_t)c->hidden_dim, sizeof(float));
    s->hb2 = calloc((size_t)c->hidden_dim, sizeof(float));
    s->xin = calloc((size_t)wide, sizeof(float));
    s->xq = calloc((size_t)wide, 1);
    s->att = calloc((size_t)max_seq, sizeof(double));
    s->kc = calloc(cache, sizeof(float));
    s->vc = calloc(cache, sizeof(float));
    if (!s->x || !s->xb || !s->xb2 || !s->q || !s->hb || !s->hb2 || !s->xin || !s->xq || !s->att ||
        !s->kc || !s->vc) {
        fprintf(stderr, "tritbench: out of memory for the reference model\n");
        exit(1);
    }
    return s;
}

void tb_ref_model_destroy(tb_ref_state *s)
{
    if (!s) return;
    free(s->x), free(s->xb), free(s->xb2), free(s->q), free(s->hb), free(s->hb2);
    free(s->xin), free(s->xq), free(s->att), free(s->kc), free(s->vc);
    free(s);
}

static void rmsnorm(float *out, const float *x, const float *w, int n, float eps)
{
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    double inv = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) out[i] = (float)((double)x[i] * inv * w[i]);
}

// y = W x for a ternary W. In TB_REF_QUANT mode x is first fake-quantized (int8 absmax, then
// back to float) exactly as BitNet does at every BitLinear input; in TB_REF_FLOAT it is not.
// Either way the sum runs over float inputs in double and the per-tensor scale multiplies last,
// which equals using the dequantized weights scale * w up to double rounding.
static void bitlinear(tb_ref_state *s, const tb_ternary *t, const float *x, float *y)
{
    const float *in = x;
    if (s->mode == TB_REF_QUANT) {
        float xs = tb_ref_quantize_row(x, t->k, s->xq);
        tb_ref_dequantize(s->xq, (size_t)t->k, xs, s->xin);
        in = s->xin;
    }
    for (int j = 0; j < t->n; j++) {
        const int8_t *w = t->w + (size_t)j * (size_t)t->k;
        double acc = 0;
        for (int i = 0; i < t->k; i++) acc += (double)in[i] * (double)w[i];
        y[j] = (float)(acc * (double)t->scale);
    }
}

// The FFN's gating activation of one gate value, in double (tb_ffn_act).
static double ffn_act(tb_ffn_act f, double g)
{
    if (f == TB_FFN_SILU) return g / (1.0 + exp(-g));
    double r = g > 0 ? g : 0;
    return r * r;
}

// NEOX-style RoPE on one head vector: pairs (i, i + hs/2), frequency theta^(-2i/hs).
static void rope(float *v, int hs, int pos, double theta)
{
    for (int i = 0; i < hs / 2; i++) {
        double ang = pos * pow(theta, -2.0 * i / hs);
        double c = cos(ang), sn = sin(ang);
        double a = v[i], b = v[i + hs / 2];
        v[i] = (float)(a * c - b * sn);
        v[i + hs / 2] = (float)(a * sn + b * c);
    }
}

void tb_ref_model_forward(tb_ref_state *s, int token, int pos, float *logits)
{
    const tb_model *m = s->m;
    const tb_config *c = &m->cfg;
    int dim = c->dim, hd = c->hidden_dim, hs = dim / c->n_heads;
    int kv_dim = c->n_kv_heads * hs, group = c->n_heads / c->n_kv_heads;
    assert(token >= 0 && token < c->vocab_size && pos >= 0 && pos < s->max_seq);
    memcpy(s->x, m->embedding + (size_t)token * dim, (size_t)dim * sizeof(float));

    for (int l = 0; l < c->n_layers; l++) {
        const tb_ternary *lin = m->lin + (size_t)l * TB_N_LINEAR;
        float *kc = s->kc + ((size_t)l * s->max_seq + pos) * kv_dim;
        float *vc = s->vc + ((size_t)l * s->max_seq + pos) * kv_dim;
        // Attention: q, k, v from the normed input; k and v go straight into the cache.
        rmsnorm(s->xb, s->x, m->attn_norm + (size_t)l * dim, dim, c->norm_eps);
        bitlinear(s, &lin[TB_WQ], s->xb, s->q);
        bitlinear(s, &lin[TB_WK], s->xb, kc);
        bitlinear(s, &lin[TB_WV], s->xb, vc);
        for (int h = 0; h < c->n_heads; h++) rope(s->q + h * hs, hs, pos, c->rope_theta);
        for (int h = 0; h < c->n_kv_heads; h++) rope(kc + h * hs, hs, pos, c->rope_theta);
        for (int h = 0; h < c->n_heads; h++) {
            const float *q = s->q + h * hs;
            int kvh = h / group;
            double mx = -INFINITY, sum = 0;
            for (int t = 0; t <= pos; t++) {
                const float *k = s->kc + ((size_t)l * s->max_seq + t) * kv_dim + kvh * hs;
                double d = 0;
                for (int i = 0; i < hs; i++) d += (double)q[i] * k[i];
                s->att[t] = d / sqrt((double)hs);
                if (s->att[t] > mx) mx = s->att[t];
            }
            for (int t = 0; t <= pos; t++) sum += s->att[t] = exp(s->att[t] - mx);
            for (int i = 0; i < hs; i++) {
                double acc = 0;
                for (int t = 0; t <= pos; t++)
                    acc += s->att[t] * s->vc[((size_t)l * s->max_seq + t) * kv_dim + kvh * hs + i];
                s->xb2[h * hs + i] = (float)(acc / sum);
            }
        }
        rmsnorm(s->xb, s->xb2, m->attn_sub_norm + (size_t)l * dim, dim, c->norm_eps);
        bitlinear(s, &lin[TB_WO], s->xb, s->xb2);
        for (int i = 0; i < dim; i++) s->x[i] += s->xb2[i];

        // FFN: the activation of the gate times up, sub-norm, down.
        rmsnorm(s->xb, s->x, m->ffn_norm + (size_t)l * dim, dim, c->norm_eps);
        bitlinear(s, &lin[TB_WGATE], s->xb, s->hb);
        bitlinear(s, &lin[TB_WUP], s->xb, s->hb2);
        for (int i = 0; i < hd; i++) s->hb[i] = (float)(ffn_act(c->ffn, s->hb[i]) * s->hb2[i]);
        rmsnorm(s->hb2, s->hb, m->ffn_sub_norm + (size_t)l * hd, hd, c->norm_eps);
        bitlinear(s, &lin[TB_WDOWN], s->hb2, s->xb);
        for (int i = 0; i < dim; i++) s->x[i] += s->xb[i];
    }

    // Final norm and the float output head (not quantized).
    rmsnorm(s->xb, s->x, m->final_norm, dim, c->norm_eps);
    const float *head = m->output ? m->output : m->embedding;
    for (int v = 0; v < c->vocab_size; v++) {
        const float *e = head + (size_t)v * dim;
        double acc = 0;
        for (int i = 0; i < dim; i++) acc += (double)s->xb[i] * e[i];
        logits[v] = (float)acc;
    }
}
