// GGUF v3 reader and writer. The reader trusts nothing: every read goes through a cursor that
// checks the bytes are there, every count is capped before it sizes an allocation, and every
// tensor's extent is checked against the file before a pointer to it is handed out.
#include "gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// ---------------------------------------------------------------------------------------------
// Type traits

// Each type stores its elements in blocks along a row (ne[0]): `block` elements in `bytes` bytes.
// Block sizes from ggml's block structs (ggml/src/ggml-common.h): Q4_0 {f16 d; 16 bytes of
// nibbles}, Q4_1 {f16 d, m; 16}, Q5_0 {f16 d; 4 bytes of fifth bits; 16}, Q5_1 {f16 d, m; 4; 16},
// Q8_0 {f16 d; 32 int8}; super-blocks of 256: Q2_K {16 scales; 64 quants; f16 d, dmin}, Q3_K
// {32 hmask; 64 quants; 12 scales; f16 d}, Q4_K {f16 d, dmin; 12 scales; 128 nibbles}, Q5_K
// {f16 d, dmin; 12; 32 high bits; 128}, Q6_K {128 low nibbles; 64 high pairs; 16 int8 scales;
// f16 d}, TQ1_0 {48 + 4 bytes of trits; f16 d}, TQ2_0 {64 bytes of 2-bit codes; f16 d}. I2_S is
// not a block type (see tb_ggml_tensor_bytes).
typedef struct {
    uint32_t type;
    const char *name;
    uint32_t block, bytes;
} type_traits;

static const type_traits traits[] = {
    {TB_GGML_F32, "F32", 1, 4},        {TB_GGML_F16, "F16", 1, 2},
    {TB_GGML_Q4_0, "Q4_0", 32, 18},    {TB_GGML_Q4_1, "Q4_1", 32, 20},
    {TB_GGML_Q5_0, "Q5_0", 32, 22},    {TB_GGML_Q5_1, "Q5_1", 32, 24},
    {TB_GGML_Q8_0, "Q8_0", 32, 34},    {TB_GGML_Q2_K, "Q2_K", 256, 84},
    {TB_GGML_Q3_K, "Q3_K", 256, 110},  {TB_GGML_Q4_K, "Q4_K", 256, 144},
    {TB_GGML_Q5_K, "Q5_K", 256, 176},  {TB_GGML_Q6_K, "Q6_K", 256, 210},
    {TB_GGML_BF16, "BF16", 1, 2},      {TB_GGML_TQ1_0, "TQ1_0", 256, 54},
    {TB_GGML_TQ2_0, "TQ2_0", 256, 66}, {TB_GGML_I2_S, "I2_S", 0, 0},
};

static const type_traits *find_traits(uint32_t type)
{
    for (size_t i = 0; i < sizeof traits / sizeof traits[0]; i++)
        if (traits[i].type == type) return &traits[i];
    return NULL;
}

const char *tb_ggml_type_name(uint32_t type)
{
    const type_traits *t = find_traits(type);
    return t ? t->name : NULL;
}

// "F32 0, F16 1, Q4_0 2, ...": the types a file may hold, for the message refusing another.
static void list_types(char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof traits / sizeof traits[0] && used < len; i++) {
        int n = snprintf(out + used, len - used, "%s%s %u", i ? ", " : "", traits[i].name,
                         traits[i].type);
        if (n < 0) break;
        used += (size_t)n;
    }
}

// a * b, or -1 if it does not fit in 64 bits: the one place size arithmetic on file values is
// checked for overflow.
static int mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    return __builtin_mul_overflow(a, b, out) ? -1 : 0;
}

