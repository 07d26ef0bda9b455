// Writes the GGUF seed files of the fuzz corpora (corpus/fuzz_gguf, corpus/fuzz_model) with the
// library's own writers: small models (dimensions just large enough for I2_S's packing, so a
// fuzz input stays a few KB and runs fast) in every format whose blocks fit them, one with a
// Q8_0 embedding, one with llama.cpp's vocabulary arrays, and single tensors of every type
// tritbench decodes (TQ1_0, TQ2_0 and the K-quants need k = 256, too large for a whole model seed).
// Usage: make_seeds DIR (writes DIR/fuzz_gguf/..., DIR/fuzz_model/...).
#include "gguf.h"
#include "gguf_model.h"
#include "gguf_quant.h"
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failed;

// A model in format fmt, its embedding in ggml type emb_type (-1: the default), for fuzz_model
// and (if also_gguf) fuzz_gguf.
static void save_model(const tb_config *c, tb_file_format fmt, int emb_type, int also_gguf,
                       const char *dir, const char *name)
{
    tb_model m;
    char err[600], path[1024];
    tb_model_synthetic(c, 7, &m);
    if (tb_model_materialize(&m, err, sizeof err) != 0) {
        fprintf(stderr, "make_seeds: %s\n", err);
        failed = 1;
    }
    const char *targets[] = {"fuzz_model", "fuzz_gguf"};
    for (int i = 0; i < 1 + also_gguf; i++) {
        snprintf(path, sizeof path, "%s/%s/%s.gguf", dir, targets[i], name);
        if (tb_gguf_save_model_typed(&m, path, fmt, emb_type, err, sizeof err) != 0) {
            fprintf(stderr, "make_seeds: %s\n", err);
            failed = 1;
        }
    }
    tb_model_free(&m);
}

// One tensor of n rows and k columns in type `type` (ternary weights, or varied floats for the
// block types), with metadata of every kind the writer has.
static void save_tensor(uint32_t type, int n, int k, const char *dir, const char *name)
{
    size_t count = (size_t)n * (size_t)k;
    int8_t *w = malloc(count);
    for (size_t i = 0; i < count; i++) w[i] = (int8_t)((int)(i * 7 % 3) - 1);
    uint64_t ne[2] = {(uint64_t)k, (uint64_t)n};
    uint64_t bytes = 0;
    char err[600], path[1024];
    if (tb_ggml_tensor_bytes(type, ne, 2, &bytes, err, sizeof err) != 0) {
        fprintf(stderr, "make_seeds: %s\n", err);
        failed = 1;
        free(w);
        return;
    }
    uint8_t *data = calloc(1, (size_t)bytes);
    float *v = malloc(count * sizeof(float)); // varied floats for the block types
    for (size_t i = 0; i < count; i++) v[i] = 0.01f * (float)((int)(i * 37 % 101) - 50);
    if (tb_quant_supported(type) && tb_quantize(type, v, count, data, name, err, sizeof err)) {
        fprintf(stderr, "make_seeds: %s\n", err);
        failed = 1;
    }
    if (type == TB_GGML_Q4_K) // no quantizer: d = 1, dmin = 0.5, varied scales and nibbles
        for (size_t b = 0; b < bytes / 144; b++) {
            uint8_t *blk = data + b * 144;
            for (int i = 4; i < 144; i++) blk[i] = (uint8_t)(i * 29 + b);
            blk[0] = 0x00, blk[1] = 0x3c, blk[2] = 0x00, blk[3] = 0x38;
        }
    free(v);
    if (type == TB_GGML_I2_S) tb_encode_i2_s(w, count, 0.5f, data);
    if (type == TB_GGML_TQ2_0) tb_encode_tq2_0(w, count, 0.5f, data);
    if (type == TB_GGML_TQ1_0) tb_encode_tq1_0(w, count, 0.5f, data);
    for (size_t i = 0; i < count; i++) {
        float v = 0.5f * (float)w[i];
        uint32_t bits;
        memcpy(&bits, &v, sizeof bits);
        if (type == TB_GGML_F32) memcpy(data + 4 * i, &v, 4);
        uint16_t h = type == TB_GGML_F16 ? tb_f32_to_f16(v) : (uint16_t)(bits >> 16); // bf16
        if (type == TB_GGML_F16 || type == TB_GGML_BF16) memcpy(data + 2 * i, &h, 2);
    }
    tb_gguf_writer *gw = tb_gguf_writer_new();
    tb_gguf_add_str(gw, "general.architecture", "bitnet-b1.58");
    tb_gguf_add_u32(gw, "general.alignment", 32);
    tb_gguf_add_f32(gw, "bitnet-b1.58.rope.freq_base", 10000.0f);
    tb_gguf_add_tensor_data(gw, "blk.0.attn_q.weight", type, 2, ne, data);
    snprintf(path, sizeof path, "%s/fuzz_gguf/%s.gguf", dir, name);
    if (tb_gguf_write_file(gw, path, err, sizeof err) != 0) {
        fprintf(stderr, "make_seeds: %s\n", err);
        failed = 1;
    }
    tb_gguf_writer_free(gw);
    free(data);
    free(w);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    // name, dim, hidden_dim, layers, heads, kv heads (grouped), vocab, context, theta, eps
    tb_config small = {
        "seed", 32, 64, 1, 2, 1, 8, 16, 10000.0f, 1e-5f, TB_FFN_RELU2, TB_FFN_FROM_CONFIG};
    save_model(&small, TB_FMT_I2_S, -1, 1, argv[1], "model-i2_s");
    save_model(&small, TB_FMT_I2_S, TB_GGML_Q8_0, 1, argv[1], "model-i2_s-embedding-q8_0");
    // 40 KB: fuzz_model only (fuzz_gguf has the f32 codec in tensor-f32).
    save_model(&small, TB_FMT_F32, -1, 0, argv[1], "model-f32");
    // A vocabulary large enough for the placeholder one llama.cpp needs (byte pieces): the
    // writer adds the tokenizer arrays (strings, f32, i32) that a reader must walk past.
    tb_config voc = small;
    voc.vocab_size = 300;
    save_model(&voc, TB_FMT_F32, -1, 1, argv[1], "model-f32-vocab");
    tb_config two = small;
    two.n_layers = 2, two.n_kv_heads = 2, two.vocab_size = 5;
    save_model(&two, TB_FMT_I2_S, -1, 1, argv[1], "model-2layers-i2_s");
    save_tensor(TB_GGML_I2_S, 4, 32, argv[1], "tensor-i2_s");
    save_tensor(TB_GGML_TQ2_0, 2, 256, argv[1], "tensor-tq2_0");
    save_tensor(TB_GGML_TQ1_0, 2, 256, argv[1], "tensor-tq1_0");
    save_tensor(TB_GGML_F32, 3, 5, argv[1], "tensor-f32");
    save_tensor(TB_GGML_F16, 3, 5, argv[1], "tensor-f16");
    save_tensor(TB_GGML_BF16, 3, 5, argv[1], "tensor-bf16");
    save_tensor(TB_GGML_Q8_0, 2, 64, argv[1], "tensor-q8_0");
    save_tensor(TB_GGML_Q4_0, 2, 64, argv[1], "tensor-q4_0");
    save_tensor(TB_GGML_Q6_K, 1, 256, argv[1], "tensor-q6_k");
    save_tensor(TB_GGML_Q4_K, 1, 256, argv[1], "tensor-q4_k");
    return failed;
}
