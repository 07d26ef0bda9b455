// tritbench model create | info: synthetic model files and what a model holds.
#include "gguf_model.h"
#include "model.h"
#include "runners.h"
#include "select.h"
#include "tb_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Writing streams one tensor at a time: the embedding (as f32, f16 and staging: 6 bytes a
// parameter) and one staged tensor of at most this size are held at once.
#define CREATE_STAGING_BYTES (1ull << 30)

void tb_model_create_defaults(tb_model_create_params *p)
{
    *p = (tb_model_create_params){.seed = 1, .format = "i2_s", .hidden_activation = "relu2"};
}

// The scale tensor values --tensor-scales writes: 0.5, 1, 2 in turn over every BitLinear of
// every layer. Powers of two, so that folding one into a tensor's scale rounds nothing and the
// file's model is the synthetic one with every third product halved and every third doubled.
static float *create_tensor_scales(const tb_config *c)
{
    static const float cycle[3] = {0.5f, 1.0f, 2.0f};
    size_t n = (size_t)c->n_layers * TB_N_LINEAR;
    float *v = malloc(n * sizeof *v);
    if (!v) abort();
    for (size_t i = 0; i < n; i++) v[i] = cycle[i % 3];
    return v;
}

// --arch, --hidden-activation and --tensor-scales checked, as the file's options into o.
static int create_options(const tb_model_create_params *p, const tb_config *c, int fmt,
                          int emb_type, tb_save_options *o, tb_error *err)
{
    const char *arch = p->arch ? p->arch : tb_file_default_arch((tb_file_format)fmt);
    *o = (tb_save_options){.format = (tb_file_format)fmt, .emb_type = emb_type, .arch = arch};
    int reads_scales = tb_arch_reads_scales(arch);
    if (reads_scales < 0)
        return tb_fail(err, "--arch: unknown architecture '%s' (bitnet, bitnet-b1.58, bitnet-25)",
                       arch);
    if (strcmp(p->hidden_activation, "none") != 0) {
        if (tb_ffn_parse(p->hidden_activation) < 0)
            return tb_fail(err, "--hidden-activation: expected relu2, silu or none, got '%s'",
                           p->hidden_activation);
        o->hidden_activation = p->hidden_activation;
    }
    if (p->tensor_scales && !reads_scales)
        return tb_fail(err,
                       "--tensor-scales: architecture %s does not read scale tensors (bitnet "
                       "does: add --arch bitnet)",
                       arch);
    if (p->tensor_scales) o->tensor_scales = create_tensor_scales(c);
    return TB_OK;
}

int tb_model_create_run(const tb_model_create_params *p, cJSON **doc, tb_error *err)
{
    *doc = NULL;
    tb_config c;
    if (!p->config) return tb_fail(err, "create needs --config NAME");
    if (!p->out) return tb_fail(err, "create needs --out FILE");
    if (tb_config_find(p->config, &c))
        return tb_fail(err, "--config: unknown configuration '%s' (known: %s)", p->config,
                       tb_config_list());
    int fmt = tb_file_format_parse(p->format);
    if (fmt < 0)
        return tb_fail(err, "--format: unknown format '%s' (i2_s, tq2_0, tq1_0, f32)", p->format);
    int emb_type = p->embedding_type ? tb_embedding_type_parse(p->embedding_type) : -1;
    if (p->embedding_type && emb_type < 0)
        return tb_fail(err, "--embedding-type: unknown type '%s' (f16, f32, q8_0, q4_0, q6_k)",
                       p->embedding_type);
    // A tokenizer from another file: its token count is the model's vocabulary.
    tb_gguf tok;
    int has_tok = p->tokenizer_from != NULL;
    if (has_tok && tb_gguf_open(p->tokenizer_from, &tok, err->msg, sizeof err->msg))
        return TB_BAD_INPUT;
    const tb_gguf_kv *tokens = has_tok ? tb_gguf_find_kv(&tok, "tokenizer.ggml.tokens") : NULL;
    if (has_tok &&
        (!tokens || tokens->type != TB_GGUF_ARRAY || tokens->arr_type != TB_GGUF_STRING ||
         tokens->arr_n < 1 || tokens->arr_n > (1u << 22))) {
        tb_gguf_close(&tok);
        return tb_fail(err,
                       "--tokenizer-from %s: tokenizer.ggml.tokens: expected an array of 1 "
                       "to 2^22 strings, %s",
                       p->tokenizer_from, tokens ? "got another type or size" : "missing");
    }
    if (has_tok) c.vocab_size = (int)tokens->arr_n;
    tb_save_options so;
    int rc = create_options(p, &c, fmt, emb_type, &so, err);
    if (has_tok) so.tokenizer = &tok;
    if (!rc)
        rc = tb_check_memory(&c, tb_model_embedding_params(&c) * 6 + CREATE_STAGING_BYTES, err);
    tb_model m;
    int made = !rc;
    if (made) tb_model_synthetic(&c, p->seed, &m);
    double t0 = tb_now();
    if (made && tb_gguf_save_model_opts(&m, p->out, &so, err->msg, sizeof err->msg))
        rc = TB_BAD_INPUT;
    if (made) tb_model_free(&m);
    free((void *)so.tensor_scales);
    if (has_tok) tb_gguf_close(&tok);
    if (rc) return rc;
    *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(*doc, "file", p->out);
    cJSON_AddStringToObject(*doc, "config", c.name);
    cJSON_AddNumberToObject(*doc, "seed", (double)p->seed);
    cJSON_AddStringToObject(*doc, "format",
                            tb_ggml_type_name(tb_file_format_type((tb_file_format)fmt)));
    if (p->embedding_type)
        cJSON_AddStringToObject(*doc, "embedding_type", tb_ggml_type_name((uint32_t)emb_type));
    cJSON_AddStringToObject(*doc, "architecture", so.arch);
    cJSON_AddStringToObject(*doc, "hidden_activation", p->hidden_activation);
    cJSON_AddBoolToObject(*doc, "tensor_scales", p->tensor_scales);
    cJSON_AddNumberToObject(*doc, "vocab_size", c.vocab_size);
    if (has_tok) cJSON_AddStringToObject(*doc, "tokenizer_from", p->tokenizer_from);
    cJSON_AddNumberToObject(*doc, "seconds", tb_now() - t0);
    return TB_OK;
}