int tb_ggml_tensor_bytes(uint32_t type, const uint64_t *ne, uint32_t n_dims, uint64_t *bytes,
                         char *err, size_t err_len)
{
    // Each dimension is checked on its own, then the element count as it grows: after this,
    // count <= 2^40 and every size below is at most 4 * 2^40.
    uint64_t count = 1;
    for (uint32_t i = 0; i < n_dims; i++) {
        if (ne[i] < 1 || ne[i] > TB_GGUF_MAX_DIM) {
            snprintf(err, err_len, "dimension ne[%u]: expected 1..2^32, got %" PRIu64, i, ne[i]);
            return -1;
        }
        if (mul_u64(count, ne[i], &count) || count > TB_GGUF_MAX_ELEMS) {
            snprintf(err, err_len,
                     "element count (product of ne[0..%u]): expected <= 2^40, got more (ne[%u] = "
                     "%" PRIu64 ")",
                     i, i, ne[i]);
            return -1;
        }
    }
    const type_traits *t = find_traits(type);
    if (!t) {
        char known[400];
        list_types(known, sizeof known);
        snprintf(err, err_len, "type: expected a supported ggml type (%s), got %u", known, type);
        return -1;
    }
    if (type == TB_GGML_I2_S) {
        // 4 weights a byte in blocks of 128, then one f32 scale in a 32-byte tail.
        if (count % 128) {
            snprintf(err, err_len, "I2_S needs an element count multiple of 128, got %" PRIu64,
                     count);
            return -1;
        }
        *bytes = count / 4 + 32;
        return 0;
    }
    if (ne[0] % t->block) {
        char shape[100];
        int used = 0;
        for (uint32_t i = 0; i < n_dims && used < (int)sizeof shape; i++)
            used += snprintf(shape + used, sizeof shape - (size_t)used, "%s%" PRIu64, i ? ", " : "",
                             ne[i]);
        snprintf(err, err_len,
                 "%s stores blocks of %u along a row: needs ne[0] a multiple of %u, got shape "
                 "[%s]",
                 t->name, t->block, t->block, shape);
        return -1;
    }
    *bytes = count / t->block * t->bytes; // <= 2^40 * 4: no overflow
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Reader

typedef struct {
    const uint8_t *p;
    size_t size, off;
    const char *file;
    char *err;
    size_t err_len;
} cursor;

static int fail(cursor *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(cursor *c, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->err_len, "%s: %s", c->file, msg);
    return -1;
}

// Are n more bytes there? The message names the field being read.
static int need(cursor *c, uint64_t n, const char *field)
{
    if (n > c->size - c->off)
        return fail(c, "%s: truncated: expected %" PRIu64 " bytes at offset %zu, got %zu", field, n,
                    c->off, c->size - c->off);
    return 0;
}

static int rd_u32(cursor *c, uint32_t *v, const char *field)
{
    if (need(c, 4, field)) return -1;
    memcpy(v, c->p + c->off, 4); // GGUF is little-endian, as is every host tritbench targets
    c->off += 4;
    return 0;
}

static int rd_u64(cursor *c, uint64_t *v, const char *field)
{
    if (need(c, 8, field)) return -1;
    memcpy(v, c->p + c->off, 8);
    c->off += 8;
    return 0;
}

// A string: u64 length then the bytes. Returns a pointer into the buffer.
static int rd_str(cursor *c, const char **s, uint64_t *len, uint64_t max, const char *field)
{
    if (rd_u64(c, len, field)) return -1;
    if (*len > max)
        return fail(c, "%s: length expected <= %" PRIu64 ", got %" PRIu64, field, max, *len);
    if (need(c, *len, field)) return -1;
    *s = (const char *)c->p + c->off;
    c->off += (size_t)*len;
    return 0;
}

static uint64_t scalar_size(uint32_t type)
{
    switch (type) {
    case TB_GGUF_U8:
    case TB_GGUF_I8:
    case TB_GGUF_BOOL:
        return 1;
    case TB_GGUF_U16:
    case TB_GGUF_I16:
        return 2;
    case TB_GGUF_U32:
    case TB_GGUF_I32:
    case TB_GGUF_F32:
        return 4;
    case TB_GGUF_U64:
    case TB_GGUF_I64:
    case TB_GGUF_F64:
        return 8;
    default:
        return 0;
    }
}

// Skips one value of the given type (arrays: all elements), checking every byte is there.
static int skip_value(cursor *c, uint32_t type, int depth, const char *field, uint32_t *arr_type,
                      uint64_t *arr_n)
{
    uint64_t sz = scalar_size(type);
    if (sz) {
        if (need(c, sz, field)) return -1;
        c->off += (size_t)sz;
        return 0;
    }
    if (type == TB_GGUF_STRING) {
        const char *s;
        uint64_t len;
        return rd_str(c, &s, &len, UINT64_MAX, field);
    }
    if (type != TB_GGUF_ARRAY) return fail(c, "%s: value type expected 0..12, got %u", field, type);
    if (depth > 0) return fail(c, "%s: nested arrays are not supported", field);
    uint32_t et;
    uint64_t n;
    if (rd_u32(c, &et, field) || rd_u64(c, &n, field)) return -1;
    if (arr_type) *arr_type = et, *arr_n = n;
    uint64_t esz = scalar_size(et);
    if (esz) {
        if (n > (c->size - c->off) / esz)
            return fail(c,
                        "%s: array of %" PRIu64 " elements of %" PRIu64
                        " bytes: truncated (%zu bytes left)",
                        field, n, esz, c->size - c->off);
        c->off += (size_t)(n * esz);
        return 0;
    }
    if (et != TB_GGUF_STRING)
        return fail(c, "%s: array element type expected 0..8 or 10..12, got %u", field, et);
    // Each string takes at least its 8-byte length: this caps n before the loop runs.
    if (n > (c->size - c->off) / 8)
        return fail(c, "%s: array of %" PRIu64 " strings: truncated (%zu bytes left)", field, n,
                    c->size - c->off);
    for (uint64_t i = 0; i < n; i++)
        if (skip_value(c, TB_GGUF_STRING, depth + 1, field, NULL, NULL)) return -1;
    return 0;
}

void tb_gguf_close(tb_gguf *g)
{
    if (g->mapped && g->base) munmap((void *)g->base, g->size);
    free(g->kv);
    free(g->t);
    memset(g, 0, sizeof *g);
}

static int parse(const uint8_t *buf, size_t size, const char *name, tb_gguf *g, char *err,
                 size_t err_len);

#define MIN_KV_BYTES          (8 + 4 + 1)
#define MIN_TENSOR_INFO_BYTES (8 + 4 + 8 + 4 + 8)

int tb_gguf_parse(const uint8_t *buf, size_t size, const char *name, tb_gguf *g, char *err,
                  size_t err_len)
{
    int rc = parse(buf, size, name, g, err, err_len);
    if (rc) {
        // A refused file leaves nothing allocated; the buffer stays the caller's.
        free(g->kv);
        free(g->t);
        g->kv = NULL;
        g->t = NULL;
    }
    return rc;
}

static int parse(const uint8_t *buf, size_t size, const char *name, tb_gguf *g, char *err,
                 size_t err_len)
{
    memset(g, 0, sizeof *g);
    snprintf(g->path, sizeof g->path, "%s", name);
    g->base = buf;
    g->size = size;
    cursor cur = {buf, size, 0, g->path, err, err_len}, *c = &cur;
    if (need(c, 4, "magic")) return -1;
    if (memcmp(buf, "GGUF", 4) != 0)
        return fail(c, "magic: expected \"GGUF\", got %02x %02x %02x %02x", buf[0], buf[1], buf[2],
                    buf[3]);
    c->off = 4;
    if (rd_u32(c, &g->version, "version")) return -1;
    if (g->version != 3) return fail(c, "version: expected 3, got %u", g->version);
    if (rd_u64(c, &g->n_tensors, "tensor count") || rd_u64(c, &g->n_kv, "metadata count"))
        return -1;
    if (g->n_tensors > TB_GGUF_MAX_TENSORS)
        return fail(c, "tensor count: expected <= %d, got %" PRIu64, TB_GGUF_MAX_TENSORS,
                    g->n_tensors);
    if (g->n_kv > TB_GGUF_MAX_KV)
        return fail(c, "metadata count: expected <= %d, got %" PRIu64, TB_GGUF_MAX_KV, g->n_kv);
    // Every entry takes a minimum of bytes (a metadata pair: key length, type and a 1-byte value;
    // a tensor info: name length, n_dims, one dimension, type, offset), so the counts are
    // checked against the bytes the file has left before they size an allocation.
    uint64_t left = size - c->off;
    if (g->n_kv > left / MIN_KV_BYTES)
        return fail(c,
                    "metadata count: %" PRIu64 " pairs need at least %" PRIu64
                    " bytes, the file has %" PRIu64 " left",
                    g->n_kv, g->n_kv * MIN_KV_BYTES, left);
    if (g->n_tensors > left / MIN_TENSOR_INFO_BYTES)
        return fail(c,
                    "tensor count: %" PRIu64 " tensor infos need at least %" PRIu64
                    " bytes, the file has %" PRIu64 " left",
                    g->n_tensors, g->n_tensors * MIN_TENSOR_INFO_BYTES, left);
    g->kv = calloc(g->n_kv ? g->n_kv : 1, sizeof *g->kv);
    g->t = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *g->t);
    if (!g->kv || !g->t) return fail(c, "out of memory for the header");

    // Metadata: keep where each value is; check it is all there.
    g->alignment = 32;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        tb_gguf_kv *kv = &g->kv[i];
        char field[96];
        snprintf(field, sizeof field, "metadata %" PRIu64 " key", i);
        uint64_t klen;
        if (rd_str(c, &kv->key, &klen, 65535, field)) return -1;
        kv->key_len = (size_t)klen;
        snprintf(field, sizeof field, "metadata '%.*s'", (int)(klen < 60 ? klen : 60), kv->key);
        if (rd_u32(c, &kv->type, field)) return -1;
        kv->val = c->p + c->off;
        if (skip_value(c, kv->type, 0, field, &kv->arr_type, &kv->arr_n)) return -1;
    }
    int64_t align;
    int r = tb_gguf_get_int(g, "general.alignment", &align, err, err_len);
    if (r < 0) return -1;
    if (r > 0) {
        if (align < 1 || align > 65536 || (align & (align - 1)))
            return fail(c, "general.alignment: expected a power of two <= 65536, got %" PRId64,
                        align);
        g->alignment = (uint64_t)align;
    }

    // Tensor infos.
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        tb_gguf_tensor *t = &g->t[i];
        char field[200];
        snprintf(field, sizeof field, "tensor %" PRIu64 " name", i);
        const char *nm;
        uint64_t nlen;
        if (rd_str(c, &nm, &nlen, TB_GGUF_MAX_NAME, field)) return -1;
        memcpy(t->name, nm, (size_t)nlen);
        t->name[nlen] = '\0';
        if (strlen(t->name) != nlen) return fail(c, "%s: contains a NUL byte", field);
        snprintf(field, sizeof field, "tensor '%s'", t->name);
        if (rd_u32(c, &t->n_dims, field)) return -1;
        if (t->n_dims < 1 || t->n_dims > TB_GGUF_MAX_DIMS)
            return fail(c, "%s n_dims: expected 1..%d, got %u", field, TB_GGUF_MAX_DIMS, t->n_dims);
        for (int d = 0; d < TB_GGUF_MAX_DIMS; d++) t->ne[d] = 1;
        for (uint32_t d = 0; d < t->n_dims; d++)
            if (rd_u64(c, &t->ne[d], field)) return -1;
        if (rd_u32(c, &t->type, field) || rd_u64(c, &t->offset, field)) return -1;
        char why[200];
        if (tb_ggml_tensor_bytes(t->type, t->ne, t->n_dims, &t->bytes, why, sizeof why))
            return fail(c, "%s: %s", field, why);
        if (t->offset % g->alignment)
            return fail(c, "%s offset: expected a multiple of %" PRIu64 ", got %" PRIu64, field,
                        g->alignment, t->offset);
        for (uint64_t j = 0; j < i; j++)
            if (strcmp(g->t[j].name, t->name) == 0) return fail(c, "%s: duplicate name", field);
    }
    // The data section starts at the next multiple of the alignment.
    uint64_t data_off = ((uint64_t)c->off + g->alignment - 1) / g->alignment * g->alignment;
    if (g->n_tensors && data_off > size)
        return fail(c, "data section: expected to start at %" PRIu64 ", file has %zu bytes",
                    data_off, size);
    g->data_off = data_off;
    uint64_t data_size = size > data_off ? size - data_off : 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        tb_gguf_tensor *t = &g->t[i];
        if (t->offset > data_size || t->bytes > data_size - t->offset)
            return fail(c,
                        "tensor '%s' data: expected %" PRIu64 " bytes at data offset %" PRIu64
                        ", data section has %" PRIu64,
                        t->name, t->bytes, t->offset, data_size);
        t->data = buf + data_off + t->offset;
    }
    return 0;
}

