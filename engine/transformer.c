// The forward pass. Read top to bottom: building (packing weights, buffers), the small float
// operations (RMSNorm, RoPE, attention, head), then tb_transformer_forward itself.
#include "transformer.h"
#include "tb_clock.h"
#include "float_layout.h"
#include "model.h"
#include "tb_reference.h"

#include <assert.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Attention works on chunks of ATT_CHUNK positions of one KV head, for up to ATT_HEADS query heads
// of its group at once: each key and value loaded feeds the products of every head of the pass
// (read once per query head, the 2B4T group of four read its keys and values four times and
// attention took 7-10 % of a decode step). A chunk leaves a partial softmax (max, sum and
// unnormalized output) and the chunks of a head are merged in chunk order. Decode spreads the
// chunks of one token over the threads; prefill gives each thread whole (token, group) items
// and runs their chunks one after another; both through the same functions, so a token's
// attention is the same floats either way and at any thread count.
#define ATT_CHUNK 64
#define ATT_HEADS 4

// ---------------------------------------------------------------------------------------------
// Building

const char *const tb_phase_names[TB_PHASE_COUNT] = {
    "norm+quant", "qkv", "attention", "o", "gate+up", "down", "head",
};

static int head_size(const tb_config *c)
{
    return c->dim / c->n_heads;
}

static int kv_dim(const tb_config *c)
{
    return c->n_kv_heads * head_size(c);
}

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

// Packing job: thread t fetches and packs tensors t, t + nthreads, ... with its own staging
// buffer, so generating a synthetic model (the slow part) runs on every thread.
// The first thread to fail claims `failed` (0 -> 1) and is then the only writer of err; the
// others only read the flag, to stop early. err is read after tb_pool_run returns, which orders
// it after every thread's work.
typedef struct {
    tb_transformer *t;
    atomic_int failed;
    char err[600];
} pack_job;

static void pack_part(void *ctx, int tid, int nthreads)
{
    pack_job *job = ctx;
    tb_transformer *t = job->t;
    const tb_config *c = &t->cfg;
    int8_t *w = NULL;
    size_t w_cap = 0;
    char err[400];
    for (int i = tid; i < c->n_layers * TB_N_LINEAR && !atomic_load(&job->failed); i += nthreads) {
        int n, k;
        tb_linear_shape(c, i % TB_N_LINEAR, &n, &k);
        size_t count = (size_t)n * (size_t)k;
        if (count > w_cap) {
            free(w);
            w = malloc(count);
            if (!w) abort();
            w_cap = count;
        }
        float scale;
        int rc = tb_model_ternary(t->model, i / TB_N_LINEAR, i % TB_N_LINEAR, w, &scale, err,
                                  sizeof err);
        if (rc == 0) {
            t->packed[i] = tb_alloc(t->kn->packed_size(n, k));
            rc = tb_pack(t->kn, w, scale, n, k, t->packed[i], err, sizeof err);
        }
        if (rc && atomic_exchange(&job->failed, 1) == 0)
            snprintf(job->err, sizeof job->err, "layer %d %s: %s", i / TB_N_LINEAR,
                     tb_linear_names[i % TB_N_LINEAR], err);
    }
    free(w);
}

static size_t act_bytes(const tb_config *c, const tb_kernel *kn, int batch)
{
    size_t a = kn->act_size(batch, c->dim), b = kn->act_size(batch, c->hidden_dim);
    return a > b ? a : b;
}

// The kernel of a product of n tokens: the decode kernel for one, the prefill kernel for more.
static const tb_kernel *kernel_for(const tb_transformer *t, int n)
{
    return n == 1 ? t->kn : t->prefill_kn;
}

const char *const tb_head_names[TB_HEAD_COUNT] = {"f32", "f16", "q8", "q4"};

int tb_head_parse(const char *name)
{
    for (int h = 0; h < TB_HEAD_COUNT; h++)
        if (strcmp(name, tb_head_names[h]) == 0) return h;
    return -1;
}

const tb_kernel *tb_head_kernel(tb_head_format h)
{
    static const tb_float_format formats[TB_HEAD_COUNT] = {TB_FLOAT_NONE, TB_FLOAT_FP16,
                                                           TB_FLOAT_Q8, TB_FLOAT_Q4};
    if (h <= TB_HEAD_F32 || h >= TB_HEAD_COUNT) return NULL;
    const tb_kernel *kn = tb_kernel_best_baseline(formats[h]);
    return kn && kn->pack_float ? kn : NULL;
}

// Bytes of the head in the form it is held in (f32: the model's own array).
static uint64_t head_bytes(const tb_config *c, const tb_kernel *head_kn)
{
    return head_kn ? (uint64_t)head_kn->packed_size(c->vocab_size, c->dim)
                   : tb_model_embedding_params(c) * 4;
}

uint64_t tb_transformer_bytes_needed(const tb_config *c, const tb_kernel *kn, int max_seq,
                                     int max_batch, tb_head_format head, int threads)
{
    uint64_t bytes = 0, staging = 0;
    for (int w = 0; w < TB_N_LINEAR; w++) {
        int n, k;
        tb_linear_shape(c, w, &n, &k);
        bytes += (uint64_t)kn->packed_size(n, k) * (uint64_t)c->n_layers;
        // A synthetic tensor is staged as float latent weights plus int8 (5 bytes a weight).
        if ((uint64_t)n * (uint64_t)k * 5 > staging) staging = (uint64_t)n * (uint64_t)k * 5;
    }
    uint64_t emb = tb_model_embedding_params(c);
    const tb_kernel *head_kn = tb_head_kernel(head);
    bytes += emb * 4 + (head_kn ? head_bytes(c, head_kn) : 0) + tb_model_norm_params(c) * 4;
    if (head_kn) bytes += (uint64_t)head_kn->act_size(max_batch, c->dim);
    bytes +=
        2ull * 4 * (uint64_t)c->n_layers * (uint64_t)(max_seq + ATT_BLOCK) * (uint64_t)kv_dim(c);
    // Per token of a batch: x, xb, xb2, q; hb, hb2; logits; k, v in float, xq in int8.
    bytes += (uint64_t)max_batch * (4ull * (4ull * c->dim + 2ull * c->hidden_dim +
                                            (uint64_t)c->vocab_size + 2ull * (uint64_t)kv_dim(c)) +
                                    (uint64_t)max_int(c->dim, c->hidden_dim));
    bytes += act_bytes(c, kn, max_batch) + staging * (uint64_t)threads;
    return bytes;
}

