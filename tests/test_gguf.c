// GGUF files: write -> read round trips are exact; the I2_S, TQ2_0 and TQ1_0 codecs put known
// ternary matrices where the formats say and read them back; the Q4_0, Q8_0, Q4_K and Q6_K
// decoders give hand-made blocks the values their formats define, the quantizers' output encodes
// back to itself, and models written with a quantized embedding load as the decoded one;
// truncated and corrupted files are refused with an error naming the field, never a crash (this
// test also runs under ASan).
#include "tb_test.h"
#include "gguf.h"
#include "gguf_model.h"
#include "gguf_quant.h"
#include "model.h"
#include "tb_reference.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(*size ? *size : 1);
    if (fread(buf, 1, *size, f) != *size) *size = 0;
    fclose(f);
    return buf;
}

// memmem is a GNU extension: a plain search will do.
static char *find_bytes(char *hay, size_t n, const char *needle, size_t len)
{
    for (size_t i = 0; i + len <= n; i++)
        if (memcmp(hay + i, needle, len) == 0) return hay + i;
    return NULL;
}

static void write_all(const char *path, const void *buf, size_t size)
{
    FILE *f = fopen(path, "wb");
    fwrite(buf, 1, size, f);
    fclose(f);
}

// ---- round trips of whole models ----
static void round_trip(const char *cfg_name, tb_file_format fmt, const char *path)
{
    tb_config c;
    tb_config_find(cfg_name, &c);
    tb_model a, b;
    char err[600];
    tb_model_synthetic(&c, 3, &a);
    EXPECT(tb_model_materialize(&a, err, sizeof err) == 0, "%s", err);
    EXPECT(tb_gguf_save_model(&a, path, fmt, err, sizeof err) == 0, "save: %s", err);
    if (tb_gguf_load_model(path, &b, err, sizeof err)) {
        EXPECT(0, "load %s: %s", cfg_name, err);
        tb_model_free(&a);
        return;
    }
    EXPECT(tb_model_materialize(&b, err, sizeof err) == 0, "%s", err);
    EXPECT(b.cfg.dim == c.dim && b.cfg.hidden_dim == c.hidden_dim && b.cfg.n_layers == c.n_layers &&
               b.cfg.n_heads == c.n_heads && b.cfg.n_kv_heads == c.n_kv_heads &&
               b.cfg.vocab_size == c.vocab_size && b.cfg.seq_len == c.seq_len &&
               b.cfg.rope_theta == c.rope_theta && b.cfg.norm_eps == c.norm_eps,
           "%s: configuration changed in the file", cfg_name);
    size_t d = (size_t)c.dim, L = (size_t)c.n_layers;
    EXPECT(memcmp(a.embedding, b.embedding, (size_t)c.vocab_size * d * 4) == 0, "embedding");
    EXPECT(memcmp(a.attn_norm, b.attn_norm, L * d * 4) == 0 &&
               memcmp(a.ffn_sub_norm, b.ffn_sub_norm, L * (size_t)c.hidden_dim * 4) == 0 &&
               memcmp(a.final_norm, b.final_norm, d * 4) == 0,
           "norms");
    for (size_t i = 0; i < L * TB_N_LINEAR; i++) {
        size_t count = (size_t)a.lin[i].n * (size_t)a.lin[i].k;
        EXPECT(memcmp(a.lin[i].w, b.lin[i].w, count) == 0, "%s tensor %zu weights", cfg_name, i);
        // TQ formats keep the scale in f16; the others keep it exactly.
        float want = fmt == TB_FMT_TQ1_0 || fmt == TB_FMT_TQ2_0 ? tb_f16_round(a.lin[i].scale)
                                                                : a.lin[i].scale;
        EXPECT(b.lin[i].scale == want, "%s tensor %zu scale %g, want %g", cfg_name, i,
               (double)b.lin[i].scale, (double)want);
    }
    tb_model_free(&a);
    tb_model_free(&b);
}

// ---- what llama.cpp needs of a TQ2_0 / TQ1_0 / F32 file (mainline's "bitnet" architecture) ----
static void llama_metadata(const char *path)
{
    tb_config c;
    tb_config_find("tiny256", &c);
    tb_model m;
    char err[600], s[64];
    tb_model_synthetic(&c, 3, &m);
    EXPECT(tb_gguf_save_model(&m, path, TB_FMT_TQ2_0, err, sizeof err) == 0, "save: %s", err);
    tb_gguf g;
    if (tb_gguf_open(path, &g, err, sizeof err)) {
        EXPECT(0, "open: %s", err);
        tb_model_free(&m);
        return;
    }
    EXPECT(tb_gguf_get_str(&g, "general.architecture", s, sizeof s, err, sizeof err) == 1 &&
               strcmp(s, "bitnet") == 0,
           "TQ2_0 architecture '%s', want bitnet", s);
    EXPECT(tb_gguf_get_str(&g, "bitnet.hidden_activation", s, sizeof s, err, sizeof err) == 1 &&
               strcmp(s, "relu2") == 0,
           "hidden_activation '%s'", s);
    EXPECT(tb_gguf_get_str(&g, "tokenizer.ggml.model", s, sizeof s, err, sizeof err) == 1 &&
               strcmp(s, "llama") == 0,
           "tokenizer model '%s'", s);
    static const struct {
        const char *key;
        uint32_t type;
    } arrays[] = {{"tokenizer.ggml.tokens", TB_GGUF_STRING},
                  {"tokenizer.ggml.scores", TB_GGUF_F32},
                  {"tokenizer.ggml.token_type", TB_GGUF_I32}};
    for (int i = 0; i < 3; i++) {
        const tb_gguf_kv *kv = tb_gguf_find_kv(&g, arrays[i].key);
        EXPECT(kv && kv->type == TB_GGUF_ARRAY && kv->arr_type == arrays[i].type &&
                   kv->arr_n == (uint64_t)c.vocab_size,
               "%s: want an array of %d elements of type %u", arrays[i].key, c.vocab_size,
               arrays[i].type);
    }
    EXPECT(tb_gguf_find_tensor(&g, "output.weight") == NULL, "a tied model wrote output.weight");
    tb_gguf_close(&g);
    // The newline byte token llama.cpp's SPM vocabulary looks up, in the file's bytes.
    size_t size;
    char *buf = read_all(path, &size);
    EXPECT(buf && find_bytes(buf, size, "<0x0A>", 6), "no <0x0A> token");
    free(buf);
    // I2_S stays bitnet.cpp's: its architecture name, no vocabulary.
    EXPECT(tb_gguf_save_model(&m, path, TB_FMT_I2_S, err, sizeof err) == 0, "save: %s", err);
    if (tb_gguf_open(path, &g, err, sizeof err) == 0) {
        EXPECT(tb_gguf_get_str(&g, "general.architecture", s, sizeof s, err, sizeof err) == 1 &&
                   strcmp(s, "bitnet-b1.58") == 0,
               "I2_S architecture '%s'", s);
        EXPECT(!tb_gguf_find_kv(&g, "tokenizer.ggml.tokens"), "I2_S file with a vocabulary");
        tb_gguf_close(&g);
    }
    tb_model_free(&m);
}

// ---- codecs on known matrices ----
static tb_gguf_tensor fake_tensor(uint32_t type, int n, int k, const uint8_t *data)
{
    tb_gguf_tensor t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "test");
    t.n_dims = 2;
    t.ne[0] = (uint64_t)k, t.ne[1] = (uint64_t)n, t.ne[2] = t.ne[3] = 1;
    t.type = type;
    t.data = data;
    return t;
}