int tb_gguf_open(const char *path, tb_gguf *g, char *err, size_t err_len)
{
    memset(g, 0, sizeof *g);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "%s: not a regular file", path);
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    const uint8_t *base = NULL;
    if (size) {
        void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            snprintf(err, err_len, "%s: cannot map: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        base = p;
    }
    close(fd); // the mapping keeps the file
    static const uint8_t empty[1];
    int rc = tb_gguf_parse(base ? base : empty, size, path, g, err, err_len);
    g->base = base;
    g->mapped = base != NULL;
    g->size = size;
    if (rc) tb_gguf_close(g);
    return rc;
}

const tb_gguf_kv *tb_gguf_find_kv(const tb_gguf *g, const char *key)
{
    size_t len = strlen(key);
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (g->kv[i].key_len == len && memcmp(g->kv[i].key, key, len) == 0) return &g->kv[i];
    return NULL;
}

int tb_gguf_get_int(const tb_gguf *g, const char *key, int64_t *out, char *err, size_t err_len)
{
    const tb_gguf_kv *kv = tb_gguf_find_kv(g, key);
    if (!kv) return 0;
    const uint8_t *v = kv->val;
    switch (kv->type) {
    case TB_GGUF_U8:
        *out = v[0];
        return 1;
    case TB_GGUF_I8:
        *out = (int8_t)v[0];
        return 1;
    case TB_GGUF_U16: {
        uint16_t x;
        memcpy(&x, v, 2);
        *out = x;
        return 1;
    }
    case TB_GGUF_I16: {
        int16_t x;
        memcpy(&x, v, 2);
        *out = x;
        return 1;
    }
    case TB_GGUF_U32: {
        uint32_t x;
        memcpy(&x, v, 4);
        *out = x;
        return 1;
    }
    case TB_GGUF_I32: {
        int32_t x;
        memcpy(&x, v, 4);
        *out = x;
        return 1;
    }
    case TB_GGUF_I64: {
        int64_t x;
        memcpy(&x, v, 8);
        *out = x;
        return 1;
    }
    case TB_GGUF_U64: {
        uint64_t x;
        memcpy(&x, v, 8);
        *out = x > INT64_MAX ? INT64_MAX : (int64_t)x;
        return 1;
    }
    default:
        snprintf(err, err_len, "%s: %s: expected an integer type, got type %u", g->path, key,
                 kv->type);
        return -1;
    }
}