int tb_transformer_build(tb_transformer *t, const tb_model *m, const tb_kernel *kn, tb_pool *pool,
                         int max_seq, int max_batch, tb_head_format head, char *err, size_t err_len)
{
    return tb_transformer_build_pair(t, m, kn, kn, pool, max_seq, max_batch, head, err, err_len);
}

int tb_transformer_build_pair(tb_transformer *t, const tb_model *m, const tb_kernel *kn,
                              const tb_kernel *prefill, tb_pool *pool, int max_seq, int max_batch,
                              tb_head_format head, char *err, size_t err_len)
{
    memset(t, 0, sizeof *t);
    const tb_config *c = &m->cfg;
    if (max_seq < 1 || max_seq > c->seq_len || max_batch < 1 || max_batch > max_seq) {
        snprintf(err, err_len, "positions %d must be in [1, context %d], batch %d in [1, %d]",
                 max_seq, c->seq_len, max_batch, max_seq);
        return -1;
    }
    if (!prefill) prefill = kn;
    if (strcmp(tb_kernel_format(kn), tb_kernel_format(prefill)) != 0) {
        snprintf(err, err_len,
                 "decode kernel %s (format %s) and prefill kernel %s (format %s): the weights are "
                 "packed once, so both kernels must have the same packed format",
                 kn->name, tb_kernel_format(kn), prefill->name, tb_kernel_format(prefill));
        return -1;
    }
    t->cfg = *c;
    t->model = m;
    t->kn = kn;
    t->prefill_kn = prefill;
    t->pool = pool;
    t->max_seq = max_seq;
    t->max_batch = max_batch;

    // Ternary weights: fetched and packed once, here.
    int nlin = c->n_layers * TB_N_LINEAR;
    t->packed = calloc((size_t)nlin, sizeof *t->packed);
    if (!t->packed) abort();
    pack_job job = {.t = t};
    atomic_init(&job.failed, 0);
    tb_pool_run(pool, pack_part, &job);
    if (atomic_load(&job.failed)) {
        snprintf(err, err_len, "%s", job.err);
        tb_transformer_free(t);
        return -1;
    }
    for (int i = 0; i < nlin; i++) {
        int n, k;
        tb_linear_shape(c, i % TB_N_LINEAR, &n, &k);
        t->ternary_bytes += kn->packed_size(n, k);
        t->ternary_params += (uint64_t)n * (uint64_t)k;
    }

    t->head = m->output ? m->output : m->embedding;
    if (tb_transformer_set_head(t, head, err, err_len)) {
        tb_transformer_free(t);
        return -1;
    }
    t->norm_bytes = tb_model_norm_params(c) * 4;

    // RoPE tables in double, rounded once: cos/sin(pos * theta^(-2i/hs)).
    int hs = head_size(c), half = hs / 2;
    t->rope_cos = tb_alloc((size_t)max_seq * half * sizeof(float));
    t->rope_sin = tb_alloc((size_t)max_seq * half * sizeof(float));
    for (int p = 0; p < max_seq; p++)
        for (int i = 0; i < half; i++) {
            double ang = p * pow((double)c->rope_theta, -2.0 * i / hs);
            t->rope_cos[(size_t)p * half + i] = (float)cos(ang);
            t->rope_sin[(size_t)p * half + i] = (float)sin(ang);
        }

    // Run state.
    tb_run_state *s = &t->s;
    size_t B = (size_t)max_batch, d = (size_t)c->dim, hd = (size_t)c->hidden_dim;
    t->kv_seq = (max_seq + ATT_BLOCK - 1) / ATT_BLOCK * ATT_BLOCK;
    size_t cache = (size_t)c->n_layers * (size_t)t->kv_seq * (size_t)kv_dim(c);
    s->x = tb_alloc(B * d * sizeof(float));
    s->xb = tb_alloc(B * d * sizeof(float));
    s->xb2 = tb_alloc(B * d * sizeof(float));
    s->q = tb_alloc(B * d * sizeof(float));
    s->k = tb_alloc(B * (size_t)kv_dim(c) * sizeof(float));
    s->v = tb_alloc(B * (size_t)kv_dim(c) * sizeof(float));
    s->hb = tb_alloc(B * hd * sizeof(float));
    s->hb2 = tb_alloc(B * hd * sizeof(float));
    s->xq = tb_alloc(B * (size_t)max_int(c->dim, c->hidden_dim));
    s->xs = tb_alloc(B * sizeof(float));
    // Decode prepares one token, prefill up to max_batch (at least 2, or the prefill kernel
    // never runs).
    size_t act_decode = act_bytes(c, kn, 1), act_prefill = act_bytes(c, prefill, max_batch);
    s->act = tb_alloc(act_decode > act_prefill ? act_decode : act_prefill);
    // Partial softmax of every (head, chunk): one slot per thread (prefill) and one shared
    // (decode); output rows of head_size, then (max, sum) pairs.
    t->att_chunks = t->kv_seq / ATT_CHUNK + 1;
    size_t parts = (size_t)(tb_pool_threads(pool) + 1) * (size_t)c->n_heads * t->att_chunks;
    s->att_o = tb_alloc(parts * (size_t)hs * sizeof(float));
    s->att_ml = tb_alloc(parts * 2 * sizeof(float));
    s->logits = tb_alloc(B * (size_t)c->vocab_size * sizeof(float));
    s->kcache = tb_alloc(cache * sizeof(float));
    s->vcache = tb_alloc(cache * sizeof(float));
    t->kv_bytes = 2 * cache * sizeof(float);
    return 0;
}

