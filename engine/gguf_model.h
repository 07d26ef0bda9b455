// BitNet b1.58 models in GGUF files: the ternary tensor codecs (I2_S, TQ2_0, TQ1_0, and float
// tensors holding {-s, 0, +s}), loading a model from a file and writing one.
#ifndef TB_GGUF_MODEL_H
#define TB_GGUF_MODEL_H

#include "gguf.h"
#include "tb_model.h"

// Formats `tritbench model create` writes the ternary tensors in.
typedef enum { TB_FMT_I2_S, TB_FMT_TQ2_0, TB_FMT_TQ1_0, TB_FMT_F32 } tb_file_format;
// "i2_s" -> TB_FMT_I2_S...; -1 if unknown.
int tb_file_format_parse(const char *s);
uint32_t tb_file_format_type(tb_file_format f);

// Encoders from the canonical form (w: n*k int8 in {-1, 0, 1}, count = n*k elements, rows of k).
// Buffers are tb_ggml_tensor_bytes() long. TQ formats need k % 256 == 0 (and store the scale
// as f16 in every block); I2_S needs count % 128 == 0.
void tb_encode_i2_s(const int8_t *w, size_t count, float scale, uint8_t *out);
void tb_encode_tq2_0(const int8_t *w, size_t count, float scale, uint8_t *out);
void tb_encode_tq1_0(const int8_t *w, size_t count, float scale, uint8_t *out);
// Decoders: any of the six ternary tensor types (I2_S, TQ2_0, TQ1_0, F32, F16, BF16) to the
// canonical form. name labels errors. 0, or -1 with a message (I2_S code 0b11, TQ2_0 code 3,
// blocks with different scales, float values that are not {-s, 0, +s}, non-finite scales, a
// type of another kind such as Q8_0).
int tb_decode_ternary(const tb_gguf_tensor *t, int8_t *w, float *scale, char *err, size_t err_len);

// Float tensors to f32: F32, F16, BF16 and the block types of gguf_quant.h (Q4_0, Q8_0, Q4_K,
// Q6_K), each exactly as its format defines the value; out holds every element. 0, or -1 with
// a message naming the tensor (and the block, for a scale that is not finite) or its type.
int tb_decode_floats(const tb_gguf_tensor *t, float *out, char *err, size_t err_len);

// Loads a BitNet model: checks architecture, hyperparameters, every tensor's presence, type and
// shape up front; sets cfg.ffn from <arch>.hidden_activation (relu2, silu and their other
// spellings; another value is refused), else from the architecture (bitnet: silu; bitnet-b1.58,
// bitnet-25: relu2); for architecture bitnet reads the optional scale tensors
// blk.N.<projection>.scale (one f32, finite, >= 0) and folds each into its tensor's scale.
// Floats are decoded now (the embedding and output head may be Q4_0, Q8_0, Q4_K or Q6_K: the
// model holds the decoded values), ternary tensors decoded on demand from the mapping (which
// stays open until tb_model_free). 0, or -1 with a message.
int tb_gguf_load_model(const char *path, tb_model *m, char *err, size_t err_len);
// Writes m to path atomically with ternary tensors in format f, the embedding in F16 if that
// loses nothing, else F32 (an untied output head: F32). 0, or -1 with a message.
int tb_gguf_save_model(const tb_model *m, const char *path, tb_file_format f, char *err,
                       size_t err_len);

// Types `model create --embedding-type` writes the embedding (and an untied output head) in:
// "f32", "f16", "q8_0", "q4_0", "q6_k" -> the ggml type id; -1 if unknown.
int tb_embedding_type_parse(const char *s);
// tb_gguf_save_model with the embedding and output head in ggml type emb_type (one that
// tb_embedding_type_parse returns; -1: the default above). F16 rounds to nearest; the block
// types quantize (gguf_quant.h), so the model the file holds is the decoded one. The row
// length (dim) must be a multiple of the type's block.
int tb_gguf_save_model_typed(const tb_model *m, const char *path, tb_file_format f, int emb_type,
                             char *err, size_t err_len);

// The architecture a file of format f is written as unless asked otherwise: bitnet-b1.58 for
// I2_S (bitnet.cpp's type and name), bitnet for the ggml types (mainline llama.cpp's name).
const char *tb_file_default_arch(tb_file_format f);
// 1 if architecture arch reads the per-tensor scale tensors (bitnet), 0 if it does not, -1 if
// tritbench does not know it (known: bitnet-b1.58, bitnet-25, bitnet).
int tb_arch_reads_scales(const char *arch);

// What a written file says besides the weights (tb_gguf_save_model_typed writes the defaults:
// the architecture by format, hidden_activation = the model's cfg.ffn, no scale tensors).
typedef struct {
    tb_file_format format;
    int emb_type;                  // as tb_gguf_save_model_typed; -1: its default
    const char *arch;              // bitnet-b1.58, bitnet-25 or bitnet; NULL: bitnet-b1.58 for
                                   // I2_S, bitnet (mainline llama.cpp's) for the ggml types
    const char *hidden_activation; // "relu2" or "silu" as <arch>.hidden_activation; NULL: none
    // (n_layers, TB_N_LINEAR) values written as blk.N.<projection>.scale (one f32 each, which
    // multiplies the product's output), or NULL: none. Architecture bitnet only (the others do
    // not read them).
    const float *tensor_scales;
    // A file whose tokenizer the model gets (every tokenizer.* key copied as it is, in place of
    // the placeholder vocabulary), or NULL: a synthetic model that takes text. The model's
    // vocab_size must be its token count.
    const tb_gguf *tokenizer;
} tb_save_options;
// Writes m to path with those options. 0, or -1 with a message (an unknown architecture or
// activation, scale tensors for an architecture that ignores them, the format's constraints).
int tb_gguf_save_model_opts(const tb_model *m, const char *path, const tb_save_options *o,
                            char *err, size_t err_len);

#endif