static void codecs(void)
{
    const int n = 3, k = 512;
    size_t count = (size_t)n * k;
    int8_t *w = malloc(count), *back = malloc(count);
    tb_rng r = {11};
    for (size_t i = 0; i < count; i++) w[i] = (int8_t)tb_rng_int(&r, -1, 1);
    float scale = 0.0123f, got;
    uint8_t *buf = calloc(count, 1); // every format takes at most a byte a weight
    char err[400];
    uint64_t ne[2] = {(uint64_t)k, (uint64_t)n}, bytes;

    // I2_S: byte j of a 128-block holds elements j, j+32, j+64, j+96 from bit 7 down.
    tb_encode_i2_s(w, count, scale, buf);
    tb_ggml_tensor_bytes(TB_GGML_I2_S, ne, 2, &bytes, err, sizeof err);
    EXPECT(bytes == count / 4 + 32, "I2_S bytes %llu", (unsigned long long)bytes);
    uint64_t odd[2] = {96, 3}; // 288 weights: no whole 128-block
    EXPECT(tb_ggml_tensor_bytes(TB_GGML_TQ2_0, odd, 2, &bytes, err, sizeof err) == -1 &&
               strstr(err, "multiple of 256"),
           "TQ2_0 with ne[0] = 96 accepted");
    EXPECT(tb_ggml_tensor_bytes(TB_GGML_I2_S, odd, 2, &bytes, err, sizeof err) == -1,
           "I2_S with 288 elements accepted");
    EXPECT(buf[5] == ((w[5] + 1) << 6 | (w[37] + 1) << 4 | (w[69] + 1) << 2 | (w[101] + 1)),
           "I2_S byte 5 layout");
    tb_gguf_tensor t = fake_tensor(TB_GGML_I2_S, n, k, buf);
    EXPECT(tb_decode_ternary(&t, back, &got, err, sizeof err) == 0 && memcmp(w, back, count) == 0 &&
               got == scale,
           "I2_S round trip: %s", err);
    buf[7] |= 0x0c; // element 7 + 64 gets code 0b11
    EXPECT(tb_decode_ternary(&t, back, &got, err, sizeof err) == -1 && strstr(err, "0b11"),
           "I2_S code 0b11 accepted: %s", err);

    // TQ2_0: qs[j + m] bits 2n hold element 4j + 32n + m; f16 d after 64 bytes.
    tb_encode_tq2_0(w, count, scale, buf);
    EXPECT(((buf[0] >> 2) & 3) == w[32] + 1 && ((buf[32 + 3] >> 6) & 3) == w[128 + 96 + 3] + 1,
           "TQ2_0 layout");
    t = fake_tensor(TB_GGML_TQ2_0, n, k, buf);
    EXPECT(tb_decode_ternary(&t, back, &got, err, sizeof err) == 0 && memcmp(w, back, count) == 0 &&
               got == tb_f16_round(scale),
           "TQ2_0 round trip: %s", err);
    uint16_t other = tb_f32_to_f16(0.5f);
    memcpy(buf + 66 * 2 + 64, &other, 2); // block 2 with its own scale
    EXPECT(tb_decode_ternary(&t, back, &got, err, sizeof err) == -1 && strstr(err, "block 2"),
           "TQ2_0 per-block scales accepted: %s", err);

    // TQ1_0: an all-zero block is all codes 1: 5 trits 11111 = 121, stored as ceil(121*256/243).
    int8_t zeros[256] = {0};
    uint8_t blk[54];
    tb_encode_tq1_0(zeros, 256, 1.0f, blk);
    EXPECT(blk[0] == 128 && blk[47] == 128, "TQ1_0 zero block byte %u", blk[0]);
    EXPECT(blk[48] == (uint8_t)((120 * 256 + 242) / 243), "TQ1_0 qh byte %u (4 trits + pad)",
           blk[48]);
    tb_encode_tq1_0(w, count, scale, buf);
    t = fake_tensor(TB_GGML_TQ1_0, n, k, buf);
    EXPECT(tb_decode_ternary(&t, back, &got, err, sizeof err) == 0 && memcmp(w, back, count) == 0 &&
               got == tb_f16_round(scale),
           "TQ1_0 round trip: %s", err);
    // Every weight pattern of one 5-trit byte survives (all 243 values).
    for (int v = 0; v < 243; v++) {
        int8_t x[256] = {0};
        for (int j = 0, q = v; j < 5; j++, q /= 3) x[32 * (4 - j)] = (int8_t)(q % 3 - 1);
        tb_encode_tq1_0(x, 256, 1.0f, blk);
        int8_t y[256];
        t = fake_tensor(TB_GGML_TQ1_0, 1, 256, blk);
        EXPECT(tb_decode_ternary(&t, y, &got, err, sizeof err) == 0 && memcmp(x, y, 256) == 0,
               "TQ1_0 value %d", v);
    }

    // Float tensors must hold {-s, 0, +s}.
    float fl[4 * 256];
    for (int i = 0; i < 4 * 256; i++) fl[i] = (float)(i % 3 - 1) * 0.25f;
    t = fake_tensor(TB_GGML_F32, 4, 256, (const uint8_t *)fl);
    EXPECT(tb_decode_ternary(&t, back, &got, err, sizeof err) == 0 && got == 0.25f && back[0] == -1,
           "F32 ternary: %s", err);
    fl[9] = 0.1f;
    EXPECT(tb_decode_ternary(&t, back, &got, err, sizeof err) == -1 && strstr(err, "element 9"),
           "F32 non-ternary accepted: %s", err);
    free(w), free(back), free(buf);
}

// ---- a hand-built file with every kind of header field, then each field broken ----
typedef struct {
    uint8_t b[4096];
    size_t n;
} bytes_t;

static size_t app(bytes_t *f, const void *p, size_t len)
{
    size_t at = f->n;
    memcpy(f->b + f->n, p, len);
    f->n += len;
    return at;
}
static size_t app32(bytes_t *f, uint32_t v)
{
    return app(f, &v, 4);
}
static size_t app64(bytes_t *f, uint64_t v)
{
    return app(f, &v, 8);
}
static size_t appstr(bytes_t *f, const char *s)
{
    size_t at = app64(f, strlen(s));
    app(f, s, strlen(s));
    return at;
}

enum {
    F_MAGIC,
    F_VERSION,
    F_NT,
    F_NKV,
    F_KEYLEN,
    F_VTYPE,
    F_STRLEN,
    F_ARRTYPE,
    F_ARRN,
    F_NAMELEN,
    F_NDIMS,
    F_DIM0,
    F_DIM1,
    F_TTYPE,
    F_OFFSET,
    F_COUNT
};

static size_t build(bytes_t *f, size_t *at)
{
    f->n = 0;
    at[F_MAGIC] = app(f, "GGUF", 4);
    at[F_VERSION] = app32(f, 3);
    at[F_NT] = app64(f, 1);
    at[F_NKV] = app64(f, 2);
    at[F_KEYLEN] = appstr(f, "general.name");
    at[F_VTYPE] = app32(f, TB_GGUF_STRING);
    at[F_STRLEN] = appstr(f, "hello");
    appstr(f, "some.array");
    app32(f, TB_GGUF_ARRAY);
    at[F_ARRTYPE] = app32(f, TB_GGUF_U32);
    at[F_ARRN] = app64(f, 3);
    app32(f, 1), app32(f, 2), app32(f, 3);
    at[F_NAMELEN] = appstr(f, "t");
    at[F_NDIMS] = app32(f, 2);
    at[F_DIM0] = app64(f, 256);
    at[F_DIM1] = app64(f, 2);
    at[F_TTYPE] = app32(f, TB_GGML_F32);
    at[F_OFFSET] = app64(f, 0);
    while (f->n % 32) f->b[f->n++] = 0;
    float v[512];
    for (int i = 0; i < 512; i++) v[i] = (float)i;
    app(f, v, sizeof v);
    return f->n;
}