int tb_transformer_set_head(tb_transformer *t, tb_head_format head, char *err, size_t err_len)
{
    const tb_config *c = &t->cfg;
    tb_free(t->head_packed), tb_free(t->head_act);
    t->head_packed = t->head_act = NULL;
    // The f32 head is the model's own array (the tied embedding, or the untied output too).
    t->embed_bytes = tb_model_embedding_params(c) * 4 * (t->model->output ? 2 : 1);
    t->head_kn = tb_head_kernel(head);
    t->head_format = t->head_kn ? head : TB_HEAD_F32;
    if (!t->head_kn) return 0;
    t->head_packed = tb_alloc(head_bytes(c, t->head_kn));
    char why[200];
    if (tb_pack_float(t->head_kn, t->head, c->vocab_size, c->dim, t->head_packed, why,
                      sizeof why) &&
        snprintf(err, err_len, "output head in %s: %s", tb_head_names[head], why) >= 0) {
        tb_free(t->head_packed);
        t->head_packed = NULL, t->head_kn = NULL, t->head_format = TB_HEAD_F32;
        return -1;
    }
    t->head_act = tb_alloc(t->head_kn->act_size(t->max_batch, c->dim));
    t->embed_bytes += head_bytes(c, t->head_kn);
    return 0;
}

void tb_transformer_free(tb_transformer *t)
{
    if (t->packed)
        for (int i = 0; i < t->cfg.n_layers * TB_N_LINEAR; i++) tb_free(t->packed[i]);
    free(t->packed);
    tb_free(t->head_packed), tb_free(t->head_act), tb_free(t->rope_cos), tb_free(t->rope_sin);
    tb_run_state *s = &t->s;
    tb_free(s->x), tb_free(s->xb), tb_free(s->xb2), tb_free(s->q), tb_free(s->k), tb_free(s->v);
    tb_free(s->hb);
    tb_free(s->hb2), tb_free(s->xq), tb_free(s->xs), tb_free(s->act), tb_free(s->att_o);
    tb_free(s->att_ml);
    tb_free(s->logits), tb_free(s->kcache), tb_free(s->vcache);
    memset(t, 0, sizeof *t);
}

// ---------------------------------------------------------------------------------------------
// Building blocks

// The float work between the matrix products (norms, attention) is compiled for the CPU's best
// vector ISA too (TB_VEC_CLONES, tb_reference.h): the engine is otherwise built for baseline
// x86-64. Explicit lanes in the loops below fix the order of every float sum in the source, so
// every version computes the same values.

// Profiling: when t->prof is set, the time since the last mark is charged to a phase.
static void prof_mark(tb_transformer *t, tb_phase phase)
{
    if (!t->prof) return;
    double now = tb_now();
    t->prof->seconds[phase] += now - t->prof_last;
    t->prof_last = now;
}

// RMSNorm of n rows of length len: out = x / sqrt(mean(x^2) + eps) * w. The sum of squares is
// accumulated in double, in eight lanes.
TB_VEC_CLONES
static void rmsnorm_rows(float *out, const float *x, const float *w, int n, int len, float eps)
{
    for (int r = 0; r < n; r++) {
        const float *xr = x + (size_t)r * len;
        float *o = out + (size_t)r * len;
        double lane[8] = {0}, ss = 0;
        int i = 0;
        for (; i + 8 <= len; i += 8)
            for (int j = 0; j < 8; j++) lane[j] += (double)xr[i + j] * xr[i + j];
        for (; i < len; i++) ss += (double)xr[i] * xr[i];
        for (int j = 0; j < 8; j++) ss += lane[j];
        float inv = (float)(1.0 / sqrt(ss / len + eps));
        for (i = 0; i < len; i++) o[i] = xr[i] * inv * w[i];
    }
}

// BitLinear input: int8 absmax per row (the reference quantizer, so engine and reference agree
// on every rounding of the same floats), then the kernel's own activation form. Done once per
// input and shared by every projection that reads it (q, k, v; gate, up).
static void quantize_input(tb_transformer *t, const float *x, int n, int k)
{
    tb_ref_quantize_rows(x, n, k, t->s.xq, t->s.xs);
    kernel_for(t, n)->prepare(t->s.xq, t->s.xs, n, k, t->s.act);
}

// The gated product of rows r0..r1 of a chunk, gate = act(gate) * up (tb_ffn_act), in float.
// silu as g / (1 + e^-g): a large negative g gives e^-g = inf and the right limit, -0.
static void ffn_gate_rows(tb_ffn_act f, float *g, const float *u, int r0, int r1)
{
    if (f == TB_FFN_SILU) {
        for (int r = r0; r < r1; r++) g[r] = g[r] / (1.0f + expf(-g[r])) * u[r];
        return;
    }
    for (int r = r0; r < r1; r++) {
        float a = g[r] > 0 ? g[r] : 0;
        g[r] = a * a * u[r];
    }
}

