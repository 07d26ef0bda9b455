// The BitNet b1.58 transformer on any registered kernel.
//
//   x = embedding[token]
//   per layer:  n = attn_norm(x)
//               q, k, v = BitLinear(n)            (int8 absmax activations, ternary weights)
//               q, k = RoPE(q, k)                 (NEOX pairs (i, i + hs/2))
//               x += BitLinear_o(attn_sub_norm(GQA attention over the KV cache))
//               m = ffn_norm(x)
//               x += BitLinear_down(ffn_sub_norm(act(BitLinear_gate(m)) * BitLinear_up(m)))
//                                                 (act: relu(g)^2, or silu for bitnet files)
//   logits = head(final_norm(x))                  (tied embedding: f32, f16, q8 or q4)
//
// m tokens at once go through the kernels' GEMM path (prefill), one token through GEMV
// (decode), each through its own kernel if asked: a decode kernel for one-token products and a
// prefill kernel for the others, of one packed format (tb_kernel_format), so that the weights
// are packed once and either kernel runs on them. Threads come from a tb_pool: matrix rows are
// split across them, never inside a kernel.
#ifndef TB_TRANSFORMER_H
#define TB_TRANSFORMER_H

#include "tb_kernel.h"
#include "tb_model.h"
#include "tb_pool.h"

#include <stdint.h>

// Where a forward pass spends its time, when profiling is on (tb_transformer.prof).
typedef enum {
    TB_PHASE_NORM,      // RMSNorms, activation quantization and preparation, residual adds
    TB_PHASE_QKV,       // the q, k, v BitLinear products
    TB_PHASE_ATTENTION, // RoPE and attention over the KV cache
    TB_PHASE_O,         // the attention output product
    TB_PHASE_GATE_UP,   // the gate and up products and the gating act(gate) * up
    TB_PHASE_DOWN,      // the down product
    TB_PHASE_HEAD,      // final norm and output head
    TB_PHASE_COUNT
} tb_phase;

extern const char *const tb_phase_names[TB_PHASE_COUNT];

typedef struct {
    double seconds[TB_PHASE_COUNT]; // summed over forward calls
} tb_profile;

// Formats of the output head (`--head`): the vocab x dim float matrix (the tied embedding or the
// untied output) kept in f32 and multiplied by the engine's own float dot, or packed from float
// by the best kernel of a float-weight format (tb_kernel.pack_float): f16 (the FP16 baseline;
// activations stay float), q8 (int8, one scale per row) and q4 (4-bit, one scale per group of 32;
// both with the head input quantized to int8 per token, absmax, as a BitLinear input is).
typedef enum { TB_HEAD_F32, TB_HEAD_F16, TB_HEAD_Q8, TB_HEAD_Q4, TB_HEAD_COUNT } tb_head_format;
extern const char *const tb_head_names[TB_HEAD_COUNT]; // "f32", "f16", "q8", "q4"
// TB_HEAD_* of a name, -1 if unknown.
int tb_head_parse(const char *name);
// The kernel that carries head format h on this CPU (the highest-ranked runnable kernel of its
// format), or NULL: for f32, or when this CPU runs no kernel of the format (the engine then
// keeps the head in f32 and says so through tb_transformer.head).
const tb_kernel *tb_head_kernel(tb_head_format h);

// Positions per block of the key cache (see transformer.c).
#define ATT_BLOCK 16

typedef struct {
    float *x;      // (batch, dim) residual stream
    float *xb;     // (batch, dim) normed input of a block
    float *xb2;    // (batch, dim) attention output, block outputs
    float *q;      // (batch, dim) queries
    float *k;      // (batch, kv_dim) keys of the new tokens, before they go into the cache
    float *v;      // (batch, kv_dim) their values
    float *hb;     // (batch, hidden_dim) gate, then the gated product
    float *hb2;    // (batch, hidden_dim) up, then its sub-norm
    int8_t *xq;    // (batch, max(dim, hidden_dim)) int8 activations of one BitLinear input
    float *xs;     // (batch) their scales
    void *act;     // kernel-prepared activations (largest of act_size(batch, dim | hidden_dim))
    float *att_o;  // (threads + 1, n_heads, att_chunks, head_size) partial attention outputs
    float *att_ml; // (threads + 1, n_heads, att_chunks, 2) their score maxima and sums
    float *logits; // (batch, vocab_size)
    float *kcache; // (n_layers, n_kv_heads, kv_seq / ATT_BLOCK, head_size, ATT_BLOCK)
    float *vcache; // (n_layers, n_kv_heads, kv_seq, head_size)
} tb_run_state;

