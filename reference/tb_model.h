// A BitNet b1.58 model in its canonical form: the shapes (tb_config) and the weights as every
// part of tritbench understands them: ternary int8 {-1, 0, +1} with one float scale per tensor
// for the seven BitLinear projections of each layer, float for everything else. The engine
// packs the ternary tensors into a kernel's format; the float reference model (below) runs
// them as they are. Lives in reference/ because the reference is the lowest layer.
#ifndef TB_MODEL_H
#define TB_MODEL_H

#include <stddef.h>
#include <stdint.h>

// The FFN's gating activation, FFN(m) = Wdown(ffn_sub_norm(act(Wgate m) * (Wup m))):
//   TB_FFN_RELU2  act(g) = relu(g)^2      BitNet b1.58 2B4T (HF "hidden_act": "relu2"), the
//                                         architectures bitnet-b1.58 and bitnet-25
//   TB_FFN_SILU   act(g) = g * sigmoid(g) the older BitNet b1.58 family (bitnet_b1_58-large,
//                                         -3B: llama.cpp's architecture bitnet)
// relu2 is 0: every configuration tritbench synthesizes computes 2B4T's block.
typedef enum { TB_FFN_RELU2 = 0, TB_FFN_SILU = 1, TB_FFN_COUNT } tb_ffn_act;
extern const char *const tb_ffn_names[TB_FFN_COUNT]; // "relu2", "silu"
#define TB_FFN_CHOICES "relu2,silu"                  // tb_ffn_names in order: option tables' --ffn
// TB_FFN_* of a name in tb_ffn_names, -1 if unknown.
int tb_ffn_parse(const char *name);

// Where a model's FFN activation came from, by priority: --ffn (override), the file's
// <arch>.hidden_activation, the file's architecture; configurations are their own source.
typedef enum {
    TB_FFN_FROM_CONFIG = 0,
    TB_FFN_FROM_KEY,
    TB_FFN_FROM_ARCH,
    TB_FFN_FROM_OVERRIDE,
    TB_FFN_SOURCE_COUNT
} tb_ffn_source;
// "configuration", "hidden_activation", "architecture", "override" (result documents).
extern const char *const tb_ffn_source_names[TB_FFN_SOURCE_COUNT];

typedef struct {
    char name[32];    // "2B4T", "7B", "tiny", or the file's architecture
    int dim;          // hidden size (GGUF embedding_length)
    int hidden_dim;   // FFN intermediate size (feed_forward_length)
    int n_layers;     // transformer blocks
    int n_heads;      // query heads
    int n_kv_heads;   // key/value heads (grouped-query attention: n_heads % n_kv_heads == 0)
    int vocab_size;   // rows of the embedding
    int seq_len;      // context length: the most positions a KV cache may hold
    float rope_theta; // RoPE base frequency
    float norm_eps;   // RMSNorm epsilon
    tb_ffn_act ffn;   // the FFN's gating activation
    tb_ffn_source ffn_source;
} tb_config;
// Derived: head_size = dim / n_heads, kv_dim = n_kv_heads * head_size.

// The seven BitLinear projections of a layer, in GGUF tensor-name order.
enum { TB_WQ, TB_WK, TB_WV, TB_WO, TB_WGATE, TB_WUP, TB_WDOWN, TB_N_LINEAR };

// One ternary matrix: n output rows of k inputs, y = scale * (w . x).
typedef struct {
    int n, k;
    float scale;
    int8_t *w; // (n, k) row-major, or NULL while not materialized (see tb_model.load_ternary)
} tb_ternary;

typedef struct tb_model {
    tb_config cfg;
    float *embedding;     // (vocab_size, dim) token embedding; also the output head when tied
    float *output;        // (vocab_size, dim) untied output head, or NULL: tied to embedding
    float *attn_norm;     // (n_layers, dim)
    float *attn_sub_norm; // (n_layers, dim)     before Wo
    float *ffn_norm;      // (n_layers, dim)
    float *ffn_sub_norm;  // (n_layers, hidden_dim) before Wdown
    float *final_norm;    // (dim)
    tb_ternary *lin;      // (n_layers, TB_N_LINEAR)
    char arch[32];        // a file's general.architecture; "" for a configuration
    // Ternary weights are produced on demand, so that a big model is never held twice (once
    // canonical, once packed): load_ternary writes tensor (layer, which) as n*k int8 into w
    // and its scale into *scale; returns 0, or -1 with a one-line message in err.
    int (*load_ternary)(void *src, int layer, int which, int8_t *w, float *scale, char *err,
                        size_t err_len);
    void *src;
    void (*free_src)(void *src);
} tb_model;

// Output rows n and inputs k of projection `which`.
void tb_linear_shape(const tb_config *c, int which, int *n, int *k);
// Short names ("attn_q", "ffn_down"...) as in GGUF tensor names.
extern const char *const tb_linear_names[TB_N_LINEAR];
// 0 if the shapes are usable (all positive, heads divide dim, KV heads divide heads, even head
// size for RoPE); else -1 and a message naming the field.
int tb_config_check(const tb_config *c, char *err, size_t err_len);

// ---- the float reference model (model_ref.c) ----
//
// The same transformer in plain float loops with double accumulation, one token at a time.
// Two modes:
//   TB_REF_QUANT  quantization-consistent: ternary weights and int8 absmax fake-quantized
//                 activations at the input of every BitLinear (tb_ref_quantize_row), float math.
//                 The integer engine computes the same function, so it must match closely.
//   TB_REF_FLOAT  plain float: dequantized weights, unquantized activations. The distance to
//                 it is the accuracy cost of int8 activations.
// Needs every lin[].w materialized.
typedef enum { TB_REF_QUANT = 0, TB_REF_FLOAT = 1 } tb_ref_mode;
typedef struct tb_ref_state tb_ref_state;

tb_ref_state *tb_ref_model_create(const tb_model *m, tb_ref_mode mode, int max_seq);
void tb_ref_model_destroy(tb_ref_state *s);
// Token at position pos (positions 0, 1, 2... in order); writes vocab_size logits.
void tb_ref_model_forward(tb_ref_state *s, int token, int pos, float *logits);

#endif