// One pool run for the BitLinear products of layer l that read the prepared input: q, k and v
// (or o, or down, alone), and gate with up. A thread takes chunks of rows (tb_rows) of the
// first product until none are left, then of the next, so no thread waits at a barrier between
// them. With glu set, products 0 and 1 are gate and up: a chunk takes the same rows of both and
// ends with gate = act(gate) * up over them (the FFN's GLU, ffn_gate_rows), while they are in
// cache.
typedef struct {
    tb_transformer *t;
    int l, n, count, glu;
    int which[3];
    float *y[3];
    tb_rows rows[3];
} linear_job;

static void linear_part(void *ctx, int tid, int nthreads)
{
    (void)tid, (void)nthreads;
    linear_job *job = ctx;
    tb_transformer *t = job->t;
    void **packed = t->packed + job->l * TB_N_LINEAR;
    const tb_kernel *kn = kernel_for(t, job->n);
    int r0, r1;
    for (int p = 0; p < (job->glu ? 1 : job->count); p++) {
        int n, k;
        tb_linear_shape(&t->cfg, job->which[p], &n, &k);
        while (tb_rows_take(&job->rows[p], &r0, &r1)) {
            tb_run(kn, packed[job->which[p]], t->s.act, job->n, n, k, r0, r1, job->y[p]);
            if (!job->glu) continue;
            tb_run(kn, packed[job->which[1]], t->s.act, job->n, n, k, r0, r1, job->y[1]);
            for (int i = 0; i < job->n; i++)
                ffn_gate_rows(t->cfg.ffn, job->y[0] + (size_t)i * n, job->y[1] + (size_t)i * n, r0,
                              r1);
        }
    }
}

// y[i] (n x rows of product i) = the prepared input times ternary weight which[i] of layer l.
static void bitlinear(tb_transformer *t, int l, int n, int count, const int *which, float **y,
                      int glu)
{
    linear_job job = {.t = t, .l = l, .n = n, .count = count, .glu = glu};
    for (int i = 0; i < count; i++) {
        int rows, k;
        tb_linear_shape(&t->cfg, which[i], &rows, &k);
        job.which[i] = which[i];
        job.y[i] = y[i];
        // gate and up share their chunks: twice the work a row
        tb_rows_init(&job.rows[i], kernel_for(t, n), n * (glu ? 2 : 1), rows, k,
                     tb_pool_threads(t->pool));
    }
    tb_pool_run(t->pool, linear_part, &job);
}

// NEOX-style RoPE, in place on every head of a row: (v[i], v[i + hs/2]) rotated by pos * f_i.
static void rope_row(const tb_transformer *t, float *v, int heads, int pos)
{
    int hs = head_size(&t->cfg), half = hs / 2;
    const float *cs = t->rope_cos + (size_t)pos * half, *sn = t->rope_sin + (size_t)pos * half;
    for (int h = 0; h < heads; h++) {
        float *x = v + h * hs;
        for (int i = 0; i < half; i++) {
            float a = x[i], b = x[i + half];
            x[i] = a * cs[i] - b * sn[i];
            x[i + half] = a * sn[i] + b * cs[i];
        }
    }
}

// The KV cache of KV head h in layer l: kv_seq positions of head_size floats, each head's own
// region, so that attention reads it as one sequential stream. Values are rows, v[pos][e]. Keys
// are stored in blocks of ATT_BLOCK positions, transposed within a block:
//
//   keys of one head:  block 0: k[0..15][e=0] | k[0..15][e=1] | ... | k[0..15][e=hs-1]
//                      block 1: k[16..31][e=0] | ...
//
// so the scores of 16 positions are 16 lanes of plain vector FMAs over e, with no horizontal
// sum per position (a sum per position cost more than the products at head size 128).
static float *kv_head(const tb_transformer *t, float *cache, int l, int h)
{
    return cache + ((size_t)l * t->cfg.n_kv_heads + h) * t->kv_seq * head_size(&t->cfg);
}

static void kv_store(tb_transformer *t, int l, int pos, const float *k, const float *v)
{
    int hs = head_size(&t->cfg);
    for (int h = 0; h < t->cfg.n_kv_heads; h++) {
        float *kb = kv_head(t, t->s.kcache, l, h) + (size_t)(pos / ATT_BLOCK) * hs * ATT_BLOCK;
        for (int e = 0; e < hs; e++) kb[e * ATT_BLOCK + pos % ATT_BLOCK] = k[h * hs + e];
        memcpy(kv_head(t, t->s.vcache, l, h) + (size_t)pos * hs, v + h * hs,
               (size_t)hs * sizeof(float));
    }
}

// Scores of positions [0, count) of one key block run, for one query head q (scores) or two (q
// and q + hs; scores and scores + stride), each with room for count rounded up to ATT_BLOCK:
// per lane four partial sums over e (every fourth element), then (s0 + s1) + (s2 + s3), times
// scale. The two-head version computes each head exactly as the one-head version does.
TB_VEC_CLONES
static void attn_scores1(const float *q, const float *keys, int hs, int count, float scale,
                         float *scores, size_t stride)
{
    (void)stride;
    for (int b = 0; b * ATT_BLOCK < count; b++) {
        const float *kb = keys + (size_t)b * hs * ATT_BLOCK;
        float s0[ATT_BLOCK] = {0}, s1[ATT_BLOCK] = {0}, s2[ATT_BLOCK] = {0}, s3[ATT_BLOCK] = {0};
        int e = 0;
        for (; e + 4 <= hs; e += 4)
            for (int j = 0; j < ATT_BLOCK; j++) {
                s0[j] += q[e] * kb[e * ATT_BLOCK + j];
                s1[j] += q[e + 1] * kb[(e + 1) * ATT_BLOCK + j];
                s2[j] += q[e + 2] * kb[(e + 2) * ATT_BLOCK + j];
                s3[j] += q[e + 3] * kb[(e + 3) * ATT_BLOCK + j];
            }
        for (; e < hs; e++)
            for (int j = 0; j < ATT_BLOCK; j++) s0[j] += q[e] * kb[e * ATT_BLOCK + j];
        // Whole blocks, past count too (into the room left for it; never read): a variable
        // count here made gcc unroll it into scalar code that cost more than the products.
        for (int j = 0; j < ATT_BLOCK; j++)
            scores[b * ATT_BLOCK + j] = ((s0[j] + s1[j]) + (s2[j] + s3[j])) * scale;
    }
}