int tb_gguf_get_float(const tb_gguf *g, const char *key, double *out, char *err, size_t err_len)
{
    const tb_gguf_kv *kv = tb_gguf_find_kv(g, key);
    if (!kv) return 0;
    if (kv->type == TB_GGUF_F32) {
        float x;
        memcpy(&x, kv->val, 4);
        *out = x;
        return 1;
    }
    if (kv->type == TB_GGUF_F64) {
        memcpy(out, kv->val, 8);
        return 1;
    }
    int64_t i;
    int r = tb_gguf_get_int(g, key, &i, err, err_len);
    if (r > 0) *out = (double)i;
    if (r < 0)
        snprintf(err, err_len, "%s: %s: expected a number, got type %u", g->path, key, kv->type);
    return r;
}

int tb_gguf_get_str(const tb_gguf *g, const char *key, char *out, size_t out_len, char *err,
                    size_t err_len)
{
    const tb_gguf_kv *kv = tb_gguf_find_kv(g, key);
    if (!kv) return 0;
    if (kv->type != TB_GGUF_STRING) {
        snprintf(err, err_len, "%s: %s: expected a string, got type %u", g->path, key, kv->type);
        return -1;
    }
    uint64_t len;
    memcpy(&len, kv->val, 8); // checked to be within the file by the parser
    size_t n = len < out_len - 1 ? (size_t)len : out_len - 1;
    memcpy(out, kv->val + 8, n);
    out[n] = '\0';
    return 1;
}

