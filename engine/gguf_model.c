// BitNet b1.58 <-> GGUF: tensor codecs, model loading and writing.
#include "gguf_model.h"
#include "gguf_quant.h"
#include "model.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tb_file_format_parse(const char *s)
{
    if (strcmp(s, "i2_s") == 0) return TB_FMT_I2_S;
    if (strcmp(s, "tq2_0") == 0) return TB_FMT_TQ2_0;
    if (strcmp(s, "tq1_0") == 0) return TB_FMT_TQ1_0;
    if (strcmp(s, "f32") == 0) return TB_FMT_F32;
    return -1;
}

uint32_t tb_file_format_type(tb_file_format f)
{
    static const uint32_t types[] = {TB_GGML_I2_S, TB_GGML_TQ2_0, TB_GGML_TQ1_0, TB_GGML_F32};
    return types[f];
}

// ---------------------------------------------------------------------------------------------
// I2_S (bitnet.cpp, x86 layout). Code c = w + 1 in 2 bits. Blocks of 128 consecutive weights
// (flat over the whole tensor) in 32 bytes:
//   byte j (0..31) = c[j] << 6 | c[j + 32] << 4 | c[j + 64] << 2 | c[j + 96]
// After count/4 bytes: the f32 scale, in a 32-byte tail (rest zero).

void tb_encode_i2_s(const int8_t *w, size_t count, float scale, uint8_t *out)
{
    for (size_t b = 0; b < count / 128; b++)
        for (int j = 0; j < 32; j++) {
            const int8_t *x = w + b * 128 + j;
            out[b * 32 + j] =
                (uint8_t)((x[0] + 1) << 6 | (x[32] + 1) << 4 | (x[64] + 1) << 2 | (x[96] + 1));
        }
    memset(out + count / 4, 0, 32);
    memcpy(out + count / 4, &scale, 4);
}

