// The part of ggml's public C interface the peer adapters call, declared here from the facts of
// ggml.h / ggml-cpu.h / ggml-backend.h (ggml-org/llama.cpp): type ids, block sizes, and the
// signatures of the handful of functions we look up with dlsym. Nothing of ggml is linked in:
// the library is found at run time, and peer_lib.c checks every fact below against it before a
// single product runs (peer_lib.c: abi_check), so a library whose interface moved is refused
// with one line rather than called wrongly.
#ifndef TB_GGML_ABI_H
#define TB_GGML_ABI_H

#include <stddef.h>
#include <stdint.h>

// enum ggml_type values (stable in ggml: entries are only ever appended or retired).
enum {
    TB_GGML_T_F16 = 1,
    TB_GGML_T_Q4_0 = 2,
    TB_GGML_T_Q8_0 = 8,
    TB_GGML_T_Q8_K = 15,
    TB_GGML_T_TQ1_0 = 34,
    TB_GGML_T_TQ2_0 = 35,
};

// Block layouts (ggml-common.h), as elements per block / bytes per block:
//   F16    1 /   2   one half
//   Q4_0  32 /  18   { f16 d; uint8 qs[16] }         value = (nibble - 8) * d
//   Q8_0  32 /  34   { f16 d; int8 qs[32] }          value = q * d
//   Q8_K 256 / 292   { float d; int8 qs[256]; int16 bsums[16] }
//   TQ1_0 256 / 54   { uint8 qs[48]; uint8 qh[4]; f16 d }  5 (qs) and 4 (qh) trits a byte
//   TQ2_0 256 / 66   { uint8 qs[64]; f16 d }          2-bit codes, value = (code - 1) * d

// void (*)(const float *x, void *y, int64_t k): quantize k floats into blocks.
typedef void (*tb_ggml_from_float)(const float *x, void *y, int64_t k);
// Dot products of nrc rows: s[0..nrc) with strides bs (floats), bx and by (bytes); ggml calls it
// with nrc = 1 unless the type's traits say rows are done in pairs (nrows = 2).
typedef void (*tb_ggml_vec_dot)(int n, float *s, size_t bs, const void *x, size_t bx, const void *y,
                                size_t by, int nrc);

// struct ggml_type_traits_cpu (ggml-cpu.h): what ggml's CPU backend uses for a type.
typedef struct {
    tb_ggml_from_float from_float;
    tb_ggml_vec_dot vec_dot;
    int vec_dot_type; // enum ggml_type of the other operand (activations)
    int64_t nrows;    // rows vec_dot does per call
} tb_ggml_type_traits_cpu;

// Functions of libggml-base.so.
typedef const char *(*tb_ggml_str_fn)(void);                 // ggml_version, ggml_commit
typedef const char *(*tb_ggml_type_name_fn)(int type);       // ggml_type_name
typedef size_t (*tb_ggml_type_size_fn)(int type);            // ggml_type_size: bytes per block
typedef int64_t (*tb_ggml_blck_size_fn)(int type);           // ggml_blck_size: elements per block
typedef size_t (*tb_ggml_row_size_fn)(int type, int64_t ne); // ggml_row_size
// ggml_quantize_chunk(type, src, dst, start, nrows, n_per_row, imatrix): bytes written.
typedef size_t (*tb_ggml_quantize_chunk_fn)(int type, const float *src, void *dst, int64_t start,
                                            int64_t nrows, int64_t n_per_row, const float *imatrix);
// Functions of a libggml-cpu-<variant>.so.
typedef void (*tb_ggml_cpu_init_fn)(void); // ggml_cpu_init
typedef const tb_ggml_type_traits_cpu *(*tb_ggml_traits_cpu_fn)(
    int type);                         // ggml_get_type_traits_cpu
typedef int (*tb_ggml_score_fn)(void); // ggml_backend_score: 0 = cannot run on this CPU

#endif