const char *tb_gguf_value_type_name(uint32_t type)
{
    static const char *const names[] = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                        "bool", "string", "array", "u64", "i64", "f64"};
    static char other[32];
    if (type < sizeof names / sizeof names[0]) return names[type];
    snprintf(other, sizeof other, "type %u", type);
    return other;
}

int tb_gguf_get_bool(const tb_gguf *g, const char *key, int *out, char *err, size_t err_len)
{
    const tb_gguf_kv *kv = tb_gguf_find_kv(g, key);
    if (!kv) return 0;
    if (kv->type != TB_GGUF_BOOL) {
        snprintf(err, err_len, "%s: %s: expected a bool, got %s", g->path, key,
                 tb_gguf_value_type_name(kv->type));
        return -1;
    }
    *out = kv->val[0] != 0;
    return 1;
}

// The array under key if its elements are of elem_type: 1 (data: the first element), 0 absent,
// -1 anything else.
static int find_array(const tb_gguf *g, const char *key, uint32_t elem_type, const uint8_t **data,
                      uint64_t *n, char *err, size_t err_len)
{
    const tb_gguf_kv *kv = tb_gguf_find_kv(g, key);
    if (!kv) return 0;
    if (kv->type != TB_GGUF_ARRAY) {
        snprintf(err, err_len, "%s: %s: expected an array of %s, got a %s", g->path, key,
                 tb_gguf_value_type_name(elem_type), tb_gguf_value_type_name(kv->type));
        return -1;
    }
    if (kv->arr_type != elem_type) {
        snprintf(err, err_len, "%s: %s: expected an array of %s, got an array of %s", g->path, key,
                 tb_gguf_value_type_name(elem_type), tb_gguf_value_type_name(kv->arr_type));
        return -1;
    }
    *data = kv->val + 4 + 8; // after the element type and the count
    *n = kv->arr_n;
    return 1;
}