// How many per-tensor scale tensors (blk.N.<projection>.scale) a file holds: architecture
// bitnet multiplies each BitLinear's output by its own (folded into the tensor's scale).
static int count_scale_tensors(const tb_gguf *g, const tb_config *c)
{
    int n = 0;
    for (int l = 0; l < c->n_layers; l++)
        for (int w = 0; w < TB_N_LINEAR; w++) {
            char name[96];
            snprintf(name, sizeof name, "blk.%d.%s.scale", l, tb_linear_names[w]);
            n += tb_gguf_find_tensor(g, name) != NULL;
        }
    return n;
}

// The types a model file stores its embedding and output head in ("Q6_K", ...), and its scale
// tensors, into doc. A configuration name has no file: nothing to add.
static int add_head_types(const char *spec, const tb_config *mc, cJSON *doc, tb_error *err)
{
    tb_config c;
    if (tb_config_find(spec, &c) == 0) return TB_OK;
    tb_gguf g;
    if (tb_gguf_open(spec, &g, err->msg, sizeof err->msg)) return TB_BAD_INPUT;
    const tb_gguf_tensor *emb = tb_gguf_find_tensor(&g, "token_embd.weight");
    const tb_gguf_tensor *out = tb_gguf_find_tensor(&g, "output.weight");
    // The model loaded: both are of types it decodes, which have names.
    if (emb) cJSON_AddStringToObject(doc, "embedding_type", tb_ggml_type_name(emb->type));
    if (out) cJSON_AddStringToObject(doc, "output_type", tb_ggml_type_name(out->type));
    cJSON_AddNumberToObject(doc, "scale_tensors", count_scale_tensors(&g, mc));
    tb_gguf_close(&g);
    return TB_OK;
}

int tb_model_info_run(const char *spec, cJSON **doc, tb_error *err)
{
    *doc = NULL;
    if (!spec) return tb_fail(err, "info needs --model FILE|CONFIG");
    tb_model m;
    int rc = tb_open_model(spec, 1, -1, &m, err);
    if (rc) return rc;
    const tb_config *c = &m.cfg;
    uint64_t tern = tb_model_ternary_params(c);
    *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(*doc, "model", spec);
    if (m.arch[0]) cJSON_AddStringToObject(*doc, "architecture", m.arch);
    tb_config_to_json(*doc, c);
    cJSON_AddNumberToObject(*doc, "ternary_params", (double)tern);
    cJSON_AddNumberToObject(*doc, "ternary_bytes_at_2_bits", (double)(tern / 4));
    cJSON_AddNumberToObject(*doc, "embedding_params", (double)tb_model_embedding_params(c));
    cJSON_AddNumberToObject(*doc, "tied_embeddings", m.output == NULL);
    const tb_config cfg = m.cfg;
    tb_model_free(&m);
    rc = add_head_types(spec, &cfg, *doc, err);
    if (rc) {
        cJSON_Delete(*doc);
        *doc = NULL;
    }
    return rc;
}
