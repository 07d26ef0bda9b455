// Fuzz target: the GGUF reader on a buffer (tb_gguf_parse), then what a loader does with what
// it accepts: every key through the typed getters, every tensor looked up by name, decoded to
// ternary (the I2_S, TQ2_0, TQ1_0 codecs; F32, F16 and BF16 holding {-s, 0, +s}) and to floats
// (F32, F16, BF16 and the block types Q4_0, Q8_0, Q4_K, Q6_K of an embedding or output head).
// The parser also sizes ggml types tritbench does not decode: both decoders must refuse those.
#include "gguf.h"
#include "gguf_model.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_values(const tb_gguf *g)
{
    char err[512], key[TB_GGUF_MAX_NAME + 1], str[256];
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const tb_gguf_kv *kv = &g->kv[i];
        size_t n = kv->key_len < sizeof key - 1 ? kv->key_len : sizeof key - 1;
        memcpy(key, kv->key, n);
        key[n] = '\0';
        int64_t iv;
        double fv;
        tb_gguf_get_int(g, key, &iv, err, sizeof err);
        tb_gguf_get_float(g, key, &fv, err, sizeof err);
        tb_gguf_get_str(g, key, str, sizeof str, err, sizeof err);
    }
}

static void decode_tensors(const tb_gguf *g)
{
    char err[512];
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const tb_gguf_tensor *t = &g->t[i];
        if (tb_gguf_find_tensor(g, t->name) == NULL) abort(); // a parsed tensor must be found
        uint64_t count = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) count *= t->ne[d];
        // Each tensor's bytes follow from its type and shape and lie inside the input, so
        // count is bounded by the input's size (about 5 elements a byte at most, TQ1_0).
        int8_t *w = malloc(count ? count : 1);
        float *f = malloc((count ? count : 1) * sizeof(float));
        if (!w || !f) abort();
        float scale;
        tb_decode_ternary(t, w, &scale, err, sizeof err);
        tb_decode_floats(t, f, err, sizeof err);
        free(w);
        free(f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tb_gguf g;
    char err[512];
    if (tb_gguf_parse(data, size, "fuzz.gguf", &g, err, sizeof err) != 0) return 0;
    read_values(&g);
    decode_tensors(&g);
    tb_gguf_close(&g);
    return 0;
}