int tb_gguf_get_arr_str(const tb_gguf *g, const char *key, tb_gguf_str **out, uint64_t *n,
                        char *err, size_t err_len)
{
    const uint8_t *p;
    int r = find_array(g, key, TB_GGUF_STRING, &p, n, err, err_len);
    if (r <= 0) return r;
    // The parser checked every length and byte of the array against the file.
    *out = malloc((size_t)(*n ? *n : 1) * sizeof **out);
    if (!*out) abort();
    for (uint64_t i = 0; i < *n; i++) {
        uint64_t len;
        memcpy(&len, p, 8);
        (*out)[i].s = (const char *)p + 8;
        (*out)[i].len = (size_t)len;
        p += 8 + len;
    }
    return 1;
}

// Arrays of 4-byte scalars are copied: in the file they need not be aligned.
static void *copy4(const uint8_t *p, uint64_t n)
{
    void *out = malloc((size_t)(n ? n : 1) * 4);
    if (!out) abort();
    memcpy(out, p, (size_t)n * 4);
    return out;
}

int tb_gguf_get_arr_i32(const tb_gguf *g, const char *key, int32_t **out, uint64_t *n, char *err,
                        size_t err_len)
{
    const uint8_t *p;
    int r = find_array(g, key, TB_GGUF_I32, &p, n, err, err_len);
    if (r > 0) *out = copy4(p, *n);
    return r;
}

int tb_gguf_get_arr_f32(const tb_gguf *g, const char *key, float **out, uint64_t *n, char *err,
                        size_t err_len)
{
    const uint8_t *p;
    int r = find_array(g, key, TB_GGUF_F32, &p, n, err, err_len);
    if (r > 0) *out = copy4(p, *n);
    return r;
}

const tb_gguf_tensor *tb_gguf_find_tensor(const tb_gguf *g, const char *name)
{
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (strcmp(g->t[i].name, name) == 0) return &g->t[i];
    return NULL;
}

// ---------------------------------------------------------------------------------------------
// Writer

typedef struct {
    char name[TB_GGUF_MAX_NAME + 1];
    uint32_t type, n_dims;
    uint64_t ne[TB_GGUF_MAX_DIMS];
    uint64_t bytes, offset;
    tb_gguf_producer produce;
    void *ctx;
    int index;
} wtensor;

struct tb_gguf_writer {
    uint8_t *kv; // serialized metadata pairs
    size_t kv_len, kv_cap;
    uint64_t n_kv;
    wtensor *t;
    int n_t, cap_t;
    int bad; // a tensor had an impossible shape: reported at write time
    char bad_msg[400];
};

static void put(tb_gguf_writer *w, const void *p, size_t n)
{
    if (w->kv_len + n > w->kv_cap) {
        w->kv_cap = (w->kv_len + n) * 2 + 256;
        w->kv = realloc(w->kv, w->kv_cap);
        if (!w->kv) abort();
    }
    memcpy(w->kv + w->kv_len, p, n);
    w->kv_len += n;
}