TB_VEC_CLONES
static void attn_scores2(const float *q, const float *keys, int hs, int count, float scale,
                         float *scores, size_t stride)
{
    const float *p = q + hs; // the second head
    for (int b = 0; b * ATT_BLOCK < count; b++) {
        const float *kb = keys + (size_t)b * hs * ATT_BLOCK;
        float s0[ATT_BLOCK] = {0}, s1[ATT_BLOCK] = {0}, s2[ATT_BLOCK] = {0}, s3[ATT_BLOCK] = {0};
        float t0[ATT_BLOCK] = {0}, t1[ATT_BLOCK] = {0}, t2[ATT_BLOCK] = {0}, t3[ATT_BLOCK] = {0};
        int e = 0;
        for (; e + 4 <= hs; e += 4)
            for (int j = 0; j < ATT_BLOCK; j++) {
                float k0 = kb[e * ATT_BLOCK + j], k1 = kb[(e + 1) * ATT_BLOCK + j];
                float k2 = kb[(e + 2) * ATT_BLOCK + j], k3 = kb[(e + 3) * ATT_BLOCK + j];
                s0[j] += q[e] * k0, s1[j] += q[e + 1] * k1;
                s2[j] += q[e + 2] * k2, s3[j] += q[e + 3] * k3;
                t0[j] += p[e] * k0, t1[j] += p[e + 1] * k1;
                t2[j] += p[e + 2] * k2, t3[j] += p[e + 3] * k3;
            }
        for (; e < hs; e++)
            for (int j = 0; j < ATT_BLOCK; j++) {
                s0[j] += q[e] * kb[e * ATT_BLOCK + j];
                t0[j] += p[e] * kb[e * ATT_BLOCK + j];
            }
        for (int j = 0; j < ATT_BLOCK; j++) {
            scores[b * ATT_BLOCK + j] = ((s0[j] + s1[j]) + (s2[j] + s3[j])) * scale;
            scores[stride + b * ATT_BLOCK + j] = ((t0[j] + t1[j]) + (t2[j] + t3[j])) * scale;
        }
    }
}

// Four heads (q + h * hs, scores + h * stride), two partial sums each (even and odd e), then
// s0 + s1, times scale: 8 accumulators, so that each key vector loaded feeds four heads.
TB_VEC_CLONES
static void attn_scores4(const float *q, const float *keys, int hs, int count, float scale,
                         float *scores, size_t stride)
{
    const float *q1 = q + hs, *q2 = q + 2 * hs, *q3 = q + 3 * hs;
    for (int b = 0; b * ATT_BLOCK < count; b++) {
        const float *kb = keys + (size_t)b * hs * ATT_BLOCK;
        float a0[ATT_BLOCK] = {0}, a1[ATT_BLOCK] = {0}, b0[ATT_BLOCK] = {0}, b1[ATT_BLOCK] = {0};
        float c0[ATT_BLOCK] = {0}, c1[ATT_BLOCK] = {0}, d0[ATT_BLOCK] = {0}, d1[ATT_BLOCK] = {0};
        int e = 0;
        for (; e + 2 <= hs; e += 2)
            for (int j = 0; j < ATT_BLOCK; j++) {
                float k0 = kb[e * ATT_BLOCK + j], k1 = kb[(e + 1) * ATT_BLOCK + j];
                a0[j] += q[e] * k0, a1[j] += q[e + 1] * k1;
                b0[j] += q1[e] * k0, b1[j] += q1[e + 1] * k1;
                c0[j] += q2[e] * k0, c1[j] += q2[e + 1] * k1;
                d0[j] += q3[e] * k0, d1[j] += q3[e + 1] * k1;
            }
        for (; e < hs; e++)
            for (int j = 0; j < ATT_BLOCK; j++) {
                float k0 = kb[e * ATT_BLOCK + j];
                a0[j] += q[e] * k0, b0[j] += q1[e] * k0, c0[j] += q2[e] * k0, d0[j] += q3[e] * k0;
            }
        float *o = scores + b * ATT_BLOCK;
        for (int j = 0; j < ATT_BLOCK; j++) {
            o[j] = (a0[j] + a1[j]) * scale, o[stride + j] = (b0[j] + b1[j]) * scale;
            o[2 * stride + j] = (c0[j] + c1[j]) * scale;
            o[3 * stride + j] = (d0[j] + d1[j]) * scale;
        }
    }
}

// out[h][e] = sum over s < count of a[h][s] * v[s][e] for nh = 1, 2 or 4 heads (a[h] = a + h *
// a_stride, out[h] = out + h * out_stride), w <= VALUE_LANES elements of each out at a time held
// in registers across all positions (summed in position order, the same for any nh). Inlined
// with constant nh and w: with variable ones gcc kept the sums on the stack.
#define VALUE_LANES 64

