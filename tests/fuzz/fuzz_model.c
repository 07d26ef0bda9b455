// Fuzz target: a whole BitNet model loaded from a file's bytes (tb_gguf_load_model: metadata,
// hyperparameters, every tensor's shape and type, the float tensors converted), then every
// ternary tensor decoded (tb_model_materialize): everything a model file goes through before
// the engine packs it for a kernel.
#include "fuzz_file.h"
#include "gguf_model.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file_write(data, size, ".gguf");
    tb_model m;
    char err[600];
    if (tb_gguf_load_model(path, &m, err, sizeof err) != 0) return 0;
    tb_model_materialize(&m, err, sizeof err);
    tb_model_free(&m);
    return 0;
}
