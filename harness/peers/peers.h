// Peers: another project's kernels, timed beside tritbench's in the same run.
//
// ggml's matrix products (the CPU backend of llama.cpp), loaded at run time from an installed
// ggml (peer_lib.h), become kernels of the registry named peer:ggml-<type>:
//   peer:ggml-tq2_0   TQ2_0 weights (2-bit ternary, f16 scale per 256) x Q8_K activations
//   peer:ggml-tq1_0   TQ1_0 weights (1.6-bit ternary)                  x Q8_K activations
//   peer:ggml-q4_0    Q4_0 weights                                     x Q8_0 activations
//   peer:ggml-q8_0    Q8_0 weights                                     x Q8_0 activations
//   peer:ggml-f16     F16 weights                                      x F16 activations
// Weights are quantized by ggml's own quantizer (ggml_quantize_chunk) from the same ternary
// matrices every kernel gets, activations by ggml's own (the from_float of the type its CPU
// backend pairs with the weights); products are ggml's vec_dot, rows split by tritbench's pool
// like every kernel's, m > 1 done as ggml's mul_mat does it (activation rows quantized once,
// then vec_dot over 16 x 16 blocks of weight rows and activation rows). They are inexact (the
// activations are quantized again, per block) and are held to a bound derived from those
// quantizations (output_bound), in `validate` and before `bench kernels` times them.
#ifndef TB_PEERS_H
#define TB_PEERS_H

#include "peer_lib.h"

#include <stddef.h>

#define TB_PEER_PREFIX "peer:"

// 1 if name is a peer's ("peer:...").
int tb_is_peer(const char *name);
// 1 if a comma list of kernel names mentions a peer.
int tb_list_has_peer(const char *list);

// Loads ggml from the directory tb_peer_dir chooses (dir_opt: --peer-lib, may be NULL) and adds
// its kernels to the registry, once per process (a later call with another directory is refused).
// 0 on success; else -1 with one line in err (no library there, foreign, ABI mismatch).
// TRITBENCH_PEER_FAULT=vec_dot binds TQ1_0's dot product to peer:ggml-tq2_0 and
// TRITBENCH_PEER_FAULT=weights corrupts one packed weight block of every peer: test hooks that
// prove a wrong peer is caught before it is timed.
int tb_peers_load(const char *dir_opt, char *err, size_t err_len);
// The loaded library (NULL before a successful tb_peers_load).
const tb_ggml_lib *tb_peers_lib(void);

#endif