static void corrupt(void)
{
    bytes_t f;
    size_t at[F_COUNT];
    size_t size = build(&f, at);
    tb_gguf g;
    char err[600];
    EXPECT(tb_gguf_parse(f.b, size, "good", &g, err, sizeof err) == 0, "good file: %s", err);
    if (g.n_tensors == 1) {
        float x;
        memcpy(&x, g.t[0].data + 4 * 300, 4);
        EXPECT(x == 300.0f, "tensor data at the wrong place");
    }
    tb_gguf_close(&g);

    // Every prefix of the file is refused (the tensor's data ends the file).
    for (size_t len = 0; len < size; len++) {
        uint8_t *copy = malloc(len ? len : 1); // exact size: ASan sees any read past the end
        memcpy(copy, f.b, len);
        int rc = tb_gguf_parse(copy, len, "prefix", &g, err, sizeof err);
        EXPECT(rc == -1 && strstr(err, "prefix: "), "prefix of %zu bytes accepted", len);
        if (rc == 0) tb_gguf_close(&g);
        free(copy);
    }

    // Each header field set to bad values, and the field named in the message.
    struct {
        int field;
        uint64_t value;
        int width;
        const char *want;
    } cases[] = {
        {F_MAGIC, 0x46554746, 4, "magic"},
        {F_VERSION, 2, 4, "version"},
        {F_VERSION, 0xffffffff, 4, "version"},
        {F_NT, 1ull << 40, 8, "tensor count"},
        {F_NT, 5, 8, "tensor"},
        {F_NKV, 1ull << 62, 8, "metadata count"},
        {F_NKV, 9, 8, "metadata"},
        {F_KEYLEN, 1ull << 50, 8, "key"},
        {F_VTYPE, 99, 4, "value type"},
        {F_STRLEN, 1ull << 63, 8, "general.name"},
        {F_STRLEN, 4000, 8, "general.name"},
        {F_ARRTYPE, 77, 4, "array element type"},
        {F_ARRTYPE, TB_GGUF_ARRAY, 4, "array element type"},
        {F_ARRN, 1ull << 61, 8, "array"},
        {F_ARRN, 1000, 8, "some.array"},
        {F_NAMELEN, 1ull << 40, 8, "name"},
        {F_NAMELEN, 200, 8, "name"},
        {F_NDIMS, 0, 4, "n_dims"},
        {F_NDIMS, 5, 4, "n_dims"},
        {F_DIM0, 0, 8, "dimension"},
        {F_DIM0, 1ull << 40, 8, "ne[0]: expected 1..2^32, got 1099511627776"},
        {F_DIM1, 1ull << 33, 8, "ne[1]: expected 1..2^32"},
        // Hostile sizes: near 2^31, 2^32 and 2^63, refused before anything is allocated.
        {F_DIM0, (1ull << 32) + 1, 8, "ne[0]: expected 1..2^32, got 4294967297"},
        {F_DIM1, 1ull << 63, 8, "ne[1]: expected 1..2^32, got 9223372036854775808"},
        {F_DIM1, ~0ull, 8, "ne[1]: expected 1..2^32"},
        {F_DIM0, 1ull << 31, 8, "data"}, // 2^32 floats: not in the file
        {F_DIM1, 1ull << 32, 8, "data"}, // 256 * 2^32 = 2^40 elements: legal, not in the file
        {F_NT, 1ull << 63, 8, "tensor count: expected <= 65536"},
        {F_NT, 60000, 8, "tensor count: 60000 tensor infos need at least 1920000 bytes"},
        {F_NKV, 1ull << 63, 8, "metadata count: expected <= 65536"},
        {F_NKV, 65536, 8, "metadata count: 65536 pairs need at least"},
        {F_KEYLEN, 1ull << 63, 8, "key: length expected <= 65535"},
        {F_KEYLEN, 1ull << 31, 8, "key: length expected <= 65535"},
        {F_STRLEN, ~0ull, 8, "general.name"},
        {F_STRLEN, 1ull << 32, 8, "general.name"},
        {F_ARRN, 1ull << 63, 8, "some.array': array of 9223372036854775808 elements"},
        {F_ARRN, (1ull << 62) + 1, 8, "truncated"}, // 4-byte elements: n * 4 wraps to 4
        {F_NAMELEN, 1ull << 63, 8, "name: length expected <= 127"},
        {F_OFFSET, 1ull << 63, 8, "data"},
        {F_OFFSET, (1ull << 32) * 32, 8, "data"},
        {F_DIM1, 3, 8, "data"},
        {F_TTYPE, 4, 4, "supported ggml type (F32 0, F16 1, Q4_0 2"}, // Q4_2: removed
        {F_TTYPE, 99, 4, "tensor 't': type: expected a supported ggml type"},
        {F_TTYPE, 37, 4, "got 37"},
        {F_TTYPE, ~0u, 4, "got 4294967295"},
        {F_OFFSET, 4, 8, "offset"},
        {F_OFFSET, 32, 8, "data"},
        {F_OFFSET, ~0ull - 31, 8, "data"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bytes_t bad;
        size_t pos[F_COUNT];
        size_t n = build(&bad, pos);
        memcpy(bad.b + pos[cases[i].field], &cases[i].value, (size_t)cases[i].width);
        uint8_t *copy = malloc(n);
        memcpy(copy, bad.b, n);
        int rc = tb_gguf_parse(copy, n, "bad", &g, err, sizeof err);
        EXPECT(rc == -1 && strstr(err, cases[i].want),
               "case %zu (field %d = %llu): rc %d, message '%s' lacks '%s'", i, cases[i].field,
               (unsigned long long)cases[i].value, rc, rc ? err : "", cases[i].want);
        if (rc == 0) tb_gguf_close(&g);
        free(copy);
    }
}

// Dimensions that each pass but whose product overflows 64 bits (or passes 2^40).
static void overflowing_shapes(void)
{
    char err[400];
    uint64_t bytes = 0;
    const uint64_t wrap[4] = {1ull << 32, 1ull << 32, 1ull << 32, 1ull << 32}; // 2^128
    EXPECT(tb_ggml_tensor_bytes(TB_GGML_F32, wrap, 4, &bytes, err, sizeof err) == -1 &&
               strstr(err, "element count"),
           "4 x 2^32 elements accepted (bytes %llu): %s", (unsigned long long)bytes, err);
    const uint64_t two64[2] = {1ull << 32, 1ull << 32}; // exactly 2^64: wraps to 0
    EXPECT(tb_ggml_tensor_bytes(TB_GGML_I2_S, two64, 2, &bytes, err, sizeof err) == -1 &&
               strstr(err, "element count"),
           "2^32 x 2^32 elements accepted: %s", err);
    const uint64_t just[2] = {1ull << 20, 1ull << 20}; // 2^40: the largest accepted
    EXPECT(tb_ggml_tensor_bytes(TB_GGML_F32, just, 2, &bytes, err, sizeof err) == 0 &&
               bytes == 1ull << 42,
           "2^40 elements: %s", err);
    bytes_t f;
    size_t at[F_COUNT];
    size_t n = build(&f, at);
    uint64_t big = 1ull << 32;
    memcpy(f.b + at[F_DIM0], &big, 8);
    memcpy(f.b + at[F_DIM1], &big, 8);
    tb_gguf g;
    int rc = tb_gguf_parse(f.b, n, "wrap", &g, err, sizeof err);
    EXPECT(rc == -1 && strstr(err, "wrap: tensor 't': element count"),
           "file with a 2^32 x 2^32 tensor: %s", rc ? err : "accepted");
    if (rc == 0) tb_gguf_close(&g);
}

// Overwrites the u32 value of metadata key `key` in a file image; 0 if found.
static int patch_u32(char *file, size_t size, const char *key, uint32_t v)
{
    size_t len = strlen(key);
    char *hit = find_bytes(file, size, key, len);
    uint32_t type;
    if (!hit) return -1;
    memcpy(&type, hit + len, 4);
    if (type != TB_GGUF_U32) return -1;
    memcpy(hit + len + 4, &v, 4);
    return 0;
}

// The tiny configuration written as an I2_S model file at path, and its bytes (NULL on failure).
static char *tiny_model_file(const char *path, size_t *size)
{
    tb_config c;
    tb_config_find("tiny", &c);
    tb_model m;
    char err[600];
    tb_model_synthetic(&c, 5, &m);
    EXPECT(tb_gguf_save_model(&m, path, TB_FMT_I2_S, err, sizeof err) == 0, "%s", err);
    tb_model_free(&m);
    char *bytes = read_all(path, size);
    EXPECT(bytes && *size > 1000, "model file not written");
    return bytes;
}

// Hyperparameters near 2^31 and 2^32, and a model bigger than the machine: refused with the
// file, the field and the figures, before the loader allocates.
static void hostile_models(const char *path)
{
    tb_model m;
    char err[600];
    size_t size;
    char *good = tiny_model_file(path, &size);
    if (!good) return;
    const struct {
        const char *key;
        uint32_t v;
        const char *want;
    } cases[] = {
        {"bitnet-b1.58.embedding_length", 1u << 31,
         "embedding_length': expected 0..2^24, got "
         "2147483648"},
        {"bitnet-b1.58.embedding_length", ~0u, "got 4294967295"},
        {"bitnet-b1.58.block_count", 1u << 31, "block_count': expected 0..2^24"},
        {"bitnet-b1.58.feed_forward_length", (1u << 31) + 1, "feed_forward_length'"},
        {"bitnet-b1.58.context_length", ~0u, "context_length'"},
        {"bitnet-b1.58.embedding_length", 1u << 24, "dim = 16777216 is out of range"},
        {"bitnet-b1.58.attention.head_count", 1u << 31, "head_count'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *bad = malloc(size);
        memcpy(bad, good, size);
        int found = patch_u32(bad, size, cases[i].key, cases[i].v) == 0;
        EXPECT(found, "no u32 key %s in the model file", cases[i].key);
        write_all(path, bad, size);
        int rc = tb_gguf_load_model(path, &m, err, sizeof err);
        EXPECT(found && rc == -1 && strstr(err, path) && strstr(err, cases[i].want),
               "%s = %u: %s (want '%s')", cases[i].key, cases[i].v, rc ? err : "accepted",
               cases[i].want);
        if (rc == 0) tb_model_free(&m);
        free(bad);
    }
    // On a machine with 1000 bytes available the tiny model is refused, with both figures.
    write_all(path, good, size);
    setenv("TRITBENCH_MEM_AVAILABLE", "1000", 1);
    int rc = tb_gguf_load_model(path, &m, err, sizeof err);
    unsetenv("TRITBENCH_MEM_AVAILABLE");
    EXPECT(rc == -1 && strstr(err, path) && strstr(err, "loading needs") &&
               strstr(err, "1000 bytes available"),
           "model larger than the machine: %s", rc ? err : "accepted");
    if (rc == 0) tb_model_free(&m);
    EXPECT(tb_gguf_load_model(path, &m, err, sizeof err) == 0, "same model, real machine: %s", err);
    tb_model_free(&m);
    free(good);
}

// ---- whole model files: truncated, renamed tensor, wrong architecture ----
static void model_files(const char *path)
{
    tb_model m;
    char err[600];
    size_t size;
    char *good = tiny_model_file(path, &size);
    if (!good) return;
    // A sample of truncations (every 97th length, and the last bytes) through the model loader.
    for (size_t len = 0; len < size; len += (len + 97 < size ? 97 : 1)) {
        write_all(path, good, len);
        int rc = tb_gguf_load_model(path, &m, err, sizeof err);
        EXPECT(rc == -1 && strstr(err, path), "model truncated to %zu bytes accepted", len);
        if (rc == 0) tb_model_free(&m);
    }
    // A renamed tensor is reported missing; a foreign architecture is refused.
    char *bad = malloc(size);
    memcpy(bad, good, size);
    char *hit = find_bytes(bad, size, "blk.1.ffn_up.weight", 19);
    if (hit) hit[6] = 'X';
    write_all(path, bad, size);
    EXPECT(tb_gguf_load_model(path, &m, err, sizeof err) == -1 &&
               strstr(err, "blk.1.ffn_up.weight': missing"),
           "renamed tensor: %s", err);
    memcpy(bad, good, size);
    hit = find_bytes(bad, size, "bitnet-b1.58", 12);
    if (hit) memcpy(hit, "llama-b1.58!", 12);
    write_all(path, bad, size);
    EXPECT(tb_gguf_load_model(path, &m, err, sizeof err) == -1 &&
               strstr(err, "general.architecture"),
           "foreign architecture: %s", err);
    // An I2_S code 0b11 inside a weight: found when the tensor is decoded.
    memcpy(bad, good, size);
    write_all(path, bad, size);
    tb_gguf g;
    if (tb_gguf_open(path, &g, err, sizeof err) == 0) {
        const tb_gguf_tensor *t = tb_gguf_find_tensor(&g, "blk.0.attn_k.weight");
        size_t at = t ? (size_t)(t->data - g.base) : 0;
        tb_gguf_close(&g);
        if (at) bad[at + 3] = (char)0xff;
        write_all(path, bad, size);
        EXPECT(tb_gguf_load_model(path, &m, err, sizeof err) == 0, "%s", err);
        EXPECT(tb_model_materialize(&m, err, sizeof err) == -1 && strstr(err, "0b11") &&
                   strstr(err, "blk.0.attn_k.weight"),
               "bad I2_S code: %s", err);
        tb_model_free(&m);
    }
    free(bad);
    free(good);
}

// ---- ggml's block-quantized floats (embedding, output head) ----

static void put16(uint8_t *p, uint16_t h)
{
    memcpy(p, &h, 2);
}

static int dequant(uint32_t type, const uint8_t *data, size_t count, float *out, char *err,
                   size_t err_len)
{
    return tb_dequantize(type, data, count, out, "test", err, err_len);
}

// Hand-made blocks, each byte placed where the format's layout says, decoded to the values the
// format's definition gives (worked out by hand in the comments).
static void quant_known_blocks(void)
{
    char err[400];
    float y[256];

    // Q8_0: | f16 d | int8 q[32] |, value = d * q. Block 0: d = 0.5 (0x3800); block 1: d = -0.25
    // (0xb400); block 2: d = 2^-24 (0x0001, the smallest f16 subnormal).
    uint8_t q8[3 * 34] = {0};
    put16(q8, 0x3800);
    q8[2 + 0] = 0x80; // -128 -> -64
    q8[2 + 1] = 0xff; // -1 -> -0.5
    q8[2 + 3] = 1;    // 0.5
    q8[2 + 31] = 127; // 63.5
    put16(q8 + 34, 0xb400);
    q8[34 + 2 + 0] = 3; // -0.75
    put16(q8 + 68, 0x0001);
    q8[68 + 2 + 5] = 100; // 100 * 2^-24
    EXPECT(dequant(TB_GGML_Q8_0, q8, 96, y, err, sizeof err) == 0, "Q8_0: %s", err);
    EXPECT(y[0] == -64.0f && y[1] == -0.5f && y[2] == 0.0f && y[3] == 0.5f && y[31] == 63.5f,
           "Q8_0 block 0: %g %g %g %g %g", (double)y[0], (double)y[1], (double)y[2], (double)y[3],
           (double)y[31]);
    EXPECT(y[32] == -0.75f && y[33] == 0.0f && y[64 + 5] == 100.0f / 16777216.0f,
           "Q8_0 blocks 1, 2: %g %g %g", (double)y[32], (double)y[33], (double)y[69]);

    // Q4_0: | f16 d | qs[16] |; qs[j] holds value j in its low nibble and value j + 16 in its
    // high nibble; value = d * (nibble - 8). d = -0.125 (0xb000).
    uint8_t q4[18];
    put16(q4, 0xb000);
    memset(q4 + 2, 0x88, 16); // nibbles 8: values 0
    q4[2 + 0] = 0x0f;         // value 0: 15 -> -0.875; value 16: 0 -> 1
    q4[2 + 7] = 0xa5;         // value 7: 5 -> 0.375; value 23: 10 -> -0.25
    q4[2 + 15] = 0x18;        // value 15: 8 -> 0; value 31: 1 -> 0.875
    EXPECT(dequant(TB_GGML_Q4_0, q4, 32, y, err, sizeof err) == 0, "Q4_0: %s", err);
    EXPECT(y[0] == -0.875f && y[16] == 1.0f && y[7] == 0.375f && y[23] == -0.25f && y[15] == 0.0f &&
               y[31] == 0.875f && y[1] == 0.0f,
           "Q4_0: %g %g %g %g %g %g", (double)y[0], (double)y[16], (double)y[7], (double)y[23],
           (double)y[15], (double)y[31]);

    // Q6_K: | ql[128] | qh[64] | int8 scales[16] | f16 d |, d = 2 (0x4000). Value 128h + l + 32g
    // (half h, l < 32, g < 4): low 4 bits from ql[64h + l + 32 (g & 1)] (low nibble for g < 2,
    // high for g >= 2), high 2 bits from bits 2g + 1:2g of qh[32h + l]; value i =
    // d * scales[i / 16] * (q - 32). Extremes: q = 0 and q = 63, scales 1, -3, -1, -128.
    uint8_t q6[210] = {0};
    uint8_t *ql = q6, *qh = q6 + 128;
    const int8_t sc[16] = {1, -3, 2, 0, 5, 0, -1, 0, 0, 0, 0, 0, 0, 7, 0, -128};
    memcpy(q6 + 192, sc, 16);
    put16(q6 + 208, 0x4000);
    ql[0] = 0xf0;       // value 0 low bits 0; value 64 low bits 15
    qh[0] = 0x78;       // 01 11 10 00: value 96 high 1, value 64 high 3, value 32 high 2, value 0 0
    ql[32] = 0x1a;      // value 32 low bits 10; value 96 low bits 1
    ql[17] = 0x05;      // value 17: q = 5 | 2 << 4 = 37
    qh[17] = 0x02;      //
    qh[32 + 31] = 0x30; // second half, l = 31: value 223 (g = 2) high 3, value 255 (g = 3) 0
    ql[64 + 32 + 16] = 0xf0; // second half, l = 16, g = 3: value 240 low bits 15
    qh[32 + 16] = 0xc0;      // value 240 high 3 (q = 63); value 208 (g = 2): q = 0
    float want6[][2] = {
        {0, 2 * 1 * (0 - 32)},
        {1, 2 * 1 * (0 - 32)},
        {16, 2 * -3 * (0 - 32)},
        {17, 2 * -3 * (37 - 32)},
        {32, 2 * 2 * (42 - 32)},
        {48, 0},
        {64, 2 * 5 * (63 - 32)},
        {96, 2 * -1 * (17 - 32)},
        {208, 2 * 7 * (0 - 32)},
        {223, 2 * 7 * (48 - 32)},
        {240, 2 * -128 * (63 - 32)},
        {255, 2 * -128 * (0 - 32)}, // 8192: the largest magnitude a d of 2 can reach
    };
    EXPECT(dequant(TB_GGML_Q6_K, q6, 256, y, err, sizeof err) == 0, "Q6_K: %s", err);
    for (size_t i = 0; i < sizeof want6 / sizeof want6[0]; i++) {
        int at = (int)want6[i][0];
        EXPECT(y[at] == want6[i][1], "Q6_K value %d: %g, want %g", at, (double)y[at],
               (double)want6[i][1]);
    }
    tb_gguf_tensor t = fake_tensor(TB_GGML_Q6_K, 1, 256, q6);
    float y2[256];
    EXPECT(tb_decode_floats(&t, y2, err, sizeof err) == 0 && memcmp(y, y2, sizeof y) == 0,
           "Q6_K through tb_decode_floats: %s", err);

    // Q4_K: | f16 d | f16 dmin | scales[12] | qs[128] |, d = 1 (0x3c00), dmin = 0.5 (0x3800).
    // Sub-block s < 4: sc = scales[s] & 63, m = scales[s + 4] & 63; s >= 4: the low 4 bits from
    // scales[s + 4] (sc low nibble, m high nibble), bits 5:4 from bits 7:6 of scales[s - 4] (sc)
    // and scales[s] (m). qs[32c + l]: value 64c + l low nibble, value 64c + 32 + l high nibble.
    // Value = d * sc * q - dmin * m.
    uint8_t q4k[144] = {0};
    put16(q4k, 0x3c00);
    put16(q4k + 2, 0x3800);
    uint8_t *ks = q4k + 4, *kq = q4k + 16;
    ks[0] = 3;      // sc0 = 3
    ks[4] = 2;      // m0 = 2
    ks[1] = 0xc4;   // sc1 = 4; bits 7:6 = 3: bits 5:4 of sc5
    ks[5] = 0x81;   // m1 = 1; bits 7:6 = 2: bits 5:4 of m5
    ks[9] = 0x75;   // sc5 = 5 | 3 << 4 = 53; m5 = 7 | 2 << 4 = 39
    ks[7] = 0x40;   // m3 = 0; bits 7:6 = 1: bits 5:4 of m7
    ks[11] = 0x21;  // sc7 = 1; m7 = 2 | 1 << 4 = 18
    kq[0] = 0x97;   // value 0 (sub-block 0): 7; value 32 (sub-block 1): 9
    kq[65] = 0xf0;  // value 129 (sub-block 4): 0; value 161 (sub-block 5): 15
    kq[127] = 0x40; // value 255 (sub-block 7): 4
    float want4k[][2] = {
        {0, 1 * 3 * 7 - 0.5f * 2},
        {1, 0 - 0.5f * 2},
        {32, 1 * 4 * 9 - 0.5f * 1},
        {33, 0 - 0.5f * 1},
        {100, 0},
        {129, 0},
        {161, 1 * 53 * 15 - 0.5f * 39},
        {224, 1 * 1 * 0 - 0.5f * 18},
        {255, 1 * 1 * 4 - 0.5f * 18},
    };
    EXPECT(dequant(TB_GGML_Q4_K, q4k, 256, y, err, sizeof err) == 0, "Q4_K: %s", err);
    for (size_t i = 0; i < sizeof want4k / sizeof want4k[0]; i++) {
        int at = (int)want4k[i][0];
        EXPECT(y[at] == want4k[i][1], "Q4_K value %d: %g, want %g", at, (double)y[at],
               (double)want4k[i][1]);
    }
}

// Scales that are not finite, types that are not decoded: refused, naming tensor and block.
static void quant_bad_blocks(void)
{
    char err[400];
    float y[512];
    uint8_t q8[2 * 34] = {0};
    put16(q8, 0x3c00);
    put16(q8 + 34, 0x7e00); // NaN
    EXPECT(dequant(TB_GGML_Q8_0, q8, 64, y, err, sizeof err) == -1 &&
               strstr(err, "tensor 'test': Q8_0 block 1 scale d = nan: expected a finite number"),
           "Q8_0 NaN scale: %s", err);
    uint8_t q4[18] = {0};
    put16(q4, 0xfc00); // -inf
    EXPECT(dequant(TB_GGML_Q4_0, q4, 32, y, err, sizeof err) == -1 &&
               strstr(err, "Q4_0 block 0 scale d = -inf"),
           "Q4_0 -inf scale: %s", err);
    uint8_t q6[2 * 210] = {0};
    put16(q6 + 210 + 208, 0x7c00); // inf
    EXPECT(dequant(TB_GGML_Q6_K, q6, 512, y, err, sizeof err) == -1 &&
               strstr(err, "Q6_K block 1 scale d = inf"),
           "Q6_K inf scale: %s", err);
    uint8_t q4k[144] = {0};
    put16(q4k + 2, 0x7e01); // dmin NaN
    EXPECT(dequant(TB_GGML_Q4_K, q4k, 256, y, err, sizeof err) == -1 &&
               strstr(err, "Q4_K block 0 scale dmin = nan"),
           "Q4_K NaN dmin: %s", err);
    EXPECT(dequant(TB_GGML_Q5_K, q6, 256, y, err, sizeof err) == -1 && strstr(err, "Q5_K"),
           "Q5_K decoded: %s", err);
    tb_gguf_tensor t = fake_tensor(TB_GGML_TQ2_0, 1, 256, q6);
    EXPECT(tb_decode_floats(&t, y, err, sizeof err) == -1 && strstr(err, "TQ2_0"),
           "TQ2_0 decoded as floats: %s", err);
    // The quantizers refuse what they cannot write.
    float x[32] = {0};
    x[3] = NAN;
    EXPECT(tb_quantize(TB_GGML_Q8_0, x, 32, q8, "test", err, sizeof err) == -1 &&
               strstr(err, "Q8_0 block 0: value 3 is nan"),
           "Q8_0 of a NaN: %s", err);
    x[3] = 1e7f; // d = 1e7 / 127 > 65504
    EXPECT(tb_quantize(TB_GGML_Q8_0, x, 32, q8, "test", err, sizeof err) == -1 &&
               strstr(err, "beyond f16"),
           "Q8_0 of 1e7: %s", err);
    EXPECT(tb_quantize(TB_GGML_Q4_0, x, 32, q4, "test", err, sizeof err) == -1 &&
               strstr(err, "beyond f16"),
           "Q4_0 of 1e7: %s", err);
    EXPECT(tb_quantize(TB_GGML_Q4_K, x, 32, q4k, "test", err, sizeof err) == -1,
           "Q4_K written (no quantizer): %s", err);
}

// The block types' tensor sizes, a row length that is not a multiple of the block, and the
// ternary decoder refusing a block type.
static void quant_sizes(void)
{
    char err[400];
    uint64_t bytes = 0;
    const struct {
        uint32_t type;
        uint64_t ne0, ne1, bytes;
    } sizes[] = {
        {TB_GGML_Q4_0, 64, 3, 6 * 18},   {TB_GGML_Q8_0, 64, 3, 6 * 34},
        {TB_GGML_Q4_K, 256, 2, 2 * 144}, {TB_GGML_Q6_K, 512, 3, 6 * 210},
        {TB_GGML_Q4_1, 32, 1, 20},       {TB_GGML_Q5_0, 32, 1, 22},
        {TB_GGML_Q5_1, 32, 1, 24},       {TB_GGML_Q2_K, 256, 1, 84},
        {TB_GGML_Q3_K, 256, 1, 110},     {TB_GGML_Q5_K, 256, 1, 176},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t ne[2] = {sizes[i].ne0, sizes[i].ne1};
        EXPECT(tb_ggml_tensor_bytes(sizes[i].type, ne, 2, &bytes, err, sizeof err) == 0 &&
                   bytes == sizes[i].bytes,
               "%s bytes %llu, want %llu: %s", tb_ggml_type_name(sizes[i].type),
               (unsigned long long)bytes, (unsigned long long)sizes[i].bytes, err);
    }
    uint64_t odd[2] = {300, 4};
    EXPECT(tb_ggml_tensor_bytes(TB_GGML_Q6_K, odd, 2, &bytes, err, sizeof err) == -1 &&
               strstr(err, "Q6_K stores blocks of 256 along a row: needs ne[0] a multiple of "
                           "256, got shape [300, 4]"),
           "Q6_K with rows of 300: %s", err);
    uint64_t odd32[2] = {48, 2};
    EXPECT(tb_ggml_tensor_bytes(TB_GGML_Q8_0, odd32, 2, &bytes, err, sizeof err) == -1 &&
               strstr(err, "Q8_0") && strstr(err, "[48, 2]"),
           "Q8_0 with rows of 48: %s", err);
    // A block type is no ternary encoding (and must not be read as 16-bit floats).
    uint8_t q8[2 * 34] = {0};
    tb_gguf_tensor t = fake_tensor(TB_GGML_Q8_0, 1, 64, q8);
    int8_t w[64];
    float scale;
    EXPECT(tb_decode_ternary(&t, w, &scale, err, sizeof err) == -1 &&
               strstr(err, "tensor 'test' type: expected I2_S") && strstr(err, "got Q8_0 (8)"),
           "Q8_0 decoded as ternary: %s", err);
    EXPECT(tb_ggml_type_name(TB_GGML_Q6_K) &&
               strcmp(tb_ggml_type_name(TB_GGML_Q6_K), "Q6_K") == 0 && tb_ggml_type_name(4) == NULL,
           "type names");
}

static size_t block_of(uint32_t type)
{
    return type == TB_GGML_Q6_K ? 256 : 32;
}

static size_t bytes_of(uint32_t type, size_t count)
{
    size_t per = type == TB_GGML_Q6_K ? 210 : type == TB_GGML_Q8_0 ? 34 : 18;
    return count / block_of(type) * per;
}

// Encodes x, decodes, encodes the decoded values again: the same bytes and the same values.
// tol > 0: every decoded value within tol times the largest magnitude of its block in x.
static void quant_round_trip(uint32_t type, const float *x, size_t count, double tol,
                             const char *what)
{
    const char *tname = tb_ggml_type_name(type);
    size_t nbytes = bytes_of(type, count), block = block_of(type);
    uint8_t *a = malloc(nbytes), *b = malloc(nbytes);
    float *y = malloc(count * sizeof(float)), *y2 = malloc(count * sizeof(float));
    char err[400] = "";
    int ok = tb_quantize(type, x, count, a, "rt", err, sizeof err) == 0 &&
             tb_dequantize(type, a, count, y, "rt", err, sizeof err) == 0 &&
             tb_quantize(type, y, count, b, "rt", err, sizeof err) == 0 &&
             tb_dequantize(type, b, count, y2, "rt", err, sizeof err) == 0;
    EXPECT(ok, "%s %s: %s", tname, what, err);
    if (ok && memcmp(a, b, nbytes) != 0) {
        size_t at = 0;
        while (a[at] == b[at]) at++;
        EXPECT(0, "%s %s: encoding the decoded values changed byte %zu (block %zu): %02x -> %02x",
               tname, what, at, at / (nbytes / (count / block)), a[at], b[at]);
    }
    EXPECT(!ok || memcmp(y, y2, count * sizeof(float)) == 0, "%s %s: decoded values changed", tname,
           what);
    for (size_t blk = 0; ok && tol > 0 && blk < count / block; blk++) {
        float amax = 0;
        for (size_t i = 0; i < block; i++) amax = fmaxf(amax, fabsf(x[blk * block + i]));
        for (size_t i = blk * block; i < (blk + 1) * block; i++)
            if (fabs((double)x[i] - (double)y[i]) > tol * amax) {
                EXPECT(0, "%s %s: value %zu: %g decodes to %g, more than %g x %g away", tname, what,
                       i, (double)x[i], (double)y[i], tol, (double)amax);
                ok = 0;
                break;
            }
    }
    free(a), free(b), free(y), free(y2);
}

static void quant_round_trips(void)
{
    const uint32_t types[3] = {TB_GGML_Q8_0, TB_GGML_Q4_0, TB_GGML_Q6_K};
    // Worst errors, in units of the block's largest magnitude: half a step plus the f16
    // rounding of d (Q8_0: d = max / 127); a full step where a value of the sign opposite to the
    // largest needs the code the range lacks (Q4_0: -8..7, d = max / 8; Q6_K: -32..31 at scale
    // -128, d = max / 4096, step = max / 32).
    const double tol[3] = {0.6 / 127, 1.01 / 8, 1.02 / 32};
    enum { N = 4096 };
    float *x = malloc(N * sizeof(float));
    tb_rng r = {21};
    // Normal values at magnitudes from below f16's smallest scale to far above 1.
    const float sigma[] = {1e-9f, 1e-7f, 1e-5f, 3e-4f, 0.02f, 1.0f, 300.0f};
    for (size_t s = 0; s < sizeof sigma / sizeof sigma[0]; s++) {
        for (int i = 0; i < N; i++) x[i] = sigma[s] * tb_rng_normal(&r);
        char what[64];
        snprintf(what, sizeof what, "normal, sd %g", (double)sigma[s]);
        for (int t = 0; t < 3; t++)
            quant_round_trip(types[t], x, N, sigma[s] >= 0.02f ? tol[t] : 0, what);
    }
    // Blocks built to hit the edges: zeros, negative zeros, one value, equal magnitudes of both
    // signs, sub-blocks of very different sizes, values far beyond f16 (Q6_K saturates d).
    for (int i = 0; i < N; i++) {
        int blk = i / 256, j = i % 256;
        float v = 0.0f;
        if (blk == 1) v = -0.0f;
        if (blk == 2) v = j == 5 ? 1.0f : 0.0f;
        if (blk == 3) v = j % 2 ? 0.5f : -0.5f;
        if (blk == 4) v = (j < 16 ? 1.0f : 1e-6f) * (j % 3 == 0 ? -1.0f : 0.7f);
        if (blk == 5) v = (float)(j % 64 - 32) * 0.01f;
        if (blk == 6) v = j == 200 ? -3.0f : (float)(j % 7) * 0.1f;
        if (blk == 7) v = 1e-30f * (float)(j - 128);
        if (blk >= 8) v = tb_rng_normal(&r) * (blk % 2 ? 1e-3f : 5.0f) * (j / 16 + 1);
        x[i] = v;
    }
    for (int t = 0; t < 3; t++) quant_round_trip(types[t], x, N, 0, "edge blocks");
    for (int i = 0; i < 256; i++) x[i] = 1e9f * tb_rng_normal(&r);
    quant_round_trip(TB_GGML_Q6_K, x, 256, 0, "values beyond f16");

    // Worked examples: x = -16, -15, ..., 15.
    for (int i = 0; i < 32; i++) x[i] = (float)(i - 16);
    uint8_t blk[210];
    char err[400];
    // Q8_0: d = 16 / 127 = 0.12598, in f16 0.125 * (1 + 8 / 1024) (0x3008); q = round(x * 127 /
    // 16).
    EXPECT(tb_quantize(TB_GGML_Q8_0, x, 32, blk, "test", err, sizeof err) == 0, "%s", err);
    EXPECT(blk[0] == 0x08 && blk[1] == 0x30 && (int8_t)blk[2] == -127 && (int8_t)blk[3] == -119 &&
               blk[2 + 16] == 0 && blk[2 + 17] == 8 && blk[2 + 31] == 119,
           "Q8_0 of -16..15: d %02x%02x, q %d %d %d %d", blk[1], blk[0], (int8_t)blk[2],
           (int8_t)blk[3], (int8_t)blk[19], (int8_t)blk[33]);
    // Q4_0: max = -16 (the first of largest magnitude), d = max / -8 = 2 (0x4000); code =
    // min(15, floor(x / 2 + 8.5)): -16 -> 0, -15 -> 1, -1 -> 8, 0 -> 8, 1 -> 9, 15 -> 15.
    EXPECT(tb_quantize(TB_GGML_Q4_0, x, 32, blk, "test", err, sizeof err) == 0, "%s", err);
    EXPECT(blk[0] == 0x00 && blk[1] == 0x40 && blk[2] == 0x80 && blk[3] == 0x91 && blk[17] == 0xf8,
           "Q4_0 of -16..15: %02x%02x %02x %02x %02x", blk[1], blk[0], blk[2], blk[3], blk[17]);
    // Q6_K: one value 1 at 5, the rest 0: d = 1 / 4096 = 2^-12 (0x0c00), sub-block 0 scale
    // -128 (value 5: code 0), every other code 32 (high bits 2: qh bytes 0b10101010).
    for (int i = 0; i < 256; i++) x[i] = i == 5 ? 1.0f : 0.0f;
    EXPECT(tb_quantize(TB_GGML_Q6_K, x, 256, blk, "test", err, sizeof err) == 0, "%s", err);
    int zeros_ok = 1;
    for (int i = 0; i < 128; i++) zeros_ok &= blk[i] == 0;
    for (int i = 0; i < 64; i++) zeros_ok &= blk[128 + i] == (i == 5 ? 0xa8 : 0xaa);
    for (int i = 1; i < 16; i++) zeros_ok &= blk[192 + i] == 0;
    EXPECT(zeros_ok && blk[192] == 0x80 && blk[208] == 0x00 && blk[209] == 0x0c,
           "Q6_K of one 1: scale %d, d %02x%02x, qh[5] %02x", (int8_t)blk[192], blk[209], blk[208],
           blk[133]);
    free(x);
}

// The tensor named name in the file at path: its type and a copy of its bytes (NULL if absent).
static uint8_t *file_tensor(const char *path, const char *name, uint32_t *type, size_t *bytes,
                            size_t *at)
{
    tb_gguf g;
    char err[600];
    if (tb_gguf_open(path, &g, err, sizeof err)) return NULL;
    const tb_gguf_tensor *t = tb_gguf_find_tensor(&g, name);
    uint8_t *copy = NULL;
    if (t) {
        *type = t->type, *bytes = (size_t)t->bytes, *at = (size_t)(t->data - g.base);
        copy = malloc(*bytes);
        memcpy(copy, t->data, *bytes);
    }
    tb_gguf_close(&g);
    return copy;
}

// `model create --embedding-type` for every type: the file holds that type, and loading it
// gives exactly the decoded values (for an untied output head too), which encode back to the
// file's bytes.
static void embedding_types(const char *path)
{
    tb_config c;
    tb_config_find("tiny256", &c);
    tb_model a, b;
    char err[600];
    tb_model_synthetic(&c, 4, &a);
    size_t count = (size_t)c.dim * (size_t)c.vocab_size;
    a.output = malloc(count * sizeof(float)); // an untied head, not f16-exact
    tb_rng r = {5};
    for (size_t i = 0; i < count; i++) a.output[i] = 0.03f * tb_rng_normal(&r);
    const char *names[] = {"f32", "f16", "q8_0", "q4_0", "q6_k"};
    float *want = malloc(count * sizeof(float));
    uint8_t *enc = malloc(count * sizeof(float));
    for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
        int type = tb_embedding_type_parse(names[n]);
        EXPECT(type >= 0, "embedding type %s unknown", names[n]);
        EXPECT(tb_gguf_save_model_typed(&a, path, TB_FMT_I2_S, type, err, sizeof err) == 0,
               "save %s: %s", names[n], err);
        if (tb_gguf_load_model(path, &b, err, sizeof err)) {
            EXPECT(0, "load %s: %s", names[n], err);
            continue;
        }
        const char *tensors[2] = {"token_embd.weight", "output.weight"};
        const float *src[2] = {a.embedding, a.output}, *got[2] = {b.embedding, b.output};
        for (int k = 0; k < 2; k++) {
            uint32_t ftype = 0;
            size_t fbytes = 0, at = 0;
            uint8_t *file = file_tensor(path, tensors[k], &ftype, &fbytes, &at);
            EXPECT(file && ftype == (uint32_t)type, "%s: %s stored as %s", names[n], tensors[k],
                   file ? tb_ggml_type_name(ftype) : "nothing");
            // What the format decodes the model to, computed apart from the loader.
            if (type == TB_GGML_F32) memcpy(want, src[k], count * sizeof(float));
            if (type == TB_GGML_F16)
                for (size_t i = 0; i < count; i++) want[i] = tb_f16_round(src[k][i]);
            if (tb_quant_supported((uint32_t)type)) {
                tb_quantize((uint32_t)type, src[k], count, enc, "x", err, sizeof err);
                tb_dequantize((uint32_t)type, enc, count, want, "x", err, sizeof err);
            }
            EXPECT(got[k] && memcmp(got[k], want, count * sizeof(float)) == 0,
                   "%s: loaded %s is not the decoded one", names[n], tensors[k]);
            // Encoding what was loaded gives the file's bytes again.
            if (got[k] && tb_quant_supported((uint32_t)type)) {
                tb_quantize((uint32_t)type, got[k], count, enc, "x", err, sizeof err);
                EXPECT(file && memcmp(enc, file, fbytes) == 0, "%s: %s re-encoded differs",
                       names[n], tensors[k]);
            }
            free(file);
        }
        tb_model_free(&b);
    }
    // Blocks of 256 along a row need dim a multiple of 256.
    tb_config tiny;
    tb_config_find("tiny", &tiny);
    tb_model t;
    tb_model_synthetic(&tiny, 1, &t);
    EXPECT(tb_gguf_save_model_typed(&t, path, TB_FMT_I2_S, TB_GGML_Q6_K, err, sizeof err) == -1 &&
               strstr(err, "needs dim a multiple of 256, config tiny has 96"),
           "q6_k embedding of tiny: %s", err);
    tb_model_free(&t);
    EXPECT(tb_embedding_type_parse("q5_k") == -1 && tb_embedding_type_parse("Q8_0") == -1,
           "embedding type names");
    EXPECT(tb_gguf_save_model_typed(&a, path, TB_FMT_I2_S, TB_GGML_Q4_K, err, sizeof err) == -1 &&
               strstr(err, "embedding type 12: expected F32, F16, Q8_0, Q4_0 or Q6_K"),
           "Q4_K embedding written: %s", err);
    free(want), free(enc);
    tb_model_free(&a);
}

// Writes bytes to path and loads it: the message must hold each of want[] (NULL-terminated).
static void expect_load_error(const char *path, const char *bytes, size_t size,
                              const char *const *want, const char *what)
{
    tb_model m;
    char err[600] = "";
    write_all(path, bytes, size);
    int rc = tb_gguf_load_model(path, &m, err, sizeof err);
    int ok = rc == -1 && strstr(err, path);
    for (int i = 0; ok && want[i]; i++) ok = strstr(err, want[i]) != NULL;
    EXPECT(ok, "%s: %s", what, rc ? err : "accepted");
    if (rc == 0) tb_model_free(&m);
}

// Model files whose quantized embedding is broken: a NaN scale, cut short, an unknown type, a
// type known but not decoded, a row length its blocks do not divide.
static void bad_quantized_files(const char *path)
{
    tb_config c;
    tb_config_find("tiny256", &c);
    tb_model m;
    char err[600];
    tb_model_synthetic(&c, 6, &m);
    EXPECT(tb_gguf_save_model_typed(&m, path, TB_FMT_I2_S, TB_GGML_Q8_0, err, sizeof err) == 0,
           "%s", err);
    tb_model_free(&m);
    size_t size, ebytes = 0, at = 0;
    uint32_t etype = 0;
    char *good = read_all(path, &size);
    uint8_t *emb = file_tensor(path, "token_embd.weight", &etype, &ebytes, &at);
    char *bad = malloc(size);
    char *info = good ? find_bytes(good, size, "token_embd.weight", 17) : NULL;
    if (!good || !emb || !info) {
        EXPECT(0, "q8_0 model file not written");
        free(good), free(emb), free(bad);
        return;
    }
    size_t type_at = (size_t)(info - good) + 17 + 4 + 2 * 8; // name, n_dims, ne[0..1], type
    // Block 5's d set to NaN.
    memcpy(bad, good, size);
    uint16_t nan16 = 0x7e00;
    memcpy(bad + at + 5 * 34, &nan16, 2);
    const char *nan_want[] = {"tensor 'token_embd.weight': Q8_0 block 5 scale d = nan", NULL};
    expect_load_error(path, bad, size, nan_want, "NaN scale in the embedding");
    // Cut inside the embedding's data (the first tensor of the data section).
    const char *cut_want[] = {"tensor 'token_embd.weight' data", NULL};
    expect_load_error(path, good, at + ebytes - 1, cut_want, "embedding cut short");
    // Type 99, unknown to ggml: the parser names tensor and type.
    memcpy(bad, good, size);
    uint32_t v = 99;
    memcpy(bad + type_at, &v, 4);
    const char *unknown_want[] = {"tensor 'token_embd.weight': type: expected", "got 99", NULL};
    expect_load_error(path, bad, size, unknown_want, "embedding of type 99");
    // Q5_K: a ggml type the parser sizes (it fits the data) but the loader does not decode.
    v = TB_GGML_Q5_K;
    memcpy(bad + type_at, &v, 4);
    const char *q5k_want[] = {"tensor 'token_embd.weight' type: expected one of F32, F16, Q4_0, "
                              "Q8_0, Q4_K, Q6_K, BF16, got Q5_K (13)",
                              NULL};
    expect_load_error(path, bad, size, q5k_want, "embedding of type Q5_K");
    free(good), free(emb), free(bad);
    // Q6_K on rows of 96: not a whole number of blocks.
    good = tiny_model_file(path, &size);
    info = good ? find_bytes(good, size, "token_embd.weight", 17) : NULL;
    if (!info) {
        free(good);
        return;
    }
    v = TB_GGML_Q6_K;
    memcpy(info + 17 + 4 + 16, &v, 4);
    const char *rows_want[] = {"tensor 'token_embd.weight': Q6_K stores blocks of 256 along a "
                               "row: needs ne[0] a multiple of 256, got shape [96, 97]",
                               NULL};
    expect_load_error(path, good, size, rows_want, "Q6_K embedding with rows of 96");
    free(good);
}

// ---- architectures: the FFN each computes, scale tensors, required tensors ----

// Config `name` with seed 7 written at path with options o; 0 on success.
static int save_with(const char *name, const tb_save_options *o, const char *path)
{
    tb_config c;
    tb_config_find(name, &c);
    tb_model m;
    char err[600];
    tb_model_synthetic(&c, 7, &m);
    int rc = tb_gguf_save_model_opts(&m, path, o, err, sizeof err);
    tb_model_free(&m);
    EXPECT(rc == 0, "writing %s: %s", name, err);
    return rc;
}

// The FFN (and its source) the loader picks for a file of architecture arch whose
// hidden_activation is key (NULL: none).
static void expect_ffn(const char *path, const char *arch, const char *key, tb_ffn_act want,
                       tb_ffn_source want_source)
{
    tb_save_options o = {
        .format = TB_FMT_F32, .emb_type = -1, .arch = arch, .hidden_activation = key};
    if (save_with("tiny", &o, path)) return;
    tb_model m;
    char err[600];
    if (tb_gguf_load_model(path, &m, err, sizeof err)) {
        EXPECT(0, "%s / %s: %s", arch, key ? key : "no key", err);
        return;
    }
    EXPECT(m.cfg.ffn == want && m.cfg.ffn_source == want_source && strcmp(m.arch, arch) == 0,
           "%s / %s: ffn %s from %s (arch '%s'), want %s from %s", arch, key ? key : "no key",
           tb_ffn_names[m.cfg.ffn], tb_ffn_source_names[m.cfg.ffn_source], m.arch,
           tb_ffn_names[want], tb_ffn_source_names[want_source]);
    tb_model_free(&m);
}

// The tensor info of `name` in a file image: the byte after its name (n_dims, ne[], type follow).
static char *tensor_info(char *file, size_t size, const char *name)
{
    size_t len = strlen(name);
    char *hit = find_bytes(file, size, name, len);
    return hit ? hit + len : NULL;
}

static void arch_ffn(const char *path)
{
    expect_ffn(path, "bitnet", NULL, TB_FFN_SILU, TB_FFN_FROM_ARCH);
    expect_ffn(path, "bitnet", "relu2", TB_FFN_RELU2, TB_FFN_FROM_KEY);
    expect_ffn(path, "bitnet", "silu", TB_FFN_SILU, TB_FFN_FROM_KEY);
    expect_ffn(path, "bitnet-b1.58", NULL, TB_FFN_RELU2, TB_FFN_FROM_ARCH);
    expect_ffn(path, "bitnet-b1.58", "silu", TB_FFN_SILU, TB_FFN_FROM_KEY);
    expect_ffn(path, "bitnet-25", NULL, TB_FFN_RELU2, TB_FFN_FROM_ARCH);

    // Other values of hidden_activation, written over "relu2" in the file (5 bytes; "relu" with
    // its NUL): swish is llama.cpp's name for SiLU; "relu" (plain ReLU, another function) and
    // "gelu2" are refused with the file, the key and the value.
    tb_save_options o = {
        .format = TB_FMT_F32, .emb_type = -1, .arch = "bitnet", .hidden_activation = "relu2"};
    if (save_with("tiny", &o, path)) return;
    size_t size;
    char *good = read_all(path, &size), *bad = malloc(size);
    const struct {
        const char *value; // 5 bytes are copied: 5 characters, or 4 and the NUL
        int ok;
        tb_ffn_act ffn;
    } cases[] = {{"swish", 1, TB_FFN_SILU}, {"relu", 0, TB_FFN_RELU2}, {"gelu2", 0, TB_FFN_RELU2}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(bad, good, size);
        char *hit = find_bytes(bad, size, "relu2", 5);
        EXPECT(hit != NULL, "no relu2 in the file");
        if (!hit) break;
        memcpy(hit, cases[i].value, 5);
        write_all(path, bad, size);
        tb_model m;
        char err[600] = "";
        int rc = tb_gguf_load_model(path, &m, err, sizeof err);
        if (cases[i].ok)
            EXPECT(rc == 0 && m.cfg.ffn == cases[i].ffn, "hidden_activation %s: %s", cases[i].value,
                   rc ? err : tb_ffn_names[m.cfg.ffn]);
        char got[32];
        snprintf(got, sizeof got, "got '%s'", cases[i].value);
        if (!cases[i].ok)
            EXPECT(rc == -1 && strstr(err, path) &&
                       strstr(err, "metadata 'bitnet.hidden_activation': expected relu2") &&
                       strstr(err, got),
                   "hidden_activation %s: %s", cases[i].value, rc ? err : "accepted");
        if (rc == 0) tb_model_free(&m);
    }
    free(good), free(bad);
}

// Scale tensors (architecture bitnet): each multiplies its product, so the model loaded holds
// gamma * scale as the tensor's scale, exactly (powers of two); the other architectures do not
// read them, so the writer refuses to put them there. Wrong shape, type or value: refused,
// naming the tensor.
static void scale_tensors(const char *path)
{
    tb_config c;
    tb_config_find("tiny", &c);
    const int n = c.n_layers * TB_N_LINEAR;
    float *scales = malloc((size_t)n * sizeof *scales);
    for (int i = 0; i < n; i++) scales[i] = i % 3 == 0 ? 0.5f : i % 3 == 1 ? 1.0f : 2.0f;
    tb_save_options o = {
        .format = TB_FMT_F32, .emb_type = -1, .arch = "bitnet", .hidden_activation = "relu2"};
    tb_model plain, scaled;
    char err[600] = "";
    int have_plain =
        save_with("tiny", &o, path) == 0 && tb_gguf_load_model(path, &plain, err, sizeof err) == 0;
    EXPECT(have_plain && tb_model_materialize(&plain, err, sizeof err) == 0,
           "plain bitnet file: %s", err);
    o.tensor_scales = scales;
    int have_scaled =
        save_with("tiny", &o, path) == 0 && tb_gguf_load_model(path, &scaled, err, sizeof err) == 0;
    EXPECT(have_scaled && tb_model_materialize(&scaled, err, sizeof err) == 0,
           "bitnet file with scale tensors: %s", err);
    for (int i = 0; have_plain && have_scaled && i < n; i++)
        EXPECT(scaled.lin[i].w && plain.lin[i].w &&
                   scaled.lin[i].scale == plain.lin[i].scale * scales[i],
               "tensor %d: scale %g, want %g * %g", i, (double)scaled.lin[i].scale,
               (double)plain.lin[i].scale, (double)scales[i]);
    if (have_plain) tb_model_free(&plain);
    if (have_scaled) tb_model_free(&scaled);

    o.arch = "bitnet-b1.58";
    tb_model m;
    tb_model_synthetic(&c, 7, &m);
    EXPECT(tb_gguf_save_model_opts(&m, path, &o, err, sizeof err) == -1 &&
               strstr(err, "architecture bitnet-b1.58 does not read them"),
           "scale tensors in a bitnet-b1.58 file: %s", err);
    tb_model_free(&m);

    // Broken scale tensors: blk.0.attn_k.scale of type F16, of two elements, NaN; a missing
    // sub-norm.
    o.arch = "bitnet";
    if (save_with("tiny", &o, path)) {
        free(scales);
        return;
    }
    size_t size, bytes = 0, at = 0;
    uint32_t type = 0;
    char *good = read_all(path, &size), *bad = malloc(size);
    uint8_t *data = file_tensor(path, "blk.0.attn_k.scale", &type, &bytes, &at);
    char *info = good ? tensor_info(good, size, "blk.0.attn_k.scale") : NULL;
    EXPECT(data && info && type == TB_GGML_F32 && bytes == 4, "blk.0.attn_k.scale not written");
    if (data && info) {
        size_t ne_at = (size_t)(info - good) + 4, type_at = ne_at + 8; // n_dims, ne[0], type
        uint32_t f16 = TB_GGML_F16;
        uint64_t two = 2;
        float not_a_number = NAN;
        memcpy(bad, good, size);
        memcpy(bad + type_at, &f16, 4);
        const char *type_want[] = {"tensor 'blk.0.attn_k.scale' type: expected F32, got F16 (1)",
                                   NULL};
        expect_load_error(path, bad, size, type_want, "F16 scale tensor");
        memcpy(bad, good, size);
        memcpy(bad + ne_at, &two, 8);
        const char *shape_want[] = {
            "tensor 'blk.0.attn_k.scale' shape: expected one element [1], got [2]", NULL};
        expect_load_error(path, bad, size, shape_want, "scale tensor of two elements");
        memcpy(bad, good, size);
        memcpy(bad + at, &not_a_number, 4);
        const char *nan_want[] = {"tensor 'blk.0.attn_k.scale' value: expected a finite", NULL};
        expect_load_error(path, bad, size, nan_want, "NaN scale tensor");
        memcpy(bad, good, size);
        char *hit = find_bytes(bad, size, "blk.1.ffn_sub_norm.weight", 25);
        if (hit) hit[6] = 'X';
        const char *norm_want[] = {"tensor 'blk.1.ffn_sub_norm.weight': missing", NULL};
        expect_load_error(path, bad, size, norm_want, "bitnet file without a sub-norm");
    }
    free(good), free(bad), free(data), free(scales);
}

// 2B4T's signature (LLaMA 3's vocabulary, 20 heads over 5 KV heads) on narrow layers: a bitnet
// file without hidden_activation computes SiLU, which tb_model_ffn_warning flags; with relu2,
// after --ffn, or without the signature, nothing is said.
static tb_config signature_config(void)
{
    tb_config c = {"sig2b4t", 40, 32,       1,     20,           5,
                   128256,    16, 10000.0f, 1e-5f, TB_FFN_RELU2, TB_FFN_FROM_CONFIG};
    return c;
}

static int write_signature_file(const char *path, const char *key)
{
    tb_config c = signature_config();
    tb_model m;
    char err[600];
    tb_model_synthetic(&c, 3, &m);
    tb_save_options o = {
        .format = TB_FMT_F32, .emb_type = -1, .arch = "bitnet", .hidden_activation = key};
    int rc = tb_gguf_save_model_opts(&m, path, &o, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    tb_model_free(&m);
    return rc;
}

static int warns(const char *path, const char *key, int force)
{
    tb_model m;
    char err[600], msg[700] = "";
    if (write_signature_file(path, key) || tb_gguf_load_model(path, &m, err, sizeof err)) {
        EXPECT(0, "signature file (%s): %s", key ? key : "no key", err);
        return -1;
    }
    if (force) tb_model_force_ffn(&m, TB_FFN_RELU2);
    int w = tb_model_ffn_warning(&m, path, msg, sizeof msg);
    EXPECT(!w || (strstr(msg, path) && strstr(msg, "2B4T") && strstr(msg, "17.1 to 99.8") &&
                  strstr(msg, "--ffn relu2")),
           "warning text: %s", msg);
    tb_model_free(&m);
    return w;
}

static void mislabel_warning(const char *path)
{
    EXPECT(warns(path, NULL, 0) == 1, "a 2B4T-shaped bitnet file computed with SiLU: no warning");
    EXPECT(warns(path, "silu", 0) == 1, "a 2B4T-shaped file whose key says silu: no warning");
    EXPECT(warns(path, "relu2", 0) == 0, "a 2B4T-shaped file computed with relu2: warned");
    EXPECT(warns(path, NULL, 1) == 0, "a 2B4T-shaped bitnet file after --ffn relu2: warned");
    // Without the signature (tiny's vocabulary): nothing to say.
    tb_save_options o = {.format = TB_FMT_F32, .emb_type = -1, .arch = "bitnet"};
    tb_model m;
    char err[600], msg[700];
    if (save_with("tiny", &o, path) == 0 && tb_gguf_load_model(path, &m, err, sizeof err) == 0) {
        EXPECT(m.cfg.ffn == TB_FFN_SILU && !tb_model_ffn_warning(&m, path, msg, sizeof msg),
               "tiny bitnet file: ffn %s, warned", tb_ffn_names[m.cfg.ffn]);
        tb_model_free(&m);
    }
}

int main(int argc, char **argv)
{
    // tests/test_arch_ffn.sh asks for a file of 2B4T's signature (a bitnet file without
    // hidden_activation) to see the command line's warning: `model create` writes none.
    if (argc == 3 && strcmp(argv[1], "--write-signature-file") == 0)
        return write_signature_file(argv[2], NULL) ? 2 : 0;
    char path[] = "/tmp/tritbench-test-gguf-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 1;
    close(fd);
    codecs();
    corrupt();
    round_trip("tiny", TB_FMT_F32, path);
    round_trip("tiny", TB_FMT_I2_S, path);
    round_trip("tiny256", TB_FMT_TQ2_0, path);
    round_trip("tiny256", TB_FMT_TQ1_0, path);
    round_trip("tiny256", TB_FMT_I2_S, path);
    llama_metadata(path);
    // TQ formats refuse a model whose k is not a multiple of 256.
    tb_config c;
    tb_config_find("tiny", &c);
    tb_model m;
    char err[600];
    tb_model_synthetic(&c, 1, &m);
    EXPECT(tb_gguf_save_model(&m, path, TB_FMT_TQ2_0, err, sizeof err) == -1 &&
               strstr(err, "multiples of 256"),
           "tq2_0 of tiny: %s", err);
    tb_model_free(&m);
    model_files(path);
    overflowing_shapes();
    hostile_models(path);
    quant_known_blocks();
    quant_bad_blocks();
    quant_sizes();
    quant_round_trips();
    embedding_types(path);
    bad_quantized_files(path);
    arch_ffn(path);
    scale_tensors(path);
    mislabel_warning(path);
    unlink(path);
    if (failures)
        printf("%d failures\n", failures);
    else
        printf("gguf tests passed\n");
    return failures ? 1 : 0;
}