static int decode_i2_s(const tb_gguf_tensor *t, size_t count, int8_t *w, float *scale, char *err,
                       size_t err_len)
{
    for (size_t b = 0; b < count / 128; b++)
        for (int j = 0; j < 32; j++) {
            uint8_t byte = t->data[b * 32 + j];
            for (int s = 0; s < 4; s++) {
                int c = (byte >> (6 - 2 * s)) & 3;
                if (c == 3) {
                    snprintf(err, err_len,
                             "tensor '%s': I2_S code 0b11 at element %zu: expected 0b00, 0b01 or "
                             "0b10 (-1, 0, +1)",
                             t->name, b * 128 + (size_t)(j + 32 * s));
                    return -1;
                }
                w[b * 128 + (size_t)j + 32 * (size_t)s] = (int8_t)(c - 1);
            }
        }
    memcpy(scale, t->data + count / 4, 4);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// TQ2_0 (ggml): blocks of 256 weights along a row, { uint8 qs[64]; f16 d } = 66 bytes.
// Within a block, for j in {0, 32}, m in 0..31, n in 0..3:
//   qs[j + m] bits 2n+1:2n hold code (w + 1) of element 4j + 32n + m.
// Value = (code - 1) * d.

void tb_encode_tq2_0(const int8_t *w, size_t count, float scale, uint8_t *out)
{
    uint16_t d = tb_f32_to_f16(scale);
    for (size_t b = 0; b < count / 256; b++) {
        const int8_t *x = w + b * 256;
        uint8_t *o = out + b * 66;
        for (int j = 0; j < 64; j += 32)
            for (int m = 0; m < 32; m++) {
                uint8_t q = 0;
                for (int n = 0; n < 4; n++) q |= (uint8_t)((x[4 * j + 32 * n + m] + 1) << (2 * n));
                o[j + m] = q;
            }
        memcpy(o + 64, &d, 2);
    }
}

// One scale per tensor is what tritbench's kernels take. TQ2_0 and TQ1_0 carry one f16 scale
// per block; a file is accepted if every block that holds a non-zero weight has the same d bit
// for bit (what any per-tensor quantizer, BitNet's included, writes), and refused otherwise:
// per-block scales cannot be folded into a per-tensor scale without changing the weights.
static int check_block_scale(const tb_gguf_tensor *t, size_t b, uint16_t d, int nonzero, int *have,
                             uint16_t *first, char *err, size_t err_len)
{
    if (!nonzero) return 0;
    if (!*have) {
        *have = 1;
        *first = d;
        return 0;
    }
    if (d == *first) return 0;
    snprintf(err, err_len,
             "tensor '%s': %s block %zu scale d = %g: expected the tensor's scale %g (one scale "
             "per tensor; per-block scales are not supported)",
             t->name, tb_ggml_type_name(t->type), b, (double)tb_f16_to_f32(d),
             (double)tb_f16_to_f32(*first));
    return -1;
}

static int decode_tq2_0(const tb_gguf_tensor *t, size_t count, int8_t *w, float *scale, char *err,
                        size_t err_len)
{
    int have = 0;
    uint16_t first = 0, d = 0;
    for (size_t b = 0; b < count / 256; b++) {
        const uint8_t *o = t->data + b * 66;
        int8_t *x = w + b * 256;
        int nonzero = 0;
        for (int j = 0; j < 64; j += 32)
            for (int m = 0; m < 32; m++)
                for (int n = 0; n < 4; n++) {
                    int c = (o[j + m] >> (2 * n)) & 3;
                    if (c == 3) {
                        snprintf(err, err_len,
                                 "tensor '%s': TQ2_0 code 3 at element %zu: expected 0, 1 or 2 "
                                 "(-1, 0, +1)",
                                 t->name, b * 256 + (size_t)(4 * j + 32 * n + m));
                        return -1;
                    }
                    x[4 * j + 32 * n + m] = (int8_t)(c - 1);
                    nonzero |= c != 1;
                }
        memcpy(&d, o + 64, 2);
        if (b == 0) first = d;
        if (check_block_scale(t, b, d, nonzero, &have, &first, err, err_len)) return -1;
    }
    *scale = tb_f16_to_f32(first);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// TQ1_0 (ggml): blocks of 256 weights, { uint8 qs[48]; uint8 qh[4]; f16 d } = 54 bytes.
// Five trits (codes w + 1 in {0, 1, 2}) per byte as a base-3 number with the first trit most
// significant, stored as the fixed-point fraction ceil(v * 256 / 243). Trit n comes back as
// ((uint8)(q * 3^n) * 3) >> 8. Element order:
//   qs[m],      m in 0..31: trit n is element m + 32n            (elements   0..159)
//   qs[32 + m], m in 0..15: trit n is element 160 + m + 16n      (elements 160..239)
//   qh[m],      m in 0..3:  trit n (n < 4) is element 240 + m + 4n, trit 4 is zero

static uint8_t tq1_pack(const int8_t *x, int stride, int trits)
{
    unsigned v = 0;
    for (int n = 0; n < 5; n++) v = v * 3 + (unsigned)(n < trits ? x[n * stride] + 1 : 0);
    return (uint8_t)((v * 256 + 242) / 243); // ceil(v * 256 / 243); v <= 242 keeps it < 256
}

static int tq1_trit(uint8_t q, int n)
{
    static const uint8_t pow3[5] = {1, 3, 9, 27, 81};
    uint8_t shifted = (uint8_t)(q * pow3[n]); // wraps: drops the trits before n
    return (shifted * 3) >> 8;
}

void tb_encode_tq1_0(const int8_t *w, size_t count, float scale, uint8_t *out)
{
    uint16_t d = tb_f32_to_f16(scale);
    for (size_t b = 0; b < count / 256; b++) {
        const int8_t *x = w + b * 256;
        uint8_t *o = out + b * 54;
        for (int m = 0; m < 32; m++) o[m] = tq1_pack(x + m, 32, 5);
        for (int m = 0; m < 16; m++) o[32 + m] = tq1_pack(x + 160 + m, 16, 5);
        for (int m = 0; m < 4; m++) o[48 + m] = tq1_pack(x + 240 + m, 4, 4);
        memcpy(o + 52, &d, 2);
    }
}

static int decode_tq1_0(const tb_gguf_tensor *t, size_t count, int8_t *w, float *scale, char *err,
                        size_t err_len)
{
    int have = 0;
    uint16_t first = 0, d = 0;
    for (size_t b = 0; b < count / 256; b++) {
        const uint8_t *o = t->data + b * 54;
        int8_t *x = w + b * 256;
        for (int n = 0; n < 5; n++) {
            for (int m = 0; m < 32; m++) x[m + 32 * n] = (int8_t)(tq1_trit(o[m], n) - 1);
            for (int m = 0; m < 16; m++) x[160 + m + 16 * n] = (int8_t)(tq1_trit(o[32 + m], n) - 1);
            if (n < 4)
                for (int m = 0; m < 4; m++)
                    x[240 + m + 4 * n] = (int8_t)(tq1_trit(o[48 + m], n) - 1);
        }
        int nonzero = 0;
        for (int i = 0; i < 256; i++) nonzero |= x[i] != 0;
        memcpy(&d, o + 52, 2);
        if (b == 0) first = d;
        if (check_block_scale(t, b, d, nonzero, &have, &first, err, err_len)) return -1;
    }
    *scale = tb_f16_to_f32(first);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Float tensors holding ternary weights (the public converter's round_clip(W / s) * s): the
// scale is max |v|, and every value must be exactly 0 or +-scale.

static float float_at(const tb_gguf_tensor *t, size_t i)
{
    if (t->type == TB_GGML_F32) {
        float f;
        memcpy(&f, t->data + 4 * i, 4);
        return f;
    }
    uint16_t h;
    memcpy(&h, t->data + 2 * i, 2);
    return t->type == TB_GGML_F16 ? tb_f16_to_f32(h) : tb_bf16_to_f32(h);
}

static int decode_float_ternary(const tb_gguf_tensor *t, size_t count, int8_t *w, float *scale,
                                char *err, size_t err_len)
{
    float s = 0;
    for (size_t i = 0; i < count; i++) s = fmaxf(s, fabsf(float_at(t, i)));
    for (size_t i = 0; i < count; i++) {
        float v = float_at(t, i);
        if (v == 0.0f)
            w[i] = 0;
        else if (v == s)
            w[i] = 1;
        else if (v == -s)
            w[i] = -1;
        else {
            snprintf(err, err_len,
                     "tensor '%s' element %zu = %g: expected a ternary value in {-%g, 0, +%g}",
                     t->name, i, (double)v, (double)s, (double)s);
            return -1;
        }
    }
    *scale = s > 0 ? s : 1.0f; // all-zero tensor: any scale gives the same products
    return 0;
}

int tb_decode_ternary(const tb_gguf_tensor *t, int8_t *w, float *scale, char *err, size_t err_len)
{
    size_t count = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) count *= (size_t)t->ne[d];
    int rc;
    switch (t->type) {
    case TB_GGML_I2_S:
        rc = decode_i2_s(t, count, w, scale, err, err_len);
        break;
    case TB_GGML_TQ2_0:
        rc = decode_tq2_0(t, count, w, scale, err, err_len);
        break;
    case TB_GGML_TQ1_0:
        rc = decode_tq1_0(t, count, w, scale, err, err_len);
        break;
    case TB_GGML_F32:
    case TB_GGML_F16:
    case TB_GGML_BF16:
        rc = decode_float_ternary(t, count, w, scale, err, err_len);
        break;
    default: // block-quantized floats: per-block scales are not one ternary scale
        snprintf(err, err_len,
                 "tensor '%s' type: expected I2_S, TQ2_0, TQ1_0, F32, F16 or BF16 for ternary "
                 "weights, got %s (%u)",
                 t->name, tb_ggml_type_name(t->type) ? tb_ggml_type_name(t->type) : "?", t->type);
        return -1;
    }
    if (rc == 0 && !(isfinite(*scale) && *scale >= 0)) {
        snprintf(err, err_len, "tensor '%s' scale: expected a finite non-negative number, got %g",
                 t->name, (double)*scale);
        return -1;
    }
    return rc;
}

// ---------------------------------------------------------------------------------------------
// Loading

// The architectures a file may name, as their engines compute them. Every one has the four
// RMSNorms of a layer (sub-norms included: llama.cpp and bitnet.cpp require them for all three)
// and the seven BitLinears; they differ in the FFN's activation when the file's
// <arch>.hidden_activation does not say, and in whether per-tensor scale tensors are read.
typedef struct {
    const char *name;
    tb_ffn_act ffn;    // the activation of a file without <arch>.hidden_activation
    int tensor_scales; // reads the optional blk.N.<projection>.scale tensors
} arch_info;

static const arch_info archs[] = {
    // bitnet.cpp's BitNet b1.58 2B4T (its build_bitnet_158 graph: relu(gate)^2 * up).
    {"bitnet-b1.58", TB_FFN_RELU2, 0},
    {"bitnet-25", TB_FFN_RELU2, 0},
    // llama.cpp's (and bitnet.cpp's build_bitnet): the older BitNet b1.58 family
    // (bitnet_b1_58-large, -3B), silu(gate) * up unless hidden_activation says otherwise, and
    // one optional f32 per BitLinear that multiplies its output.
    {"bitnet", TB_FFN_SILU, 1},
};

static const arch_info *find_arch(const char *name)
{
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
        if (strcmp(name, archs[i].name) == 0) return &archs[i];
    return NULL;
}

// Spellings of <arch>.hidden_activation: relu2 as HF's BitNet config writes it ("hidden_act":
// "relu2") and as ggml names the op (relu_sqr), and silu with the names llama.cpp's table maps
// to its SiLU GLU (swish, swiglu).
static const struct {
    const char *spelling;
    tb_ffn_act ffn;
} ffn_spellings[] = {
    {"relu2", TB_FFN_RELU2},        {"relu_sqr", TB_FFN_RELU2}, {"relu_squared", TB_FFN_RELU2},
    {"squared_relu", TB_FFN_RELU2}, {"silu", TB_FFN_SILU},      {"swish", TB_FFN_SILU},
    {"swiglu", TB_FFN_SILU},
};

typedef struct {
    tb_gguf g;
    const tb_gguf_tensor **lin; // (n_layers, TB_N_LINEAR)
    float *lin_scale;           // (n_layers, TB_N_LINEAR) the scale tensors' values, else 1
} gguf_src;

// A ternary tensor's canonical form. A scale tensor multiplies the product's output, so it is
// folded into the tensor's own scale here, once: the kernels (one scale per tensor) and the
// reference model then both compute scale tensor * gamma * (w . x).
static int gguf_ternary(void *src_, int layer, int which, int8_t *w, float *scale, char *err,
                        size_t err_len)
{
    gguf_src *src = src_;
    const int i = layer * TB_N_LINEAR + which;
    const tb_gguf_tensor *t = src->lin[i];
    int rc = tb_decode_ternary(t, w, scale, err, err_len);
    if (rc) {
        // Prefix the file name: the message must say where the bad tensor is.
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s: %s", src->g.path, err);
        snprintf(err, err_len, "%s", tmp);
        return rc;
    }
    const float gamma = *scale;
    *scale *= src->lin_scale[i];
    if (!isfinite(*scale)) {
        snprintf(err, err_len,
                 "%s: tensor '%s' scale %g times its scale tensor %g: expected a finite product, "
                 "got %g",
                 src->g.path, t->name, (double)gamma, (double)src->lin_scale[i], (double)*scale);
        return -1;
    }
    return 0;
}

static void free_gguf_src(void *src_)
{
    gguf_src *src = src_;
    tb_gguf_close(&src->g);
    free(src->lin);
    free(src->lin_scale);
    free(src);
}

// A tensor that must exist with shape {ne0, ne1} (ne1 = 0: one dimension) and one of the types
// in the mask (bit per type id).
static const tb_gguf_tensor *need_tensor(const tb_gguf *g, const char *name, uint64_t ne0,
                                         uint64_t ne1, uint64_t type_mask, char *err,
                                         size_t err_len)
{
    const tb_gguf_tensor *t = tb_gguf_find_tensor(g, name);
    if (!t) {
        snprintf(err, err_len, "%s: tensor '%s': missing", g->path, name);
        return NULL;
    }
    uint32_t want_dims = ne1 ? 2 : 1;
    if (t->n_dims != want_dims || t->ne[0] != ne0 || (ne1 && t->ne[1] != ne1)) {
        snprintf(err, err_len,
                 "%s: tensor '%s' shape: expected [%" PRIu64 ", %" PRIu64 "], got [%" PRIu64
                 ", %" PRIu64 "] (%u dims)",
                 g->path, name, ne0, ne1 ? ne1 : 1, t->ne[0], t->ne[1], t->n_dims);
        return NULL;
    }
    if (t->type >= 64 || !((type_mask >> t->type) & 1)) {
        char want[200] = "";
        size_t used = 0;
        for (uint32_t i = 0; i < 64 && used < sizeof want; i++)
            if ((type_mask >> i) & 1)
                used += (size_t)snprintf(want + used, sizeof want - used, "%s%s", used ? ", " : "",
                                         tb_ggml_type_name(i));
        const char *got = tb_ggml_type_name(t->type); // the parser knows every type it accepts
        snprintf(err, err_len, "%s: tensor '%s' type: expected one of %s, got %s (%u)", g->path,
                 name, want, got ? got : "?", t->type);
        return NULL;
    }
    return t;
}

#define FLOAT_TYPES ((1ull << TB_GGML_F32) | (1ull << TB_GGML_F16) | (1ull << TB_GGML_BF16))
#define TERNARY_TYPES                                                                              \
    (FLOAT_TYPES | (1ull << TB_GGML_I2_S) | (1ull << TB_GGML_TQ2_0) | (1ull << TB_GGML_TQ1_0))
// The token embedding and the output head: floats or ggml's block-quantized floats.
#define EMBEDDING_TYPES                                                                            \
    (FLOAT_TYPES | (1ull << TB_GGML_Q4_0) | (1ull << TB_GGML_Q8_0) | (1ull << TB_GGML_Q4_K) |      \
     (1ull << TB_GGML_Q6_K))

int tb_decode_floats(const tb_gguf_tensor *t, float *out, char *err, size_t err_len)
{
    size_t count = (size_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
    if (t->type == TB_GGML_F32 || t->type == TB_GGML_F16 || t->type == TB_GGML_BF16) {
        for (size_t i = 0; i < count; i++) out[i] = float_at(t, i);
        return 0;
    }
    return tb_dequantize(t->type, t->data, count, out, t->name, err, err_len);
}

// tb_decode_floats, its message prefixed with the file's name.
static int to_floats(const tb_gguf *g, const tb_gguf_tensor *t, float *out, char *err,
                     size_t err_len)
{
    char why[400];
    if (tb_decode_floats(t, out, why, sizeof why) == 0) return 0;
    snprintf(err, err_len, "%s: %s", g->path, why);
    return -1;
}

// An integer hyperparameter <arch>.<key>: required unless def >= 0.
static int hparam_int(const tb_gguf *g, const char *arch, const char *key, int64_t def, int *out,
                      char *err, size_t err_len)
{
    char full[128];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    int64_t v;
    int r = tb_gguf_get_int(g, full, &v, err, err_len);
    if (r < 0) return -1;
    if (r == 0) {
        if (def < 0) {
            snprintf(err, err_len, "%s: metadata '%s': missing", g->path, full);
            return -1;
        }
        v = def;
    }
    if (v < 0 || v > (1 << 24)) {
        snprintf(err, err_len, "%s: metadata '%s': expected 0..2^24, got %" PRId64, g->path, full,
                 v);
        return -1;
    }
    *out = (int)v;
    return 0;
}

// What loading allocates (the embedding, the output head if the file has one, the norms, all
// in float), refused up front if the machine does not have it: a file must not be able to make
// the loader abort on a failed allocation. The sizes are bounded by tb_config_check (at most
// 2^22 * 2^17 * 4 * 2 bytes), so this arithmetic cannot overflow.
// "61.2 GiB", "94.0 MiB", "1000 bytes": a size as people read it.
static void human_size(uint64_t bytes, char *out, size_t len)
{
    if (bytes >= 1ull << 30)
        snprintf(out, len, "%.1f GiB", (double)bytes / (1ull << 30));
    else if (bytes >= 1ull << 20)
        snprintf(out, len, "%.1f MiB", (double)bytes / (1ull << 20));
    else
        snprintf(out, len, "%" PRIu64 " bytes", bytes);
}

static int check_load_memory(const char *path, const tb_config *c, int has_output, char *err,
                             size_t err_len)
{
    uint64_t floats =
        tb_model_embedding_params(c) * (has_output ? 2u : 1u) + tb_model_norm_params(c);
    uint64_t need = floats * sizeof(float), avail = tb_mem_available();
    if (avail && need > avail) {
        char need_s[32], avail_s[32];
        human_size(need, need_s, sizeof need_s);
        human_size(avail, avail_s, sizeof avail_s);
        snprintf(err, err_len,
                 "%s: loading needs %s (embedding, output head and norms in float), %s available "
                 "(MemAvailable): refused",
                 path, need_s, avail_s);
        return -1;
    }
    return 0;
}

// The FFN activation of a file into c: its <arch>.hidden_activation when present, else the
// architecture's own. An unknown value is refused: computing another network without a word is
// what this is here to prevent.
static int file_ffn(const tb_gguf *g, const arch_info *a, tb_config *c, char *err, size_t err_len)
{
    char key[128], value[64];
    snprintf(key, sizeof key, "%s.hidden_activation", a->name);
    int r = tb_gguf_get_str(g, key, value, sizeof value, err, err_len);
    if (r < 0) return -1;
    if (r == 0) {
        c->ffn = a->ffn, c->ffn_source = TB_FFN_FROM_ARCH;
        return 0;
    }
    for (size_t i = 0; i < sizeof ffn_spellings / sizeof ffn_spellings[0]; i++)
        if (strcmp(value, ffn_spellings[i].spelling) == 0) {
            c->ffn = ffn_spellings[i].ffn, c->ffn_source = TB_FFN_FROM_KEY;
            return 0;
        }
    snprintf(err, err_len,
             "%s: metadata '%s': expected relu2 (or relu_sqr, relu_squared, squared_relu) or silu "
             "(or swish, swiglu), got '%s'",
             g->path, key, value);
    return -1;
}

// "[1]", "[2, 1]": a tensor's dimensions as messages show them.
static void shape_text(const tb_gguf_tensor *t, char *out, size_t len)
{
    size_t used = (size_t)snprintf(out, len, "[");
    for (uint32_t d = 0; d < t->n_dims && used < len; d++)
        used += (size_t)snprintf(out + used, len - used, "%s%" PRIu64, d ? ", " : "", t->ne[d]);
    if (used < len) snprintf(out + used, len - used, "]");
}

// The scale tensor of BitLinear `name` ("blk.3.ffn_up") when the file has one: a single f32,
// finite and non-negative (as a ternary tensor's own scale), into *out. Anything else under
// that name is refused with the tensor's name: a scale read wrong scales a whole product.
static int scale_tensor(const tb_gguf *g, const char *name, float *out, char *err, size_t err_len)
{
    char full[112], shape[80];
    snprintf(full, sizeof full, "%s.scale", name);
    const tb_gguf_tensor *t = tb_gguf_find_tensor(g, full);
    if (!t) return 0;
    uint64_t count = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) count *= t->ne[d];
    shape_text(t, shape, sizeof shape);
    if (count != 1) {
        snprintf(err, err_len, "%s: tensor '%s' shape: expected one element [1], got %s", g->path,
                 full, shape);
        return -1;
    }
    if (t->type != TB_GGML_F32) {
        const char *got = tb_ggml_type_name(t->type);
        snprintf(err, err_len, "%s: tensor '%s' type: expected F32, got %s (%u)", g->path, full,
                 got ? got : "?", t->type);
        return -1;
    }
    float v;
    memcpy(&v, t->data, sizeof v);
    if (!(isfinite(v) && v >= 0)) {
        snprintf(err, err_len,
                 "%s: tensor '%s' value: expected a finite non-negative number, got %g", g->path,
                 full, (double)v);
        return -1;
    }
    *out = v;
    return 0;
}

int tb_gguf_load_model(const char *path, tb_model *m, char *err, size_t err_len)
{
    memset(m, 0, sizeof *m);
    gguf_src *src = calloc(1, sizeof *src);
    if (!src) abort();
    tb_gguf *g = &src->g;
    if (tb_gguf_open(path, g, err, err_len)) {
        free(src);
        return -1;
    }
    char arch[64] = "";
    int r = tb_gguf_get_str(g, "general.architecture", arch, sizeof arch, err, err_len);
    if (r == 0) snprintf(err, err_len, "%s: metadata 'general.architecture': missing", path);
    const arch_info *ai = find_arch(arch);
    if (r > 0 && !ai) {
        snprintf(err, err_len,
                 "%s: general.architecture: expected bitnet-b1.58, bitnet-25 or bitnet, got '%s'",
                 path, arch);
        r = -1;
    }
    tb_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", arch);
    if (r > 0 && tb_gguf_get_str(g, "general.name", c.name, sizeof c.name, err, err_len) < 0)
        goto fail;
    int rope_dims = 0;
    if (r <= 0 || hparam_int(g, arch, "block_count", -1, &c.n_layers, err, err_len) ||
        hparam_int(g, arch, "embedding_length", -1, &c.dim, err, err_len) ||
        hparam_int(g, arch, "feed_forward_length", -1, &c.hidden_dim, err, err_len) ||
        hparam_int(g, arch, "attention.head_count", -1, &c.n_heads, err, err_len) ||
        hparam_int(g, arch, "attention.head_count_kv", c.n_heads, &c.n_kv_heads, err, err_len) ||
        hparam_int(g, arch, "context_length", 4096, &c.seq_len, err, err_len) ||
        hparam_int(g, arch, "vocab_size", 0, &c.vocab_size, err, err_len) ||
        hparam_int(g, arch, "rope.dimension_count", 0, &rope_dims, err, err_len))
        goto fail;
    char key[128];
    double theta = 10000.0, eps = 1e-5;
    snprintf(key, sizeof key, "%s.rope.freq_base", arch);
    if (tb_gguf_get_float(g, key, &theta, err, err_len) < 0) goto fail;
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", arch);
    if (tb_gguf_get_float(g, key, &eps, err, err_len) < 0) goto fail;
    c.rope_theta = (float)theta;
    c.norm_eps = (float)eps;
    if (file_ffn(g, ai, &c, err, err_len)) goto fail;
    // The vocabulary size may be given only by the embedding's shape.
    const tb_gguf_tensor *emb = tb_gguf_find_tensor(g, "token_embd.weight");
    if (c.vocab_size == 0 && emb && emb->n_dims == 2) {
        if (emb->ne[1] > (1 << 22)) {
            snprintf(err, err_len,
                     "%s: tensor 'token_embd.weight' rows (the vocabulary): expected <= 2^22, got "
                     "%" PRIu64,
                     path, emb->ne[1]);
            goto fail;
        }
        c.vocab_size = (int)emb->ne[1];
    }
    char why[200];
    if (tb_config_check(&c, why, sizeof why)) {
        snprintf(err, err_len, "%s: hyperparameters: %s", path, why);
        goto fail;
    }
    if (rope_dims && rope_dims != c.dim / c.n_heads) {
        snprintf(err, err_len, "%s: %s.rope.dimension_count: expected the head size %d, got %d",
                 path, arch, c.dim / c.n_heads, rope_dims);
        goto fail;
    }

    // Every tensor, checked up front: name, shape, type.
    m->cfg = c;
    snprintf(m->arch, sizeof m->arch, "%s", arch);
    src->lin = calloc((size_t)c.n_layers * TB_N_LINEAR, sizeof *src->lin);
    src->lin_scale = malloc((size_t)c.n_layers * TB_N_LINEAR * sizeof *src->lin_scale);
    if (!src->lin || !src->lin_scale) abort();
    uint64_t d = (uint64_t)c.dim, hd = (uint64_t)c.hidden_dim, V = (uint64_t)c.vocab_size;
    const tb_gguf_tensor *t_emb, *t_out = NULL, *t_fn;
    if (!(t_emb = need_tensor(g, "token_embd.weight", d, V, EMBEDDING_TYPES, err, err_len)))
        goto fail;
    if (tb_gguf_find_tensor(g, "output.weight") &&
        !(t_out = need_tensor(g, "output.weight", d, V, EMBEDDING_TYPES, err, err_len)))
        goto fail;
    if (!(t_fn = need_tensor(g, "output_norm.weight", d, 0, FLOAT_TYPES, err, err_len))) goto fail;
    const tb_gguf_tensor *norms[4 * 1024]; // 4 norms a layer; n_layers <= 1024 (config check)
    static const char *const norm_names[4] = {"attn_norm", "attn_sub_norm", "ffn_norm",
                                              "ffn_sub_norm"};
    for (int l = 0; l < c.n_layers; l++) {
        char name[96];
        for (int i = 0; i < 4; i++) {
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, norm_names[i]);
            if (!(norms[l * 4 + i] =
                      need_tensor(g, name, i == 3 ? hd : d, 0, FLOAT_TYPES, err, err_len)))
                goto fail;
        }
        for (int w = 0; w < TB_N_LINEAR; w++) {
            int n, k;
            tb_linear_shape(&c, w, &n, &k);
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, tb_linear_names[w]);
            if (!(src->lin[l * TB_N_LINEAR + w] =
                      need_tensor(g, name, (uint64_t)k, (uint64_t)n, TERNARY_TYPES, err, err_len)))
                goto fail;
            snprintf(name, sizeof name, "blk.%d.%s", l, tb_linear_names[w]);
            src->lin_scale[l * TB_N_LINEAR + w] = 1.0f;
            if (ai->tensor_scales &&
                scale_tensor(g, name, &src->lin_scale[l * TB_N_LINEAR + w], err, err_len))
                goto fail;
        }
    }

    if (check_load_memory(path, &c, t_out != NULL, err, err_len)) goto fail;
    // Floats now (decoded from their blocks where quantized); ternary tensors on demand.
    tb_model_alloc_floats(m);
    if (to_floats(g, t_emb, m->embedding, err, err_len)) goto fail;
    if (t_out) {
        m->output = malloc(V * d * sizeof(float));
        if (!m->output) abort();
        if (to_floats(g, t_out, m->output, err, err_len)) goto fail;
    }
    int bad = to_floats(g, t_fn, m->final_norm, err, err_len);
    for (int l = 0; l < c.n_layers && !bad; l++) {
        float *out[4] = {m->attn_norm + (size_t)l * d, m->attn_sub_norm + (size_t)l * d,
                         m->ffn_norm + (size_t)l * d, m->ffn_sub_norm + (size_t)l * hd};
        for (int i = 0; i < 4 && !bad; i++)
            bad = to_floats(g, norms[l * 4 + i], out[i], err, err_len);
    }
    if (bad) goto fail;
    m->src = src;
    m->load_ternary = gguf_ternary;
    m->free_src = free_gguf_src;
    return 0;
fail:
    tb_model_free(m);
    free_gguf_src(src);
    return -1;
}

// ---------------------------------------------------------------------------------------------
// Writing

typedef struct {
    const tb_model *m;
    tb_file_format fmt;
} save_ctx;

// Producer for ternary tensors: fetch (generate or copy) the canonical form, then encode.
static int produce_ternary(void *ctx_, int index, uint8_t *out, size_t bytes, char *err,
                           size_t err_len)
{
    save_ctx *ctx = ctx_;
    const tb_ternary *t = &ctx->m->lin[index];
    size_t count = (size_t)t->n * (size_t)t->k;
    int8_t *w = malloc(count);
    if (!w) abort();
    float scale;
    if (tb_model_ternary(ctx->m, index / TB_N_LINEAR, index % TB_N_LINEAR, w, &scale, err,
                         err_len)) {
        free(w);
        return -1;
    }
    switch (ctx->fmt) {
    case TB_FMT_I2_S:
        tb_encode_i2_s(w, count, scale, out);
        break;
    case TB_FMT_TQ2_0:
        tb_encode_tq2_0(w, count, scale, out);
        break;
    case TB_FMT_TQ1_0:
        tb_encode_tq1_0(w, count, scale, out);
        break;
    case TB_FMT_F32:
        for (size_t i = 0; i < count; i++) {
            float v = (float)w[i] * scale;
            memcpy(out + 4 * i, &v, 4);
        }
        break;
    }
    (void)bytes;
    free(w);
    return 0;
}

// The embedding or the output head, written in a float or block type from the model's floats.
typedef struct {
    const float *v;
    size_t count;
    uint32_t type;
    const char *name;
} float_tensor;

static int produce_floats(void *ctx_, int index, uint8_t *out, size_t bytes, char *err,
                          size_t err_len)
{
    (void)index, (void)bytes;
    const float_tensor *t = ctx_;
    if (t->type == TB_GGML_F32) {
        memcpy(out, t->v, t->count * sizeof(float));
        return 0;
    }
    if (t->type == TB_GGML_F16) {
        for (size_t i = 0; i < t->count; i++) {
            uint16_t h = tb_f32_to_f16(t->v[i]); // round to nearest even
            memcpy(out + 2 * i, &h, 2);
        }
        return 0;
    }
    return tb_quantize(t->type, t->v, t->count, out, t->name, err, err_len);
}

static int f16_exact(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (tb_f16_round(v[i]) != v[i]) return 0;
    return 1;
}

int tb_embedding_type_parse(const char *s)
{
    static const struct {
        const char *name;
        uint32_t type;
    } types[] = {{"f32", TB_GGML_F32},
                 {"f16", TB_GGML_F16},
                 {"q8_0", TB_GGML_Q8_0},
                 {"q4_0", TB_GGML_Q4_0},
                 {"q6_k", TB_GGML_Q6_K}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(s, types[i].name) == 0) return (int)types[i].type;
    return -1;
}

// Row length of a block type: 32 (Q4_0, Q8_0) or 256 (Q6_K); 1 for floats.
static int embedding_block(uint32_t type)
{
    if (type == TB_GGML_Q4_0 || type == TB_GGML_Q8_0) return 32;
    if (type == TB_GGML_Q6_K) return 256;
    return 1;
}

// A vocabulary of n_vocab pieces, which llama.cpp needs to load a model (it sizes the model by
// it). The pieces are placeholders in the layout of a SentencePiece ("llama") vocabulary: <unk>,
// <s>, </s>, the 256 byte tokens <0x00>..<0xFF> (llama.cpp's SPM setup looks up <0x0A>, the
// newline, and refuses a vocabulary without it), then "tok<N>". The real 2B4T has LLaMA 3's
// BPE tokenizer; timing needs none, since both engines are given token ids, not text. Models
// with fewer than 259 tokens (the "tiny" test sizes) get no vocabulary: llama.cpp says why it
// cannot load them.
static void add_spm_vocab(tb_gguf_writer *w, int n_vocab)
{
    if (n_vocab < 3 + 256) return;
    size_t n = (size_t)n_vocab;
    char(*pieces)[16] = malloc(n * sizeof *pieces);
    const char **ptrs = malloc(n * sizeof *ptrs);
    float *scores = malloc(n * sizeof *scores);
    int32_t *types = malloc(n * sizeof *types);
    if (!pieces || !ptrs || !scores || !types) abort();
    enum { NORMAL = 1, UNKNOWN = 2, CONTROL = 3, BYTE = 6 }; // llama_token_type
    for (size_t i = 0; i < n; i++) {
        if (i < 3)
            snprintf(pieces[i], sizeof pieces[i], "%s", i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>");
        else if (i < 3 + 256)
            snprintf(pieces[i], sizeof pieces[i], "<0x%02X>", (unsigned)(i - 3));
        else
            snprintf(pieces[i], sizeof pieces[i], "tok%zu", i);
        ptrs[i] = pieces[i];
        types[i] = i == 0 ? UNKNOWN : i < 3 ? CONTROL : i < 3 + 256 ? BYTE : NORMAL;
        scores[i] = i < 3 + 256 ? 0.0f : -(float)(i - 3 - 256); // SPM merges by score
    }
    tb_gguf_add_str(w, "tokenizer.ggml.model", "llama");
    tb_gguf_add_arr_str(w, "tokenizer.ggml.tokens", ptrs, n);
    tb_gguf_add_arr_f32(w, "tokenizer.ggml.scores", scores, n);
    tb_gguf_add_arr_i32(w, "tokenizer.ggml.token_type", types, n);
    tb_gguf_add_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    tb_gguf_add_u32(w, "tokenizer.ggml.bos_token_id", 1);
    tb_gguf_add_u32(w, "tokenizer.ggml.eos_token_id", 2);
    free(pieces), free(ptrs), free(scores), free(types);
}

int tb_gguf_save_model(const tb_model *m, const char *path, tb_file_format fmt, char *err,
                       size_t err_len)
{
    return tb_gguf_save_model_typed(m, path, fmt, -1, err, err_len);
}

int tb_gguf_save_model_typed(const tb_model *m, const char *path, tb_file_format fmt, int emb_type,
                             char *err, size_t err_len)
{
    // The key says what the model computes (a configuration: relu2).
    tb_save_options o = {
        .format = fmt, .emb_type = emb_type, .hidden_activation = tb_ffn_names[m->cfg.ffn]};
    return tb_gguf_save_model_opts(m, path, &o, err, err_len);
}

const char *tb_file_default_arch(tb_file_format f)
{
    // I2_S is bitnet.cpp's type and "bitnet-b1.58" its architecture name; mainline llama.cpp
    // knows neither (its type 36 is something else), so those files keep bitnet.cpp's name. The
    // ggml types (TQ2_0, TQ1_0, F32) are what mainline's "bitnet" architecture loads: its name
    // makes these files runnable by llama.cpp (bench model --peer llama.cpp).
    return f == TB_FMT_I2_S ? "bitnet-b1.58" : "bitnet";
}

int tb_arch_reads_scales(const char *arch)
{
    const arch_info *a = find_arch(arch);
    return a ? a->tensor_scales : -1;
}

// The architecture a file is written as: asked for, else by its format.
static int save_arch(const tb_save_options *o, const char **arch, char *err, size_t err_len)
{
    *arch = o->arch ? o->arch : tb_file_default_arch(o->format);
    const arch_info *a = find_arch(*arch);
    if (!a) {
        snprintf(err, err_len, "architecture: expected bitnet-b1.58, bitnet-25 or bitnet, got '%s'",
                 *arch);
        return -1;
    }
    if (o->tensor_scales && !a->tensor_scales) {
        snprintf(err, err_len,
                 "scale tensors: architecture %s does not read them (only bitnet does): a file "
                 "with them would compute another model than the one written",
                 *arch);
        return -1;
    }
    return 0;
}

// Every tokenizer.* key of from, copied as it is.
static int copy_tokenizer(tb_gguf_writer *w, const tb_gguf *from, char *err, size_t err_len)
{
    for (uint64_t i = 0; i < from->n_kv; i++) {
        const tb_gguf_kv *kv = &from->kv[i];
        if (kv->key_len > 10 && memcmp(kv->key, "tokenizer.", 10) == 0 &&
            tb_gguf_copy_kv(w, from, kv, err, err_len))
            return -1;
    }
    return 0;
}

// "blk.N.<projection>.scale" for every BitLinear, one f32 each (llama.cpp's bitnet).
static void add_scale_tensors(tb_gguf_writer *w, const tb_config *c, const float *scales)
{
    static const uint64_t one = 1;
    for (int l = 0; l < c->n_layers; l++)
        for (int j = 0; j < TB_N_LINEAR; j++) {
            char name[96];
            snprintf(name, sizeof name, "blk.%d.%s.scale", l, tb_linear_names[j]);
            tb_gguf_add_tensor_data(w, name, TB_GGML_F32, 1, &one, &scales[l * TB_N_LINEAR + j]);
        }
}

int tb_gguf_save_model_opts(const tb_model *m, const char *path, const tb_save_options *o,
                            char *err, size_t err_len)
{
    const tb_config *c = &m->cfg;
    const tb_file_format fmt = o->format;
    const int emb_type = o->emb_type;
    const char *arch;
    if (save_arch(o, &arch, err, err_len)) return -1;
    if (o->hidden_activation && tb_ffn_parse(o->hidden_activation) < 0) {
        snprintf(err, err_len, "hidden_activation: expected relu2 or silu, got '%s'",
                 o->hidden_activation);
        return -1;
    }
    if (fmt == TB_FMT_TQ1_0 || fmt == TB_FMT_TQ2_0)
        if (c->dim % 256 || c->hidden_dim % 256) {
            snprintf(err, err_len,
                     "format %s stores blocks of 256 along k: needs dim and hidden_dim multiples "
                     "of 256, config %s has %d and %d (use i2_s or f32)",
                     fmt == TB_FMT_TQ1_0 ? "tq1_0" : "tq2_0", c->name, c->dim, c->hidden_dim);
            return -1;
        }
    if (emb_type >= 0 && emb_type != TB_GGML_F32 && emb_type != TB_GGML_F16 &&
        !tb_quant_supported((uint32_t)emb_type)) {
        snprintf(err, err_len, "embedding type %d: expected F32, F16, Q8_0, Q4_0 or Q6_K",
                 emb_type);
        return -1;
    }
    if (emb_type >= 0 && c->dim % embedding_block((uint32_t)emb_type)) {
        snprintf(err, err_len,
                 "embedding type %s stores blocks of %d along a row: needs dim a multiple of %d, "
                 "config %s has %d",
                 tb_ggml_type_name((uint32_t)emb_type), embedding_block((uint32_t)emb_type),
                 embedding_block((uint32_t)emb_type), c->name, c->dim);
        return -1;
    }
    tb_gguf_writer *w = tb_gguf_writer_new();
    char key[128];
    tb_gguf_add_str(w, "general.architecture", arch);
    tb_gguf_add_str(w, "general.name", c->name);
    tb_gguf_add_str(w, "general.producer", "tritbench");
#define HP_U32(k, v)                                                                               \
    (snprintf(key, sizeof key, "%s." k, arch), tb_gguf_add_u32(w, key, (uint32_t)(v)))
#define HP_F32(k, v) (snprintf(key, sizeof key, "%s." k, arch), tb_gguf_add_f32(w, key, (v)))
    HP_U32("block_count", c->n_layers);
    HP_U32("embedding_length", c->dim);
    HP_U32("feed_forward_length", c->hidden_dim);
    HP_U32("attention.head_count", c->n_heads);
    HP_U32("attention.head_count_kv", c->n_kv_heads);
    HP_U32("context_length", c->seq_len);
    HP_U32("vocab_size", c->vocab_size);
    HP_U32("rope.dimension_count", c->dim / c->n_heads);
    HP_F32("rope.freq_base", c->rope_theta);
    HP_F32("attention.layer_norm_rms_epsilon", c->norm_eps);
    // BitNet b1.58's FFN is relu(gate)^2 * up (transformer.c; HF config "hidden_act": "relu2").
    // llama.cpp reads this key for bitnet; its build 0ad4a86 knows no "relu2" (its table has
    // gelu, geglu, silu, swish, swiglu, relu, reglu) and falls back to SiLU: the peer then times
    // a SiLU GLU, the same elementwise cost, different numbers. We write the truth: the FFN the
    // caller asked for (model create writes relu2 unless told otherwise), or no key at all.
    if (o->hidden_activation) {
        snprintf(key, sizeof key, "%s.hidden_activation", arch);
        tb_gguf_add_str(w, key, o->hidden_activation);
    }
#undef HP_U32
#undef HP_F32
    if (o->tokenizer && copy_tokenizer(w, o->tokenizer, err, err_len)) {
        tb_gguf_writer_free(w);
        return -1;
    }
    if (!o->tokenizer && strcmp(arch, "bitnet") == 0)
        add_spm_vocab(w, c->vocab_size); // for llama.cpp
    uint64_t d = (uint64_t)c->dim, hd = (uint64_t)c->hidden_dim, V = (uint64_t)c->vocab_size;
    uint64_t ne[2] = {d, V};
    size_t count = (size_t)(d * V);
    float_tensor emb = {m->embedding, count, TB_GGML_F32, "token_embd.weight"};
    float_tensor out = {m->output, count, TB_GGML_F32, "output.weight"};
    if (emb_type >= 0)
        emb.type = out.type = (uint32_t)emb_type;
    else if (fmt != TB_FMT_F32 && f16_exact(m->embedding, count))
        emb.type = TB_GGML_F16;
    tb_gguf_add_tensor(w, emb.name, emb.type, 2, ne, produce_floats, &emb, 0);
    if (m->output) tb_gguf_add_tensor(w, out.name, out.type, 2, ne, produce_floats, &out, 0);
    tb_gguf_add_tensor_data(w, "output_norm.weight", TB_GGML_F32, 1, &d, m->final_norm);
    save_ctx ctx = {m, fmt};
    for (int l = 0; l < c->n_layers; l++) {
        char name[96];
        const float *nw[4] = {m->attn_norm + l * d, m->attn_sub_norm + l * d, m->ffn_norm + l * d,
                              m->ffn_sub_norm + l * hd};
        static const char *const norm_names[4] = {"attn_norm", "attn_sub_norm", "ffn_norm",
                                                  "ffn_sub_norm"};
        for (int i = 0; i < 4; i++) {
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, norm_names[i]);
            tb_gguf_add_tensor_data(w, name, TB_GGML_F32, 1, i == 3 ? &hd : &d, nw[i]);
        }
        for (int j = 0; j < TB_N_LINEAR; j++) {
            int n, k;
            tb_linear_shape(c, j, &n, &k);
            uint64_t lne[2] = {(uint64_t)k, (uint64_t)n};
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, tb_linear_names[j]);
            tb_gguf_add_tensor(w, name, tb_file_format_type(fmt), 2, lne, produce_ternary, &ctx,
                               l * TB_N_LINEAR + j);
        }
    }
    if (o->tensor_scales) add_scale_tensors(w, c, o->tensor_scales);
    int rc = tb_gguf_write_file(w, path, err, err_len);
    tb_gguf_writer_free(w);
    return rc;
}