static inline __attribute__((always_inline)) void values_lanes(const float *a, size_t a_stride,
                                                               const int nh, const float *v, int hs,
                                                               int count, float *out,
                                                               size_t out_stride, const int w)
{
    float acc0[VALUE_LANES] = {0}, acc1[VALUE_LANES] = {0}, acc2[VALUE_LANES] = {0},
          acc3[VALUE_LANES] = {0};
    for (int s = 0; s < count; s++)
        for (int j = 0; j < w; j++) {
            float x = v[(size_t)s * hs + j];
            acc0[j] += a[s] * x;
            if (nh > 1) acc1[j] += a[a_stride + s] * x;
            if (nh > 2) acc2[j] += a[2 * a_stride + s] * x, acc3[j] += a[3 * a_stride + s] * x;
        }
    memcpy(out, acc0, (size_t)w * sizeof(float));
    if (nh > 1) memcpy(out + out_stride, acc1, (size_t)w * sizeof(float));
    if (nh > 2) {
        memcpy(out + 2 * out_stride, acc2, (size_t)w * sizeof(float));
        memcpy(out + 3 * out_stride, acc3, (size_t)w * sizeof(float));
    }
}

// All hs elements, in passes of `lanes` (4 heads take 32 a pass to stay in registers).
static inline __attribute__((always_inline)) void values_heads(const float *a, size_t a_stride,
                                                               const int nh, const int lanes,
                                                               const float *v, int hs, int count,
                                                               float *out, size_t out_stride)
{
    int e0 = 0;
    for (; e0 + lanes <= hs; e0 += lanes)
        values_lanes(a, a_stride, nh, v + e0, hs, count, out + e0, out_stride, lanes);
    for (; e0 < hs; e0++) // the rest (hs not a multiple of lanes), one element at a time
        values_lanes(a, a_stride, nh, v + e0, hs, count, out + e0, out_stride, 1);
}

TB_VEC_CLONES
static void attn_values1(const float *a, size_t a_stride, const float *v, int hs, int count,
                         float *out, size_t out_stride)
{
    values_heads(a, a_stride, 1, VALUE_LANES, v, hs, count, out, out_stride);
}

TB_VEC_CLONES
static void attn_values2(const float *a, size_t a_stride, const float *v, int hs, int count,
                         float *out, size_t out_stride)
{
    values_heads(a, a_stride, 2, VALUE_LANES, v, hs, count, out, out_stride);
}

TB_VEC_CLONES
static void attn_values4(const float *a, size_t a_stride, const float *v, int hs, int count,
                         float *out, size_t out_stride)
{
    values_heads(a, a_stride, 4, VALUE_LANES / 2, v, hs, count, out, out_stride);
}

// Query heads a pass of one group takes: 4, 2 or 1, whichever divides the group.
static int att_pass_heads(const tb_config *c)
{
    int group = c->n_heads / c->n_kv_heads;
    return group % 4 == 0 ? 4 : group % 2 == 0 ? 2 : 1;
}

// The partial softmax slot of (head h, chunk ch) in slot `slot` (a thread's, or the shared one).
static float *part_o(const tb_transformer *t, int slot, int h, int ch)
{
    size_t i = ((size_t)slot * t->cfg.n_heads + (size_t)h) * t->att_chunks + (size_t)ch;
    return t->s.att_o + i * (size_t)head_size(&t->cfg);
}

static float *part_ml(const tb_transformer *t, int slot, int h, int ch)
{
    size_t i = ((size_t)slot * t->cfg.n_heads + (size_t)h) * t->att_chunks + (size_t)ch;
    return t->s.att_ml + 2 * i;
}

// Chunk ch (positions [ch * ATT_CHUNK, min(+ATT_CHUNK, p + 1))) of token row i for every query
// head of group g: per head its max score m, sum l of exp(score - m) in position order, and the
// unnormalized output sum exp(score - m) * v, into slot `slot`.
static void attn_chunk(tb_transformer *t, int l, int i, int p, int g, int ch, int slot)
{
    const tb_config *c = &t->cfg;
    int hs = head_size(c), group = c->n_heads / c->n_kv_heads, nh = att_pass_heads(c);
    int s0 = ch * ATT_CHUNK, n = p + 1 - s0 < ATT_CHUNK ? p + 1 - s0 : ATT_CHUNK;
    const float *keys = kv_head(t, t->s.kcache, l, g) + (size_t)s0 * hs; // s0 starts a block
    const float *values = kv_head(t, t->s.vcache, l, g) + (size_t)s0 * hs;
    float scale = 1.0f / sqrtf((float)hs);
    float sc[ATT_HEADS][ATT_CHUNK] __attribute__((aligned(64)));
    size_t o_stride = (size_t)t->att_chunks * hs; // from one head's slot to the next
    for (int h = g * group; h < (g + 1) * group; h += nh) {
        const float *q = t->s.q + (size_t)i * c->dim + (size_t)h * hs;
        float *o = part_o(t, slot, h, ch);
        if (nh == 4)
            attn_scores4(q, keys, hs, n, scale, sc[0], ATT_CHUNK);
        else if (nh == 2)
            attn_scores2(q, keys, hs, n, scale, sc[0], ATT_CHUNK);
        else
            attn_scores1(q, keys, hs, n, scale, sc[0], ATT_CHUNK);
        for (int k = 0; k < nh; k++) {
            float mx = -INFINITY, sum = 0;
            for (int s = 0; s < n; s++) mx = sc[k][s] > mx ? sc[k][s] : mx;
            for (int s = 0; s < n; s++) sum += sc[k][s] = expf(sc[k][s] - mx);
            float *ml = part_ml(t, slot, h + k, ch);
            ml[0] = mx, ml[1] = sum;
        }
        if (nh == 4)
            attn_values4(sc[0], ATT_CHUNK, values, hs, n, o, o_stride);
        else if (nh == 2)
            attn_values2(sc[0], ATT_CHUNK, values, hs, n, o, o_stride);
        else
            attn_values1(sc[0], ATT_CHUNK, values, hs, n, o, o_stride);
    }
}

