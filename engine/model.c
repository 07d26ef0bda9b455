// Configurations, synthetic weights, and the canonical model's life cycle.
#include "model.h"
#include "gguf_model.h"
#include "tb_kernel.h"
#include "tb_reference.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

// ---------------------------------------------------------------------------------------------
// Configurations

// The papers' dummy models use the 2B4T block (squared-ReLU FFN, sub-norms), KV heads = heads
// and vocab 32002 as published; they never said their RoPE base, so we use 2B4T's 500000 and
// the same context 4096 and eps 1e-5 (none of these change the cost of a token).
#define PAPER(nm, d, f, l, h)                                                                      \
    {                                                                                              \
        nm, d, f, l, h, h, 32002, 4096, 500000.0f, 1e-5f, TB_FFN_RELU2, TB_FFN_FROM_CONFIG         \
    }

// The 2B4T block: squared-ReLU FFN, from the configuration itself.
#define RELU2_BLOCK TB_FFN_RELU2, TB_FFN_FROM_CONFIG

static const tb_config configs[] = {
    // name, dim, hidden_dim, layers, heads, kv heads, vocab, context, theta, eps, ffn, its source
    {"2B4T", 2560, 6912, 30, 20, 5, 128256, 4096, 500000.0f, 1e-5f, RELU2_BLOCK},
    PAPER("125M", 768, 3072, 11, 12),
    PAPER("350M", 1024, 3072, 24, 16),
    PAPER("1B", 2048, 3584, 24, 32),
    PAPER("1.5B", 1536, 9216, 28, 32),
    PAPER("2.7B", 3072, 7680, 24, 32),
    PAPER("3.8B", 3840, 8192, 24, 32),
    PAPER("7B", 4096, 12032, 32, 32),
    PAPER("13B", 5120, 13824, 40, 40),
    PAPER("30B", 6656, 16384, 60, 52),
    PAPER("70B", 8192, 24576, 80, 64),
    PAPER("100B", 8192, 45568, 72, 64),
    // Test sizes. "tiny": nothing is a multiple of 256 (k = 96 and 160 exercise every kernel's
    // zero padding), odd vocab, one query head per KV head (as the papers' sizes). "tiny256":
    // every k a multiple of 256, so that the TQ1_0 / TQ2_0 formats (blocks of 256 along k) can
    // hold it, and four query heads per KV head (as 2B4T). Between them, attention's one-head
    // and four-head passes are both tested. tiny's context holds 160 positions: attention splits
    // contexts in chunks of 64 positions, and tests run past them.
    {"tiny", 96, 160, 2, 4, 4, 97, 160, 10000.0f, 1e-5f, RELU2_BLOCK},
    {"tiny256", 256, 512, 2, 8, 2, 301, 64, 10000.0f, 1e-5f, RELU2_BLOCK},
};

int tb_config_find(const char *name, tb_config *out)
{
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++)
        if (strcmp(configs[i].name, name) == 0) {
            *out = configs[i];
            return 0;
        }
    return -1;
}

const char *tb_config_list(void)
{
    static char buf[256];
    if (!buf[0])
        for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
            if (i) strcat(buf, ", ");
            strcat(buf, configs[i].name);
        }
    return buf;
}

uint64_t tb_model_ternary_params(const tb_config *c)
{
    uint64_t per_layer = 0;
    for (int w = 0; w < TB_N_LINEAR; w++) {
        int n, k;
        tb_linear_shape(c, w, &n, &k);
        per_layer += (uint64_t)n * (uint64_t)k;
    }
    return per_layer * (uint64_t)c->n_layers;
}

uint64_t tb_model_embedding_params(const tb_config *c)
{
    return (uint64_t)c->vocab_size * (uint64_t)c->dim;
}

uint64_t tb_model_norm_params(const tb_config *c)
{
    return (uint64_t)c->n_layers * (3u * (uint64_t)c->dim + (uint64_t)c->hidden_dim) +
           (uint64_t)c->dim;
}

// ---------------------------------------------------------------------------------------------
// Half precision, by hand (no F16C needed; these run at load time only)

float tb_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, man = h & 0x3ffu, b;
    if (e == 0) {
        float f = ldexpf((float)man, -24); // subnormal (or zero)
        return sign ? -f : f;
    }
    if (e == 31)
        b = sign | 0x7f800000u | (man << 13);
    else
        b = sign | ((e - 15 + 127) << 23) | (man << 13);
    float f;
    memcpy(&f, &b, 4);
    return f;
}

float tb_bf16_to_f32(uint16_t h)
{
    uint32_t b = (uint32_t)h << 16;
    float f;
    memcpy(&f, &b, 4);
    return f;
}

float tb_f16_round(float x)
{
    return tb_f16_to_f32(tb_f32_to_f16(x));
}

