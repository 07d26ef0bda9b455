// A stand-in for libggml-base.so whose interface moved: type ids name other types than the
// ones tritbench's peers were written against (harness/peers/ggml_abi.h). tests/test_peers.sh
// points --peer-lib here and expects a one-line refusal ("ABI mismatch"), never a call.
#include <stddef.h>
#include <stdint.h>

const char *ggml_version(void)
{
    return "99.0.0-moved";
}
const char *ggml_commit(void)
{
    return "fake";
}
// As if an entry had been inserted before 34: every later id names the next type.
const char *ggml_type_name(int type)
{
    return type == 34 ? "iq4_nl_moved" : "f16";
}
size_t ggml_type_size(int type)
{
    return type == 1 ? 2 : 18;
}
int64_t ggml_blck_size(int type)
{
    return type == 1 ? 1 : 32;
}
size_t ggml_row_size(int type, int64_t ne)
{
    return (size_t)ne * (type == 1 ? 2 : 1);
}
size_t ggml_quantize_chunk(int type, const float *src, void *dst, int64_t start, int64_t nrows,
                           int64_t n_per_row, const float *imatrix)
{
    (void)type, (void)src, (void)dst, (void)start, (void)nrows, (void)n_per_row, (void)imatrix;
    return 0;
}