// Head h's output from its chunks 0..nc-1 in slot `slot`: with m the largest chunk max and
// w_c = exp(m_c - m), out = (sum_c w_c o_c) / (sum_c w_c l_c), sums in chunk order.
static void attn_merge(const tb_transformer *t, int slot, int h, int nc, float *out)
{
    int hs = head_size(&t->cfg);
    float m = -INFINITY, den = 0;
    for (int ch = 0; ch < nc; ch++)
        m = part_ml(t, slot, h, ch)[0] > m ? part_ml(t, slot, h, ch)[0] : m;
    for (int e = 0; e < hs; e++) out[e] = 0;
    for (int ch = 0; ch < nc; ch++) {
        const float *ml = part_ml(t, slot, h, ch), *o = part_o(t, slot, h, ch);
        float w = expf(ml[0] - m);
        den += w * ml[1];
        for (int e = 0; e < hs; e++) out[e] += w * o[e];
    }
    for (int e = 0; e < hs; e++) out[e] /= den;
}

// Grouped-query attention for a batch of n tokens at positions pos..pos+n-1 of layer l.
typedef struct {
    tb_transformer *t;
    int l, n, pos, chunks; // chunks: of the one token, when n == 1
    tb_chunks next;
} attn_job;

// Decode (n == 1): item = (group, chunk), dealt one at a time, partials into the shared slot.
static void attention_chunks_part(void *ctx, int tid, int nthreads)
{
    (void)tid, (void)nthreads;
    attn_job *job = ctx;
    tb_transformer *t = job->t;
    int shared = tb_pool_threads(t->pool);
    for (int item; (item = tb_chunks_take(&job->next)) < t->cfg.n_kv_heads * job->chunks;)
        attn_chunk(t, job->l, 0, job->pos, item / job->chunks, item % job->chunks, shared);
}

// Prefill (n > 1): item = (token, group), dealt one at a time; its chunks run in order into the
// thread's own slot and are merged at once.
static void attention_rows_part(void *ctx, int tid, int nthreads)
{
    (void)nthreads;
    attn_job *job = ctx;
    tb_transformer *t = job->t;
    const tb_config *c = &t->cfg;
    int group = c->n_heads / c->n_kv_heads, hs = head_size(c);
    for (int item; (item = tb_chunks_take(&job->next)) < job->n * c->n_kv_heads;) {
        int i = item / c->n_kv_heads, g = item % c->n_kv_heads, p = job->pos + i;
        int nc = p / ATT_CHUNK + 1;
        for (int ch = 0; ch < nc; ch++) attn_chunk(t, job->l, i, p, g, ch, tid);
        for (int h = g * group; h < (g + 1) * group; h++)
            attn_merge(t, tid, h, nc, t->s.xb2 + (size_t)i * c->dim + (size_t)h * hs);
    }
}

static void attention(tb_transformer *t, int l, int n, int pos)
{
    const tb_config *c = &t->cfg;
    attn_job job = {.t = t, .l = l, .n = n, .pos = pos, .chunks = pos / ATT_CHUNK + 1};
    tb_chunks_init(&job.next);
    if (n > 1) {
        tb_pool_run(t->pool, attention_rows_part, &job);
        return;
    }
    tb_pool_run(t->pool, attention_chunks_part, &job);
    for (int h = 0; h < c->n_heads; h++) // small: heads x chunks x head_size
        attn_merge(t, tb_pool_threads(t->pool), h, job.chunks, t->s.xb2 + (size_t)h * head_size(c));
}

// a . b in DOT_LANES lanes (independent chains), folded in halves; the order of every add is
// fixed here, so every vector version computes the same value.
#define DOT_LANES 32

TB_VEC_CLONES
static float dot_f32(const float *a, const float *b, int n)
{
    float lane[DOT_LANES] = {0};
    int i = 0;
    for (; i + DOT_LANES <= n; i += DOT_LANES)
        for (int j = 0; j < DOT_LANES; j++) lane[j] += a[i + j] * b[i + j];
    for (; i < n; i++) lane[i % DOT_LANES] += a[i] * b[i];
    for (int half = DOT_LANES / 2; half >= 1; half /= 2)
        for (int j = 0; j < half; j++) lane[j] += lane[j + half];
    return lane[0];
}

// Output head in f32: logits[r][v] = x[r] . head[v] for the requested rows, vocab split across
// threads in multiples of HEAD_SPLIT_ROWS vocab rows (16 floats: one 64-byte line of logits), so
// that two threads seldom write the same cache line.
#define HEAD_SPLIT_ROWS 16
typedef struct {
    tb_transformer *t;
    const float *x; // (rows, dim)
    float *logits;  // (rows, vocab)
    int rows;
} head_job;

static void head_part(void *ctx, int tid, int nthreads)
{
    const head_job *job = ctx;
    const tb_transformer *t = job->t;
    int V = t->cfg.vocab_size, d = t->cfg.dim, v0, v1;
    tb_pool_split(V, HEAD_SPLIT_ROWS, tid, nthreads, &v0, &v1);
    for (int v = v0; v < v1; v++)
        for (int r = 0; r < job->rows; r++) {
            const float *x = job->x + (size_t)r * d;
            job->logits[(size_t)r * V + v] = dot_f32(x, t->head + (size_t)v * d, d);
        }
}

// ---------------------------------------------------------------------------------------------
// The forward pass

