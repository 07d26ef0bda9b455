// Model configurations by name, synthetic models from a seed, and model life cycle.
#ifndef TB_ENGINE_MODEL_H
#define TB_ENGINE_MODEL_H

#include "float_layout.h" // tb_f32_to_f16
#include "tb_model.h"

#include <stdint.h>

// Named configurations: the real BitNet b1.58 2B4T, the bitnet.cpp papers' dummy sizes
// (125M ... 100B), and tiny test configurations. 0 if found, else -1.
int tb_config_find(const char *name, tb_config *out);
// "2B4T, 125M, ..., tiny" for messages.
const char *tb_config_list(void);

// A synthetic model, deterministic from the seed: float embedding and norms are filled now,
// ternary tensors are generated on demand (load_ternary) from latent float weights
// normal(0, 0.02) quantized absmean per tensor, each tensor from its own seed so the order
// of generation and the number of threads never change a weight.
void tb_model_synthetic(const tb_config *cfg, uint64_t seed, tb_model *m);

// Generates or decodes every ternary tensor into lin[].w (needed by the reference model and by
// the GGUF writer). 0, or -1 with a message.
int tb_model_materialize(tb_model *m, char *err, size_t err_len);
// Ternary tensor (layer, which) into w (n*k int8) and its scale: from lin[].w if materialized,
// else from the model's source.
int tb_model_ternary(const tb_model *m, int layer, int which, int8_t *w, float *scale, char *err,
                     size_t err_len);
void tb_model_free(tb_model *m);

// Parameter counts.
uint64_t tb_model_ternary_params(const tb_config *c); // the 7 BitLinears of every layer
uint64_t tb_model_embedding_params(const tb_config *c);
uint64_t tb_model_norm_params(const tb_config *c);

// Opens a model named by spec: a configuration name (synthetic, from seed) or a GGUF file
// path. 0, or -1 with a message (exit 2: bad input).
int tb_model_open(const char *spec, uint64_t seed, tb_model *m, char *err, size_t err_len);

// Rounds a float to the nearest half-precision value and back (synthetic embeddings are
// f16-exact so that an F16 file or head loses nothing), and the conversions themselves.
float tb_f16_round(float x);
float tb_f16_to_f32(uint16_t h);
float tb_bf16_to_f32(uint16_t h);

// MemAvailable from /proc/meminfo in bytes, 0 if unknown; TRITBENCH_MEM_AVAILABLE=bytes
// overrides it (tests of the refusal of models too big for the machine).
uint64_t tb_mem_available(void);

// --ffn: computes m with FFN activation ffn whatever its file or configuration says
// (cfg.ffn_source becomes TB_FFN_FROM_OVERRIDE).
void tb_model_force_ffn(tb_model *m, tb_ffn_act ffn);
// 1 and a one-line warning naming spec in msg when m computes a SiLU FFN because its file says
// so (its architecture bitnet, or its hidden_activation) while its shapes are 2B4T's (LLaMA 3's
// vocabulary of 128256, 20 query heads over 5 KV heads): public 2B4T conversions labelled
// 'bitnet' ran it with SiLU instead of its squared ReLU. 0 otherwise (and after --ffn).
int tb_model_ffn_warning(const tb_model *m, const char *spec, char *msg, size_t len);
// Peak resident set size of this process in bytes (getrusage).
uint64_t tb_peak_rss(void);

// Allocates m->embedding, the norms and m->lin (shapes filled, w NULL) for m->cfg (loaders).
void tb_model_alloc_floats(tb_model *m);
#endif