typedef struct {
    tb_config cfg;
    const tb_model *model;       // borrowed: embedding and norms are read from it
    const tb_kernel *kn;         // decode: products of one token (m == 1); packed the weights
    const tb_kernel *prefill_kn; // products of several tokens (m > 1); kn's packed format
    tb_pool *pool;               // borrowed
    int max_seq;                 // KV cache positions
    int kv_seq;                  // max_seq rounded up to whole blocks of ATT_BLOCK positions
    int att_chunks;              // most chunks of positions attention splits a token's context into
    int max_batch;               // most tokens per forward call
    void **packed;               // (n_layers, TB_N_LINEAR) kernel-packed ternary weights
    const float *head;           // (vocab_size, dim) output head in f32 (tied: the embedding)
    // The head format in use (what was asked for, or f32 when no kernel of it runs here) and,
    // unless f32, the kernel that holds it (tb_head_kernel: the same GEMV/GEMM the tables time).
    tb_head_format head_format;
    const tb_kernel *head_kn;
    void *head_packed; // (vocab_size, dim) in head_kn's packed form
    void *head_act;    // (max_batch, dim) head_kn's prepared activations
    float *rope_cos;   // (max_seq, head_size / 2)
    float *rope_sin;   // (max_seq, head_size / 2)
    tb_run_state s;
    // Memory, in bytes.
    uint64_t ternary_bytes; // packed BitLinear weights (scales included)
    uint64_t ternary_params;
    uint64_t embed_bytes; // embedding + output head as held in memory
    uint64_t norm_bytes;
    uint64_t kv_bytes;
    // Profiling: NULL (off), or where each forward call adds its time per phase (a clock read
    // per phase, ~20 ns, about 200 per 2B4T token).
    tb_profile *prof;
    double prof_last;
} tb_transformer;

// Packs every ternary tensor of m with kernel kn (tensors fetched on demand, several at once on
// the pool's threads), allocates a KV cache of max_seq positions and buffers for max_batch
// tokens. head: the output head's format (f16 halves the bytes a token reads, q8 quarters
// them). 0, or -1 with a message. m must outlive t.
int tb_transformer_build(tb_transformer *t, const tb_model *m, const tb_kernel *kn, tb_pool *pool,
                         int max_seq, int max_batch, tb_head_format head, char *err,
                         size_t err_len);
// The same with one kernel per product regime: decode (one token) packs the weights and runs
// the one-token products, prefill (NULL: decode) the products of several tokens. Refused (-1,
// message) unless both have the same packed format.
int tb_transformer_build_pair(tb_transformer *t, const tb_model *m, const tb_kernel *decode,
                              const tb_kernel *prefill, tb_pool *pool, int max_seq, int max_batch,
                              tb_head_format head, char *err, size_t err_len);
void tb_transformer_free(tb_transformer *t);
// Replaces the output head by one in format head (packed again from the float head; the
// ternary weights, caches and buffers stay). Where this CPU runs no kernel of that format the
// head is f32 (head_format says which one is in use). 0, or -1 with a message (a head that is
// not finite cannot be quantized) and the head is then f32.
int tb_transformer_set_head(tb_transformer *t, tb_head_format head, char *err, size_t err_len);

// Runs tokens[0..n) at positions pos..pos+n-1 (1 <= n <= max_batch, pos + n <= max_seq; the
// cache must hold positions 0..pos-1). Returns the logits: all n rows (n x vocab) if
// all_logits, else only the last token's (vocab).
float *tb_transformer_forward(tb_transformer *t, const int *tokens, int n, int pos, int all_logits);

// Bytes tb_transformer_build will allocate for kernel kn (weights, head, KV cache, buffers),
// plus the per-thread staging of tensors while packing.
uint64_t tb_transformer_bytes_needed(const tb_config *c, const tb_kernel *kn, int max_seq,
                                     int max_batch, tb_head_format head, int threads);

// Weight bytes one decode step reads: every packed ternary weight, the output head as held
// (its packed size, or f32) and the norms.
uint64_t tb_transformer_weight_read_bytes(const tb_transformer *t);

// Bytes of KV cache one forward step at position pos reads: keys and values of positions 0..pos
// in every layer (keys in whole blocks of ATT_BLOCK).
uint64_t tb_transformer_kv_read_bytes(const tb_transformer *t, int pos);

// Sampling over token ids.
int tb_sample_argmax(const float *logits, int n);
// Softmax at temperature temp (> 0), then one draw from the seeded generator state.
int tb_sample_temperature(const float *logits, int n, float temp, uint64_t *rng_state);

#endif
