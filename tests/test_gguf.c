// GGUF files: write -> read round trips are exact; the I2_S, TQ2_0 and TQ1_0 codecs put known
// ternary matrices where the formats say and read them back; truncated and corrupted files are
// refused with an error naming the field, never a crash (this test also runs under ASan).
#include "tb_test.h"
#include "gguf.h"
#include "gguf_model.h"
#include "model.h"
#include "tb_reference.h"

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

int main(void)
{
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
    quant_sizes();
    unlink(path);
    if (failures)
        printf("%d failures\n", failures);
    else
        printf("gguf tests passed\n");
    return failures ? 1 : 0;
}