float *tb_transformer_forward(tb_transformer *t, const int *tokens, int n, int pos, int all_logits)
{
    const tb_config *c = &t->cfg;
    const tb_model *m = t->model;
    tb_run_state *s = &t->s;
    int dim = c->dim, hd = c->hidden_dim, kvd = kv_dim(c);
    assert(n >= 1 && n <= t->max_batch && pos >= 0 && pos + n <= t->max_seq);
    if (t->prof) t->prof_last = tb_now();

    // Embedding lookup: float rows, not quantized.
    for (int i = 0; i < n; i++) {
        assert(tokens[i] >= 0 && tokens[i] < c->vocab_size);
        memcpy(s->x + (size_t)i * dim, m->embedding + (size_t)tokens[i] * dim,
               (size_t)dim * sizeof(float));
    }

    for (int l = 0; l < c->n_layers; l++) {
        // ---- attention ----
        rmsnorm_rows(s->xb, s->x, m->attn_norm + (size_t)l * dim, n, dim, c->norm_eps);
        quantize_input(t, s->xb, n, dim);
        prof_mark(t, TB_PHASE_NORM);
        bitlinear(t, l, n, 3, (int[]){TB_WQ, TB_WK, TB_WV}, (float *[]){s->q, s->k, s->v}, 0);
        prof_mark(t, TB_PHASE_QKV);
        // RoPE, then k and v into the cache at positions pos..pos+n-1.
        for (int i = 0; i < n; i++) {
            rope_row(t, s->q + (size_t)i * dim, c->n_heads, pos + i);
            rope_row(t, s->k + (size_t)i * kvd, c->n_kv_heads, pos + i);
            kv_store(t, l, pos + i, s->k + (size_t)i * kvd, s->v + (size_t)i * kvd);
        }
        attention(t, l, n, pos);
        prof_mark(t, TB_PHASE_ATTENTION);
        rmsnorm_rows(s->xb, s->xb2, m->attn_sub_norm + (size_t)l * dim, n, dim, c->norm_eps);
        quantize_input(t, s->xb, n, dim);
        prof_mark(t, TB_PHASE_NORM);
        bitlinear(t, l, n, 1, (int[]){TB_WO}, (float *[]){s->xb2}, 0);
        prof_mark(t, TB_PHASE_O);
        for (size_t i = 0; i < (size_t)n * dim; i++) s->x[i] += s->xb2[i];

        // ---- feed-forward: gated by the configuration's activation (tb_ffn_act) ----
        rmsnorm_rows(s->xb, s->x, m->ffn_norm + (size_t)l * dim, n, dim, c->norm_eps);
        quantize_input(t, s->xb, n, dim);
        prof_mark(t, TB_PHASE_NORM);
        bitlinear(t, l, n, 2, (int[]){TB_WGATE, TB_WUP}, (float *[]){s->hb, s->hb2}, 1);
        prof_mark(t, TB_PHASE_GATE_UP);
        rmsnorm_rows(s->hb2, s->hb, m->ffn_sub_norm + (size_t)l * hd, n, hd, c->norm_eps);
        quantize_input(t, s->hb2, n, hd);
        prof_mark(t, TB_PHASE_NORM);
        bitlinear(t, l, n, 1, (int[]){TB_WDOWN}, (float *[]){s->xb}, 0);
        prof_mark(t, TB_PHASE_DOWN);
        for (size_t i = 0; i < (size_t)n * dim; i++) s->x[i] += s->xb[i];
    }

    // Final norm and head, for every row or only the last.
    int first = all_logits ? 0 : n - 1, rows = n - first;
    rmsnorm_rows(s->xb, s->x + (size_t)first * dim, m->final_norm, rows, dim, c->norm_eps);
    if (t->head_kn) { // a head kernel, rows split across the pool like any matmul
        if (t->head_format == TB_HEAD_F16) {
            float_prepare_float(s->xb, rows, dim, t->head_act);
        } else { // q8, q4: int8 activations, absmax per token, as a BitLinear input
            tb_ref_quantize_rows(s->xb, rows, dim, s->xq, s->xs);
            t->head_kn->prepare(s->xq, s->xs, rows, dim, t->head_act);
        }
        tb_pool_matmul(t->pool, t->head_kn, t->head_packed, t->head_act, rows, c->vocab_size, dim,
                       s->logits);
    } else {
        head_job hj = {t, s->xb, s->logits, rows};
        tb_pool_run(t->pool, head_part, &hj);
    }
    prof_mark(t, TB_PHASE_HEAD);
    return s->logits;
}

uint64_t tb_transformer_weight_read_bytes(const tb_transformer *t)
{
    return t->ternary_bytes + head_bytes(&t->cfg, t->head_kn) + t->norm_bytes;
}

uint64_t tb_transformer_kv_read_bytes(const tb_transformer *t, int pos)
{
    uint64_t keys = (uint64_t)(pos / ATT_BLOCK + 1) * ATT_BLOCK, values = (uint64_t)pos + 1;
    return (keys + values) * (uint64_t)t->cfg.n_layers * (uint64_t)kv_dim(&t->cfg) * sizeof(float);
}

// ---------------------------------------------------------------------------------------------
// Sampling

int tb_sample_argmax(const float *logits, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i; // ties go to the lowest id
    return best;
}

int tb_sample_temperature(const float *logits, int n, float temp, uint64_t *rng_state)
{
    float mx = logits[tb_sample_argmax(logits, n)];
    double sum = 0;
    for (int i = 0; i < n; i++) sum += exp((double)(logits[i] - mx) / temp);
    tb_rng r = {*rng_state};
    double u = (double)tb_rng_float(&r) * sum, acc = 0;
    *rng_state = r.state;
    for (int i = 0; i < n; i++) {
        acc += exp((double)(logits[i] - mx) / temp);
        if (acc > u) return i;
    }
    return n - 1; // rounding left u a hair above the last partial sum
}
