// Finding and opening a peer's installed libraries (ggml's, llama.cpp's) at run time.
//
// Where: the directory given by --peer-lib DIR, else $TRITBENCH_GGML_DIR, else the directory
// .ci/setup installs the prebuilt llama.cpp of the npm package @node-llama-cpp/linux-<arch> into
// (TB_PEER_DIR, meson option peer_dir). Which ggml CPU library: every libggml-cpu*.so there is
// asked its ggml_backend_score(), as ggml's own loader does, and the highest nonzero wins
// (e.g. libggml-cpu-icelake.so on an Ice Lake, -zen4 on a Zen 4, -x64 on anything older).
#ifndef TB_PEER_LIB_H
#define TB_PEER_LIB_H

#include "ggml_abi.h"

#include <stddef.h>

// The directory to look in and where that choice came from ("--peer-lib", "TRITBENCH_GGML_DIR"
// or "default"). opt may be NULL or "".
void tb_peer_dir(const char *opt, char *dir, size_t len, const char **source);

// ggml, opened and checked (abi_check): function pointers and what to print about it.
typedef struct {
    char dir[512];
    char base_path[600], cpu_path[600]; // libggml-base.so, the chosen libggml-cpu*.so
    char variant[64];                   // "icelake" (the file name's tail), "" for libggml-cpu.so
    int score;                          // its ggml_backend_score
    char version[64], commit[64];       // ggml_version(), ggml_commit()
    tb_ggml_type_name_fn type_name;
    tb_ggml_row_size_fn row_size;
    tb_ggml_quantize_chunk_fn quantize_chunk;
    tb_ggml_traits_cpu_fn traits_cpu;
} tb_ggml_lib;

// Opens ggml from dir: libggml-base.so, then the best CPU variant; checks the interface
// (types, block sizes, the CPU traits of every type the peers use) and calls ggml_cpu_init.
// 0 on success; else -1 and one line in err naming the file and what was wrong (missing,
// not loadable here, symbol absent, a fact that differs from ggml_abi.h). Libraries stay loaded.
int tb_ggml_open(const char *dir, tb_ggml_lib *lib, char *err, size_t err_len);

// The libggml-cpu-<variant>.so of dir that ggml's loader picks (the highest ggml_backend_score),
// as "icelake" ("cpu" for a plain libggml-cpu.so): what llama.cpp's engine runs on. 0, or -1.
int tb_ggml_cpu_variant(const char *dir, char *variant, size_t len);

#endif
