// llama.cpp's engine as a peer of tritbench's: a GGUF model file loaded by the installed
// libllama (through its C API, found at run time with dlopen, nothing linked) and driven token
// by token, so that `bench model --peer llama.cpp` times both engines on the same file with the
// same protocol.
//
// The library is looked for where the ggml peers look (peer_lib.h: --peer-lib DIR, else
// $TRITBENCH_GGML_DIR, else the directory .ci/setup installs the pinned npm build into). Its
// file name is versioned (libllama.v0.5.0.so); the build loads its CPU backend itself
// (GGML_BACKEND_DL: ggml_backend_load_all_from_path picks the best libggml-cpu-<variant>.so).
// The structs llama.cpp passes by value are declared here by size only and checked against the
// library (llama_peer.c): a library whose interface moved is refused with one line.
#ifndef TB_LLAMA_PEER_H
#define TB_LLAMA_PEER_H

#include <stddef.h>
#include <stdint.h>

typedef struct tb_llama_peer tb_llama_peer;

// What to print about the library.
typedef struct {
    char dir[512], dir_source[32]; // where it was found and why there (tb_peer_dir)
    char lib_path[600];            // the libllama opened
    char ggml_version[64], ggml_commit[64];
    char cpu_variant[64]; // the libggml-cpu-<variant>.so ggml's loader picks ("" unknown)
    char system_info[512];
} tb_llama_identity;

// Opens libllama from the directory tb_peer_dir chooses (dir_opt: --peer-lib, may be NULL),
// silences its log (keeping the last error lines, the reasons of a failed load) and loads its
// CPU backend. 0, or -1 with one line in err (no library there, not loadable, symbols missing,
// ABI mismatch). Once per process: libllama stays loaded.
int tb_llama_open(const char *dir_opt, tb_llama_peer **out, char *err, size_t err_len);
const tb_llama_identity *tb_llama_identity_of(const tb_llama_peer *p);

// Loads a model file and makes a context for n_ctx positions whose prefill takes n_batch tokens
// in one call (one micro-batch, as tritbench's prefill). 0, or -1 with llama.cpp's reason in err
// (the file cannot be loaded by llama.cpp: not a peer failure) or an ABI mismatch (-2).
int tb_llama_load(tb_llama_peer *p, const char *path, int n_ctx, int n_batch, char *err,
                  size_t err_len);
int tb_llama_n_vocab(const tb_llama_peer *p);
void tb_llama_set_threads(tb_llama_peer *p, int threads);
// Prefill: empties the KV cache, runs ids[0..n) in one batch and returns the greedy next token
// (ids is not written; llama_batch_get_one's parameter is not const).
int tb_llama_prefill(tb_llama_peer *p, int32_t *ids, int n, int32_t *next, char *err,
                     size_t err_len);
// One decode step: token at the next position, the greedy next token out.
int tb_llama_step(tb_llama_peer *p, int32_t token, int32_t *next, char *err, size_t err_len);
// Frees the model and context (the library stays loaded).
void tb_llama_close(tb_llama_peer *p);

#endif
