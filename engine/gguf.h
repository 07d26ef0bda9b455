// GGUF v3 container: a memory-mapped reader that checks every count, offset, size, type and
// dimension against the file before using it, and a streaming writer.
//
// File layout (little-endian):
//   "GGUF" u32 version(3) u64 n_tensors u64 n_kv
//   n_kv x   { string key; u32 type; value }         string = u64 length + bytes (no NUL)
//   n_tensors x { string name; u32 n_dims; u64 ne[n_dims]; u32 ggml_type; u64 offset }
//   padding to general.alignment (default 32), then the data section; tensor offsets are
//   relative to its start and multiples of the alignment. ne[0] is the innermost dimension
//   (a weight matrix of n rows and k columns has ne = {k, n}).
#ifndef TB_GGUF_H
#define TB_GGUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

// Metadata value types.
enum {
    TB_GGUF_U8 = 0,
    TB_GGUF_I8 = 1,
    TB_GGUF_U16 = 2,
    TB_GGUF_I16 = 3,
    TB_GGUF_U32 = 4,
    TB_GGUF_I32 = 5,
    TB_GGUF_F32 = 6,
    TB_GGUF_BOOL = 7,
    TB_GGUF_STRING = 8,
    TB_GGUF_ARRAY = 9,
    TB_GGUF_U64 = 10,
    TB_GGUF_I64 = 11,
    TB_GGUF_F64 = 12,
};

// Tensor types tritbench knows (ggml type ids, ggml/include/ggml.h; I2_S is bitnet.cpp's). The
// parser sizes all of them, so that a file is read whatever its other tensors hold; the loader
// decodes F32, F16, BF16, Q4_0, Q8_0, Q4_K and Q6_K (embedding, output head: gguf_quant.h) and
// the ternary types, and names the type it refuses.
enum {
    TB_GGML_F32 = 0,
    TB_GGML_F16 = 1,
    TB_GGML_Q4_0 = 2,
    TB_GGML_Q4_1 = 3,
    TB_GGML_Q5_0 = 6,
    TB_GGML_Q5_1 = 7,
    TB_GGML_Q8_0 = 8,
    TB_GGML_Q2_K = 10,
    TB_GGML_Q3_K = 11,
    TB_GGML_Q4_K = 12,
    TB_GGML_Q5_K = 13,
    TB_GGML_Q6_K = 14,
    TB_GGML_BF16 = 30,
    TB_GGML_TQ1_0 = 34,
    TB_GGML_TQ2_0 = 35,
    TB_GGML_I2_S = 36,
};

#define TB_GGUF_MAX_DIMS    4
#define TB_GGUF_MAX_TENSORS 65536 // far above any BitNet model (2B4T: 332)
#define TB_GGUF_MAX_KV      65536
#define TB_GGUF_MAX_NAME    127 // ggml uses 64
#define TB_GGUF_MAX_DIM     (1ull << 32)
#define TB_GGUF_MAX_ELEMS   (1ull << 40)

typedef struct {
    const char *key; // points into the mapping, not NUL-terminated
    size_t key_len;
    uint32_t type;
    const uint8_t *val; // the value's bytes (for strings: the u64 length comes first)
    uint32_t arr_type;  // arrays: element type and count
    uint64_t arr_n;
} tb_gguf_kv;

typedef struct {
    char name[TB_GGUF_MAX_NAME + 1];
    uint32_t n_dims;
    uint64_t ne[TB_GGUF_MAX_DIMS]; // unused dims are 1
    uint32_t type;
    uint64_t offset;     // from the start of the data section
    uint64_t bytes;      // size of the data, from type and dims
    const uint8_t *data; // inside the mapping, checked to lie within the file
} tb_gguf_tensor;

typedef struct {
    char path[256];
    const uint8_t *base; // whole file
    size_t size;
    int mapped; // 1: base is an mmap to unmap on close
    uint32_t version;
    uint64_t n_tensors, n_kv;
    tb_gguf_kv *kv;
    tb_gguf_tensor *t;
    uint64_t alignment;
    uint64_t data_off;
} tb_gguf;

// Maps and parses a file. 0, or -1 with "FILE: field: expected ..., got ..." in err.
int tb_gguf_open(const char *path, tb_gguf *g, char *err, size_t err_len);
// Parses a buffer that stays alive as long as g (tests). name labels the messages.
int tb_gguf_parse(const uint8_t *buf, size_t size, const char *name, tb_gguf *g, char *err,
                  size_t err_len);