// ---------------------------------------------------------------------------------------------
// Synthetic models

typedef struct {
    uint64_t seed;
    tb_config cfg;
} synth_src;

// A cheap normal deviate: the sum of the four 16-bit quarters of one 64-bit draw (Irwin-Hall,
// n = 4), centred and scaled to unit variance. Four times fewer RNG calls than tb_rng_normal,
// which matters for the 2.1 G weights of 2B4T; the tails are light, which dummy weights allow.
static float fast_normal(tb_rng *r)
{
    uint64_t z = tb_rng_next(r);
    uint32_t s = (uint32_t)(z & 0xffff) + (uint32_t)((z >> 16) & 0xffff) +
                 (uint32_t)((z >> 32) & 0xffff) + (uint32_t)(z >> 48);
    // Mean 4 * 32767.5, variance 4 * (65536^2 - 1) / 12.
    return ((float)s - 131070.0f) * (1.0f / 37837.23f);
}

// Every tensor gets its own stream: seed mixed with (layer, which) through splitmix.
static tb_rng tensor_rng(uint64_t seed, int layer, int which)
{
    tb_rng r = {seed ^ (0x51ed270b27a3c1d5ull * (uint64_t)(layer * 64 + which + 1))};
    tb_rng_next(&r);
    return r;
}

static int synth_ternary(void *src_, int layer, int which, int8_t *w, float *scale, char *err,
                         size_t err_len)
{
    synth_src *src = src_;
    int n, k;
    tb_linear_shape(&src->cfg, which, &n, &k);
    size_t count = (size_t)n * (size_t)k;
    float *latent = malloc(count * sizeof(float));
    if (!latent) {
        snprintf(err, err_len, "out of memory for a %d x %d latent tensor", n, k);
        return -1;
    }
    tb_rng r = tensor_rng(src->seed, layer, which);
    for (size_t i = 0; i < count; i++) latent[i] = 0.02f * fast_normal(&r);
    // BitNet's absmean quantizer, exactly as the reference defines it.
    *scale = tb_ref_quantize_weights(latent, count, w);
    free(latent);
    return 0;
}

static void fill_normal(float *v, size_t count, tb_rng *r, float mean, float sd, int f16)
{
    for (size_t i = 0; i < count; i++) {
        v[i] = mean + sd * fast_normal(r);
        if (f16) v[i] = tb_f16_round(v[i]);
    }
}

static void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size);
    if (!p) {
        fprintf(stderr, "tritbench: out of memory (%zu x %zu bytes)\n", count, size);
        exit(1);
    }
    return p;
}

void tb_model_alloc_floats(tb_model *m)
{
    const tb_config *c = &m->cfg;
    size_t L = (size_t)c->n_layers, d = (size_t)c->dim;
    m->embedding = xcalloc(tb_model_embedding_params(c), sizeof(float));
    m->attn_norm = xcalloc(L * d, sizeof(float));
    m->attn_sub_norm = xcalloc(L * d, sizeof(float));
    m->ffn_norm = xcalloc(L * d, sizeof(float));
    m->ffn_sub_norm = xcalloc(L * (size_t)c->hidden_dim, sizeof(float));
    m->final_norm = xcalloc(d, sizeof(float));
    m->lin = xcalloc(L * TB_N_LINEAR, sizeof(tb_ternary));
    for (int l = 0; l < c->n_layers; l++)
        for (int w = 0; w < TB_N_LINEAR; w++) {
            tb_ternary *t = &m->lin[l * TB_N_LINEAR + w];
            tb_linear_shape(c, w, &t->n, &t->k);
        }
}

void tb_model_synthetic(const tb_config *cfg, uint64_t seed, tb_model *m)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    tb_model_alloc_floats(m);
    const tb_config *c = &m->cfg;
    size_t L = (size_t)c->n_layers, d = (size_t)c->dim;
    tb_rng r = tensor_rng(seed, -1, 0);
    // Embedding sd 2/sqrt(dim): a unit-RMS final state then gives logits of sd ~2, peaked
    // enough for clear greedy choices, flat enough for sampling. Values are f16-exact.
    fill_normal(m->embedding, tb_model_embedding_params(c), &r, 0.0f, 2.0f / sqrtf((float)d), 1);
    // Norm weights near 1, as in trained models.
    fill_normal(m->attn_norm, L * d, &r, 1.0f, 0.1f, 0);
    fill_normal(m->attn_sub_norm, L * d, &r, 1.0f, 0.1f, 0);
    fill_normal(m->ffn_norm, L * d, &r, 1.0f, 0.1f, 0);
    fill_normal(m->ffn_sub_norm, L * (size_t)c->hidden_dim, &r, 1.0f, 0.1f, 0);
    fill_normal(m->final_norm, d, &r, 1.0f, 0.1f, 0);
    synth_src *src = xcalloc(1, sizeof *src);
    src->seed = seed;
    src->cfg = *cfg;
    m->src = src;
    m->load_ternary = synth_ternary;
    m->free_src = free;
}