static void put_str(tb_gguf_writer *w, const char *s)
{
    uint64_t n = strlen(s);
    put(w, &n, 8);
    put(w, s, (size_t)n);
}

static void put_key(tb_gguf_writer *w, const char *key, uint32_t type)
{
    put_str(w, key);
    put(w, &type, 4);
    w->n_kv++;
}

tb_gguf_writer *tb_gguf_writer_new(void)
{
    tb_gguf_writer *w = calloc(1, sizeof *w);
    if (!w) abort();
    tb_gguf_add_u32(w, "general.alignment", 32);
    return w;
}

void tb_gguf_writer_free(tb_gguf_writer *w)
{
    if (!w) return;
    free(w->kv);
    free(w->t);
    free(w);
}

void tb_gguf_add_u32(tb_gguf_writer *w, const char *key, uint32_t v)
{
    put_key(w, key, TB_GGUF_U32);
    put(w, &v, 4);
}

void tb_gguf_add_f32(tb_gguf_writer *w, const char *key, float v)
{
    put_key(w, key, TB_GGUF_F32);
    put(w, &v, 4);
}

void tb_gguf_add_str(tb_gguf_writer *w, const char *key, const char *v)
{
    put_key(w, key, TB_GGUF_STRING);
    put_str(w, v);
}

void tb_gguf_add_bool(tb_gguf_writer *w, const char *key, int v)
{
    uint8_t b = v != 0;
    put_key(w, key, TB_GGUF_BOOL);
    put(w, &b, 1);
}

// Arrays: type ARRAY, then the element type, the count, the elements (strings as u64 length +
// bytes, like any string value).
static void put_arr_head(tb_gguf_writer *w, const char *key, uint32_t elem_type, uint64_t n)
{
    put_key(w, key, TB_GGUF_ARRAY);
    put(w, &elem_type, 4);
    put(w, &n, 8);
}

void tb_gguf_add_arr_str(tb_gguf_writer *w, const char *key, const char *const *v, size_t n)
{
    put_arr_head(w, key, TB_GGUF_STRING, n);
    for (size_t i = 0; i < n; i++) put_str(w, v[i]);
}

void tb_gguf_add_arr_f32(tb_gguf_writer *w, const char *key, const float *v, size_t n)
{
    put_arr_head(w, key, TB_GGUF_F32, n);
    put(w, v, n * sizeof *v);
}

void tb_gguf_add_arr_i32(tb_gguf_writer *w, const char *key, const int32_t *v, size_t n)
{
    put_arr_head(w, key, TB_GGUF_I32, n);
    put(w, v, n * sizeof *v);
}

int tb_gguf_copy_kv(tb_gguf_writer *w, const tb_gguf *from, const tb_gguf_kv *kv, char *err,
                    size_t err_len)
{
    // The value's extent: the parser checked it once; walking it again gives its length.
    cursor c = {from->base, from->size, (size_t)(kv->val - from->base), from->path, err, err_len};
    size_t start = c.off;
    if (skip_value(&c, kv->type, 0, "value", NULL, NULL)) return -1;
    uint64_t key_len = kv->key_len;
    put(w, &key_len, 8);
    put(w, kv->key, kv->key_len);
    put(w, &kv->type, 4);
    put(w, kv->val, c.off - start);
    w->n_kv++;
    return 0;
}