void tb_gguf_close(tb_gguf *g);

const tb_gguf_kv *tb_gguf_find_kv(const tb_gguf *g, const char *key);
// Typed getters: 1 found and converted, 0 absent, -1 present with a wrong type (err says so).
int tb_gguf_get_int(const tb_gguf *g, const char *key, int64_t *out, char *err, size_t err_len);
int tb_gguf_get_float(const tb_gguf *g, const char *key, double *out, char *err, size_t err_len);
int tb_gguf_get_str(const tb_gguf *g, const char *key, char *out, size_t out_len, char *err,
                    size_t err_len);
const tb_gguf_tensor *tb_gguf_find_tensor(const tb_gguf *g, const char *name);
int tb_gguf_get_bool(const tb_gguf *g, const char *key, int *out, char *err, size_t err_len);
// A string inside the file (not NUL-terminated).
typedef struct {
    const char *s;
    size_t len;
} tb_gguf_str;
// Arrays: 1 found, its n elements copied to a new *out (the caller frees it; strings point into
// the file), 0 absent, -1 present but not an array of that element type: err says
// "FILE: KEY: expected an array of i32, got an array of f32".
int tb_gguf_get_arr_str(const tb_gguf *g, const char *key, tb_gguf_str **out, uint64_t *n,
                        char *err, size_t err_len);
int tb_gguf_get_arr_i32(const tb_gguf *g, const char *key, int32_t **out, uint64_t *n, char *err,
                        size_t err_len);
int tb_gguf_get_arr_f32(const tb_gguf *g, const char *key, float **out, uint64_t *n, char *err,
                        size_t err_len);
// "u32", "string", "array"...; "type N" for an unknown one (in a static buffer: for messages).
const char *tb_gguf_value_type_name(uint32_t type);

// Type traits: name (NULL if unknown), and bytes of a tensor of this type and shape; -1 with a
// message if the type is unknown or the shape does not fit its blocks (block types need ne[0],
// the row length, a multiple of the block: the message names type and shape).
const char *tb_ggml_type_name(uint32_t type);
int tb_ggml_tensor_bytes(uint32_t type, const uint64_t *ne, uint32_t n_dims, uint64_t *bytes,
                         char *err, size_t err_len);

// ---- writer ----
typedef struct tb_gguf_writer tb_gguf_writer;
// Produces a tensor's bytes at write time, so a model bigger than memory twice over can still
// be written one tensor at a time. Returns 0, or -1 with a message.
typedef int (*tb_gguf_producer)(void *ctx, int index, uint8_t *out, size_t bytes, char *err,
                                size_t err_len);

tb_gguf_writer *tb_gguf_writer_new(void);
void tb_gguf_writer_free(tb_gguf_writer *w);
void tb_gguf_add_u32(tb_gguf_writer *w, const char *key, uint32_t v);
void tb_gguf_add_f32(tb_gguf_writer *w, const char *key, float v);
void tb_gguf_add_str(tb_gguf_writer *w, const char *key, const char *v);
void tb_gguf_add_bool(tb_gguf_writer *w, const char *key, int v);
// Arrays of n strings, f32 or i32 (a tokenizer's pieces, scores, token types).
void tb_gguf_add_arr_str(tb_gguf_writer *w, const char *key, const char *const *v, size_t n);
void tb_gguf_add_arr_f32(tb_gguf_writer *w, const char *key, const float *v, size_t n);
void tb_gguf_add_arr_i32(tb_gguf_writer *w, const char *key, const int32_t *v, size_t n);
// Copies key kv of the open file from, its value byte for byte (any type: a tokenizer's arrays
// into a synthetic model). 0, or -1 with a message.
int tb_gguf_copy_kv(tb_gguf_writer *w, const tb_gguf *from, const tb_gguf_kv *kv, char *err,
                    size_t err_len);
// A tensor whose bytes come from produce(ctx, index, ...) at write time.
void tb_gguf_add_tensor(tb_gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                        const uint64_t *ne, tb_gguf_producer produce, void *ctx, int index);
// A tensor whose bytes are at data (must stay valid until the write).
void tb_gguf_add_tensor_data(tb_gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                             const uint64_t *ne, const void *data);
// Writes to a stream, or atomically to a path (temporary file in the same folder, fsync,
// rename). 0, or -1 with a message.
int tb_gguf_write_stream(tb_gguf_writer *w, FILE *f, char *err, size_t err_len);
int tb_gguf_write_file(tb_gguf_writer *w, const char *path, char *err, size_t err_len);

#endif