// ---------------------------------------------------------------------------------------------
// Life cycle

int tb_model_ternary(const tb_model *m, int layer, int which, int8_t *w, float *scale, char *err,
                     size_t err_len)
{
    const tb_ternary *t = &m->lin[layer * TB_N_LINEAR + which];
    if (t->w) {
        memcpy(w, t->w, (size_t)t->n * (size_t)t->k);
        *scale = t->scale;
        return 0;
    }
    return m->load_ternary(m->src, layer, which, w, scale, err, err_len);
}

int tb_model_materialize(tb_model *m, char *err, size_t err_len)
{
    for (int i = 0; i < m->cfg.n_layers * TB_N_LINEAR; i++) {
        tb_ternary *t = &m->lin[i];
        if (t->w) continue;
        t->w = xcalloc((size_t)t->n * (size_t)t->k, 1);
        if (m->load_ternary(m->src, i / TB_N_LINEAR, i % TB_N_LINEAR, t->w, &t->scale, err,
                            err_len))
            return -1;
    }
    return 0;
}

void tb_model_free(tb_model *m)
{
    if (m->lin)
        for (int i = 0; i < m->cfg.n_layers * TB_N_LINEAR; i++) free(m->lin[i].w);
    free(m->lin);
    free(m->embedding), free(m->output), free(m->attn_norm), free(m->attn_sub_norm);
    free(m->ffn_norm), free(m->ffn_sub_norm), free(m->final_norm);
    if (m->free_src) m->free_src(m->src);
    memset(m, 0, sizeof *m);
}

int tb_model_open(const char *spec, uint64_t seed, tb_model *m, char *err, size_t err_len)
{
    tb_config cfg;
    if (tb_config_find(spec, &cfg) == 0) {
        tb_model_synthetic(&cfg, seed, m);
        return 0;
    }
    // Anything that is not a configuration name is a file.
    if (!strchr(spec, '/') && !strchr(spec, '.')) {
        snprintf(err, err_len, "unknown model '%s' (not a file; configurations: %s)", spec,
                 tb_config_list());
        return -1;
    }
    return tb_gguf_load_model(spec, m, err, err_len);
}

void tb_model_force_ffn(tb_model *m, tb_ffn_act ffn)
{
    m->cfg.ffn = ffn;
    m->cfg.ffn_source = TB_FFN_FROM_OVERRIDE;
}

// 2B4T's signature: its LLaMA 3 vocabulary with its 20 query heads over 5 KV heads. The widths
// and the layer count are left out, so that a file cut to fewer or narrower layers still shows
// where it came from.
static int has_2b4t_signature(const tb_config *c)
{
    tb_config b;
    tb_config_find("2B4T", &b);
    return c->vocab_size == b.vocab_size && c->n_heads == b.n_heads &&
           c->n_kv_heads == b.n_kv_heads;
}

int tb_model_ffn_warning(const tb_model *m, const char *spec, char *msg, size_t len)
{
    const tb_config *c = &m->cfg;
    int from_file = c->ffn_source == TB_FFN_FROM_KEY || c->ffn_source == TB_FFN_FROM_ARCH;
    if (c->ffn != TB_FFN_SILU || !from_file || !has_2b4t_signature(c)) return 0;
    char why[96];
    if (c->ffn_source == TB_FFN_FROM_KEY)
        snprintf(why, sizeof why, "its %s.hidden_activation says silu", m->arch);
    else
        snprintf(why, sizeof why, "it is labelled '%s' (SiLU FFN) with no hidden_activation",
                 m->arch);
    snprintf(msg, len,
             "%s: this looks like BitNet b1.58 2B4T (vocabulary %d, %d heads over %d KV heads; "
             "squared-ReLU FFN) but %s: a known mislabelling moved 2B4T's perplexity from 17.1 to "
             "99.8; --ffn relu2 computes it as 2B4T",
             spec, c->vocab_size, c->n_heads, c->n_kv_heads, why);
    return 1;
}

uint64_t tb_mem_available(void)
{
    // Tests pretend to be a smaller machine, to see a model refused for its size.
    const char *fake = getenv("TRITBENCH_MEM_AVAILABLE");
    if (fake && *fake) return strtoull(fake, NULL, 10);
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
    fclose(f);
    return (uint64_t)kb * 1024u;
}

uint64_t tb_peak_rss(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (uint64_t)ru.ru_maxrss * 1024u; // Linux reports kilobytes
}