void tb_gguf_add_tensor(tb_gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                        const uint64_t *ne, tb_gguf_producer produce, void *ctx, int index)
{
    if (w->n_t == w->cap_t) {
        w->cap_t = w->cap_t * 2 + 16;
        w->t = realloc(w->t, (size_t)w->cap_t * sizeof *w->t);
        if (!w->t) abort();
    }
    wtensor *t = &w->t[w->n_t++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->type = type;
    t->n_dims = n_dims;
    for (int d = 0; d < TB_GGUF_MAX_DIMS; d++) t->ne[d] = d < (int)n_dims ? ne[d] : 1;
    t->produce = produce;
    t->ctx = ctx;
    t->index = index;
    char why[200];
    if (!w->bad && tb_ggml_tensor_bytes(type, t->ne, n_dims, &t->bytes, why, sizeof why)) {
        w->bad = 1;
        snprintf(w->bad_msg, sizeof w->bad_msg, "tensor '%s': %s", name, why);
    }
}

static int copy_producer(void *ctx, int index, uint8_t *out, size_t bytes, char *err,
                         size_t err_len)
{
    (void)index, (void)err, (void)err_len;
    memcpy(out, ctx, bytes);
    return 0;
}

void tb_gguf_add_tensor_data(tb_gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                             const uint64_t *ne, const void *data)
{
    tb_gguf_add_tensor(w, name, type, n_dims, ne, copy_producer, (void *)data, 0);
}

static int put_file(FILE *f, const void *p, size_t n)
{
    return fwrite(p, 1, n, f) == n ? 0 : -1;
}

static int pad_to(FILE *f, uint64_t *pos, uint64_t align)
{
    static const uint8_t zeros[64];
    uint64_t pad = (align - *pos % align) % align;
    *pos += pad;
    return put_file(f, zeros, (size_t)pad);
}

int tb_gguf_write_stream(tb_gguf_writer *w, FILE *f, char *err, size_t err_len)
{
    if (w->bad) {
        snprintf(err, err_len, "%s", w->bad_msg);
        return -1;
    }
    const uint64_t align = 32;
    uint32_t version = 3;
    uint64_t nt = (uint64_t)w->n_t, pos = 0, off = 0;
    int bad = put_file(f, "GGUF", 4) || put_file(f, &version, 4) || put_file(f, &nt, 8) ||
              put_file(f, &w->n_kv, 8) || put_file(f, w->kv, w->kv_len);
    pos = 24 + w->kv_len;
    for (int i = 0; i < w->n_t && !bad; i++) {
        wtensor *t = &w->t[i];
        uint64_t nlen = strlen(t->name);
        t->offset = off;
        off += (t->bytes + align - 1) / align * align;
        bad = put_file(f, &nlen, 8) || put_file(f, t->name, (size_t)nlen) ||
              put_file(f, &t->n_dims, 4) || put_file(f, t->ne, 8 * (size_t)t->n_dims) ||
              put_file(f, &t->type, 4) || put_file(f, &t->offset, 8);
        pos += 8 + nlen + 4 + 8 * t->n_dims + 4 + 8;
    }
    if (!bad) bad = pad_to(f, &pos, align);
    for (int i = 0; i < w->n_t && !bad; i++) {
        wtensor *t = &w->t[i];
        uint8_t *buf = malloc(t->bytes ? (size_t)t->bytes : 1);
        if (!buf) {
            snprintf(err, err_len, "out of memory for tensor '%s' (%" PRIu64 " bytes)", t->name,
                     t->bytes);
            return -1;
        }
        memset(buf, 0, (size_t)t->bytes);
        if (t->produce(t->ctx, t->index, buf, (size_t)t->bytes, err, err_len)) {
            free(buf);
            return -1;
        }
        bad = put_file(f, buf, (size_t)t->bytes);
        free(buf);
        pos += t->bytes;
        if (!bad && i + 1 < w->n_t) bad = pad_to(f, &pos, align);
    }
    if (bad) snprintf(err, err_len, "write failed: %s", strerror(errno));
    return bad ? -1 : 0;
}

int tb_gguf_write_file(tb_gguf_writer *w, const char *path, char *err, size_t err_len)
{
    if (err_len) err[0] = '\0';
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp) abort();
    snprintf(tmp, len + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, err_len, "%s: cannot create a temporary file beside it: %s", path,
                 strerror(errno));
        free(tmp);
        return -1;
    }
    fchmod(fd, 0644); // mkstemp creates 0600; a model file is meant to be shared, as results are
    FILE *f = fdopen(fd, "wb");
    int rc = f ? tb_gguf_write_stream(w, f, err, err_len) : -1;
    if (!f) close(fd);
    if (f && fflush(f) != 0) rc = -1;
    if (f && rc == 0 && fsync(fileno(f)) != 0) rc = -1;
    if (f && fclose(f) != 0) rc = -1;
    if (rc == 0 && rename(tmp, path) != 0) {
        snprintf(err, err_len, "%s: cannot rename the temporary file: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc) {
        if (!err[0]) snprintf(err, err_len, "%s: write failed: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}
