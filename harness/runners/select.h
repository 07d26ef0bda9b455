// What the runners share to turn parameters into things to run: kernels by name, shapes of a
// configuration, the baseline, a model and whether it fits in memory; and the JSON of a
// configuration and of a decode's bandwidth limit. Errors come back as TB_BAD_INPUT with a
// message naming the option and the value.
#ifndef TB_SELECT_H
#define TB_SELECT_H

#include "runners.h"
#include "tb_kernel.h"
#include "tb_model.h"
#include "tb_pool.h"

// Loads the peers (peers.h) when the kernel list names one or peer_lib (--peer-lib) is set, so
// that their names resolve; a library that cannot be used is TB_BAD_INPUT with its one line.
int tb_select_peers(const char *list, const char *peer_lib, tb_error *err);
// "all" (every kernel of tritbench's list this CPU runs; peers only by name) or a comma list;
// refuses unknown or unrunnable ones.
int tb_select_kernels(const char *list, const tb_kernel **sel, int max, int *nsel, tb_error *err);
// The named kernel, or (name NULL) the best one for this CPU; refuses unknown or unrunnable.
int tb_select_kernel(const char *name, const tb_kernel **kn, tb_error *err);
// The kernels of an engine run: a decode kernel for one-token products and a prefill kernel of
// the same packed format for the others. In order: --kernel NAME (name, both regimes); else
// TRITBENCH_KERNEL (both); else the tune file of this CPU (tuning/tune_file.h: the choice for
// `threads` threads, prefill at the GEMM bucket nearest `prompt` tokens); else the highest rank
// (both). `source` says which, for the result document; with TRITBENCH_DEBUG set, one line on
// stderr says both kernels and the source.
typedef struct {
    const tb_kernel *decode, *prefill;
    char source[900];
} tb_engine_kernels;
int tb_select_engine_kernels(const char *name, int threads, int prompt, tb_engine_kernels *k,
                             tb_error *err);
// What an experiment's `best` names: the decode kernel tb_select_engine_kernels picks at the
// logical CPU count (TRITBENCH_KERNEL, else the tune file of this CPU, else the rank).
const tb_kernel *tb_select_best(void);
// The source and both kernels into o: "decode_kernel", "prefill_kernel", "kernel_choice".
void tb_engine_kernels_to_json(cJSON *o, const tb_engine_kernels *k);

// The runtime parameters (engine/tb_pool.h: prefetch distance, chunking) a run of kernel kn at
// `threads` threads sets: this CPU's tune file's, where it has them for that kernel and thread
// count (tb_tune_pick_driver), else the defaults. `source` says which (with TRITBENCH_DEBUG set,
// also a line on stderr).
typedef struct {
    tb_driver_params params;
    char source[700];
} tb_driver_choice;
void tb_select_driver(const tb_kernel *kn, int threads, tb_driver_choice *d);
// "driver": {prefetch_bytes, chunk_work, guided_div, source} into o.
void tb_driver_to_json(cJSON *o, const tb_driver_choice *d);

// Distinct linear shapes (N, K) of a configuration.
int tb_config_shapes(const char *config, int shapes[][2], int max, int *n, tb_error *err);
// The kernel ratios are taken against: the named one (it must be among sel), else the fastest
// FP16 baseline among sel, else the FP32 one, else the first.
int tb_select_baseline(const char *name, const tb_kernel *const *sel, int nsel,
                       const tb_kernel **base, tb_error *err);

// Opens a configuration name or GGUF file. ffn: --ffn, the FFN activation (TB_FFN_*) forced
// whatever the model says, or -1: the model's own (gguf_model.h). A file that looks like 2B4T
// but computes a SiLU FFN is warned about on stderr, once a process (tb_model_ffn_warning).
int tb_open_model(const char *spec, uint64_t seed, int ffn, tb_model *m, tb_error *err);
// Refuses a run that needs more than MemAvailable allows (with the size it needs).
int tb_check_memory(const tb_config *c, uint64_t need, tb_error *err);
// Prompt token ids (if prompt is not NULL) must lie inside the vocabulary, and prompt + tokens
// inside the context.
int tb_check_sequence(const tb_config *c, const int *prompt, int n_prompt, int tokens,
                      tb_error *err);

// "config": {name, dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, context, ...,
// ffn (relu2 | silu), ffn_source (configuration | hidden_activation | architecture | override)}
void tb_config_to_json(cJSON *o, const tb_config *c);
// The bandwidth-limit fields of a decode measurement (results/README.md): bytes read per token
// (weights, and kv_per_token of KV cache), the probe's best and median pass, and decode_tps as
// a fraction of the limit against each; `paired` is the decode's paired roof fraction
// (tb_bw_probe_paired_fraction; <= 0: none, e.g. layer-sampled figures).
void tb_decode_limit_to_json(cJSON *o, uint64_t weight_bytes, double kv_per_token, double bw,
                             double bw_median, int passes, double paired, double decode_tps);

// Opens the model of an engine run and checks that it fits: a configuration is checked against
// the memory before anything is allocated (a 100B request is refused at once), a file once its
// header is read. The prompt (if not NULL) must lie in the vocabulary and prompt + tokens in the
// context; every kernel of kns must fit with its buffers at `threads` threads.
int tb_open_engine_model(const char *spec, uint64_t seed, int ffn, const tb_kernel *const *kns,
                         int nk, const int *prompt, int n_prompt, int tokens, tb_head_format head,
                         int threads, tb_model *m, tb_error *err);

#endif
