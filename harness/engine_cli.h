// Helpers shared by the engine commands (model, generate, validate --model).
#ifndef TB_ENGINE_CLI_H
#define TB_ENGINE_CLI_H

#include "cli.h"
#include "tb_kernel.h"
#include "tb_model.h"

// Opens a configuration name or GGUF file; on error prints it and exits 2.
void tb_open_model_or_exit(const char *cmd, const char *spec, uint64_t seed, tb_model *m);
// The named kernel (NULL: the best for this CPU); exits 2 if unknown or unsupported here.
const tb_kernel *tb_kernel_or_exit(const char *cmd, const char *name);
// Refuses (exit 2, with the size needed) a run that needs more than MemAvailable allows.
void tb_check_memory_or_exit(const char *cmd, const tb_config *c, uint64_t need);
void tb_config_to_json(cJSON *o, const tb_config *c);
// The bandwidth-limit fields of a decode measurement (results/README.md): bytes read per token
// (weights of t, kv_per_token of KV cache), the probe's best and median pass, and decode_tps as
// a fraction of the limit against each.
void tb_decode_limit_to_json(cJSON *o, uint64_t weight_bytes, double kv_per_token, double bw,
                             double bw_median, int passes, double decode_tps);
// "1,2,3" -> tokens (at most max); exits 2 on anything else.
int tb_parse_tokens(const char *cmd, const char *s, int *out, int max);
int tb_validate_model(const char *spec, const char *kernel, int n_tokens, uint64_t seed,
                      const int *prompt, int n_prompt, int threads, int json);

#endif
